//! Building residual code, the bottom layer of the engine (`engine.ts` says how the layers
//! stack): the residual graphs being made, each operation emitted under the policy's bounds and
//! the program's compile budget, operands (a virtual forced where it escapes, a compile-time
//! array placed among the module's data), and the meaning of the interpreter's operations on
//! abstract values: folded when their operands happen to be constants, done on a virtual array
//! at compile time, emitted otherwise. Generated specialisers call these directly (`e.pure`,
//! `e.get`, ...) for the operations the binding-time analysis found red.

import { classNamed, fieldOf } from "../ir/classes.ts";
import { GraphBuilder } from "../ir/build.ts";
import { OPS } from "../ir/ops.ts";
import { elemOf, zeroOf } from "../ir/containers.ts";
import type { Reg } from "../l3.ts";
import { constantOf, shareConstants } from "../objects.ts";
import type { Heap } from "../heap.ts";
import type {
  Const,
  Graph,
  ListType,
  Module,
  ObjectData,
  Operand,
  Pos,
  Term,
  Type,
} from "../ir/types.ts";
import { liveAcross } from "../ir/walk.ts";
import { cleanup, runPasses } from "../passes/index.ts";
import { verifyGraph } from "../ir/verify.ts";
import { printGraph } from "../ir/print.ts";
import { SpecialisationLimit, allocatesVirtual, type Policy } from "./policy.ts";
import { IntMap } from "./keys.ts";
import { newStats } from "./stats.ts";
import {
  NULL_REF,
  ZERO,
  constantIndex,
  constantObject,
  isNull,
  item,
  konst,
  settledField,
  type AVal,
  type Field,
  type Home,
  type Scalar,
  type Virtual,
  type VirtualList,
  type VirtualObject,
} from "./value.ts";
import { onVirtualList } from "./virtual-lists.ts";
import {
  lengthOf,
  plain,
  red,
  scalar,
  settled,
  type Compiled,
  type Forced,
  type Frame,
  type Path,
  type Slot,
} from "./frames.ts";

export interface Residual {
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
  /** The objects whose classes its `class_of` variables hold (a promotion of one makes the
   *  object's class known). */
  classOf: Map<number, Scalar>;
  /** Tiers: the position an entry starts at (`Engine.enter`): its loop is this graph's own, so
   *  a path reaching it again makes a key of it (a peeled first trip, then the loop) rather than
   *  leaving for the entry it is. */
  entryPosition?: number;
}

/** Whether every residual graph is verified after each clean-up pass (tests). */
let verifying = false;

/** Tests: runs the verifier on every residual graph before its clean-up and after each pass
 *  (an error names the pass and prints the graph), or stops doing so. */
export function verifyResidualPasses(on: boolean): void {
  verifying = on;
}

export abstract class ResidualBuilder {
  readonly stats = newStats();
  protected graphs: Map<string, Graph>;
  protected portals: Set<string>;
  protected recursive: Set<string>;
  /** The interpreter's graphs that residual code calls as they are (recursive functions, and
   *  what they call), copied into the residual module in the order first called. */
  protected included: Graph[] = [];
  protected residuals: Residual[] = [];
  protected data = new Map<Int32Array | Uint8Array, number>();
  /** Operations seen before the current specialisation (each continuation has its own budget). */
  protected opsBefore = 0;
  /** Residual operations emitted, those of specialisations given up included (the work
   *  counted, `runtime/work.ts`, is these and the operations seen). */
  protected emitted = 0;
  /** Set when the program's compile work is spent (`Policy.maxWork`, counted by `jit.ts`): why
   *  no continuation is made any more (each gives up: the interpreter goes on). */
  spent: string | undefined;
  /** The value of `workDone()` at which the program's compile work is spent (`jit.ts` sets
   *  it), and the count of operations seen and emitted at which the continuation being made
   *  reaches it (a specialisation stops there; its clean-up and compilation, linear in what it
   *  made, are the most the budget is overdrawn by). */
  workLimit = Infinity;
  protected stepLimit = Infinity;
  /** Compile-time arrays that may no longer change: the bytecode, greens seen at a merge point. */
  protected frozen = new Set<Int32Array | Uint8Array>();
  /** The residual module: its graphs, its data, the interpreter's classes (its objects'). */
  protected out: Module;
  protected isPosition: boolean[];
  /** The index of the position among the greens (the first that is not immutable). */
  protected positionGreen: number;
  protected arrayNumbers = new Map<Int32Array | Uint8Array, number>();

  constructor(
    readonly m: Module,
    readonly policy: Policy,
    protected compiled: Record<string, Compiled>,
    /** Where the run's objects live (the first tier's classes for the tiers). */
    readonly heap: Heap,
  ) {
    this.out = { graphs: [], data: [] };
    if (m.classes) this.out.classes = m.classes;
    // (its own list of constants, starting with the interpreter's and holding the same objects,
    // to which promoted objects are added)
    if (m.classes) shareConstants(m, this.out, heap);
    ({
      graphs: this.graphs,
      portals: this.portals,
      recursive: this.recursive,
      isPosition: this.isPosition,
      positionGreen: this.positionGreen,
    } = prepare(m));
  }

  /** Turns compiled frames generic (`control.ts`). */
  abstract generic(frames: Frame[], a?: AVal): AVal | undefined;

  protected graph(name: string): Graph {
    const g = this.graphs.get(name);
    if (!g) throw new Error(`no graph @${name}`);
    return g;
  }

  /** Copies the interpreter's graph `name`, and every graph it calls, into the residual
   *  module (once each). */
  protected include(name: string): void {
    if (this.included.some((g) => g.name === name)) return;
    const g = this.graph(name);
    this.included.push(structuredClone(g));
    for (const c of calleesOf(g)) this.include(c);
  }

  protected newResidual(name: string, ret: Type): Residual {
    const b = new GraphBuilder(name, ret);
    b.newBlock();
    const r: Residual = {
      b,
      keys: new IntMap(),
      raises: new Map(),
      variants: [],
      patterns: [],
      classOf: new Map(),
    };
    this.residuals.push(r);
    return r;
  }

  /** The clean-up pipeline on a finished residual graph, timed apart (`cleanupMs`): it is the
   *  same work for both specialisers, whose residual graphs are the same. Under test
   *  (`verifyResidualPasses`) the verifier runs after each pass, the graphs made with it,
   *  `batch`, and those made before known to its calls. */
  protected clean(g: Graph, batch: Graph[] = [g]): void {
    const t0 = performance.now();
    const check = verifying
      ? (after: Graph, pass: string) => {
          const m = this.residualModule([...batch, ...this.included, ...this.verified]);
          const errors = verifyGraph(m, after);
          if (errors.length)
            throw new Error(
              `${pass} broke @${after.name}:\n${errors.join("\n")}\n${printGraph(after)}`,
            );
        }
      : undefined;
    check?.(g, "the specialiser");
    runPasses(g, cleanup, check);
    if (verifying && g === batch.at(-1)) this.verified.push(...batch);
    this.stats.cleanupMs += performance.now() - t0;
  }

  /** Under test, the graphs cleaned up so far (`clean`). */
  private verified: Graph[] = [];

  /** The residual module's data constants (continuations add to them). */
  get residualData(): Module["data"] {
    return this.out.data;
  }

  /** `graphs` as a module of the residual code: its data, classes and constant objects (the
   *  lists continuations add to). */
  residualModule(graphs: Graph[]): Module {
    const { data, classes, objects } = this.out;
    return { graphs, data, ...(classes ? { classes } : {}), ...(objects ? { objects } : {}) };
  }

  // --- values ---

  resolve(a: AVal): AVal {
    if (a.k === "o" || a.k === "l") return settledField(a);
    return a.k === "v" ? (settled(a.obj) ?? a) : a;
  }

  /** A green virtual at the merge point becomes a compile-time array (if its items are known). */
  protected freeze(obj: Virtual): AVal {
    if (!obj.items.every((s) => s.k === "c")) return { k: "v", obj };
    const arr = obj.type === "u8[]" ? new Uint8Array(obj.length) : new Int32Array(obj.length);
    obj.items.forEach((s, i) => (arr[i] = Number((s as { v: number }).v)));
    (obj as Forced).frozen = arr;
    this.frozen.add(arr);
    return this.resolve({ k: "v", obj });
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
      case "o":
        return this.forceObject(p, a.obj);
      case "l":
        return this.forceList(p, a.obj);
    }
  }

  /** A name for a constant array in keys (identity, not contents: it is immutable). */
  protected arrayId(arr: Int32Array | Uint8Array): string {
    return `@${this.arrayNumber(arr)}`;
  }

  protected arrayNumber(arr: Int32Array | Uint8Array): number {
    let n = this.arrayNumbers.get(arr);
    if (n === undefined) this.arrayNumbers.set(arr, (n = this.arrayNumbers.size));
    return n;
  }

  protected dataIndex(arr: Int32Array | Uint8Array, type: "i32[]" | "u8[]"): number {
    let i = this.data.get(arr);
    if (i === undefined) {
      i = this.out.data.push({ type, values: Array.from(arr) }) - 1;
      this.data.set(arr, i);
    }
    return i;
  }

  /** Allocates a virtual object for real: the allocation and the stores of the fields that
   *  are not the new object's (zero, false, null). */
  protected forceObject(p: Path, obj: VirtualObject): number {
    if (obj.forced !== undefined) return obj.forced;
    if (obj.home) return this.writeBackObject(p, obj, obj.home);
    this.stats.virtualsForced++;
    const o = this.emit(p, "new_object", [], "ref", obj.cls);
    obj.forced = o;
    const decl = classNamed(this.m, obj.cls)!;
    for (let i = 0; i < obj.fields.length; i++) {
      const f = obj.fields[i]!;
      if ((f.k === "c" && (f.v === 0 || f.v === false)) || isNull(f)) continue;
      const imm = `${obj.cls}.${decl.fields[i]!.name}`;
      this.emit(p, "set_field", [o, this.operand(p, f)], undefined, imm);
    }
    return o;
  }

  /** Allocates a virtual list for real: a list of its length filled with the item type's zero,
   *  and the stores of the items that are not (the virtuals among them forced in turn). */
  protected forceList(p: Path, obj: VirtualList): number {
    if (obj.forced !== undefined) return obj.forced;
    if (obj.home) return this.writeBackList(p, obj, obj.home, obj.homeLength ?? 0);
    this.stats.virtualsForced++;
    const zero = zeroOf(elemOf(obj.type));
    const n = constOperand(obj.items.length);
    const l = this.emit(p, "new_list", [n, zero], obj.type, obj.type);
    obj.forced = l;
    for (let i = 0; i < obj.items.length; i++) {
      const it = obj.items[i]!;
      if ((it.k === "c" && (it.v === 0 || it.v === false)) || isNull(it)) continue;
      this.emit(p, "list_set", [l, constOperand(i), this.operand(p, it)], undefined);
    }
    return l;
  }

  /** A virtualizable's object made real again: its home, into which the fields are written
   *  back where it changed (a readonly one cannot have: a list it holds is written back in
   *  place, if it changed). */
  private writeBackObject(p: Path, obj: VirtualObject, home: Home): number {
    const o = home.o as number;
    obj.forced = o;
    if (obj.homeDirty) this.stats.writeBacks++;
    const decl = classNamed(this.m, obj.cls)!;
    for (let i = 0; i < obj.fields.length; i++) {
      const f = obj.fields[i]!;
      const field = decl.fields[i]!;
      if (field.readonly || !obj.homeDirty) {
        if (f.k === "l" || f.k === "o") this.operand(p, f);
        continue;
      }
      this.emit(p, "set_field", [o, this.operand(p, f)], undefined, `${obj.cls}.${field.name}`);
    }
    return o;
  }

  /** A virtualizable's list made real again: its home, whose items are written back in place
   *  where it changed (set, then pushed or popped to the virtual's length). */
  private writeBackList(p: Path, obj: VirtualList, home: Home, length: number): number {
    const l = home.o as number;
    obj.forced = l;
    if (!obj.homeDirty) return l;
    this.stats.writeBacks++;
    const n = obj.items.length;
    for (let i = 0; i < n; i++) {
      const it = this.operand(p, obj.items[i]!);
      if (i < length) this.emit(p, "list_set", [l, constOperand(i), it], undefined);
      else this.emit(p, "list_push", [l, it], undefined);
    }
    for (let i = n; i < length; i++) this.emit(p, "list_pop", [l], elemOf(obj.type));
    return l;
  }

  /** Allocates a virtual for real: the allocation and the stores of its non-zero items. */
  protected force(p: Path, obj: Virtual): number {
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

  protected emit(
    p: Path,
    op: string,
    args: Operand[],
    type: Type | undefined,
    imm?: string | number,
  ): number {
    if (++this.emitted + this.stats.opsSeen > this.stepLimit) this.overspent();
    if (++this.stats.opsResidual > this.policy.maxResidualOps)
      throw new SpecialisationLimit(`more than ${this.policy.maxResidualOps} residual operations`);
    const at = p.at === undefined ? undefined : this.placeName(p.at);
    return p.rg.b.emit(p.out, op, args, type, imm, this.linePos(this.line), at);
  }

  /** Ends residual block `block` of `p`'s graph with `term`, made at `p`'s position. */
  protected terminate(p: Path, block: number, term: Term): void {
    p.rg.b.terminate(block, term, undefined, p.at === undefined ? undefined : this.placeName(p.at));
  }

  /** The interpreter's source line of the operation being specialised (0: none known), which
   *  the residual operations made for it carry: the abstract interpreter sets it from each
   *  operation's position, a generated specialiser where its code for a line starts. */
  line = 0;
  private linePositions: Pos[] = [];
  private placeNames: string[] = [];

  /** One position object per line (residual operations share them). */
  private linePos(line: number): Pos | undefined {
    if (line <= 0) return undefined;
    return (this.linePositions[line] ??= { line, col: 0 });
  }

  /** The name of merge-point position `n` (its greens), made once. */
  private placeName(n: number): string {
    return (this.placeNames[n] ??= this.positionName(n));
  }

  protected abstract positionName(position: number): string;

  // --- operations ---

  /** Counts `n` operations of the interpreter processed, against the policy's bound. */
  tick(n: number): void {
    if ((this.stats.opsSeen += n) - this.opsBefore > this.policy.maxOps)
      throw new SpecialisationLimit(`more than ${this.policy.maxOps} operations`);
    if (this.stats.opsSeen + this.emitted > this.stepLimit) this.overspent();
  }

  /** The program's compile work would pass its budget: no more continuations. */
  protected overspent(): never {
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
    if (name === "ref_eq") return this.sameObject(p, args[0]!, args[1]!);
    if (OPS[name]!.fold) return this.pure(p, name, type!, args[0]!, args[1]);
    if (OPS[name]!.effect === "read") {
      const known = this.readConstant(name, args, type, imm);
      if (known) return known;
    }
    switch (name) {
      case "new_object":
        return this.newObject(imm as string);
      case "get_field":
        return this.getField(p, args[0]!, imm as string, type!);
      case "set_field":
        this.setField(p, args[0]!, args[1]!, imm as string);
        return undefined;
      case "class_of": {
        const a = this.resolve(args[0]!);
        if (a.k === "o") return konst(a.obj.id);
        if (a.k === "r" && a.cls !== undefined) return konst(a.cls);
        const k = this.residual(p, name, [a], "i32")!;
        if (a.k === "r" && typeof a.o === "number") p.rg.classOf.set((k as { o: number }).o, a);
        return k;
      }
      case "new_list":
        return this.newList(p, args[0]!, args[1]!, imm as ListType);
      case "list_get":
      case "list_set":
      case "list_len":
      case "list_push":
      case "list_pop":
      case "list_insert":
      case "list_remove":
        return this.listOp(p, name, args, type);
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

  /** A list operation: done on a virtual list at compile time where it can be
   *  (`virtual-lists.ts`), emitted otherwise. */
  protected listOp(p: Path, name: string, args: AVal[], type: Type | undefined): AVal | undefined {
    const list = this.resolve(args[0]!);
    if (list.k === "l") {
      // (the item a store takes; the zero an empty list's pop gives)
      const stored = args.length === 3 ? args[2] : name === "list_push" ? args[1] : undefined;
      const zero = name === "list_pop" ? zeroOf(elemOf(list.obj.type)) : undefined;
      const done = onVirtualList(
        list.obj,
        name,
        args[1],
        stored && this.field(p, stored),
        zero && (this.fromConst(zero) as Field),
        this.policy.maxVirtualLength,
      );
      if (done) {
        this.stats.opsFolded++;
        if (list.obj.home && name !== "list_len" && name !== "list_get") list.obj.homeDirty = true;
        return done.value;
      }
    }
    return this.residual(p, name, args, type);
  }

  /** `new_list`: a virtual list when its length is a constant the policy allows, every item the
   *  filler (one value, shared, as `fill` shares it). */
  protected newList(p: Path, n: AVal, filler: AVal, type: ListType): AVal {
    if (n.k !== "c" || (n.v as number) < 0 || (n.v as number) > this.policy.maxVirtualLength)
      return this.residual(p, "new_list", [n, filler], type, type)!;
    this.stats.virtualsCreated++;
    const item = this.field(p, filler);
    return { k: "l", obj: { type, items: new Array<Field>(n.v as number).fill(item) } };
  }

  /** A value as a virtual's field or item holds it: a virtual object or list as it is, a typed
   *  array made a run-time value first (a typed array's virtuals are one level deep). */
  protected field(p: Path, v: AVal): Field {
    const value = this.resolve(v);
    if (value.k !== "v" && value.k !== "a") return value;
    const type = value.k === "a" ? value.type : value.obj.type;
    const len = lengthOf(value);
    const o = this.operand(p, value);
    return len === undefined ? { k: "r", o, type } : { k: "r", o, type, len };
  }

  // The object operations (issue 25): an object made here stays virtual, its fields abstract
  // values, until it escapes; a run-time object's operations are emitted.

  /** A promoted object of the run (it never changes: the frontend promotes only immutable
   *  ones), as a constant of the residual module, the same object (one identity). */
  promoted(value: object): AVal {
    const c = constantOf(this.out, value as Reg, "ref", this.heap);
    return c.k === "obj" ? this.constant(c.v) : NULL_REF;
  }

  /** The module's constant object `i` (`Module.objects`). */
  constant(i: number): AVal {
    const d = this.out.objects![i]!;
    return constantObject(i, d.k === "object" ? "ref" : d.type);
  }

  /** A constant's abstract value. */
  protected fromConst(c: Const): AVal {
    switch (c.k) {
      case "int":
      case "bool":
        return konst(c.v);
      case "null":
        return NULL_REF;
      case "obj":
        return this.constant(c.v);
      case "data": {
        const d = this.m.data[c.v]!;
        const arr = d.type === "u8[]" ? Uint8Array.from(d.values) : Int32Array.from(d.values);
        return { k: "a", arr, type: d.type };
      }
    }
  }

  /** A read of a constant object, list or map, done at compile time (constants never change);
   *  undefined when the operation is no such read or an operand is not known. */
  protected readConstant(
    name: string,
    args: AVal[],
    type: Type | undefined,
    imm: unknown,
  ): AVal | undefined {
    const i = constantIndex(args[0]!);
    if (i === undefined) return undefined;
    const d = this.out.objects![i]!;
    const index = args[1]?.k === "c" ? Number(args[1].v) : undefined;
    if (d.k === "object") {
      if (name === "class_of") return konst(classNamed(this.m, d.cls)!.id);
      if (name === "get_field") return this.fromConst(d.fields[fieldOf(this.m, imm)!.index]!);
      return undefined;
    }
    if (d.k === "list") {
      if (name === "list_len") return konst(d.items.length);
      if (name === "list_get" && index !== undefined && index >= 0 && index < d.items.length)
        return this.fromConst(d.items[index]!);
      return undefined;
    }
    if (name === "map_size") return konst(d.entries.length);
    if (name !== "map_get" && name !== "map_has") return undefined;
    const key = this.resolve(args[1]!);
    const want =
      key.k === "c"
        ? Number(key.v)
        : isNull(key)
          ? NULL_KEY
          : constantIndex(key) !== undefined
            ? OBJECT_KEY + constantIndex(key)!
            : key.k === "o"
              ? VIRTUAL_KEY
              : undefined;
    if (want === undefined) return undefined; // a key known only at run time
    const found = this.entriesOf(d).get(want);
    if (name === "map_has") return konst(found !== undefined);
    return found === undefined ? this.fromConst(zeroOf(type!)) : this.fromConst(found);
  }

  /** A green operation on a constant reference in compiled code (the binding-time analysis
   *  found its operands compile-time): a read of a constant object, list or map, or the identity
   *  of two constants, as a plain value (a constant reference as its abstract value). */
  readGreen(name: string, args: AVal[], type: Type | undefined, imm?: string | number): Slot {
    const value =
      name === "ref_eq"
        ? konst(sameConstant(args[0]!, args[1]!))
        : this.readConstant(name, args, type, imm);
    if (value === undefined) throw new Error(`${name}: a green read of a run-time reference`);
    return plain(value);
  }

  private entries = new Map<object, Map<number, Const>>();
  /** A constant map's entries by key: an integer (or boolean) as itself, null as `NULL_KEY`,
   *  constant object i as `OBJECT_KEY + i`. */
  private entriesOf(d: ObjectData & { k: "map" }): Map<number, Const> {
    let m = this.entries.get(d);
    if (!m) {
      m = new Map(
        d.entries.map(([k, v]) => [
          k.k === "null" ? NULL_KEY : k.k === "obj" ? OBJECT_KEY + k.v : Number(k.v),
          v,
        ]),
      );
      this.entries.set(d, m);
    }
    return m;
  }

  /** `new_object`: a virtual object, every field the new object's (zero, false, null). */
  protected newObject(cls: string): AVal {
    const decl = classNamed(this.m, cls)!;
    this.stats.virtualsCreated++;
    // (zero, false or null: `zeroOf`, as L3 makes a new object's fields)
    const fields = decl.fields.map((f) => this.fromConst(zeroOf(f.type)) as Field);
    return { k: "o", obj: { cls, id: decl.id, fields } };
  }

  /** `get_field`: a virtual's field is known. */
  protected getField(p: Path, a: AVal, imm: string, type: Type): AVal {
    const obj = this.resolve(a);
    if (obj.k === "o") return obj.obj.fields[fieldOf(this.m, imm)!.index]!;
    return this.residual(p, "get_field", [obj], type, imm)!;
  }

  /** `set_field`: a virtual's field takes the value (a virtual stays one: they nest). */
  protected setField(p: Path, a: AVal, v: AVal, imm: string): void {
    const obj = this.resolve(a);
    if (obj.k !== "o") {
      this.residual(p, "set_field", [obj, v], undefined, imm);
      return;
    }
    obj.obj.fields[fieldOf(this.m, imm)!.index] = this.field(p, v);
    if (obj.obj.home) obj.obj.homeDirty = true;
  }

  /** A virtualizable's virtual as its home (written back first), any other value as it is. */
  private homeOf(p: Path, a: AVal): AVal {
    if ((a.k !== "o" && a.k !== "l") || !a.obj.home) return a;
    this.operand(p, a);
    return this.resolve(a);
  }

  /** `ref_eq`: a virtual is itself and nothing else (nothing made at run time can be an
   *  object not made yet). */
  protected sameObject(p: Path, a: AVal, b: AVal): AVal {
    // (a virtualizable's virtual is its home, a run-time object: compared as one)
    const x = this.homeOf(p, this.resolve(a));
    const y = this.homeOf(p, this.resolve(b));
    if (x.k === "o" || y.k === "o" || x.k === "l" || y.k === "l")
      return konst((x.k === "o" || x.k === "l") && x.k === y.k && x.obj === y.obj);
    if (isNull(x) && isNull(y)) return konst(true);
    // (one variable is one object)
    if (x.k === "r" && y.k === "r" && typeof x.o === "number" && x.o === y.o) return konst(true);
    const [cx, cy] = [constantIndex(x), constantIndex(y)];
    if (cx !== undefined && (cy !== undefined || isNull(y))) return konst(cx === cy);
    if (cy !== undefined && isNull(x)) return konst(false);
    return this.pure(p, "ref_eq", "bool", x, y);
  }

  /** An operation emitted as it is (its operands made residual, forcing virtuals); `len`: the
   *  length of the array it makes, if known. */
  protected residual(
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
}

/** Keys of a constant map's entries (`entriesOf`) that are not integers, apart from them: null,
 *  a constant object (by its index), and a virtual object (in no constant map). */
const NULL_KEY = 2 ** 33;
const OBJECT_KEY = 2 ** 34;
const VIRTUAL_KEY = -(2 ** 34);

/** Whether two constant references (null, constant objects) are the same. */
function sameConstant(a: AVal, b: AVal): boolean {
  if (isNull(a) || isNull(b)) return isNull(a) && isNull(b);
  const [x, y] = [constantIndex(a), constantIndex(b)];
  if (x === undefined || y === undefined) throw new Error("ref_eq: a green run-time reference");
  return x === y;
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
  const portals = new Set(
    m.graphs
      .filter((g) => g.blocks.some((b) => b.ops.some((o) => o.op === "merge_point")))
      .map((g) => g.name),
  );
  p = {
    graphs: new Map(m.graphs.map((g) => [g.name, g])),
    portals,
    recursive: recursiveGraphs(m, portals),
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

/** The graphs that may call themselves, through others or not (but the portals, whose calls
 *  are specialised apart): calls to them stay residual calls of the interpreter's own graph,
 *  not inlined without end (PyPy's TLC: `_concat`, `_nth` and `eq` on cons lists). */
function recursiveGraphs(m: Module, portals: Set<string>): Set<string> {
  const callees = calleeMap(m);
  const out = new Set<string>();
  for (const g of m.graphs)
    if (!portals.has(g.name) && callsItself(callees, g.name, portals)) out.add(g.name);
  return out;
}

/** Each graph's callees, by name. */
export function calleeMap(m: Module): Map<string, string[]> {
  return new Map(m.graphs.map((g) => [g.name, calleesOf(g)]));
}

/** Whether graph `name` may call itself, through others or not (but not through `avoid`). */
export function callsItself(
  callees: Map<string, string[]>,
  name: string,
  avoid: ReadonlySet<string> = new Set(),
): boolean {
  const seen = new Set<string>();
  const todo = [...(callees.get(name) ?? [])];
  while (todo.length) {
    const c = todo.pop()!;
    if (c === name) return true;
    if (seen.has(c) || avoid.has(c)) continue;
    seen.add(c);
    todo.push(...(callees.get(c) ?? []));
  }
  return false;
}

/** The graphs a graph calls. */
export function calleesOf(g: Graph): string[] {
  const out = new Set<string>();
  for (const b of g.blocks) for (const op of b.ops) if (op.op === "call") out.add(op.imm as string);
  return [...out];
}

interface Prepared {
  graphs: Map<string, Graph>;
  portals: Set<string>;
  recursive: Set<string>;
  isPosition: boolean[];
  positionGreen: number;
}

const prepared = new WeakMap<Module, Prepared>();

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
