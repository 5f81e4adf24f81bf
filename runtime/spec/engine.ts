//! The specialisation engine: everything the abstract interpreter (`pe.ts`) and the generated
//! specialisers (`generated/<lang>.ts`) share, so that both take every decision by the same rules
//! and give byte-identical residual graphs.
//!
//! It owns the residual module being built, the worklist of paths, the state of each path (a
//! stack of frames, each an environment of slots), and the meaning of every red operation:
//! folding when the operands happen to be constants, virtual arrays, forcing, the merge point
//! with its keys (rules in `policy.ts`), calls (inlined, or residual portal calls), red branches
//! (a residual branch and a path per side), returns and raises.
//!
//! A frame runs in one of two modes. *Generic*: every slot holds an abstract value and the
//! abstract interpreter walks the graph's operations (`pe.ts`). *Compiled*: the frame runs a
//! generated specialiser's code for the graph; slots of variables the binding-time analysis found
//! green hold plain values (numbers, booleans, the bytecode array) and the code computes them
//! directly. A compiled frame falls back to generic mode where the policy turns a green red
//! (generalisation): the generated code and the walker share the frame, so nothing is lost.

import { GraphBuilder } from "../ir/build.ts";
import { OPS } from "../ir/ops.ts";
import type { Graph, Module, Operand, Term, Type } from "../ir/types.ts";
import { cleanup, runPasses } from "../passes/index.ts";
import {
  SpecialisationLimit,
  allocatesVirtual,
  generalisedKey,
  mergeKey,
  mustGeneralise,
  positionKey,
  staysVirtual,
  type Policy,
} from "./policy.ts";
import { newStats } from "./stats.ts";
import { konst, type AVal, type Scalar, type Virtual } from "./value.ts";

/** A slot of a frame: an abstract value, or (green variables of compiled frames) a plain one. */
export type Slot = AVal | number | boolean | Int32Array | Uint8Array;

/** A graph as a generated specialiser compiled it. */
export interface Compiled {
  /** Per variable: whether the binding-time analysis found it green. */
  greens: boolean[];
  /** Runs the frame from its block and operation; false when the path ended. */
  run(e: Engine, p: Path, f: Frame): boolean;
}

export interface Frame {
  g: Graph;
  block: number;
  op: number;
  env: Slot[];
  /** The caller's variable that receives the result (-1: none). */
  ret: number;
  /** Set while the frame runs compiled code. */
  code: Compiled | undefined;
}

interface Residual {
  b: GraphBuilder;
  keys: Map<string, number>;
  variants: Map<string, number>;
  /** The pattern of the last key made at each position, which widening starts from. */
  patterns: Map<string, Pattern>;
}

export interface Path {
  rg: Residual;
  frames: Frame[];
  /** The residual block the path appends to. */
  out: number;
  /** Red branches the path has taken since its last merge point. */
  splits: number;
}

/** What a merge-point key fixes of each red: nothing ("red"), or a virtual's items, each a
 *  constant or "_" (a run-time value). */
type Pattern = (string | (number | boolean | "_")[])[];

/** A virtual once it is allocated (`forced`: its residual variable) or frozen into a constant. */
type Forced = Virtual & { forced?: number; frozen?: Int32Array | Uint8Array };

/** Runs a generic frame (the abstract interpreter's walk); set by `pe.ts`. */
export type Walker = (e: Engine, p: Path, f: Frame) => boolean;

export class Engine {
  readonly stats = newStats();
  private graphs: Map<string, Graph>;
  private portals: Set<string>;
  private residuals: Residual[] = [];
  private portalGraphs = new Map<string, string>();
  private work: Path[] = [];
  private data = new Map<Int32Array | Uint8Array, number>();
  private arrayIds = new Map<Int32Array | Uint8Array, string>();
  /** Paths stopped at a promotion of a run-time value, by exit status: resumed per value. */
  private continuations: { frames: Frame[]; leaves: AVal[]; dst: number; out: Residual }[] = [];
  /** Exit status by the compile-time part of the state at the promotion: equal states share
   *  their continuations, so a loop through a promotion needs one per value, not per trip. */
  private continuationKeys = new Map<string, number>();
  /** Operations seen before the current specialisation (each continuation has its own budget). */
  private opsBefore = 0;
  /** Compile-time arrays that may no longer change: the bytecode, greens seen at a merge point. */
  private frozen = new Set<Int32Array | Uint8Array>();
  private out: Module = { graphs: [], data: [] };
  private isPosition: boolean[];

  constructor(
    readonly m: Module,
    readonly policy: Policy,
    private walk: Walker,
    private compiled: Record<string, Compiled> = {},
  ) {
    this.graphs = new Map(m.graphs.map((g) => [g.name, g]));
    this.portals = new Set(
      m.graphs
        .filter((g) => g.blocks.some((b) => b.ops.some((o) => o.op === "merge_point")))
        .map((g) => g.name),
    );
    const d = m.driver ?? { greens: [], reds: [], immutable: [] };
    let firstInt = true;
    this.isPosition = d.greens.map((name) => {
      if (d.immutable.includes(name)) return true;
      const first = firstInt;
      firstInt = false;
      return first;
    });
  }

  /** Specialises `entry` for `args`; red arguments become the residual entry's parameters. */
  run(entry: string, args: AVal[]): Module {
    const t0 = performance.now();
    const g = this.graph(entry);
    const rg = this.newResidual(entry, g.ret);
    const vals = g.blocks[0]!.params.map((p, i) => {
      const v = rg.b.addParam(0, g.types[p]!, g.names[p]);
      const a = args[i]!;
      if (a.k === "a") this.frozen.add(a.arr);
      return a.k === "r" ? ({ k: "r", o: v, type: g.types[p]! } as AVal) : a;
    });
    this.work.push({ rg, frames: [this.frame(g, vals, -1)], out: 0, splits: 0 });
    while (this.work.length) this.follow(this.work.pop()!);
    for (const r of this.residuals) {
      const graph = r.b.finish();
      runPasses(graph, cleanup);
      this.out.graphs.push(graph);
    }
    this.stats.graphs = this.out.graphs.length;
    this.stats.specialiseMs = Math.round((performance.now() - t0) * 1000) / 1000;
    return this.out;
  }

  private follow(p: Path): void {
    for (;;) {
      const f = p.frames.at(-1)!;
      if (!(f.code ? f.code.run(this, p, f) : this.walk(this, p, f))) return;
    }
  }

  private graph(name: string): Graph {
    const g = this.graphs.get(name);
    if (!g) throw new Error(`no graph @${name}`);
    return g;
  }

  private newResidual(name: string, ret: Type): Residual {
    const b = new GraphBuilder(name, ret);
    b.newBlock();
    const r: Residual = { b, keys: new Map(), variants: new Map(), patterns: new Map() };
    this.residuals.push(r);
    return r;
  }

  /** A frame entering `g` with `args`: compiled when `g` has code and every green parameter
   *  receives a compile-time value, generic otherwise. */
  private frame(g: Graph, args: AVal[], ret: number): Frame {
    const code = this.compiled[g.name];
    const params = g.blocks[0]!.params;
    const fits =
      code && params.every((v, i) => !code.greens[v] || args[i]!.k === "c" || args[i]!.k === "a");
    const env: Slot[] = new Array(g.types.length);
    params.forEach((v, i) => (env[v] = fits && code.greens[v] ? plain(args[i]!) : args[i]!));
    return { g, block: 0, op: 0, env, ret, code: fits ? code : undefined };
  }

  /** Turns a compiled frame generic: its plain green slots become abstract values. */
  generic(f: Frame): void {
    const code = f.code;
    if (!code) return;
    f.env = f.env.map((s, v) => (code.greens[v] && s !== undefined ? wrap(s, f.g.types[v]!) : s));
    f.code = undefined;
  }

  // --- values ---

  resolve(a: AVal): AVal {
    if (a.k !== "v") return a;
    const o = a.obj as Forced;
    if (o.forced !== undefined) return { k: "r", o: o.forced, type: o.type, len: o.items.length };
    if (o.frozen) return { k: "a", arr: o.frozen, type: o.type };
    return a;
  }

  /** A green virtual at the merge point becomes a compile-time array (if its items are known). */
  private freeze(obj: Virtual): AVal {
    if (!obj.items.every((s) => s.k === "c")) return { k: "v", obj };
    const values = obj.items.map((s) => Number((s as { v: number }).v));
    const arr = obj.type === "u8[]" ? Uint8Array.from(values) : Int32Array.from(values);
    (obj as Forced).frozen = arr;
    this.frozen.add(arr);
    return this.resolve({ k: "v", obj });
  }

  /** The abstract value of a slot of `f`. */
  slot(f: Frame, v: number): AVal {
    const s = f.env[v];
    if (s === undefined)
      throw new Error(
        `@${f.g.name}: v${v} is live across the merge point but neither green nor red`,
      );
    return f.code?.greens[v] ? wrap(s, f.g.types[v]!) : this.resolve(s as AVal);
  }

  /** The residual operand of a value, forcing a virtual. */
  operand(p: Path, a: AVal): Operand {
    a = this.resolve(a);
    switch (a.k) {
      case "c":
        return typeof a.v === "boolean" ? { k: "bool", v: a.v } : { k: "int", v: a.v };
      case "r":
        return a.o;
      case "a":
        return { k: "data", v: this.dataIndex(a.arr, a.type) };
      case "v":
        return this.force(p, a.obj);
    }
  }

  /** A name for a constant array in keys (identity, not contents: it is immutable). */
  private arrayId(arr: Int32Array | Uint8Array): string {
    let id = this.arrayIds.get(arr);
    if (id === undefined) this.arrayIds.set(arr, (id = `@${this.arrayIds.size}`));
    return id;
  }

  private dataIndex(arr: Int32Array | Uint8Array, type: "i32[]" | "u8[]"): number {
    let i = this.data.get(arr);
    if (i === undefined) {
      i = this.out.data.push({ type, values: Array.from(arr) }) - 1;
      this.data.set(arr, i);
    }
    return i;
  }

  /** Allocates a virtual for real: the allocation and the stores of its non-zero items. */
  private force(p: Path, obj: Virtual): number {
    const f = obj as Forced;
    if (f.forced !== undefined) return f.forced;
    this.stats.virtualsForced++;
    const arr = this.emit(p, "new_array", [{ k: "int", v: obj.items.length }], obj.type, obj.type);
    f.forced = arr;
    obj.items.forEach((it, i) => {
      if (it.k === "c" && it.v === 0) return;
      this.emit(p, "array_set", [arr, { k: "int", v: i }, this.operand(p, it)], undefined);
    });
    return arr;
  }

  private emit(
    p: Path,
    op: string,
    args: Operand[],
    type: Type | undefined,
    imm?: string | number,
  ): number {
    this.stats.opsResidual++;
    return p.rg.b.emit(p.out, op, args, type, imm);
  }

  // --- operations ---

  /** Counts `n` operations of the interpreter processed, against the policy's bound. */
  tick(n: number): void {
    if ((this.stats.opsSeen += n) - this.opsBefore > this.policy.maxOps)
      throw new SpecialisationLimit(`more than ${this.policy.maxOps} operations`);
  }

  /** Counts `n` operations computed at compile time by compiled code. */
  folded(n: number): void {
    this.stats.opsFolded += n;
  }

  /** An operation on abstract values: folded, done on a virtual, or emitted. */
  op(
    p: Path,
    name: string,
    args: AVal[],
    type: Type | undefined,
    imm?: string | number,
  ): AVal | undefined {
    const info = OPS[name]!;
    if (info.fold && args.every((a) => a.k === "c")) {
      this.stats.opsFolded++;
      return konst(info.fold(...args.map((a) => (a as { v: number | boolean }).v)));
    }
    const done = this.virtualOp(p, name, args, imm);
    if (done !== undefined) {
      this.stats.opsFolded++;
      return done === NOTHING ? undefined : done;
    }
    const dst = this.emit(
      p,
      name,
      args.map((a) => this.operand(p, a)),
      type,
      imm,
    );
    if (type === undefined) return undefined;
    const n = args[0];
    return name === "new_array" && n?.k === "c"
      ? { k: "r", o: dst, type, len: n.v as number }
      : { k: "r", o: dst, type };
  }

  /** Array operations that need no residual code: on constant arrays, on virtuals. */
  private virtualOp(
    p: Path,
    name: string,
    args: AVal[],
    imm?: string | number,
  ): AVal | typeof NOTHING | undefined {
    const [a, i, v] = args as [AVal, AVal, AVal];
    switch (name) {
      case "array_len":
        if (a.k === "a") return konst(a.arr.length);
        if (a.k === "v") return konst(a.obj.items.length);
        return a.k === "r" && a.len !== undefined ? konst(a.len) : undefined;
      case "array_get":
        if (i.k !== "c") return undefined;
        return a.k === "a"
          ? konst(a.arr[i.v as number]!)
          : a.k === "v"
            ? a.obj.items[i.v as number]
            : undefined;
      case "array_set": {
        if (a.k === "a") throw new SpecialisationLimit("a write to a compile-time array");
        if (i.k !== "c" || a.k !== "v") return undefined;
        const item = scalar(v);
        a.obj.items[i.v as number] =
          a.obj.type === "i32[]"
            ? item
            : item.k === "c"
              ? konst((item.v as number) & 255)
              : {
                  k: "r",
                  o: this.emit(p, "int_and", [item.o, { k: "int", v: 255 }], "i32"),
                  type: "i32",
                };
        return NOTHING;
      }
      case "new_array":
        if (a.k !== "c" || !allocatesVirtual(this.policy, a.v as number)) return undefined;
        this.stats.virtualsCreated++;
        return {
          k: "v",
          obj: {
            type: imm as "i32[]",
            items: Array.from({ length: a.v as number }, () => konst(0)),
          },
        };
    }
    return undefined;
  }

  /** A store into a compile-time array by compiled code (the green form of `array_set`). */
  store(arr: Int32Array | Uint8Array, i: number, v: number): void {
    if (this.frozen.has(arr)) throw new SpecialisationLimit("a write to a compile-time array");
    arr[i] = v;
  }

  /** A compile-time allocation by compiled code (the green form of `new_array`). */
  allocate(type: "i32[]" | "u8[]", n: number): Int32Array | Uint8Array {
    if (!allocatesVirtual(this.policy, n))
      throw new SpecialisationLimit(`a compile-time array of ${n} items`);
    return type === "u8[]" ? new Uint8Array(n) : new Int32Array(n);
  }

  /** `promote` of a value in a generic frame, storing into `dst`. A compile-time value goes on;
   *  a run-time one ends the path with an exit to the driver (its status names the saved path),
   *  which specialises the rest of the path for the value it sees (`continuation`) — a case per
   *  value, as PyPy's flexswitch. False when the path ended. */
  promoteTo(p: Path, f: Frame, a: AVal, dst: number): boolean {
    a = this.resolve(a);
    this.stats.promotions++;
    if (a.k === "c") {
      this.assign(f, dst, a);
      return true;
    }
    for (const fr of p.frames) this.generic(fr);
    const frames = copyFrames(p.frames, this.frozen);
    const leaves = redLeaves(frames);
    const key = `${dst}|${frames.map((fr) => this.stateKey(fr)).join("|")}`;
    let status = this.continuationKeys.get(key);
    if (status === undefined) {
      status = this.continuations.push({ frames, leaves, dst, out: p.rg }) - 1;
      this.continuationKeys.set(key, status);
    }
    p.rg.b.terminate(p.out, {
      k: "exit",
      status,
      args: [this.operand(p, a), ...leaves.map((l) => this.operand(p, l))],
    });
    return false;
  }

  /** The compile-time part of a frame's state: where it is, and its values but for red ones. */
  private stateKey(f: Frame): string {
    const slot = (s: Slot | undefined): string => {
      if (s === undefined || typeof s !== "object" || !("k" in s))
        return s === undefined ? "" : String(s);
      if (s.k === "c") return String(s.v);
      if (s.k === "a") return this.arrayId(s.arr);
      if (s.k === "r") return s.len === undefined ? "_" : `_#${s.len}`;
      return `[${s.obj.items.map((it) => (it.k === "c" ? it.v : "_")).join(" ")}]`;
    };
    return `${f.g.name}:${f.block}:${f.op}:${f.ret}:${f.env.map(slot).join(",")}`;
  }

  /** The residual graph that goes on from promotion exit `status` with the value `v`: its
   *  parameters are the exit's other arguments (the path's red leaves). Then any portal graphs
   *  its specialisation made. */
  continuation(status: number, v: number): Graph[] {
    const c = this.continuations[status];
    if (!c) throw new Error(`no continuation ${status}`);
    const name = `${c.out.b.g.name}$c${status}_${v < 0 ? "m" + -v : v}`;
    const before = this.residuals.length;
    this.opsBefore = this.stats.opsSeen;
    const rg = this.newResidual(name, c.out.b.g.ret);
    const frames = copyFrames(c.frames, this.frozen);
    const fresh = new Map<AVal, AVal>();
    c.leaves.forEach((l) => {
      const type = l.k === "r" ? l.type : "i32";
      const len = l.k === "r" ? l.len : undefined;
      fresh.set(l, {
        k: "r",
        o: rg.b.addParam(0, type),
        type,
        ...(len === undefined ? {} : { len }),
      });
    });
    rebind(frames, c.leaves, redLeaves(frames), fresh);
    const top = frames.at(-1)!;
    this.assign(top, c.dst, konst(v));
    this.work.push({ rg, frames, out: 0, splits: 0 });
    while (this.work.length) this.follow(this.work.pop()!);
    return this.residuals.slice(before).map((r) => {
      const graph = r.b.finish();
      runPasses(graph, cleanup);
      return graph;
    });
  }

  /** `promote` in compiled code: the plain value when it is a compile-time one. Otherwise the
   *  frame turns generic and the walk does the promotion again (undefined). */
  promote(f: Frame, a: AVal): number | undefined {
    a = this.resolve(a);
    if (a.k === "c") return a.v as number;
    this.generic(f);
    return undefined;
  }

  /** A call: inlined (a new frame), or for the portal a residual call to its specialisation. */
  call(p: Path, f: Frame, name: string, args: AVal[], dst: number): void {
    const callee = this.graph(name);
    if (this.portals.has(name)) return this.portalCall(p, f, callee, args, dst);
    if (p.frames.length > this.policy.maxInlineDepth)
      throw new SpecialisationLimit(`inlining deeper than ${this.policy.maxInlineDepth}`);
    p.frames.push(this.frame(callee, args, dst));
  }

  private portalCall(p: Path, f: Frame, callee: Graph, args: AVal[], dst: number): void {
    const key =
      callee.name +
      "(" +
      args
        .map((a) => (a.k === "c" ? String(a.v) : a.k === "a" ? this.arrayId(a.arr) : "_"))
        .join(",") +
      ")";
    let name = this.portalGraphs.get(key);
    if (name === undefined) {
      name = `${callee.name}$${this.portalGraphs.size + 1}`;
      this.portalGraphs.set(key, name);
      const rg = this.newResidual(name, callee.ret);
      const vals = callee.blocks[0]!.params.map((v, i) => {
        const a = args[i]!;
        const type = callee.types[v]!;
        return a.k === "c" || a.k === "a"
          ? a
          : ({ k: "r", o: rg.b.addParam(0, type, callee.names[v]), type } as AVal);
      });
      this.work.push({ rg, frames: [this.frame(callee, vals, -1)], out: 0, splits: 0 });
    }
    const red = args.filter((a) => a.k !== "c" && a.k !== "a").map((a) => this.operand(p, a));
    const r = this.emit(p, "call", red, dst >= 0 ? callee.ret : undefined, name);
    if (dst >= 0) this.assign(f, dst, { k: "r", o: r, type: callee.ret });
  }

  /** Stores a value into a slot, in the slot's representation. */
  assign(f: Frame, v: number, a: AVal): void {
    if (!f.code?.greens[v]) f.env[v] = a;
    else if (a.k === "c" || a.k === "a") f.env[v] = plain(a);
    else {
      // A green of the compiled code is not a constant here: continue generically.
      this.generic(f);
      f.env[v] = a;
    }
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

  /** A branch on an abstract condition. True when the path goes on in `f`; false when it split. */
  branch(p: Path, f: Frame, cond: AVal, then: Target, els: Target): boolean {
    if (cond.k === "c") return this.jump(f, ...(cond.v ? then : els));
    const c = this.operand(p, cond);
    return this.split(p, [then, els], (to) => ({
      k: "branch",
      cond: c,
      then: to[0]!,
      else: to[1]!,
    }));
  }

  switch(p: Path, f: Frame, on: AVal, cases: [number, ...Target][], dflt: Target): boolean {
    if (on.k === "c") {
      const hit = cases.find((c) => c[0] === on.v);
      return this.jump(f, ...(hit ? ([hit[1], hit[2]] as Target) : dflt));
    }
    const o = this.operand(p, on);
    return this.split(p, [...cases.map((c) => [c[1], c[2]] as Target), dflt], (to) => ({
      k: "switch",
      on: o,
      cases: cases.map((c, i) => ({ value: c[0], to: to[i]! })),
      default: to.at(-1)!,
    }));
  }

  /** A red branch or switch: each target becomes a residual block and a path of its own. */
  private split(
    p: Path,
    targets: Target[],
    term: (to: { block: number; args: Operand[] }[]) => Term,
  ): false {
    if (p.splits >= this.policy.maxPathSplits)
      throw new SpecialisationLimit(
        `more than ${this.policy.maxPathSplits} red branches without a merge point (a loop on run-time values inside one instruction)`,
      );
    const blocks = targets.map(() => p.rg.b.newBlock());
    p.rg.b.terminate(p.out, term(blocks.map((b) => ({ block: b, args: [] }))));
    // Later paths first on the stack, so the first target is followed first.
    for (let i = targets.length - 1; i >= 0; i--) {
      const frames = copyFrames(p.frames, this.frozen);
      this.jump(frames.at(-1)!, ...targets[i]!);
      this.work.push({ rg: p.rg, frames, out: blocks[i]!, splits: p.splits + 1 });
    }
    if (this.work.length > this.policy.maxPaths)
      throw new SpecialisationLimit(`more than ${this.policy.maxPaths} paths pending`);
    return false;
  }

  /** Returns from `f`: to its caller, or out of the residual graph. */
  ret(p: Path, f: Frame, value: AVal | undefined): boolean {
    p.frames.pop();
    const caller = p.frames.at(-1);
    if (!caller) {
      p.rg.b.terminate(
        p.out,
        value === undefined ? { k: "return" } : { k: "return", value: this.operand(p, value) },
      );
      return false;
    }
    if (f.ret >= 0) this.assign(caller, f.ret, value!);
    return true;
  }

  raise(p: Path, msg: string): false {
    p.rg.b.terminate(p.out, { k: "raise", msg });
    return false;
  }

  /** The merge point, with the arguments' variables (greens first). False when the path joined
   *  a known key and ends here. */
  mergePoint(p: Path, f: Frame, vars: Operand[], n: number): boolean {
    if (p.frames.length !== 1)
      throw new SpecialisationLimit("a merge point inside an inlined call");
    const at = (o: Operand): AVal =>
      typeof o === "number" ? this.slot(f, o) : o.k === "data" ? unreachable() : konst(o.v);
    vars.forEach((o, i) => {
      const a = at(o);
      if (a.k === "a" && i < n) this.frozen.add(a.arr);
      if (a.k !== "v") return;
      if (i < n) this.freeze(a.obj);
      else if (!staysVirtual(this.policy, a.obj.items.length)) this.force(p, a.obj);
    });
    let vals = vars.map(at);
    const known = vals
      .slice(0, n)
      .map((a) => (a.k === "c" ? a.v : a.k === "a" ? this.arrayId(a.arr) : "?"));
    const position = positionKey(known, this.isPosition);
    const variants = p.rg.variants.get(position) ?? 0;
    // A run-time array whose length is known keeps it through the key (`red#30000`).
    let pattern: Pattern = vals
      .slice(n)
      .map((a) =>
        a.k === "v"
          ? a.obj.items.map((s) => (s.k === "c" ? s.v : "_"))
          : a.k === "r" && a.len !== undefined
            ? `red#${a.len}`
            : "red",
      );
    let general = known.includes("?");
    if (
      !general &&
      !p.rg.keys.has(mergeKey(known, pattern.map(shapeOf))) &&
      mustGeneralise(this.policy, variants)
    ) {
      // Widen: keep only the item constants this position has always seen.
      pattern = widen(p.rg.patterns.get(position)!, pattern);
      general = mustGeneralise(this.policy, variants - this.policy.maxVariants);
    }
    const key = general ? generalisedKey(position) : mergeKey(known, pattern.map(shapeOf));
    if (general) {
      if (!p.rg.keys.has(key)) this.stats.generalisations++;
      this.generic(f);
      for (const a of vals) if (a.k === "v") this.force(p, a.obj);
      vals = vars.map(at);
    }

    // The red leaves of the state, in canonical order: whatever the key does not fix.
    // A green that is not a compile-time value is a leaf too (a pc computed at run time).
    const isLeaf = (i: number) => i >= n || (general && (!this.isPosition[i] || known[i] === "?"));
    const leafItem = (i: number, k: number) => {
      const pat = pattern[i - n];
      return typeof pat === "string" || pat === undefined || pat[k] === "_";
    };
    const leaves: AVal[] = [];
    vals.forEach((a, i) => {
      if (!isLeaf(i)) return;
      if (a.k === "v") leaves.push(...a.obj.items.filter((_, k) => leafItem(i, k)));
      else leaves.push(a);
    });
    const operands = leaves.map((a) => this.operand(p, a));
    const target = p.rg.keys.get(key);
    if (target !== undefined) {
      p.rg.b.terminate(p.out, { k: "jump", to: { block: target, args: operands } });
      return false;
    }
    this.stats.mergeKeys++;
    p.rg.variants.set(position, variants + 1);
    p.rg.patterns.set(position, pattern);
    const blk = p.rg.b.newBlock();
    p.rg.keys.set(key, blk);
    p.rg.b.terminate(p.out, { k: "jump", to: { block: blk, args: operands } });
    p.out = blk;
    // The new state holds only the merge point's arguments: leaves become block parameters.
    const param = (a: AVal): AVal => {
      const type =
        a.k === "r"
          ? a.type
          : a.k === "c"
            ? typeof a.v === "boolean"
              ? "bool"
              : "i32"
            : a.k === "a"
              ? a.type
              : a.obj.type;
      const len = !general && a.k === "r" ? a.len : undefined;
      return {
        k: "r",
        o: p.rg.b.addParam(blk, type),
        type,
        ...(len === undefined ? {} : { len }),
      } as AVal;
    };
    const env: Slot[] = new Array(f.g.types.length);
    vars.forEach((v, i) => {
      const a = vals[i]!;
      const next: AVal = !isLeaf(i)
        ? a
        : a.k === "v"
          ? {
              k: "v",
              obj: {
                type: a.obj.type,
                items: a.obj.items.map((s, k) => (leafItem(i, k) ? (param(s) as Scalar) : s)),
              },
            }
          : param(a);
      if (typeof v === "number") env[v] = f.code?.greens[v] ? plain(next) : next;
    });
    f.env = env;
    p.splits = 0;
    if (this.policy.fuel) this.emit(p, "fuel", [], undefined);
    return true;
  }
}

/** Binding times written compactly in generated code: "GRRG…", one letter per variable. */
export function bits(s: string): boolean[] {
  return Array.from(s, (c) => c === "G");
}

/** A jump target with its arguments (slots in the frame's representation). */
export type Target = [block: number, args: Slot[]];

const NOTHING = Symbol("nothing");

function unreachable(): never {
  throw new Error("a data constant at a merge point");
}

function scalar(a: AVal): Scalar {
  if (a.k === "c" || a.k === "r") return a;
  throw new Error("expected a scalar");
}

/** The plain value of a compile-time abstract value. */
export function plain(a: AVal): Slot {
  if (a.k === "c") return a.v;
  if (a.k === "a") return a.arr;
  throw new Error("a green value is not a compile-time constant");
}

/** The abstract value of a plain green slot. */
export function wrap(s: Slot, type: Type): AVal {
  if (typeof s === "number" || typeof s === "boolean") return konst(s);
  if (s instanceof Int32Array || s instanceof Uint8Array)
    return { k: "a", arr: s, type: type as "i32[]" | "u8[]" };
  return s;
}

/** Copies a path's frames for a second path: virtuals and compile-time arrays that may still
 *  change are copied, keeping their aliasing. */
function copyFrames(frames: Frame[], frozen: Set<Int32Array | Uint8Array>): Frame[] {
  const seen = new Map<object, object>();
  const copy = (s: Slot): Slot => {
    if (s instanceof Int32Array || s instanceof Uint8Array) {
      if (frozen.has(s)) return s;
      let c = seen.get(s) as typeof s | undefined;
      if (!c) seen.set(s, (c = s.slice()));
      return c;
    }
    if (typeof s !== "object" || s.k !== "v") return s;
    const { forced, frozen: f } = s.obj as Forced;
    if (forced !== undefined)
      return { k: "r", o: forced, type: s.obj.type, len: s.obj.items.length };
    if (f) return { k: "a", arr: f, type: s.obj.type };
    let o = seen.get(s.obj) as Virtual | undefined;
    if (!o) seen.set(s.obj, (o = { type: s.obj.type, items: [...s.obj.items] }));
    return { k: "v", obj: o };
  };
  return frames.map((f) => ({ ...f, env: f.env.map(copy) }));
}

/** The run-time values of a path's state, in a canonical order: red scalars of every slot and
 *  the red items of virtuals (each virtual once). */
function redLeaves(frames: Frame[]): AVal[] {
  const out: AVal[] = [];
  const seen = new Set<Virtual>();
  for (const f of frames)
    for (const s of f.env) {
      if (s === undefined || typeof s !== "object" || !("k" in s)) continue;
      if (s.k === "r") out.push(s);
      else if (s.k === "v" && !seen.has(s.obj)) {
        seen.add(s.obj);
        for (const it of s.obj.items) if (it.k === "r") out.push(it);
      }
    }
  return out;
}

/** Replaces, in copied frames, each red leaf (found in the same order as in the originals) by
 *  its fresh parameter. */
function rebind(frames: Frame[], originals: AVal[], copies: AVal[], fresh: Map<AVal, AVal>): void {
  const to = new Map<AVal, AVal>();
  copies.forEach((c, i) => to.set(c, fresh.get(originals[i]!)!));
  const seen = new Set<Virtual>();
  for (const f of frames)
    f.env = f.env.map((s) => {
      if (s === undefined || typeof s !== "object" || !("k" in s)) return s;
      if (s.k === "r") return to.get(s) ?? s;
      if (s.k === "v" && !seen.has(s.obj)) {
        seen.add(s.obj);
        s.obj.items = s.obj.items.map((it) => (to.get(it) as Scalar | undefined) ?? it);
      }
      return s;
    });
}

function shapeOf(pat: Pattern[number]): string {
  return typeof pat === "string" ? pat : `[${pat.join(" ")}]`;
}

/** The least pattern that covers both: item constants they agree on, "_" elsewhere. */
function widen(a: Pattern, b: Pattern): Pattern {
  return b.map((pb, i) => {
    const pa = a[i];
    if (
      typeof pb === "string" ||
      typeof pa === "string" ||
      pa === undefined ||
      pa.length !== pb.length
    )
      return pb;
    return pb.map((v, k) => (v === pa[k] ? v : "_"));
  });
}
