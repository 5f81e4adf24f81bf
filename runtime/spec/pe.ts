//! The abstract interpreter: partial evaluation of an interpreter's low-level graphs with
//! respect to its compile-time constants (the first Futamura projection).
//!
//! It runs the interpreter's graphs at compile time on abstract values (`value.ts`): operations
//! on constants fold, operations on run-time values are emitted into residual graphs, arrays of
//! constant length stay virtual until they escape. A path is followed from the entry; at a red
//! branch each side becomes a path of its own (worklist). At the merge point the state is keyed
//! by its greens (`policy.ts`): a known key closes a residual loop, a new key starts a residual
//! block whose parameters are the red leaves of the state. Calls to the portal (the function
//! holding the merge point) become residual calls to graphs specialised for their constant
//! arguments; other calls are inlined. An interpreter error on a path becomes a residual
//! `raise` on that path only. The result is deterministic: the same program gives the same text.
//!
//! Pipeline:  graphs + constants ──walk paths──▶ residual blocks ──cleanup passes──▶ residual module

import { GraphBuilder } from "../ir/build.ts";
import { OPS } from "../ir/ops.ts";
import type { Const, Graph, Jump, Module, Op, Operand, Type } from "../ir/types.ts";
import { cleanup, runPasses } from "../passes/index.ts";
import {
  SpecialisationLimit,
  defaultPolicy,
  generalisedKey,
  mergeKey,
  mustGeneralise,
  positionKey,
  staysVirtual,
  type Policy,
} from "./policy.ts";
import { newStats, type SpecStats } from "./stats.ts";
import { copyValues, konst, type AVal, type Scalar, type Virtual } from "./value.ts";

interface Frame {
  g: Graph;
  block: number;
  op: number;
  env: Map<number, AVal>;
  /** The caller's variable that receives the result (-1: none). */
  ret: number;
}

interface Residual {
  b: GraphBuilder;
  keys: Map<string, number>;
  variants: Map<string, number>;
  /** The pattern of the last key made at each position, which widening starts from. */
  patterns: Map<string, Pattern>;
}

interface Path {
  rg: Residual;
  frames: Frame[];
  out: number;
  /** Operations processed since the last merge point, against runaway green loops. */
}

export interface Specialised {
  module: Module;
  stats: SpecStats;
}

/** Specialises `entry` of `m` for `args` (an abstract value per parameter). */
export function specialise(m: Module, entry: string, args: AVal[], policy: Policy = defaultPolicy): Specialised {
  const t0 = performance.now();
  const pe = new PartialEvaluator(m, policy);
  const module = pe.run(entry, args);
  pe.stats.specialiseMs = Math.round((performance.now() - t0) * 1000) / 1000;
  return { module, stats: pe.stats };
}

class PartialEvaluator {
  readonly stats = newStats();
  private graphs: Map<string, Graph>;
  private portals: Set<string>;
  private residuals: Residual[] = [];
  private portalGraphs = new Map<string, string>();
  private work: Path[] = [];
  private data = new Map<Int32Array | Uint8Array, number>();
  private out: Module = { graphs: [], data: [] };
  private isPosition: boolean[];

  constructor(
    private m: Module,
    private policy: Policy,
  ) {
    this.graphs = new Map(m.graphs.map((g) => [g.name, g]));
    this.portals = new Set(m.graphs.filter((g) => g.blocks.some((b) => b.ops.some((o) => o.op === "merge_point"))).map((g) => g.name));
    const d = m.driver ?? { greens: [], reds: [], immutable: [] };
    let firstInt = true;
    this.isPosition = d.greens.map((name) => {
      if (d.immutable.includes(name)) return true;
      const first = firstInt;
      firstInt = false;
      return first;
    });
  }

  run(entry: string, args: AVal[]): Module {
    const g = this.graph(entry);
    const rg = this.newResidual(entry, g.ret);
    const env = new Map<number, AVal>();
    const params = g.blocks[0]!.params;
    params.forEach((p, i) => {
      const v = rg.b.addParam(0, g.types[p]!, g.names[p]);
      const a = args[i]!;
      env.set(p, a.k === "r" ? { k: "r", o: v, type: g.types[p]! } : a);
    });
    this.work.push({ rg, frames: [{ g, block: 0, op: 0, env, ret: -1 }], out: 0 });
    while (this.work.length) this.follow(this.work.pop()!);
    for (const r of this.residuals) {
      const graph = r.b.finish();
      runPasses(graph, cleanup);
      this.out.graphs.push(graph);
    }
    this.stats.graphs = this.out.graphs.length;
    return this.out;
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

  // --- values ---

  private resolve(a: AVal): AVal {
    return a.k === "v" && (a.obj as Forced).forced !== undefined ? { k: "r", o: (a.obj as Forced).forced!, type: a.obj.type } : a;
  }

  private value(f: Frame, o: Operand): AVal {
    if (typeof o !== "number") return this.constant(o);
    const a = f.env.get(o);
    if (!a) throw new Error(`@${f.g.name}: v${o} is live across the merge point but neither green nor red`);
    return this.resolve(a);
  }

  private constant(c: Const): AVal {
    if (c.k !== "data") return konst(c.v);
    const d = this.m.data[c.v]!;
    return { k: "a", arr: d.type === "u8[]" ? Uint8Array.from(d.values) : Int32Array.from(d.values), type: d.type };
  }

  /** The residual operand of a value, forcing a virtual. */
  private operand(p: Path, a: AVal): Operand {
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

  private arrayIds = new Map<Int32Array | Uint8Array, string>();

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

  private emit(p: Path, op: string, args: Operand[], type: Type | undefined, imm?: string | number): number {
    this.stats.opsResidual++;
    return p.rg.b.emit(p.out, op, args, type, imm);
  }

  private scalar(a: AVal, what: string): Scalar {
    if (a.k === "c" || a.k === "r") return a;
    throw new Error(`${what}: expected a scalar`);
  }

  // --- paths ---

  private follow(p: Path): void {
    let sinceMerge = 0;
    for (;;) {
      const f = p.frames.at(-1)!;
      const block = f.g.blocks[f.block]!;
      if (f.op < block.ops.length) {
        if (++this.stats.opsSeen > this.policy.maxOps || ++sinceMerge > this.policy.maxOps)
          throw new SpecialisationLimit(`more than ${this.policy.maxOps} operations`);
        const op = block.ops[f.op++]!;
        if (op.op === "merge_point") {
          if (!this.mergePoint(p, f, op)) return;
          sinceMerge = 0;
        } else if (op.op === "call") {
          this.call(p, f, op);
        } else this.operation(p, f, op);
        continue;
      }
      if (!this.terminator(p, f)) return;
    }
  }

  private operation(p: Path, f: Frame, op: Op): void {
    const args = op.args.map((o) => this.value(f, o));
    const set = (a: AVal): void => void f.env.set(op.dst, a);
    const type = f.g.types[op.dst];
    const info = OPS[op.op]!;
    if (info.fold && args.every((a) => a.k === "c")) {
      this.stats.opsFolded++;
      return set(konst(info.fold(...args.map((a) => (a as { v: number | boolean }).v))));
    }
    switch (op.op) {
      case "array_len": {
        const a = args[0]!;
        if (a.k === "a" || a.k === "v") {
          this.stats.opsFolded++;
          return set(konst(a.k === "a" ? a.arr.length : a.obj.items.length));
        }
        break;
      }
      case "array_get": {
        const [a, i] = args as [AVal, AVal];
        if (i.k === "c" && a.k === "a") return this.stats.opsFolded++, set(konst(a.arr[i.v as number]!));
        if (i.k === "c" && a.k === "v") return this.stats.opsFolded++, set(a.obj.items[i.v as number]!);
        break;
      }
      case "array_set": {
        const [a, i, v] = args as [AVal, AVal, AVal];
        if (i.k === "c" && a.k === "v") {
          this.stats.opsFolded++;
          const item = this.scalar(v, "array_set");
          a.obj.items[i.v as number] =
            a.obj.type === "i32[]" ? item : item.k === "c" ? konst((item.v as number) & 255) : { k: "r", o: this.emit(p, "int_and", [item.o, { k: "int", v: 255 }], "i32"), type: "i32" };
          return;
        }
        if (a.k === "a") throw new Error("a write to an immutable array");
        break;
      }
      case "new_array": {
        const n = args[0]!;
        if (n.k === "c" && staysVirtual(this.policy, n.v as number)) {
          this.stats.virtualsCreated++;
          this.stats.opsFolded++;
          const obj: Virtual = { type: op.imm as "i32[]", items: Array.from({ length: n.v as number }, () => konst(0)) };
          return set({ k: "v", obj });
        }
        break;
      }
      case "promote":
        this.stats.promotions++;
        return set(args[0]!);
    }
    const dst = this.emit(p, op.op, args.map((a) => this.operand(p, a)), op.dst >= 0 ? type : undefined, op.imm);
    if (op.dst >= 0) set({ k: "r", o: dst, type: type! });
  }

  private call(p: Path, f: Frame, op: Op): void {
    const callee = this.graph(op.imm as string);
    const args = op.args.map((o) => this.value(f, o));
    if (this.portals.has(callee.name)) return this.portalCall(p, f, op, callee, args);
    if (p.frames.length > this.policy.maxInlineDepth) throw new SpecialisationLimit(`inlining deeper than ${this.policy.maxInlineDepth}`);
    const env = new Map<number, AVal>();
    callee.blocks[0]!.params.forEach((v, i) => env.set(v, args[i]!));
    p.frames.push({ g: callee, block: 0, op: 0, env, ret: op.dst });
  }

  /** A call to the portal: a residual call to the portal specialised for the constant arguments. */
  private portalCall(p: Path, f: Frame, op: Op, callee: Graph, args: AVal[]): void {
    const key = callee.name + "(" + args.map((a) => (a.k === "c" ? String(a.v) : a.k === "a" ? this.arrayId(a.arr) : "_")).join(",") + ")";
    let name = this.portalGraphs.get(key);
    if (name === undefined) {
      name = `${callee.name}$${this.portalGraphs.size + 1}`;
      this.portalGraphs.set(key, name);
      const rg = this.newResidual(name, callee.ret);
      const env = new Map<number, AVal>();
      callee.blocks[0]!.params.forEach((v, i) => {
        const a = args[i]!;
        const type = callee.types[v]!;
        env.set(v, a.k === "c" || a.k === "a" ? a : { k: "r", o: rg.b.addParam(0, type, callee.names[v]), type });
      });
      this.work.push({ rg, frames: [{ g: callee, block: 0, op: 0, env, ret: -1 }], out: 0 });
    }
    const red = args.filter((a) => a.k !== "c" && a.k !== "a").map((a) => this.operand(p, a));
    const dst = this.emit(p, "call", red, op.dst >= 0 ? callee.ret : undefined, name);
    if (op.dst >= 0) f.env.set(op.dst, { k: "r", o: dst, type: callee.ret });
  }

  /** Returns false when the path ends here (it joined a known key). */
  private mergePoint(p: Path, f: Frame, op: Op): boolean {
    if (p.frames.length !== 1) throw new SpecialisationLimit("a merge point inside an inlined call");
    const n = op.imm as number;
    let vals = op.args.map((o) => this.value(f, o));
    const known = vals.slice(0, n).map((a) => (a.k === "c" ? a.v : a.k === "a" ? this.arrayId(a.arr) : "?"));
    const position = positionKey(known, this.isPosition);
    const variants = p.rg.variants.get(position) ?? 0;
    let pattern: Pattern = vals.slice(n).map((a) => (a.k === "v" ? a.obj.items.map((s) => (s.k === "c" ? s.v : "_")) : "red"));
    let general = known.includes("?");
    if (!general && !p.rg.keys.has(mergeKey(known, pattern.map(shapeOf))) && mustGeneralise(this.policy, variants)) {
      // Widen: keep only the item constants this position has always seen.
      pattern = widen(p.rg.patterns.get(position)!, pattern);
      general = mustGeneralise(this.policy, variants - this.policy.maxVariants);
    }
    const key = general ? generalisedKey(position) : mergeKey(known, pattern.map(shapeOf));
    if (general && !p.rg.keys.has(key)) this.stats.generalisations++;
    if (general) {
      for (const a of vals) if (a.k === "v") this.force(p, a.obj);
      vals = op.args.map((o) => this.value(f, o));
    }

    // The red leaves of the state, in canonical order: whatever the key does not fix.
    const isLeaf = (i: number) => i >= n || (general && !this.isPosition[i]);
    const leafItem = (i: number, k: number) => {
      const pat = pattern[i - n];
      return pat === "red" || pat === undefined || pat[k] === "_";
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
      const type = a.k === "r" ? a.type : a.k === "c" ? (typeof a.v === "boolean" ? "bool" : "i32") : a.k === "a" ? a.type : a.obj.type;
      return { k: "r", o: p.rg.b.addParam(blk, type), type } as AVal;
    };
    const env = new Map<number, AVal>();
    op.args.forEach((o, i) => {
      const a = vals[i]!;
      let next = a;
      if (isLeaf(i))
        next = a.k === "v" ? { k: "v", obj: { type: a.obj.type, items: a.obj.items.map((s, k) => (leafItem(i, k) ? (param(s) as Scalar) : s)) } } : param(a);
      if (typeof o === "number") env.set(o, next);
    });
    f.env = env;
    if (this.policy.fuel) this.emit(p, "fuel", [], undefined);
    return true;
  }

  /** Returns false when the path ends. */
  private terminator(p: Path, f: Frame): boolean {
    const t = f.g.blocks[f.block]!.term;
    switch (t.k) {
      case "jump":
        this.enter(f, t.to, f);
        return true;
      case "branch": {
        const c = this.value(f, t.cond);
        if (c.k === "c") {
          this.enter(f, c.v ? t.then : t.else, f);
          return true;
        }
        return this.split(p, f, this.operand(p, c), [t.then, t.else], (targets) => ({ k: "branch", cond: this.operand(p, c), then: targets[0]!, else: targets[1]! }));
      }
      case "switch": {
        const v = this.value(f, t.on);
        if (v.k === "c") {
          this.enter(f, t.cases.find((c) => c.value === v.v)?.to ?? t.default, f);
          return true;
        }
        const on = this.operand(p, v);
        return this.split(p, f, on, [...t.cases.map((c) => c.to), t.default], (targets) => ({
          k: "switch",
          on,
          cases: t.cases.map((c, i) => ({ value: c.value, to: targets[i]! })),
          default: targets.at(-1)!,
        }));
      }
      case "return": {
        const v = t.value === undefined ? undefined : this.value(f, t.value);
        p.frames.pop();
        const caller = p.frames.at(-1);
        if (!caller) {
          p.rg.b.terminate(p.out, v === undefined ? { k: "return" } : { k: "return", value: this.operand(p, v) });
          return false;
        }
        if (f.ret >= 0) caller.env.set(f.ret, v!);
        return true;
      }
      case "raise":
        p.rg.b.terminate(p.out, { k: "raise", msg: t.msg });
        return false;
      case "exit":
        throw new Error("an exit in an interpreter graph");
    }
  }

  /** Binds a jump's arguments to its target's parameters and moves there. */
  private enter(f: Frame, j: Jump, from: Frame): void {
    const vals = j.args.map((a) => this.value(from, a));
    const params = f.g.blocks[j.block]!.params;
    params.forEach((v, i) => f.env.set(v, vals[i]!));
    f.block = j.block;
    f.op = 0;
  }

  /** A red branch or switch: each target becomes a residual block and a path of its own. */
  private split(p: Path, f: Frame, _on: Operand, targets: Jump[], term: (to: Jump[]) => import("../ir/types.ts").Term): boolean {
    const blocks = targets.map(() => p.rg.b.newBlock());
    p.rg.b.terminate(p.out, term(blocks.map((b) => ({ block: b, args: [] }))));
    // Later paths first on the stack, so the first target is followed first.
    for (let i = targets.length - 1; i >= 0; i--) {
      const envs = copyValues(p.frames.map((fr) => fr.env));
      const frames = p.frames.map((fr, k) => ({ ...fr, env: envs[k]! }));
      const top = frames.at(-1)!;
      this.enter(top, targets[i]!, top);
      this.work.push({ rg: p.rg, frames, out: blocks[i]! });
    }
    void f;
    return false;
  }
}

type Forced = Virtual & { forced?: number };

/** What a merge-point key fixes of each red: nothing ("red"), or a virtual's items, each a
 *  constant or "_" (a run-time value). */
type Pattern = ("red" | (number | boolean | "_")[])[];

function shapeOf(pat: Pattern[number]): string {
  return pat === "red" ? "red" : `[${pat.join(" ")}]`;
}

/** The least pattern that covers both: item constants they agree on, "_" elsewhere. */
function widen(a: Pattern, b: Pattern): Pattern {
  return b.map((pb, i) => {
    const pa = a[i];
    if (pb === "red" || pa === "red" || pa === undefined || pa.length !== pb.length) return pb;
    return pb.map((v, k) => (v === pa[k] ? v : "_"));
  });
}

