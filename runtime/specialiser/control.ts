//! Control, the second layer of the engine: frames (entered, and turned generic when compiled
//! code meets what only the walk can do), calls (inlined as a new frame, or for the portal a
//! residual call to a graph specialised for the call's constant arguments), jumps, red
//! branches and switches (a residual branch, and a path per side: the first goes on, the others
//! wait on the worklist with copies of the frames), returns and raises.

import { NONE } from "../ir/build.ts";
import type { Graph, Jump, Operand, Type } from "../ir/types.ts";
import { liveIn } from "../ir/walk.ts";
import { InlineTooLong, SpecialisationLimit } from "./policy.ts";
import { NULL_REF, constantIndex, konst, type AVal } from "./value.ts";
import { explodeArgs, reachableAfter, rebuildArgs } from "./portal-args.ts";
import {
  Raised,
  unreachable,
  blank,
  compileTime,
  copyFrames,
  copySlot,
  innermostInlined,
  mergePointOf,
  plain,
  raising,
  red,
  virtualOf,
  wrap,
  type Frame,
  type Path,
  type Slot,
  type Target,
} from "./frames.ts";
import { ResidualBuilder, type Residual } from "./residual.ts";

export abstract class Control extends ResidualBuilder {
  protected portalGraphs = new Map<string, string>();
  /** Portal calls (graph and constant arguments) that went on too long inlined: residual. */
  readonly noInline = new Set<string>();
  protected work: Path[] = [];

  /** A frame entering `g` with `args`: compiled when `g` has code and every green parameter
   *  receives a compile-time value, generic otherwise. */
  protected frame(g: Graph, args: AVal[], ret: number): Frame {
    const code = this.compiled[g.name];
    const params = g.blocks[0]!.params;
    const fits = code && params.every((v, i) => !code.greens[v] || compileTime(args[i]!));
    const env = blank(g);
    params.forEach((v, i) => (env[v] = fits && code.greens[v] ? plain(args[i]!) : args[i]!));
    return { g, block: 0, op: 0, env, ret, code: fits ? code : undefined };
  }

  /** Turns compiled frames generic, the frames of a path (or a state) together: their plain
   *  green slots become abstract values, and an array compiled code allocated (not frozen: it
   *  may still change) becomes a virtual, as the abstract interpreter holds it, one for each
   *  array whichever frames hold it (the walk writes virtuals, never compile-time arrays, so
   *  generic frames hold none). With `a`, a value about to join the frames, converted alike. */
  generic(frames: Frame[], a?: AVal): AVal | undefined {
    const seen = new Map<Int32Array | Uint8Array, AVal>();
    const convert = (s: AVal): AVal => {
      if (s.k !== "a" || this.frozen.has(s.arr)) return s;
      let v = seen.get(s.arr);
      if (!v) seen.set(s.arr, (v = virtualOf(s.arr, s.type)));
      return v;
    };
    for (const f of frames) {
      const code = f.code;
      if (!code) continue;
      f.env = f.env.map((s, v) =>
        code.greens[v] && s !== undefined ? convert(wrap(s, f.g.types[v]!)) : s,
      );
      f.code = undefined;
    }
    return a && convert(a);
  }

  /** The abstract value of a slot of `f`. */
  slot(f: Frame, v: number): AVal {
    const s = f.env[v];
    // (`prepare` refuses graphs with another variable live across a merge point, so an empty
    // slot read is the engine's own mistake.)
    if (s === undefined) throw new Error(`@${f.g.name}: v${v} read but never written here`);
    return f.code?.greens[v] ? wrap(s, f.g.types[v]!) : this.resolve(s as AVal);
  }

  /** A merge point's argument: a slot of `f`, or a constant. */
  protected argument(f: Frame, o: Operand): AVal {
    return typeof o === "number"
      ? this.slot(f, o)
      : o.k === "data"
        ? unreachable()
        : o.k === "null"
          ? NULL_REF
          : o.k === "obj"
            ? this.constant(o.v)
            : konst(o.v);
  }

  protected arguments(f: Frame, vars: Operand[]): AVal[] {
    const vals: AVal[] = new Array(vars.length);
    for (let i = 0; i < vars.length; i++) vals[i] = this.argument(f, vars[i]!);
    return vals;
  }

  /** Stores a value into slot `v` of the top frame of `frames`, in the slot's representation. */
  assign(frames: Frame[], v: number, a: AVal): void {
    const f = frames.at(-1)!;
    if (f.code?.greens[v] && compileTime(a)) f.env[v] = plain(a);
    else if (f.code?.greens[v] || (a.k === "a" && !this.frozen.has(a.arr))) {
      // A green of compiled code that is not a constant here, or an array that compiled code
      // allocated, reaching a generic frame: continue generically (the walk holds it virtual).
      // (`generic` gives the frames new environments: write into the new one.)
      const converted = this.generic(frames, a)!;
      f.env[v] = converted;
    } else f.env[v] = a;
  }

  /** A call: inlined (a new frame), or for the portal, where it cannot be, a residual call to
   *  its specialisation. */
  call(p: Path, name: string, args: AVal[], dst: number): void {
    const callee = this.graph(name);
    if (this.portals.has(name)) {
      const key = this.inlineKey(p, callee, args);
      if (key === undefined) return this.portalCall(p, callee, args, dst);
      const f = this.frame(callee, args, dst);
      f.inlined = { key, steps: 0 };
      p.frames.push(f);
      return;
    }
    if (this.recursive.has(name)) return this.residualCall(p, callee, args, dst);
    if (p.frames.length > this.policy.maxInlineDepth)
      throw new SpecialisationLimit(`inlining deeper than ${this.policy.maxInlineDepth}`);
    p.frames.push(this.frame(callee, args, dst));
  }

  /** Per parameter of the portal `g`, whether it is a green of the driver (by name). */
  private greenParams(g: Graph): boolean[] {
    let green = this.greenParamsOf.get(g);
    if (!green) {
      const greens = this.m.driver?.greens ?? [];
      green = g.blocks[0]!.params.map((v) => {
        const name = g.names[v]?.replace(/\.\d+$/, "");
        return name !== undefined && greens.includes(name);
      });
      this.greenParamsOf.set(g, green);
    }
    return green;
  }
  private readonly greenParamsOf = new Map<Graph, boolean[]>();

  /** What names a portal call to inline (its graph and its green arguments' constants: where
   *  in the program it goes, whatever the depth), or undefined where it is not inlined: the
   *  policy says never, it is too deep, or it went on too long before. */
  private inlineKey(p: Path, callee: Graph, args: AVal[]): string | undefined {
    if (!this.policy.maxInlinedSteps || p.frames.length > this.policy.maxInlineDepth)
      return undefined;
    // (only a call the portal makes: the entry's call of it is where residual code starts)
    if (!p.frames.some((f) => this.portals.has(f.g.name))) return undefined;
    const green = this.greenParams(callee);
    const parts = args.map((a, i) => (a.k === "c" && green[i] ? String(a.v) : "_"));
    const key = `${callee.name}(${parts.join(",")})`;
    // (a recursive call stays residual: inlined, it would be inlined again, to the bounds)
    if (this.noInline.has(key) || p.frames.some((f) => f.inlined?.key === key)) return undefined;
    return key;
  }

  /** A call to a recursive function: a residual call of the interpreter's own graph (its
   *  arguments made residual, a virtual forced: it escapes). */
  protected residualCall(p: Path, callee: Graph, args: AVal[], dst: number): void {
    this.include(callee.name);
    const operands = args.map((a) => this.operand(p, a));
    const r = this.emit(p, "call", operands, dst >= 0 ? callee.ret : undefined, callee.name);
    if (dst >= 0) this.assign(p.frames, dst, red(r, callee.ret, undefined));
  }

  /** A call of the portal: a residual call of its graph specialised for the call's constant
   *  arguments and the shapes of its virtual ones (`portal-args.ts`), made the first time.
   *  With `from`, the call goes on from the portal's merge point, `args` its arguments (an
   *  inlined call outlined there: `outline`). */
  protected portalCall(
    p: Path,
    callee: Graph,
    args: AVal[],
    dst: number,
    from?: { vars: Operand[]; reachable: Set<object> },
  ): void {
    // (the caller's reachable virtuals are looked for only when a virtual is passed)
    const virtual = args.some((a) => (a.k === "o" || a.k === "l") && a.obj.forced === undefined);
    const exploded = virtual
      ? explodeArgs(
          args,
          from?.reachable ?? reachableAfter(p.frames),
          this.policy.maxUnpacked,
          (a) => this.operand(p, a),
        )
      : args.map(() => undefined);
    const key =
      callee.name +
      (from ? "@merge(" : "(") +
      args
        .map((a, i) =>
          exploded[i] !== undefined
            ? exploded[i].shape
            : a.k === "c"
              ? String(a.v)
              : a.k === "a"
                ? this.arrayId(a.arr)
                : constantIndex(a) !== undefined
                  ? `$o${constantIndex(a)}`
                  : a.k === "r" && a.cls !== undefined
                    ? `_:${a.cls}`
                    : "_",
        )
        .join(",") +
      ")";
    let name = this.portalGraphs.get(key);
    if (name === undefined) {
      name = `${callee.name}$${this.portalGraphs.size + 1}`;
      this.portalGraphs.set(key, name);
      const rg = this.newResidual(name, callee.ret);
      // (parameters in the order of the call's operands: each argument's leaves, or itself)
      const param = (type: Type, name?: string) => rg.b.addParam(0, type, name);
      const reds: AVal[] = [];
      const types = from?.vars.map((v) => (typeof v === "number" ? callee.types[v]! : "i32"));
      const params = exploded.map((x, i) => {
        if (x === undefined) {
          const a = args[i]!;
          const v = callee.blocks[0]!.params[i];
          const type = types ? types[i]! : callee.types[v!]!;
          // (a class the caller knows, the callee knows: it is in the key)
          const cls = a.k === "r" ? a.cls : undefined;
          const named = types ? undefined : callee.names[v!];
          if (!known(a)) reds[i] = { k: "r", o: param(type, named), type, cls };
          return [];
        }
        return x.leaves.map((l) => {
          const r = red(param(l.type), l.type, l.len);
          return l.cls === undefined ? r : { ...r, cls: l.cls };
        });
      });
      const virtuals = rebuildArgs(args, exploded, params);
      const vals = args.map((a, i) => virtuals.get(i) ?? reds[i] ?? a);
      if (from) {
        // (fresh: its first merge point is in whatever region the call is)
        const frame = this.frameAtMergePoint(callee, from.vars, vals);
        const path = { rg, frames: [frame], out: 0, splits: 0, fresh: true, safepointFirst: true };
        this.work.push(path);
      } else {
        const frames = [this.frame(callee, vals, -1)];
        this.work.push({ rg, frames, out: 0, splits: 0, safepointFirst: true });
      }
    }
    const operands = args.flatMap((a, i) =>
      exploded[i] !== undefined
        ? exploded[i].leaves.map((l) => l.o)
        : known(a)
          ? []
          : [this.operand(p, a)],
    );
    const r = this.emit(p, "call", operands, dst >= 0 ? callee.ret : undefined, name);
    if (dst >= 0) this.assign(p.frames, dst, { k: "r", o: r, type: callee.ret });
  }

  /** A frame of the portal `g` at its merge point, its arguments `vars` holding `vals` (a tier's
   *  entry, an outlined call): compiled where every green is a compile-time value (generated
   *  code runs a block from its start: it can take a merge point that starts one). */
  protected frameAtMergePoint(g: Graph, vars: Operand[], vals: AVal[]): Frame {
    const [block, op] = mergePointOf(g);
    const code = this.compiled[g.name];
    const n = g.blocks[block]!.ops[op]!.imm as number;
    const fits =
      code !== undefined &&
      op === 0 &&
      vals.every((a, i) => i >= n || typeof vars[i] !== "number" || compileTime(a));
    const env = blank(g);
    vars.forEach((v, i) => {
      if (typeof v === "number") env[v] = fits && code.greens[v] ? plain(vals[i]!) : vals[i]!;
    });
    return { g, block, op, env, ret: -1, code: fits ? code : undefined };
  }

  /** An inlined portal call that has passed as many merge points as the policy lets it, at
   *  another (`vars` its arguments): the rest of it is a residual call of the portal from
   *  there (specialised for the merge point's greens and the shapes of its reds), whose result
   *  is the call's. Its frame is popped (and made generic, so that generated code running it
   *  stops); the caller goes on. */
  protected outline(p: Path, f: Frame, vars: Operand[]): void {
    const args = vars.map((v) => this.resolve(this.argument(f, v)));
    p.frames.pop();
    f.code = undefined;
    const reachable = reachableAfter(p.frames);
    this.portalCall(p, f.g, args, f.ret, { vars, reachable });
  }

  /** A bound reached on path `p`: inside an inlined portal call, that call is too long to
   *  inline (`InlineTooLong`). */
  protected boundOn(p: Path, msg: string): SpecialisationLimit {
    const key = innermostInlined(p.frames);
    return key === undefined ? new SpecialisationLimit(msg) : new InlineTooLong(key);
  }

  // --- control ---

  /** Moves `f` to `block`, binding its parameters to `args` (slots in `f`'s representation). */
  jump(f: Frame, block: number, args: Slot[]): true {
    const params = f.g.blocks[block]!.params;
    for (let i = 0; i < params.length; i++) f.env[params[i]!] = args[i]!;
    f.block = block;
    f.op = 0;
    return true;
  }

  /** A branch on an abstract condition. True when the path goes on in `f`; false when it ended. */
  branch(p: Path, f: Frame, cond: AVal, then: Target, els: Target): boolean {
    if (cond.k === "c") return this.jump(f, ...(cond.v ? then : els));
    const c = this.operand(p, cond);
    const targets = [then, els];
    const to = this.sides(p, targets);
    this.terminate(p, p.out, { k: "branch", cond: c, then: to[0]!, else: to[1]! });
    return this.split(p, targets, to);
  }

  switch(p: Path, f: Frame, on: AVal, cases: [number, ...Target][], dflt: Target): boolean {
    if (on.k === "c") {
      const hit = cases.find((c) => c[0] === on.v);
      return this.jump(f, ...(hit ? ([hit[1], hit[2]] as Target) : dflt));
    }
    const o = this.operand(p, on);
    const targets = [...cases.map((c) => [c[1], c[2]] as Target), dflt];
    const to = this.sides(p, targets);
    this.terminate(p, p.out, {
      k: "switch",
      on: o,
      cases: cases.map((c, i) => ({ value: c[0], to: to[i]! })),
      default: to.at(-1)!,
    });
    return this.split(p, targets, to);
  }

  /** The residual blocks of the sides of a red branch or switch (after checking the bound): a
   *  new one per side, but for a side that only raises (a bounds check's), which goes to the
   *  graph's block raising that message (one per message: a residual graph has a bounds check
   *  per instruction, and a block each would be a third of its blocks). */
  protected sides(p: Path, targets: Target[]): Jump[] {
    if (p.splits >= this.policy.maxPathSplits)
      throw this.boundOn(
        p,
        `more than ${this.policy.maxPathSplits} red branches without a merge point (a loop on run-time values inside one instruction)`,
      );
    const g = p.frames.at(-1)!.g;
    const to: Jump[] = new Array(targets.length);
    for (let i = 0; i < targets.length; i++) {
      const msg = raising(g, targets[i]![0]);
      to[i] = {
        block: msg === undefined ? p.rg.b.newBlock() : this.raiseBlock(p.rg, msg),
        args: NONE as never[],
      };
    }
    return to;
  }

  /** The block of `rg` that raises `msg` (made the first time). */
  protected raiseBlock(rg: Residual, msg: string): number {
    let b = rg.raises.get(msg);
    if (b === undefined) {
      rg.raises.set(msg, (b = rg.b.newBlock()));
      rg.b.terminate(b, { k: "raise", msg });
    }
    return b;
  }

  /** A red branch or switch, once its residual blocks `to` are made: the path goes on at the
   *  first side that does not raise at once (true), and the others become paths of their
   *  own. */
  protected split(p: Path, targets: Target[], to: Jump[]): boolean {
    // A side that only raises has its block made (`sides`); the others are still open. The
    // first open side goes on in this path, with its frames, at once; the others are paths of
    // their own, with copies, on the stack in reverse order (so they are followed in order).
    const b = p.rg.b;
    let first = 0;
    while (first < targets.length && !b.isOpen(to[first]!.block)) first++;
    for (let i = targets.length - 1; i > first; i--) {
      if (!b.isOpen(to[i]!.block)) continue;
      // The jump's arguments were read from the path's frames: they are copied with them (a
      // virtual the side is passed must be the side's, however the path goes on to change it).
      const seen = new Map<object, object>();
      const [block, args] = targets[i]!;
      const frames = copyFrames(p.frames, this.frozen, seen, liveIn(p.frames.at(-1)!.g, block));
      const copies = args.map((a) => copySlot(a, this.frozen, seen));
      this.jump(frames.at(-1)!, block, copies);
      this.work.push({ rg: p.rg, frames, out: to[i]!.block, splits: p.splits + 1, at: p.at });
    }
    if (this.work.length > this.policy.maxPaths)
      throw this.boundOn(p, `more than ${this.policy.maxPaths} paths pending`);
    if (first === targets.length) return false;
    this.jump(p.frames.at(-1)!, ...targets[first]!);
    p.out = to[first]!.block;
    p.splits++;
    return true;
  }

  /** Returns from `f`: to its caller, or out of the residual graph. */
  ret(p: Path, f: Frame, value: AVal | undefined): boolean {
    p.frames.pop();
    const caller = p.frames.at(-1);
    if (!caller) {
      this.terminate(
        p,
        p.out,
        value === undefined ? { k: "return" } : { k: "return", value: this.operand(p, value) },
      );
      return false;
    }
    if (f.ret >= 0) this.assign(p.frames, f.ret, value!);
    return true;
  }

  raise(p: Path, msg: string): false {
    this.terminate(p, p.out, { k: "raise", msg });
    return false;
  }

  /** Where a call to a wholly green function in compiled code threw `x`: a raise in it ends the
   *  path as the call inlined would (see `Raised`); anything else goes on up. */
  raised(p: Path, x: unknown): false {
    if (x instanceof Raised) return this.raise(p, x.msg);
    throw x;
  }
}

/** Whether a portal call's argument is compile-time (a constant, a compile-time array, a
 *  constant object: the callee is specialised for it, not given it). */
function known(a: AVal): boolean {
  return a.k === "c" || a.k === "a" || constantIndex(a) !== undefined;
}
