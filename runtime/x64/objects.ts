//! Objects, lists and maps of compiled code and JavaScript's: one identity for the length of a
//! run (the region they lie in, and the container operations on it: `region.ts`).
//!
//! One identity: a run keeps a two-way map between JavaScript's objects and their references in
//! the arena. An object JavaScript passes in (an entry's argument, a constant, a fallback's
//! result) is copied in once and stays paired with its copy; one compiled code made is paired
//! with a JavaScript object of its class (the heap's, so the first tier's own class) the first
//! time it goes out (an exit's value, the result). Where JavaScript may look at or change the
//! objects (a fallback, a hand-over to the first tier, the end of the run) every pair is written
//! out (`syncOut`); where it may have changed them and compiled code goes on, every pair is
//! written back in (`syncIn`). The cost is the objects paired, at those points only: none while
//! compiled code runs. Running out of the region while copying in throws `NativeLimit`: the
//! runner replays the run on the interpreter.
//!
//! The pairs are a table by reference (`pairs.ts`), and each paired JavaScript object carries its
//! reference's slot in a tag (a symbol property, not enumerable: the first tier never sees it),
//! which the table confirms (a tag another run left is not a pair). A run in the pooled arena
//! keeps the pairs of objects that cannot change for the next run of its module (`pairs.ts`):
//! those are copied in or out once, not at every run.

import type { Heap, HeapObject } from "../heap.ts";
import {
  elemOf,
  isList,
  isMap,
  isReference,
  keyOf,
  valueOf as valueType,
} from "../ir/containers.ts";
import type { ClassDecl, Module, Type } from "../ir/types.ts";
import {
  LIST_BYTES,
  LIST_CAPACITY,
  LIST_ITEMS,
  LIST_LENGTH,
  MAP_TABLE,
  OBJECT_HEADER,
  objectBytes,
} from "./abi.ts";
import { CONSTANTS, CONSTANT_SLOTS } from "./data.ts";
import { Pair, Refs, giveBack, type Kept, type PairTable } from "./pairs.ts";
import type { ObjectRegion } from "./region.ts";

/** The tags of JavaScript objects paired in the pooled arena's region (kept from run to run),
 *  and in the region of a run inside another's callback (for that run). */
const KEPT = Symbol("futamura.x64.kept");
const PAIRED = Symbol("futamura.x64.paired");
type Tagged = { [KEPT]?: number; [PAIRED]?: number };

/** Whether the x86-64 backend can hold `m`'s objects: every value they hold is 4 bytes (an
 *  array held in an object, a list or a map is not compiled: it would need the arrays' heap to
 *  outlive frames). Gives what it cannot hold. */
export function unsupportedHolding(m: Module): string | undefined {
  const arrays = (t: Type) => t === "i32[]" || t === "u8[]";
  for (const c of m.classes ?? [])
    for (const f of c.fields) if (arrays(f.type)) return `${c.name}.${f.name}: ${f.type}`;
  for (const g of m.graphs)
    for (const t of g.types) {
      if (isList(t) && arrays(elemOf(t))) return t;
      if (isMap(t) && arrays(valueType(t))) return t;
    }
  return undefined;
}

/** A run's objects: those of `region`, paired with JavaScript's objects of `heap`. */
export class RunObjects {
  private readonly words: Int32Array;
  /** The tag this run's pairs carry. */
  private readonly tag: typeof KEPT | typeof PAIRED;
  /** Each paired list's or map's type (an object's is `ref`). */
  private readonly types = new Map<number, Type>();
  /** The paired references whose contents may change: lists, maps, objects of a class with a
   *  field that is not `readonly` (not constants: they never change). Only these are written
   *  out and in again; the others were copied once, when paired, whole: an object is paired
   *  where it is complete (the specialisers force an object by its allocation and its stores
   *  together, never with an exit between them; JavaScript passes in objects it has made). */
  private readonly mutable = new Refs();
  /** The references paired by this run that never change (kept after it if `clean`). */
  private readonly frozenPairs = new Refs();
  /** Per class id, whether every field is `readonly` (so its objects never change once made),
   *  and which fields hold references. */
  private readonly frozen: boolean[] = [];
  private readonly referenceFields: number[][] = [];
  /** Objects whose tag of this kind an outer run had, and that tag, in turn (put back by
   *  `close`). */
  private readonly displaced: unknown[] = [];
  /** Whether what is paired now is a constant (the constant table being filled). */
  private constant = false;
  /** Paired references whose contents are still to be copied in, or out. */
  private readonly pendingIn = new Refs();
  private readonly pendingOut = new Refs();
  private readonly classes: ClassDecl[];
  /** Constants in the constant table. */
  private constants = 0;
  /** `clean`'s work list (one for every call: it runs once per frozen pair). */
  private readonly cleanStack: number[] = [];
  /** Objects, lists and maps copied in and out so far. */
  copiedIn = 0;
  copiedOut = 0;
  /** `table`: the pairs (`kept`'s, or the run's own). */
  constructor(
    readonly region: ObjectRegion,
    private readonly heap: Heap,
    m: Module,
    private readonly table: PairTable,
    private readonly kept?: Kept,
  ) {
    this.words = region.words;
    this.tag = kept ? KEPT : PAIRED;
    this.classes = [];
    for (const c of m.classes ?? []) {
      this.classes[c.id] = c;
      this.frozen[c.id] = c.fields.every((f) => f.readonly);
      this.referenceFields[c.id] = c.fields.flatMap((f, j) => (isReference(f.type) ? [j] : []));
    }
  }

  // ------------------------------------------------------------------ JavaScript to the arena

  /** `x`, a value of type `t`, as compiled code holds it; an object not paired yet is copied
   *  in (with what it holds: `flushIn`). */
  refOf(x: unknown, t: Type): number {
    if (t === "i32") return (x as number) | 0;
    if (t === "bool") return x ? 1 : 0;
    if (x === null || x === undefined) return 0;
    const tag = (x as Tagged)[this.tag];
    if (tag !== undefined && this.table.at(tag) === x) return this.table.start + 8 * tag;
    let r: number;
    if (isList(t)) r = this.region.alloc(LIST_BYTES);
    else if (isMap(t)) r = this.region.newMap();
    else {
      const id = this.heap.classIdOf(x);
      if (id === undefined) throw new Error(`x64: ${String(x)} is not an object of the classes`);
      r = this.region.alloc(objectBytes(this.classes[id]!));
      this.words[r / 4] = id;
    }
    this.pair(x as object, r, t);
    this.pendingIn.push(r);
    return r;
  }

  /** Copies in what the objects paired since the last flush hold. */
  flushIn(): void {
    for (let r = this.pendingIn.pop(); r >= 0; r = this.pendingIn.pop()) this.copyIn(r);
  }

  /** Writes every paired object that may have changed in from JavaScript (which may have
   *  changed it). */
  syncIn(): void {
    for (let i = 0; i < this.mutable.length; i++) this.copyIn(this.mutable.at(i));
    this.flushIn();
  }

  /** Puts the constants of `objects` (JavaScript's, of `types`) not there yet in the constant
   *  table: constant `k` at `CONSTANTS + 4k`. */
  fillConstants(objects: readonly unknown[], types: readonly Type[]): void {
    if (objects.length > CONSTANT_SLOTS)
      throw new Error(`x64: more than ${CONSTANT_SLOTS} constant objects`);
    this.constant = true;
    try {
      for (let k = this.constants; k < objects.length; k++)
        this.words[(CONSTANTS + 4 * k) / 4] = this.refOf(objects[k], types[k]!);
      this.constants = objects.length;
      this.flushIn();
    } finally {
      this.constant = false;
    }
  }

  private copyIn(r: number): void {
    this.copiedIn++;
    const x = this.table.at(this.table.slotOf(r))!;
    const t = this.types.get(r) ?? "ref";
    const w = this.words;
    if (isList(t)) {
      const items = x as unknown[];
      const elem = elemOf(t);
      let at = w[(r + LIST_ITEMS) / 4]!;
      if (items.length > w[(r + LIST_CAPACITY) / 4]! || at === 0) {
        const capacity = Math.max(items.length, 4);
        at = this.region.alloc(4 * capacity);
        w[(r + LIST_CAPACITY) / 4] = capacity;
        w[(r + LIST_ITEMS) / 4] = at;
      }
      w[(r + LIST_LENGTH) / 4] = items.length;
      for (let i = 0; i < items.length; i++) w[at / 4 + i] = this.refOf(items[i], elem);
    } else if (isMap(t)) {
      const table = this.region.tableOf(r);
      table.clear();
      const [kt, vt] = [keyOf(t), valueType(t)];
      for (const [k, v] of x as Map<unknown, unknown>)
        table.set(this.refOf(k, kt), this.refOf(v, vt));
    } else {
      const o = x as HeapObject;
      const cls = this.classes[w[r / 4]!]!;
      cls.fields.forEach(
        (f, j) => (w[(r + OBJECT_HEADER) / 4 + j] = this.refOf(o[f.name], f.type)),
      );
    }
  }

  // ------------------------------------------------------------------ the arena to JavaScript

  /** What compiled code holds as `raw`, of type `t`, as JavaScript holds it; an object not
   *  paired yet gets a JavaScript object, filled by `flushOut`. */
  valueOf(raw: number, t: Type): unknown {
    if (t === "i32") return raw | 0;
    if (t === "bool") return raw !== 0;
    if (raw === 0) return null;
    const known = this.table.at(this.table.slotOf(raw));
    if (known !== undefined) return known;
    const x: object = isList(t) ? [] : isMap(t) ? new Map() : this.heap.make(this.words[raw / 4]!);
    this.pair(x, raw, t);
    this.pendingOut.push(raw);
    return x;
  }

  /** Copies out what the objects paired since the last flush hold. */
  flushOut(): void {
    for (let r = this.pendingOut.pop(); r >= 0; r = this.pendingOut.pop()) this.copyOut(r);
  }

  /** Writes every paired object that may have changed out to JavaScript (which is about to
   *  look), and the objects paired on the way. */
  syncOut(): void {
    for (let i = 0; i < this.mutable.length; i++) this.copyOut(this.mutable.at(i));
    this.flushOut();
  }

  private copyOut(r: number): void {
    this.copiedOut++;
    const x = this.table.at(this.table.slotOf(r))!;
    const t = this.types.get(r) ?? "ref";
    const w = this.words;
    if (isList(t)) {
      const items = x as unknown[];
      const elem = elemOf(t);
      const n = w[(r + LIST_LENGTH) / 4]!;
      const at = w[(r + LIST_ITEMS) / 4]! / 4;
      items.length = n;
      for (let i = 0; i < n; i++) items[i] = this.valueOf(w[at + i]!, elem);
    } else if (isMap(t)) {
      const map = x as Map<unknown, unknown>;
      const [kt, vt] = [keyOf(t), valueType(t)];
      map.clear();
      for (const [k, v] of this.region.tableOf(r))
        map.set(this.valueOf(k, kt), this.valueOf(v, vt));
    } else {
      const o = x as HeapObject;
      const cls = this.classes[w[r / 4]!]!;
      cls.fields.forEach(
        (f, j) => (o[f.name] = this.valueOf(w[(r + OBJECT_HEADER) / 4 + j]!, f.type)),
      );
    }
  }

  private pair(x: object, r: number, t: Type): void {
    const slot = this.table.slotOf(r);
    const old = (x as Tagged)[this.tag];
    // (a run inside another's callback pairs the outer run's objects anew: their tags are put
    // back when it ends, `close`)
    if (!this.kept && old !== undefined) this.displaced.push(x, old);
    (x as Tagged)[this.tag] = slot;
    if (t !== "ref") this.types.set(r, t);
    let kind: number;
    if (this.constant) kind = Pair.Constant | Pair.Frozen | Pair.Clean;
    else if (t !== "ref" || !this.frozen[this.words[r / 4]!]) kind = Pair.Mutable;
    else kind = Pair.Frozen;
    this.table.set(r, x, kind);
    if (kind === Pair.Mutable) this.mutable.push(r);
    else if (kind === Pair.Frozen) this.frozenPairs.push(r);
  }

  /** Drops every pair and empties the region (a collection: `NativeModule.collect` pairs what
   *  is live again, and the constants). */
  restart(): void {
    this.table.clear();
    this.region.restart();
    this.types.clear();
    this.mutable.length = 0;
    this.frozenPairs.length = 0;
    this.pendingIn.length = 0;
    this.pendingOut.length = 0;
    this.constants = 0;
  }

  /** Ends the run's pairing. A run in the pooled arena that ended `whole` (not stopped by an
   *  error, perhaps halfway through a copy) keeps the pairs of objects that cannot change
   *  (`clean`) for the next run, with the region's objects; another puts back the tags it
   *  displaced (the run it ran inside goes on with its own) and gives its table back. */
  close(whole: boolean): void {
    const kept = this.kept;
    if (kept && !whole) {
      kept.table.clear();
      kept.bump = this.table.start;
      kept.tables.length = 0;
      return;
    }
    if (!kept) {
      const d = this.displaced;
      for (let i = d.length - 2; i >= 0; i -= 2) (d[i] as Tagged)[PAIRED] = d[i + 1] as number;
      d.length = 0;
      giveBack(this.table);
      return;
    }
    // (from the last paired: an object's fields are paired after it, so they are decided first)
    for (let i = this.frozenPairs.length - 1; i >= 0; i--) {
      const r = this.frozenPairs.at(i);
      if (!this.clean(r)) this.table.drop(r);
    }
    for (let i = 0; i < this.mutable.length; i++) {
      const r = this.mutable.at(i);
      if (isMap(this.types.get(r) ?? "ref"))
        delete this.region.tables[this.words[(r + MAP_TABLE) / 4]!];
      this.table.drop(r);
    }
    kept.bump = this.region.bump;
  }

  /** Whether frozen object `r` holds, through its fields and theirs, only frozen objects,
   *  constants and null (a list, a map, an object that may change or one not paired make it
   *  dirty; so does a cycle, which only a constructor passing itself could make). Each
   *  object's answer is kept in its kind, so a run looks at each object once. */
  private clean(r0: number): boolean {
    const { kind } = this.table;
    const w = this.words;
    const stack = this.cleanStack;
    stack.length = 0;
    stack.push(r0);
    while (stack.length) {
      const r = stack.at(-1)!;
      const s = this.table.slotOf(r);
      if (kind[s]! & (Pair.Clean | Pair.Dirty)) {
        stack.pop();
        continue;
      }
      kind[s]! |= Pair.Busy;
      let verdict = Pair.Clean as number;
      for (const j of this.referenceFields[w[r / 4]!]!) {
        const c = w[(r + OBJECT_HEADER) / 4 + j]!;
        if (c === 0) continue;
        const k = kind[this.table.slotOf(c)]!;
        if (k & Pair.Clean) continue;
        if (!(k & Pair.Frozen) || k & (Pair.Dirty | Pair.Busy)) {
          verdict = Pair.Dirty;
          break;
        }
        verdict = 0; // (looked at first)
        stack.push(c);
        break;
      }
      if (verdict) {
        kind[s] = (kind[s]! & ~Pair.Busy) | verdict;
        stack.pop();
      }
    }
    return (kind[this.table.slotOf(r0)]! & Pair.Clean) !== 0;
  }
}
