//! The specialisation engine: everything the abstract interpreter (`pe.ts`) and the generated
//! specialisers (`generated/<lang>.ts`) share, so that both take every decision by the same rules
//! and give byte-identical residual graphs.
//!
//! It owns the residual module being built, the worklist of paths, the state of each path (a
//! stack of frames, each an environment of slots), and the meaning of every red operation:
//! folding when the operands happen to be constants, virtual arrays, forcing, the merge point
//! with its keys (rules in `policy.ts`), calls (inlined, or residual portal calls), red branches
//! (a residual branch and a path per side), returns and raises; and the saved paths that exits
//! name (promotions, and the edges of a tier's region), which `continuation` specialises when
//! the residual code first takes the exit.
//!
//! A frame runs in one of two modes. *Generic*: every slot holds an abstract value and the
//! abstract interpreter walks the graph's operations (`pe.ts`). *Compiled*: the frame runs a
//! generated specialiser's code for the graph; slots of variables the binding-time analysis found
//! green hold plain values (numbers, booleans, the bytecode array) and the code computes them
//! directly. A compiled frame falls back to generic mode where the policy turns a green red
//! (generalisation): the generated code and the walker share the frame, so nothing is lost.
//!
//! Cost: per operation walked or emitted, bounded by the interpreter, not the program (a state
//! copy, a key or a merge point's leaves cost the interpreter's variables and the virtuals'
//! lengths, at most `maxVirtualLength`); keys and blocks are found by hashing. So a
//! specialisation is linear in the operations it walks (`stats.opsSeen`, at most `maxOps`) and
//! emits: the steps it counts (`runtime/work.ts`).

import { GraphBuilder, NONE } from "../ir/build.ts";
import { OPS } from "../ir/ops.ts";
import type { Graph, Jump, Module, Operand, Type } from "../ir/types.ts";
import { liveAcross, liveAt, liveIn } from "../ir/walk.ts";
import { cleanup, runPasses } from "../passes/index.ts";
import {
  SpecialisationLimit,
  allocatesVirtual,
  mustGeneralise,
  positionKey,
  staysVirtual,
  type Policy,
} from "./policy.ts";
import {
  ALIAS,
  ARRAY,
  FALSE,
  GENERAL,
  HOLE,
  IntMap,
  Interner,
  Parts,
  SHAPE,
  TRUE,
  UNKNOWN,
  VIRTUAL,
} from "./keys.ts";
import { countWork, workDone } from "../work.ts";
import { newStats } from "./stats.ts";
import { ZERO, allItems, item, konst, type AVal, type Scalar, type Virtual } from "./value.ts";

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
  /** Its blocks by key (see `keys.ts`). */
  keys: IntMap;
  /** Keys made per position, and the pattern of the last, which widening starts from (as the
   *  key's number, whose parts hold it after the greens', or for a general key `-1 - n`, `n`
   *  the number of the pattern in `Engine.partIds`). */
  variants: number[];
  patterns: number[];
  /** Its blocks that raise, by message (see `sides`). */
  raises: Map<string, number>;
}

/** A path saved to go on later, when the residual code first needs it (an `exit status` names
 *  it): after the promotion of a run-time value (`promote`: once per value), or just before a
 *  merge point where a tier's region ends (`tier`, see `region`). `leaves` are the run-time
 *  values of the state, in the order of the exit's arguments after the value. */
interface Saved {
  kind: "promote" | "tier";
  frames: Frame[];
  leaves: AVal[];
  /** For `promote`: the variable that receives the value. */
  dst: number;
  /** The graph the path was saved from (the continuation's name and return type). */
  out: Residual;
  /** The graph made to go on, by value (0 but for promotions). */
  made: Map<number, string>;
}

/** Where an exit goes on: the graph `name`, and the graphs made to get there (new ones only).
 *  `perValue`: whether another value at the same exit may go elsewhere (a promotion). */
export interface Resumed {
  name: string;
  graphs: Graph[];
  perValue: boolean;
}

export interface Path {
  rg: Residual;
  frames: Frame[];
  /** The residual block the path appends to. */
  out: number;
  /** Red branches the path has taken since its last merge point. */
  splits: number;
  /** A path that starts at a merge point (a tier's entry or bridge): that first merge point
   *  is in the region whatever the first tier's counters say. */
  fresh?: boolean;
}

/** What a merge-point key fixes of each red, as parts (`keys.ts`), one red after another:
 *  `SHAPE` (nothing: "red"), `SHAPE + 1 + length` (a run-time array of a known length keeps it:
 *  "red#30000"), or `VIRTUAL + length`, then the number of its items but for the zeros they end
 *  with (so that a key does not depend on how far a virtual was written), and a part per such
 *  item: a constant, or `HOLE` (a run-time value); or, for a virtual an earlier red holds too,
 *  `ALIAS + ` that red's number ("=2": after the merge point the two share one virtual). */
type Pattern = number[];

/** Of a merge-point position: the paths that reached it, keys made there, keys found made. */
export interface PlaceCounts {
  entries: number;
  keys: number;
  hits: number;
}

/** A virtual once it is allocated (`forced`: its residual variable) or frozen into a constant. */
type Forced = Virtual & { forced?: number; frozen?: Int32Array | Uint8Array };

/** A raise in a function that generated code runs wholly at compile time, as a plain function
 *  (every value of it green): the caller's path raises (`Engine.raised`). */
export class Raised {
  constructor(readonly msg: string) {}
}

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
  /** Saved paths, by exit status. */
  private saved: Saved[] = [];
  /** Exit status by the compile-time part of the saved state: equal states share their
   *  continuations, so a loop through a promotion needs one per value, not per trip. */
  private savedKeys = new Map<string, number>();
  /** Merge-point positions and keys by number (a key's name once made), general keys'
   *  patterns, and numbers for arrays in them. Per position: the parts of the greens it was
   *  first met with (a part per green of the merge point), and three counts (`PlaceCounts`, in
   *  order). The parts buffers are room for a
   *  key's parts while it is looked up: the greens' (then the whole key's), the reds' shapes, a
   *  position's. (Numbers in arrays, not an object per position or key: they live as long as
   *  the specialisation, and the garbage collector copies every small object that does.) */
  private positionIds = new Interner(256);
  private keyIds = new Interner(512);
  private partIds = new Interner(256);
  private placeKnown = new Parts(256);
  private placeCounts: number[] = [];
  private arrayNumbers = new Map<Int32Array | Uint8Array, number>();
  private greenParts: number[] = [];
  /** Room for a merge point's reds' values and its state's leaves while it runs. */
  private redVals: AVal[] = [];
  private leafVals: AVal[] = [];
  private shapeParts: Pattern = [];
  private positionParts: number[] = [];
  /** Operations seen before the current specialisation (each continuation has its own budget). */
  private opsBefore = 0;
  /** Residual operations emitted, those of specialisations given up included (the work
   *  counted, `runtime/work.ts`, is these and the operations seen). */
  private emitted = 0;
  /** Set when the program's compile work is spent (`Policy.maxWork`, counted by `jit.ts`): why
   *  no continuation is made any more (each gives up: the interpreter goes on). */
  spent: string | undefined;
  /** The value of `workDone()` at which the program's compile work is spent (`jit.ts` sets
   *  it), and the count of operations seen and emitted at which the continuation being made
   *  reaches it (a specialisation stops there; its clean-up and compilation, linear in what it
   *  made, are the most the budget is overdrawn by). */
  workLimit = Infinity;
  private stepLimit = Infinity;
  /** Compile-time arrays that may no longer change: the bytecode, greens seen at a merge point. */
  private frozen = new Set<Int32Array | Uint8Array>();
  private out: Module = { graphs: [], data: [] };
  private isPosition: boolean[];
  /** The index of the position among the greens (the first that is not immutable). */
  private positionGreen: number;
  /** With tiers: whether the first tier found the position (the value of the first integer
   *  green) warm. A path reaching a merge point at a position that is not, and whose key this
   *  graph has not made, ends in an exit to a `tier` saved path: the region compiled from a hot
   *  position is the code the first tier has run often, whole loops with their inner loops,
   *  and its edges leave at merge points, where the first tier can take the state over. */
  region: ((position: number) => boolean) | undefined;
  /** With tiers: whether a position is hot (entries of the tiers start at hot positions, made
   *  when first needed): a path reaching it ends in an exit that goes on in the entry for its
   *  state (one copy of each hot loop, linked, not a copy in every region that reaches it). */
  entered: ((position: number) => boolean) | undefined;

  constructor(
    readonly m: Module,
    readonly policy: Policy,
    private walk: Walker,
    private compiled: Record<string, Compiled> = {},
  ) {
    ({
      graphs: this.graphs,
      portals: this.portals,
      isPosition: this.isPosition,
      positionGreen: this.positionGreen,
    } = prepare(m));
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
    const before = this.stats.opsSeen + this.emitted;
    try {
      while (this.work.length) this.follow(this.work.pop()!);
    } finally {
      countWork("specialise", this.stats.opsSeen + this.emitted - before);
    }
    for (const r of this.residuals) {
      const graph = r.b.finish();
      this.clean(graph);
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
    const r: Residual = { b, keys: new IntMap(), raises: new Map(), variants: [], patterns: [] };
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

  // --- values ---

  resolve(a: AVal): AVal {
    return a.k === "v" ? (settled(a.obj) ?? a) : a;
  }

  /** A green virtual at the merge point becomes a compile-time array (if its items are known). */
  private freeze(obj: Virtual): AVal {
    if (!obj.items.every((s) => s.k === "c")) return { k: "v", obj };
    const arr = obj.type === "u8[]" ? new Uint8Array(obj.length) : new Int32Array(obj.length);
    obj.items.forEach((s, i) => (arr[i] = Number((s as { v: number }).v)));
    (obj as Forced).frozen = arr;
    this.frozen.add(arr);
    return this.resolve({ k: "v", obj });
  }

  /** The abstract value of a slot of `f`. */
  slot(f: Frame, v: number): AVal {
    const s = f.env[v];
    // (`prepare` refuses graphs with another variable live across a merge point, so an empty
    // slot read is the engine's own mistake.)
    if (s === undefined) throw new Error(`@${f.g.name}: v${v} read but never written here`);
    return f.code?.greens[v] ? wrap(s, f.g.types[v]!) : this.resolve(s as AVal);
  }

  /** The residual operand of a value, forcing a virtual. */
  operand(p: Path, a: AVal): Operand {
    a = this.resolve(a);
    switch (a.k) {
      case "c":
        return constOperand(a.v);
      case "r":
        return a.o;
      case "a":
        return { k: "data", v: this.dataIndex(a.arr, a.type) };
      case "v":
        return this.force(p, a.obj);
    }
  }

  /** A compile-time array in a state's key: a frozen one by identity (the bytecode), one that
   *  may still change by its contents, as a virtual (a green array of compiled code is one the
   *  abstract interpreter keeps virtual; a copy of a state copies it). */
  private arrayKey(arr: Int32Array | Uint8Array, ids: Map<unknown, number>): string {
    if (this.frozen.has(arr)) return this.arrayId(arr);
    const i = ids.get(arr);
    if (i !== undefined) return `#${i}`;
    ids.set(arr, ids.size);
    return `[${arr.join(" ")}]`;
  }

  /** A name for a constant array in keys (identity, not contents: it is immutable). */
  private arrayId(arr: Int32Array | Uint8Array): string {
    return `@${this.arrayNumber(arr)}`;
  }

  private arrayNumber(arr: Int32Array | Uint8Array): number {
    let n = this.arrayNumbers.get(arr);
    if (n === undefined) this.arrayNumbers.set(arr, (n = this.arrayNumbers.size));
    return n;
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
    const arr = this.emit(p, "new_array", [{ k: "int", v: obj.length }], obj.type, obj.type);
    f.forced = arr;
    for (let i = 0; i < obj.items.length; i++) {
      const it = obj.items[i]!;
      if (it.k === "c" && it.v === 0) continue;
      this.emit(p, "array_set", [arr, { k: "int", v: i }, this.operand(p, it)], undefined);
    }
    return arr;
  }

  private emit(
    p: Path,
    op: string,
    args: Operand[],
    type: Type | undefined,
    imm?: string | number,
  ): number {
    if (++this.emitted + this.stats.opsSeen > this.stepLimit) this.overspent();
    if (++this.stats.opsResidual > this.policy.maxResidualOps)
      throw new SpecialisationLimit(`more than ${this.policy.maxResidualOps} residual operations`);
    return p.rg.b.emit(p.out, op, args, type, imm);
  }

  // --- operations ---

  /** Counts `n` operations of the interpreter processed, against the policy's bound. */
  tick(n: number): void {
    if ((this.stats.opsSeen += n) - this.opsBefore > this.policy.maxOps)
      throw new SpecialisationLimit(`more than ${this.policy.maxOps} operations`);
    if (this.stats.opsSeen + this.emitted > this.stepLimit) this.overspent();
  }

  /** The program's compile work would pass its budget: no more continuations. */
  private overspent(): never {
    this.spent ??= `more than ${this.policy.maxWork} steps of compile work`;
    throw new SpecialisationLimit(this.spent);
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
    if (OPS[name]!.fold) return this.pure(p, name, type!, args[0]!, args[1]);
    switch (name) {
      case "array_len":
        return this.len(p, args[0]!);
      case "array_get":
        return this.get(p, args[0]!, args[1]!);
      case "array_set":
        this.set(p, args[0]!, args[1]!, args[2]!);
        return undefined;
      case "new_array":
        return this.alloc(p, args[0]!, imm as "i32[]" | "u8[]");
    }
    return this.residual(p, name, args, type, imm);
  }

  /** An operation emitted as it is (its operands made residual, forcing virtuals); `len`: the
   *  length of the array it makes, if known. */
  private residual(
    p: Path,
    name: string,
    args: AVal[],
    type: Type | undefined,
    imm?: string | number,
    len?: number,
  ): AVal | undefined {
    // (Loops, no closures or spreads: this runs for every red operation.)
    const operands: Operand[] = new Array(args.length);
    for (let i = 0; i < args.length; i++) operands[i] = this.operand(p, args[i]!);
    const dst = this.emit(p, name, operands, type, imm);
    return type === undefined ? undefined : red(dst, type, len);
  }

  /** A pure operation of the opcode table (one with a `fold`) on one or two abstract scalars:
   *  folded when they are constants, emitted otherwise. Generated code calls it directly. */
  pure(p: Path, name: string, type: Type, a: AVal, b?: AVal): AVal {
    if (a.k === "c" && (b === undefined || b.k === "c")) {
      this.stats.opsFolded++;
      return konst(OPS[name]!.fold!(a.v, b?.v));
    }
    const args = b === undefined ? [this.operand(p, a)] : [this.operand(p, a), this.operand(p, b)];
    return red(this.emit(p, name, args, type), type, undefined);
  }

  // The array operations, which generated code also calls directly. A constant array, a
  // virtual and a run-time array of a known length need no residual code for some of them.

  /** `array_len`. */
  len(p: Path, a: AVal): AVal {
    a = this.resolve(a);
    const n = lengthOf(a);
    if (n === undefined) return this.residual(p, "array_len", [a], "i32")!;
    this.stats.opsFolded++;
    return konst(n);
  }

  /** `array_len` of a red array as generated code asks for it where the binding-time analysis
   *  found its length known at compile time (every array that may reach it allocated with a
   *  green length). Where the engine does not know it all the same (a generalised merge point
   *  drops it), `f` goes on generically from the operation, as the walk would. */
  knownLength(p: Path, a: AVal): number | undefined {
    const n = lengthOf(this.resolve(a));
    if (n === undefined) this.generic(p.frames);
    return n;
  }

  /** `array_get`. */
  get(p: Path, a: AVal, i: AVal): AVal {
    a = this.resolve(a);
    if (i.k === "c" && (a.k === "a" || a.k === "v")) {
      this.stats.opsFolded++;
      return a.k === "a" ? konst(a.arr[i.v as number]!) : item(a.obj, i.v as number);
    }
    return this.residual(p, "array_get", [a, i], "i32")!;
  }

  /** `array_set`: a u8[] virtual keeps the low 8 bits of what it stores, as the array would. */
  set(p: Path, a: AVal, i: AVal, v: AVal): void {
    a = this.resolve(a);
    if (a.k === "a") throw new SpecialisationLimit("a write to a compile-time array");
    if (i.k !== "c" || a.k !== "v") {
      this.residual(p, "array_set", [a, i, v], undefined);
      return;
    }
    this.stats.opsFolded++;
    const x = scalar(v);
    const items = a.obj.items;
    while (items.length < (i.v as number)) items.push(ZERO);
    items[i.v as number] =
      a.obj.type === "i32[]"
        ? x
        : x.k === "c"
          ? konst((x.v as number) & 255)
          : red(this.emit(p, "int_and", [x.o, { k: "int", v: 255 }], "i32"), "i32", undefined);
  }

  /** `new_array`: virtual when its length is a constant the policy allows. */
  alloc(p: Path, n: AVal, type: "i32[]" | "u8[]"): AVal {
    if (n.k !== "c") return this.residual(p, "new_array", [n], type, type)!;
    if (!allocatesVirtual(this.policy, n.v as number))
      return this.residual(p, "new_array", [n], type, type, n.v as number)!;
    this.stats.opsFolded++;
    this.stats.virtualsCreated++;
    return { k: "v", obj: { type, length: n.v as number, items: [] } };
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
  promoteTo(p: Path, a: AVal, dst: number): boolean {
    a = this.resolve(a);
    this.stats.promotions++;
    if (a.k === "c") {
      this.assign(p.frames, dst, a);
      return true;
    }
    this.generic(p.frames);
    const frames = liveFrames(copyFrames(p.frames, this.frozen));
    // The promoted value is live here, but the continuation writes it.
    frames.at(-1)!.env[dst] = undefined!;
    const status = this.save("promote", frames, p, dst);
    this.exitTo(p.rg, p.out, status, this.operand(p, a), frames);
    return false;
  }

  /** The saved path for `frames` (live slots only) of path `p`, shared with an equal state
   *  saved before. */
  private save(
    kind: Saved["kind"],
    frames: Frame[],
    p: Path,
    dst = -1,
    key = this.savedKey(kind, frames, dst),
    leaves?: AVal[],
  ): number {
    let status = this.savedKeys.get(key);
    if (status === undefined) {
      leaves ??= redLeaves(frames);
      status = this.saved.push({ kind, frames, leaves, dst, out: p.rg, made: new Map() }) - 1;
      this.savedKeys.set(key, status);
    }
    return status;
  }

  /** Ends residual block `block` with `exit status(value, leaves...)`: the leaves of `frames`,
   *  which are in the order of the saved path's (their states are equal). */
  private exitTo(
    rg: Residual,
    block: number,
    status: number,
    value: Operand,
    frames: Frame[],
  ): void {
    const leaves = redLeaves(frames).map(redOperand);
    rg.b.terminate(block, { k: "exit", status, args: [value, ...leaves] });
  }

  private savedKey(kind: Saved["kind"], frames: Frame[], dst = -1): string {
    return `${kind}${dst}|${frames.map((fr) => this.stateKey(fr)).join("|")}`;
  }

  /** The compile-time part of a frame's state: where it is, and its values but for red ones,
   *  with the sharing of red values and virtuals (`_2` is the third distinct one), so that equal
   *  keys mean states whose leaves line up. Green slots of compiled frames read as their
   *  abstract values would. */
  private stateKey(f: Frame): string {
    const ids = new Map<unknown, number>();
    let key = `${f.g.name}:${f.block}:${f.op}:${f.ret}:`;
    for (let v = 0; v < f.env.length; v++) key += (v ? "," : "") + this.slotKey(f.env[v], ids);
    return key;
  }

  /** A slot in a state key; `ids` numbers the red values (by residual variable: two abstract
   *  values of one variable are one value) and virtuals seen so far. */
  private slotKey(s: Slot | undefined, ids: Map<unknown, number>): string {
    if (s === undefined) return "";
    if (typeof s === "number" || typeof s === "boolean") return String(s);
    if (s instanceof Int32Array || s instanceof Uint8Array) return this.arrayKey(s, ids);
    if (s.k === "c") return String(s.v);
    if (s.k === "a") return this.arrayKey(s.arr, ids);
    const o = s.k === "r" ? s.o : s.obj;
    const i = ids.get(o);
    if (i !== undefined) return `#${i}`;
    ids.set(o, ids.size);
    if (s.k === "r") return s.len === undefined ? "_" : `_#${s.len}`;
    return `[${allItems(s.obj)
      .map((it) => this.slotKey(it, ids))
      .join(" ")}]`;
  }

  /** Where exit `status` goes on for the value `v` (the promoted value; 0 for the other exits):
   *  the graph made for it the first time, then the same one. Specialising it may throw
   *  `SpecialisationLimit`: the caller goes on in the interpreter from `state(status, …)`. */
  continuation(status: number, v: number): Resumed {
    const c = this.saved[status];
    if (!c) throw new Error(`no continuation ${status}`);
    const perValue = c.kind === "promote";
    const at = perValue ? v : 0;
    const made = c.made.get(at);
    if (made !== undefined) return { name: made, graphs: [], perValue };
    if (this.spent !== undefined) throw new SpecialisationLimit(this.spent);
    const base = c.out.b.g.name.split("$")[0];
    const name = perValue ? `${base}$c${status}_${v < 0 ? "m" + -v : v}` : `${base}$t${status}`;
    const graphs = this.specialiseFrom(c, name, v);
    c.made.set(at, name);
    this.stats[perValue ? "promotionMisses" : "bridges"]++;
    return { name, graphs, perValue };
  }

  /** Specialises saved path `c` into a new graph `name` (and the portal graphs it calls) and
   *  cleans them up; for a promotion `v` is the value. On a bound, nothing made stays. */
  private specialiseFrom(c: Saved, name: string, v: number): Graph[] {
    return this.specialiseNew(name, c.out.b.g.ret, (rg) => {
      const frames = copyFrames(c.frames, this.frozen);
      const params = c.leaves.map((l) => {
        const type = leafType(l);
        return red(rg.b.addParam(0, type), type, l.k === "r" ? l.len : undefined);
      });
      rebind(frames, c.leaves, params);
      if (c.kind === "promote") this.assign(frames, c.dst, konst(v));
      const path: Path = { rg, frames, out: 0, splits: 0 };
      if (c.kind === "tier") path.fresh = true;
      return path;
    });
  }

  /** Tiers: specialises the portal from its merge point in a state of the first tier, into a
   *  new graph `name` (and the portal graphs it calls), cleaned up: the greens are `greens`
   *  (compile-time values), every red a run-time value of the type and (for an array) length
   *  in `reds`, the graph's parameters in order. It runs the portal's frame to its end, as the
   *  first tier would from there. On a bound (`SpecialisationLimit`), nothing made stays. */
  enter(name: string, greens: AVal[], reds: { type: Type; len?: number | undefined }[]): Graph[] {
    const portal = this.graph([...this.portals][0]!);
    const [block, op] = mergePointOf(portal);
    const vars = portal.blocks[block]!.ops[op]!.args;
    const code = this.compiled[portal.name];
    // Generated code runs a block from its start: it can take a merge point that starts one.
    const fits =
      code !== undefined &&
      op === 0 &&
      greens.every((a, i) => typeof vars[i] !== "number" || a.k === "c" || a.k === "a");
    for (const a of greens) if (a.k === "a") this.frozen.add(a.arr);
    this.stats.tierEntries++;
    return this.specialiseNew(name, portal.ret, (rg) => {
      const env = blank(portal);
      vars.forEach((v, i) => {
        if (typeof v !== "number") return;
        const r = reds[i - greens.length];
        const a: AVal = r ? red(rg.b.addParam(0, r.type), r.type, r.len) : greens[i]!;
        env[v] = fits && code.greens[v] ? plain(a) : a;
      });
      const frame = { g: portal, block, op, env, ret: -1, code: fits ? code : undefined };
      return { rg, frames: [frame], out: 0, splits: 0, fresh: true };
    });
  }

  /** Specialises the path `start` makes in a new residual graph `name` (and the portal graphs
   *  it calls) and cleans them up; on a bound, nothing made stays. */
  private specialiseNew(name: string, ret: Type, start: (rg: Residual) => Path): Graph[] {
    const before = {
      residuals: this.residuals.length,
      portals: this.portalGraphs.size,
      ops: this.stats.opsResidual,
    };
    this.opsBefore = this.stats.opsSeen;
    const rg = this.newResidual(name, ret);
    const work = this.stats.opsSeen + this.emitted;
    this.stepLimit = work + (this.workLimit - workDone());
    try {
      this.work.push(start(rg));
      while (this.work.length) this.follow(this.work.pop()!);
      countWork("specialise", this.stats.opsSeen + this.emitted - work);
    } catch (e) {
      countWork("specialise", this.stats.opsSeen + this.emitted - work);
      // Forget the half-made graphs (and the portal graphs they would have made), and what
      // they took of the code cache's bound.
      this.work = [];
      this.residuals.length = before.residuals;
      this.stats.opsResidual = before.ops;
      [...this.portalGraphs.keys()]
        .slice(before.portals)
        .forEach((k) => this.portalGraphs.delete(k));
      throw e;
    }
    return this.residuals.slice(before.residuals).map((r) => {
      const graph = r.b.finish();
      this.clean(graph);
      return graph;
    });
  }

  /** The clean-up pipeline on a finished residual graph, timed apart (`cleanupMs`): it is the
   *  same work for both specialisers, whose residual graphs are the same. */
  private clean(g: Graph): void {
    const t0 = performance.now();
    runPasses(g, cleanup);
    this.stats.cleanupMs += performance.now() - t0;
  }

  /** The residual module's data constants (continuations add to them). */
  get residualData(): Module["data"] {
    return this.out.data;
  }

  /** The types of the leaves exit `status` passes after its value. */
  leafTypes(status: number): Type[] {
    return this.saved[status]!.leaves.map(leafType);
  }

  /** The exact state at exit `status` as plain values, for the interpreter's graphs to go on
   *  from (a fallback): per frame, innermost last, its graph, position, slots and the caller's
   *  variable for its result. `v` is the exit's value, `values` its leaves' run-time values. */
  state(
    status: number,
    v: number,
    values: (number | boolean | Int32Array | Uint8Array)[],
    copyConstants = true,
  ) {
    const c = this.saved[status]!;
    const leaf = new Map<Operand, (typeof values)[number]>();
    c.leaves.forEach((l, i) => l.k === "r" && leaf.set(l.o, values[i]!));
    const arrays = new Map<Virtual, Int32Array | Uint8Array>();
    const scalar = (a: AVal): number | boolean => {
      if (a.k === "c") return a.v;
      const x = a.k === "r" ? leaf.get(a.o) : undefined;
      if (typeof x !== "number" && typeof x !== "boolean")
        throw new Error("a leaf without a value");
      return x;
    };
    // Compile-time arrays are copied (once each): the interpreter may write one (that is how
    // a specialisation can give up), and the next run's specialised code reads it again.
    const copies = new Map<Int32Array | Uint8Array, Int32Array | Uint8Array>();
    const copy = (arr: Int32Array | Uint8Array) => {
      if (!copyConstants) return arr;
      let c = copies.get(arr);
      if (!c) copies.set(arr, (c = arr.slice()));
      return c;
    };
    const value = (s: Slot | undefined): (typeof values)[number] | undefined => {
      if (s instanceof Int32Array || s instanceof Uint8Array) return copy(s);
      if (s === undefined || typeof s !== "object" || !("k" in s)) return s;
      const a = this.resolve(s);
      if (a.k === "a") return copy(a.arr);
      if (a.k === "r") {
        const x = leaf.get(a.o);
        if (x === undefined) throw new Error("a run-time value that is no leaf of the state");
        return x;
      }
      if (a.k === "c") return a.v;
      let arr = arrays.get(a.obj);
      if (!arr) {
        const items = allItems(a.obj).map((it) => Number(scalar(it)));
        arr = a.obj.type === "u8[]" ? Uint8Array.from(items) : Int32Array.from(items);
        arrays.set(a.obj, arr);
      }
      return arr;
    };
    const frames = c.frames.map((f) => ({
      g: f.g,
      block: f.block,
      op: f.op,
      ret: f.ret,
      env: f.env.map((s) => value(s)),
    }));
    if (c.kind === "promote") frames.at(-1)!.env[c.dst] = v;
    return frames;
  }

  /** The kind of saved path exit `status` names (tiers treat `tier` exits apart). */
  kindOf(status: number): Saved["kind"] {
    return this.saved[status]!.kind;
  }

  /** The state of `tier` exit `status` as the first tier takes it over: the merge point's
   *  arguments, greens then reds, as plain values (`values`: the exit's leaves). Compile-time
   *  arrays are given as they are: the caller copies those the first tier may write. */
  mergeState(status: number, values: (number | boolean | Int32Array | Uint8Array)[]) {
    const [f] = this.state(status, 0, values, false);
    return mergeArgs(f!.g).map((o) =>
      typeof o === "number" ? f!.env[o]! : o.k === "data" ? this.m.data[o.v]!.values : o.v,
    );
  }

  /** `promote` in compiled code: the plain value when it is a compile-time one. Otherwise the
   *  frame turns generic and the walk does the promotion again (undefined). */
  promote(p: Path, a: AVal): number | undefined {
    a = this.resolve(a);
    if (a.k === "c") return a.v as number;
    this.generic(p.frames);
    return undefined;
  }

  /** A call: inlined (a new frame), or for the portal a residual call to its specialisation. */
  call(p: Path, name: string, args: AVal[], dst: number): void {
    const callee = this.graph(name);
    if (this.portals.has(name)) return this.portalCall(p, callee, args, dst);
    if (p.frames.length > this.policy.maxInlineDepth)
      throw new SpecialisationLimit(`inlining deeper than ${this.policy.maxInlineDepth}`);
    p.frames.push(this.frame(callee, args, dst));
  }

  private portalCall(p: Path, callee: Graph, args: AVal[], dst: number): void {
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
    if (dst >= 0) this.assign(p.frames, dst, { k: "r", o: r, type: callee.ret });
  }

  /** Stores a value into slot `v` of the top frame of `frames`, in the slot's representation. */
  assign(frames: Frame[], v: number, a: AVal): void {
    const f = frames.at(-1)!;
    if (f.code?.greens[v] && (a.k === "c" || a.k === "a")) f.env[v] = plain(a);
    else if (f.code?.greens[v] || (a.k === "a" && !this.frozen.has(a.arr))) {
      // A green of compiled code that is not a constant here, or an array that compiled code
      // allocated, reaching a generic frame: continue generically (the walk holds it virtual).
      // (`generic` gives the frames new environments: write into the new one.)
      const converted = this.generic(frames, a)!;
      f.env[v] = converted;
    } else f.env[v] = a;
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
    p.rg.b.terminate(p.out, { k: "branch", cond: c, then: to[0]!, else: to[1]! });
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
    p.rg.b.terminate(p.out, {
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
  private sides(p: Path, targets: Target[]): Jump[] {
    if (p.splits >= this.policy.maxPathSplits)
      throw new SpecialisationLimit(
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
  private raiseBlock(rg: Residual, msg: string): number {
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
  private split(p: Path, targets: Target[], to: Jump[]): boolean {
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
      this.work.push({ rg: p.rg, frames, out: to[i]!.block, splits: p.splits + 1 });
    }
    if (this.work.length > this.policy.maxPaths)
      throw new SpecialisationLimit(`more than ${this.policy.maxPaths} paths pending`);
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
      p.rg.b.terminate(
        p.out,
        value === undefined ? { k: "return" } : { k: "return", value: this.operand(p, value) },
      );
      return false;
    }
    if (f.ret >= 0) this.assign(p.frames, f.ret, value!);
    return true;
  }

  raise(p: Path, msg: string): false {
    p.rg.b.terminate(p.out, { k: "raise", msg });
    return false;
  }

  /** Where a call to a wholly green function in compiled code threw `x`: a raise in it ends the
   *  path as the call inlined would (see `Raised`); anything else goes on up. */
  raised(p: Path, x: unknown): false {
    if (x instanceof Raised) return this.raise(p, x.msg);
    throw x;
  }

  /** The merge point, with the arguments' variables (greens first). False when the path joined
   *  a known key and ends here. */
  mergePoint(p: Path, f: Frame, vars: Operand[], n: number): boolean {
    if (p.frames.length !== 1)
      throw new SpecialisationLimit("a merge point inside an inlined call");
    // (Plain loops over number buffers, no closures: this runs once per instruction
    // specialised.) The key's parts are the greens' (`greenParts`, then the reds' shapes after
    // them) and the reds' shapes (`shapeParts`, see `Pattern`). Virtual greens freeze and
    // virtual reds too long to stay virtual are forced, in argument order (forcing emits code).
    const known = this.greenParts;
    const shape = this.shapeParts;
    let general = false;
    // The reds' values (at their indices), and the state's red leaves (see `leaves`, the first
    // `nl`), gathered on the way in buffers of the engine; widening or a general key (below)
    // changes them.
    let vals = this.redVals;
    let leaves = this.leafVals;
    let nl = 0;
    let s = 0;
    for (let i = 0; i < vars.length; i++) {
      if (i < n) {
        const x = (known[i] = this.known(f, vars[i]!));
        if (x === UNKNOWN) general = true;
        continue;
      }
      // (An argument is resolved already; forcing makes it red.)
      let a = this.argument(f, vars[i]!);
      if (a.k === "v" && !staysVirtual(this.policy, a.obj.length)) {
        this.force(p, a.obj);
        a = this.resolve(a);
      }
      vals[i] = a;
      const same = a.k === "v" ? sameVirtual(vals, n, i) : -1;
      if (same >= 0) shape[s++] = ALIAS + same;
      else if (a.k === "v") {
        // The items but for the zeros they end with (see `Pattern`).
        const items = a.obj.items;
        const m = unzeroed(items);
        shape[s++] = VIRTUAL + a.obj.length;
        shape[s++] = m;
        for (let k = 0; k < m; k++) {
          const it = items[k]!;
          if (it.k === "c") shape[s++] = part(it.v);
          else {
            shape[s++] = HOLE;
            leaves[nl++] = it;
          }
        }
      } else {
        shape[s++] = SHAPE + (a.k === "r" && a.len !== undefined ? a.len + 1 : 0);
        leaves[nl++] = a;
      }
    }
    const position = this.position(n);
    const counts = 3 * position;
    this.placeCounts[counts]++;
    const variants = p.rg.variants[position] ?? 0;
    let key = general ? this.generalKey(position) : this.key(n, s);
    if (!general && mustGeneralise(this.policy, variants) && !this.made(p, key)) {
      // Widen: keep only the item constants this position has always seen.
      s = widen(this.pattern(p.rg.patterns[position]!, n), shape, s);
      leaves = this.leaves(vals, n, false);
      nl = leaves.length;
      general = mustGeneralise(this.policy, variants - this.policy.maxVariants);
      key = general ? this.generalKey(position) : this.key(n, s);
    }
    if (general) {
      if (!this.made(p, key)) this.stats.generalisations++;
      this.generic(p.frames);
      for (const a of this.arguments(f, vars)) if (a.k === "v") this.force(p, a.obj);
      vals = this.arguments(f, vars);
      leaves = this.leaves(vals, n, true);
      nl = leaves.length;
    }
    const operands: Operand[] = new Array(nl);
    for (let i = 0; i < nl; i++) {
      const a = leaves[i]!;
      operands[i] = a.k === "r" ? a.o : this.operand(p, a);
    }
    const target = p.rg.keys.get(key);
    if (target >= 0) {
      p.rg.b.terminate(p.out, { k: "jump", to: { block: target, args: operands } });
      this.placeCounts[counts + 2]++;
      return false;
    }
    if (this.region && !p.fresh && this.leavesRegion(f, vars)) {
      this.leaveRegion(p, f, vars, n);
      return false;
    }
    p.fresh = false;
    this.stats.mergeKeys++;
    this.placeCounts[counts + 1]++;
    p.rg.variants[position] = variants + 1;
    p.rg.patterns[position] = general ? -1 - this.partIds.id(shape, s) : key;
    const blk = p.rg.b.newBlock();
    p.rg.keys.set(key, blk);
    p.rg.b.terminate(p.out, { k: "jump", to: { block: blk, args: operands } });
    p.out = blk;
    // The new state holds only the merge point's arguments: leaves become block parameters.
    // They are written over the old state (a fresh one cost an eighth of a generated
    // specialiser's time): no other variable is live across a merge point (`prepare` checks
    // it), so what else the environment holds is never read again. For the same reason a
    // virtual's holes become parameters in place (the path owns its virtuals: a copied state
    // copies them). `params` are the leaves' new values, `ps` their variables.
    const params: Scalar[] = new Array(nl);
    const ps: number[] = new Array(nl);
    let np = 0;
    const env = f.env;
    for (let i = 0, j = 0; i < vars.length; i++) {
      const v = vars[i]!;
      if (!this.leaf(i, n, general)) {
        // A green the key fixes: kept as it is (plain in compiled code, where it stays put).
        if (typeof v === "number" && !f.code?.greens[v]) env[v] = this.slot(f, v);
        continue;
      }
      const a = vals[i]!;
      let next: AVal = a;
      if (a.k === "v" && shape[j]! < ALIAS) {
        const items = a.obj.items;
        for (let k = 0, m = shape[j + 1]!; k < m; k++)
          if (shape[j + 2 + k] === HOLE) {
            // (Past the items only where widening made a hole of a constant seen before.)
            while (items.length < k) items.push(ZERO);
            const r = this.param(p, items[k] ?? ZERO, general);
            items[k] = params[np] = r;
            ps[np++] = (r as { o: number }).o;
          }
      } else if (a.k !== "v") {
        const r = this.param(p, a, general);
        next = params[np] = r;
        ps[np++] = (r as { o: number }).o;
      }
      if (i >= n) j += segment(shape, j);
      if (typeof v === "number") env[v] = f.code?.greens[v] ? plain(next) : next;
    }
    p.rg.b.setParams(blk, ps);
    p.splits = 0;
    if (this.policy.fuel) this.emit(p, "fuel", [], undefined);
    return true;
  }

  /** The value of the position green at a merge point (see `region`); -1 where it is not a
   *  compile-time integer (a general key). */
  private positionValue(f: Frame, vars: Operand[]): number {
    const a = this.argument(f, vars[this.positionGreen]!);
    return a.k === "c" && typeof a.v === "number" ? a.v : -1;
  }

  /** Ends path `p` at the merge point of `f` (arguments `vars`) in an exit to a `tier` saved
   *  path: the state just before it, which the first tier takes over (or a bridge starts from,
   *  once the exit is hot). */
  private leaveRegion(p: Path, f: Frame, vars: Operand[], n: number): void {
    // The exit passes the reds in order, virtuals made real: the state an entry of the tiers
    // takes, so that the exit can go on in one (see `entered`).
    const reds: AVal[] = [];
    for (let i = n; i < vars.length; i++) {
      const a = this.argument(f, vars[i]!);
      if (a.k === "v") this.force(p, a.obj);
      reds.push(this.resolve(a));
    }
    // (A virtual forced is a red leaf now, not its items.)
    const at = frameWith(f, f.op - 1, only(f, vars).map(settledSlot));
    if (at.op !== 0) this.generic([at]);
    const status = this.save("tier", [at], p, -1, this.savedKey("tier", [at]), reds);
    this.stats.regionExits++;
    const args = [{ k: "int", v: 0 } as Operand, ...reds.map((a) => this.operand(p, a))];
    p.rg.b.terminate(p.out, { k: "exit", status, args });
  }

  /** Whether a path of a tier's specialisation ends at this merge point: its position is not
   *  warm, or it is hot (`entered`: the path goes on in the entry there, not in a copy of its
   *  loop). */
  private leavesRegion(f: Frame, vars: Operand[]): boolean {
    const position = this.positionValue(f, vars);
    return !this.region!(position) || (this.entered?.(position) ?? false);
  }

  /** Tiers: the merge-point state of `tier` exit `status`, greens then reds (as abstract
   *  values; the reds are the exit's leaves in order). */
  tierState(status: number): { greens: AVal[]; reds: AVal[] } {
    const c = this.saved[status]!;
    const f = c.frames[0]!;
    const vars = mergeArgs(f.g);
    const n = vars.length - c.leaves.length;
    return { greens: vars.slice(0, n).map((o) => this.argument(f, o)), reds: c.leaves };
  }

  /** The red leaves of a merge point's state, in canonical order: whatever the key does not
   *  fix (`shapeParts` holding the reds' shapes): the reds but for a virtual's items that are
   *  not holes, and for a general key the greens it does not fix (a pc computed at run time).
   *  (A general key forced the virtuals.) */
  private leaves(vals: AVal[], n: number, general: boolean): AVal[] {
    const shape = this.shapeParts;
    const leaves: AVal[] = [];
    for (let i = 0, j = 0; i < vals.length; i++) {
      if (!this.leaf(i, n, general)) continue;
      const a = vals[i]!;
      if (a.k !== "v") leaves.push(a);
      else if (shape[j]! < ALIAS)
        for (let k = 0, m = shape[j + 1]!; k < m; k++)
          if (shape[j + 2 + k] === HOLE) leaves.push(item(a.obj, k));
      if (i >= n) j += segment(shape, j);
    }
    return leaves;
  }

  /** A merge point's argument: a slot of `f`, or a constant. */
  private argument(f: Frame, o: Operand): AVal {
    return typeof o === "number" ? this.slot(f, o) : o.k === "data" ? unreachable() : konst(o.v);
  }

  private arguments(f: Frame, vars: Operand[]): AVal[] {
    const vals: AVal[] = new Array(vars.length);
    for (let i = 0; i < vars.length; i++) vals[i] = this.argument(f, vars[i]!);
    return vals;
  }

  /** A green merge-point argument as a part of keys (`keys.ts`): a plain slot of compiled code
   *  is read without making an abstract value, a virtual is frozen first. Arrays seen here are
   *  frozen. */
  private known(f: Frame, o: Operand): number {
    if (typeof o !== "number") return o.k === "data" ? unreachable() : part(o.v);
    let s = f.env[o];
    if (!f.code?.greens[o] || s === undefined) {
      let a = this.slot(f, o);
      if (a.k === "v") a = this.freeze(a.obj);
      if (a.k !== "c" && a.k !== "a") return UNKNOWN;
      s = a.k === "c" ? a.v : a.arr;
    }
    if (typeof s !== "object") return part(s as number | boolean);
    this.frozen.add(s as Int32Array | Uint8Array);
    return ARRAY + this.arrayNumber(s as Int32Array | Uint8Array);
  }

  /** The position of the greens' parts (`greenParts[0..n)`: their position parts, see
   *  `policy.ts`). */
  private position(n: number): number {
    const known = this.greenParts;
    const parts = this.positionParts;
    let m = 0;
    for (let i = 0; i < n; i++) if (this.isPosition[i]) parts[m++] = known[i]!;
    const id = this.positionIds.id(parts, m);
    if (3 * id === this.placeCounts.length) {
      for (let i = 0; i < n; i++) this.placeKnown.push(known[i]!);
      this.placeCounts.push(0, 0, 0);
    }
    return id;
  }

  /** The key of the greens' parts (`greenParts[0..n)`) and the reds' (`shapeParts[0..s)`). */
  private key(n: number, s: number): number {
    const parts = this.greenParts;
    for (let i = 0; i < s; i++) parts[n + i] = this.shapeParts[i]!;
    return this.keyIds.id(parts, n + s);
  }

  /** The reds' shapes of a pattern (see `Residual.patterns`) at a merge point of `n` greens. */
  private pattern(x: number, n: number): number[] {
    return x >= 0 ? this.keyIds.parts(x).slice(n) : this.partIds.parts(-1 - x);
  }

  /** The general key of `position` (every green but its position parts red). */
  private generalKey(position: number): number {
    return this.keyIds.id([GENERAL, position], 2);
  }

  /** Whether merge-point argument `i` is a leaf of the state (`greenParts` holding the greens'
   *  parts): every red, and the greens a general key does not fix. */
  private leaf(i: number, n: number, general: boolean): boolean {
    return i >= n || (general && (!this.isPosition[i] || this.greenParts[i] === UNKNOWN));
  }

  private positionName(position: number): string {
    const n = this.isPosition.length;
    const known = this.placeKnown.slice(n * position, n * (position + 1));
    return positionKey(known.map(partName), this.isPosition);
  }

  /** Per merge-point position, by name: paths that reached it, keys made there, keys found
   *  made (statistics). */
  get positions(): Map<string, PlaceCounts> {
    const c = this.placeCounts;
    return new Map(
      Array.from({ length: c.length / 3 }, (_, i) => [
        this.positionName(i),
        { entries: c[3 * i]!, keys: c[3 * i + 1]!, hits: c[3 * i + 2]! },
      ]),
    );
  }

  /** Whether key `k` is made in the path's graph. */
  private made(p: Path, k: number): boolean {
    return p.rg.keys.has(k);
  }

  /** A new variable for leaf `a`, to be a parameter of a merge block; a red's known array
   *  length stays unless the key is generalised. */
  private param(p: Path, a: AVal, general: boolean): Scalar {
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
    return red(p.rg.b.newVar(type), type, !general && a.k === "r" ? a.len : undefined);
  }
}

/** What the engine reads of an interpreter's module, made once per module (each specialisation
 *  makes an engine): its graphs by name, the portals (graphs holding a merge point), and which
 *  greens are position parts (`policy.ts`). */
function prepare(m: Module): Prepared {
  let p = prepared.get(m);
  if (p) return p;
  // A merge point writes its arguments over the old state (see `mergePoint`): a graph with
  // another variable live across it would read a value of an earlier instruction.
  for (const g of m.graphs)
    for (const { v } of liveAcross(g))
      throw new Error(
        `@${g.name}: v${v} is live across the merge point but is not one of its arguments`,
      );
  const d = m.driver ?? { greens: [], reds: [], immutable: [] };
  let firstInt = true;
  p = {
    graphs: new Map(m.graphs.map((g) => [g.name, g])),
    portals: new Set(
      m.graphs
        .filter((g) => g.blocks.some((b) => b.ops.some((o) => o.op === "merge_point")))
        .map((g) => g.name),
    ),
    isPosition: d.greens.map((name) => {
      if (d.immutable.includes(name)) return true;
      const first = firstInt;
      firstInt = false;
      return first;
    }),
    positionGreen: d.greens.findIndex((name) => !d.immutable.includes(name)),
  };
  prepared.set(m, p);
  return p;
}

interface Prepared {
  graphs: Map<string, Graph>;
  portals: Set<string>;
  isPosition: boolean[];
  positionGreen: number;
}

const prepared = new WeakMap<Module, Prepared>();

/** A copy of the environment of `f` holding only the variables `vars`. */
function only(f: Frame, vars: Operand[]): Slot[] {
  const env = blank(f.g);
  for (const v of vars) if (typeof v === "number") env[v] = f.env[v];
  return env;
}

/** A fresh environment for `g`, every slot undefined: a copy of one made once per graph, with
 *  room for any value. (`new Array(n)` starts as an array of small integers, and an environment
 *  gets numbers, then objects: each change of its kind is a copy.) */
function blank(g: Graph): Slot[] {
  let t = blanks.get(g);
  if (!t) blanks.set(g, (t = new Array<Slot>(g.types.length).fill(undefined!)));
  return t.slice();
}
const blanks = new WeakMap<Graph, Slot[]>();

/** The length of an array if it is known at compile time. */
function lengthOf(a: AVal): number | undefined {
  return a.k === "a" ? a.arr.length : a.k === "v" ? a.obj.length : a.k === "r" ? a.len : undefined;
}

/** What a virtual became once forced (a run-time array) or frozen (a compile-time one); none
 *  while it is still virtual. */
function settled(obj: Virtual): AVal | undefined {
  const { forced, frozen } = obj as Forced;
  if (forced !== undefined) return red(forced, obj.type, obj.length);
  return frozen ? { k: "a", arr: frozen, type: obj.type } : undefined;
}

/** The virtual the abstract interpreter holds where compiled code holds array `arr` (allocated
 *  by compiled code, so its items are constants): its items up to the last non-zero one. */
function virtualOf(arr: Int32Array | Uint8Array, type: "i32[]" | "u8[]"): AVal {
  let m = arr.length;
  while (m > 0 && arr[m - 1] === 0) m--;
  const items: Scalar[] = [];
  for (let i = 0; i < m; i++) items.push(konst(arr[i]!));
  return { k: "v", obj: { type, length: arr.length, items } };
}

/** A constant operand of residual code. Operands are never changed, so the small integers and
 *  booleans that nearly every residual operation has are made once: the residual graph is most
 *  of what the garbage collector copies. */
function constOperand(v: number | boolean): Operand {
  if (typeof v === "boolean") return v ? TRUE_OPERAND : FALSE_OPERAND;
  return v >= -SMALL && v < SMALL ? SMALL_OPERANDS[v + SMALL]! : { k: "int", v };
}
const TRUE_OPERAND: Operand = { k: "bool", v: true };
const FALSE_OPERAND: Operand = { k: "bool", v: false };
const SMALL = 1024;
const SMALL_OPERANDS: Operand[] = Array.from({ length: 2 * SMALL }, (_, i) => ({
  k: "int",
  v: i - SMALL,
}));

/** A run-time value in variable `o`, with its array length if known. (No spread: it makes
 *  objects of another shape, slowly.) */
function red(o: number, type: Type, len: number | undefined): Scalar {
  return len === undefined ? { k: "r", o, type } : { k: "r", o, type, len };
}

/** The arguments of the merge point of portal `g` (greens, then reds). */
export function mergeArgs(g: Graph): Operand[] {
  const [block, op] = mergePointOf(g);
  return g.blocks[block]!.ops[op]!.args;
}

/** The block and operation of the merge point of portal `g`. */
function mergePointOf(g: Graph): [number, number] {
  for (let b = 0; b < g.blocks.length; b++) {
    const op = g.blocks[b]!.ops.findIndex((o) => o.op === "merge_point");
    if (op >= 0) return [b, op];
  }
  throw new Error(`@${g.name} has no merge point`);
}

/** The message if block `block` of `g` raises before it does anything else (through empty
 *  blocks). */
function raising(g: Graph, block: number): string | undefined {
  for (let b = g.blocks[block]!, n = 0; b.ops.length === 0 && n < 8; n++) {
    if (b.term.k === "raise") return b.term.msg;
    if (b.term.k !== "jump") return undefined;
    b = g.blocks[b.term.to.block]!;
  }
  return undefined;
}

/** Binding times written compactly in generated code: "GRRG…", one letter per variable. */
export function bits(s: string): boolean[] {
  return Array.from(s, (c) => c === "G");
}

/** A jump target with its arguments (slots in the frame's representation). */
export type Target = [block: number, args: Slot[]];

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

/** Copies a path's frames for a second path: the slots live where each frame goes on (with
 *  `top`, those of the top frame), the others left empty (values of earlier instructions,
 *  never read again). Virtuals and compile-time arrays that may still change are copied,
 *  keeping their aliasing (`seen`: the copies so far, which the caller may go on using). */
function copyFrames(
  frames: Frame[],
  frozen: Set<Int32Array | Uint8Array>,
  seen = new Map<object, object>(),
  top?: Set<number>,
): Frame[] {
  return frames.map((f, i) => {
    const live = top && i === frames.length - 1 ? top : liveAt(f.g, f.block, f.op);
    const env = blank(f.g);
    for (const v of live) {
      const s = f.env[v];
      env[v] = typeof s === "object" ? copySlot(s, frozen, seen) : s;
    }
    return frameWith(f, f.op, env);
  });
}

/** Frame `f` at operation `op` with environment `env`. (Not a spread: V8 took a microsecond
 *  to copy a frame by one.) */
function frameWith(f: Frame, op: number, env: Slot[]): Frame {
  return { g: f.g, block: f.block, op, env, ret: f.ret, code: f.code };
}

/** A slot of a copied frame: what may still change is copied once (`seen`: the copies so far). */
function copySlot(s: Slot, frozen: Set<Int32Array | Uint8Array>, seen: Map<object, object>): Slot {
  if (s instanceof Int32Array || s instanceof Uint8Array) {
    if (frozen.has(s)) return s;
    let c = seen.get(s) as typeof s | undefined;
    if (!c) seen.set(s, (c = s.slice()));
    return c;
  }
  if (typeof s !== "object" || s.k !== "v") return s;
  const done = settled(s.obj);
  if (done) return done;
  let o = seen.get(s.obj) as Virtual | undefined;
  if (!o)
    seen.set(s.obj, (o = { type: s.obj.type, length: s.obj.length, items: s.obj.items.slice() }));
  return { k: "v", obj: o };
}

/** Clears the slots of copied frames that are dead where each frame goes on, and a caller's
 *  result variable (live, but not written until the call returns), so that they neither count
 *  in the state's key nor travel as leaves. (A merge point writes its arguments over the old
 *  state: what else a slot holds may be a value of an earlier instruction.) */
function liveFrames(frames: Frame[]): Frame[] {
  frames.forEach((f, i) => {
    const live = liveAt(f.g, f.block, f.op);
    const ret = frames[i + 1]?.ret ?? -1;
    f.env = f.env.map((s, v) => (live.has(v) && v !== ret ? settledSlot(s) : undefined)) as Slot[];
  });
  return frames;
}

/** A slot holding a virtual that has since been forced or frozen as what it now is: a saved
 *  state's key and leaves read its slots as they are (a forced virtual is a red leaf, not its
 *  items). */
function settledSlot(s: Slot): Slot {
  return typeof s === "object" && "k" in s && s.k === "v" ? (settled(s.obj) ?? s) : s;
}

/** The run-time values of a path's state, in a canonical order: red scalars of every slot and
 *  the red items of virtuals (each virtual once). */
function redLeaves(frames: Frame[]): AVal[] {
  const out: AVal[] = [];
  const seen = new Set<Virtual>();
  // One leaf per residual variable, however many abstract values hold it (`slotKey`).
  const reds = new Set<Operand>();
  const red = (a: Scalar) => {
    if (a.k === "r" && !reds.has(a.o)) (reds.add(a.o), out.push(a));
  };
  for (const f of frames)
    for (const s of f.env) {
      if (s === undefined || typeof s !== "object" || !("k" in s)) continue;
      if (s.k === "r") red(s);
      else if (s.k === "v" && !seen.has(s.obj)) {
        seen.add(s.obj);
        for (const it of s.obj.items) red(it);
      }
    }
  return out;
}

/** The type of a leaf of a saved state (a tier exit's reds may be constants). */
function leafType(l: AVal): Type {
  if (l.k === "r") return l.type;
  return l.k === "c" && typeof l.v === "boolean" ? "bool" : "i32";
}

/** The residual operand of a red leaf. */
function redOperand(a: AVal): Operand {
  if (a.k !== "r") throw new Error("a leaf that is not a run-time value");
  return a.o;
}

/** Replaces, in copied frames, each red leaf (by its residual variable) by its parameter. */
function rebind(frames: Frame[], leaves: AVal[], params: Scalar[]): void {
  const to = new Map<Operand, Scalar>();
  // (A tier exit passes its reds, constants among them: those stay constants.)
  leaves.forEach((l, i) => l.k === "r" && to.set(l.o, params[i]!));
  const bind = (a: Scalar): Scalar => (a.k === "r" ? (to.get(a.o) ?? a) : a);
  const seen = new Set<Virtual>();
  for (const f of frames)
    f.env = f.env.map((s) => {
      if (s === undefined || typeof s !== "object" || !("k" in s)) return s;
      if (s.k === "r") return bind(s);
      if (s.k === "v" && !seen.has(s.obj)) {
        seen.add(s.obj);
        s.obj.items = s.obj.items.map(bind);
      }
      return s;
    });
}

/** A green constant as a part of keys (`keys.ts`). */
function part(v: number | boolean): number {
  return v === true ? TRUE : v === false ? FALSE : v;
}

/** A part of a key as its name writes it: arrays by their numbers, UNKNOWN as "?". */
function partName(x: number): number | boolean | string {
  if (x === UNKNOWN) return "?";
  if (x === TRUE || x === FALSE) return x === TRUE;
  return x >= ARRAY ? `@${x - ARRAY}` : x;
}

/** The number of `items` but for the constant zeros they end with. */
function unzeroed(items: Scalar[]): number {
  let m = items.length;
  while (m > 0) {
    const it = items[m - 1]!;
    if (it.k !== "c" || it.v !== 0) break;
    m--;
  }
  return m;
}

/** The number of parts of the red's shape at `parts[j]`: a virtual's items follow it. */
function segment(parts: number[], j: number): number {
  const x = parts[j]!;
  return x >= VIRTUAL && x < ALIAS ? 2 + parts[j + 1]! : 1;
}

/** The number of the red before red argument `i` (counted from `n`, the greens' count) that
 *  holds the virtual `vals[i]` holds; -1 if none does. */
function sameVirtual(vals: AVal[], n: number, i: number): number {
  const obj = (vals[i] as { obj: Virtual }).obj;
  for (let q = n; q < i; q++) {
    const b = vals[q]!;
    if (b.k === "v" && b.obj === obj) return q - n;
  }
  return -1;
}

/** Widens the reds' shapes `shape[0..s)` in place to the least that covers `prev` too: a
 *  virtual's item constants they agree on stay, the others become holes. Returns the new end
 *  (a hole may lengthen a virtual's items). */
function widen(prev: number[], shape: number[], s: number): number {
  const out: number[] = [];
  for (let i = 0, j = 0; j < s; i += segment(prev, i), j += segment(shape, j)) {
    if (shape[j]! < VIRTUAL || shape[j]! >= ALIAS || prev[i] !== shape[j]) {
      for (let k = 0; k < segment(shape, j); k++) out.push(shape[j + k]!);
      continue;
    }
    const mp = prev[i + 1]!;
    const m = shape[j + 1]!;
    const items: number[] = [];
    for (let k = 0; k < Math.max(m, mp); k++) {
      const x = k < m ? shape[j + 2 + k]! : 0;
      items.push(x === (k < mp ? prev[i + 2 + k]! : 0) ? x : HOLE);
    }
    while (items.at(-1) === 0) items.pop();
    out.push(shape[j]!, items.length, ...items);
  }
  for (let k = 0; k < out.length; k++) shape[k] = out[k]!;
  return out.length;
}
