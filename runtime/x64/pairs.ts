//! Which JavaScript object each reference of an object region is paired with (`objects.ts`),
//! and what an arena keeps of its pairs from one run to the next.
//!
//! A table by slot (8 bytes of the region a slot): a typed array from slot to position, the
//! objects in dense chunks by position. (A JavaScript array by slot was as large as the
//! highest slot paired: a run that had allocated 40 MiB and then let one object out grew an
//! array of five million entries, at every run.)
//!
//! *Kept pairs.* The pooled arena (`arena.ts`) keeps its object region from one run of a module
//! to the next, and with it the pairs of objects that cannot have changed in between: those
//! whose every field is `readonly` and which hold, through such fields, only objects of the same
//! kind, constants and null (`clean`). A list built by compiled code and walked after the first
//! tier took over is so copied out once and never copied in again. Everything else (lists,
//! maps, objects with a field that may change, and objects holding any of those) is unpaired
//! when the run ends: JavaScript may change it before the next run, which copies it in anew
//! where it reaches it. The region is started over when more than half of it is taken (what
//! it holds then is a cache of JavaScript's objects, never their only copy: between runs every
//! object JavaScript can reach is JavaScript's), or when another module's run used the arena.

import type { DataBlock } from "./memory.ts";

/** A pair's kind, per slot (flags). */
export const Pair = {
  /** An object that may change: unpaired when the run ends. */
  Mutable: 1,
  /** An object that never changes. */
  Frozen: 2,
  /** A frozen object known to hold only clean objects, constants and null: kept across runs. */
  Clean: 4,
  /** A frozen object that holds, at some depth, one that may change. */
  Dirty: 8,
  /** Being looked at by `RunObjects.clean` (a cycle through it is not clean). */
  Busy: 16,
  /** A constant of the module (clean, never unpaired). */
  Constant: 32,
} as const;

/** Pairs by position in chunks (a JavaScript array grown past some hundred thousand items cost
 *  75 ns a push, most of a pair's time). */
const CHUNK = 4096;

export class PairTable {
  /** Per slot: 1 + the pair's position, or 0. */
  private readonly position: Int32Array;
  /** Per slot: the pair's `Pair` flags. */
  readonly kind: Uint8Array;
  /** The paired objects by position, in chunks (`undefined` once unpaired), and their
   *  references. */
  private objects: (object | undefined)[][] = [];
  private refs = new Int32Array(CHUNK);
  private count = 0;
  private dropped = 0;

  constructor(
    readonly start: number,
    readonly bytes: number,
  ) {
    this.position = new Int32Array(bytes / 8);
    this.kind = new Uint8Array(bytes / 8);
  }

  slotOf(r: number): number {
    return (r - this.start) / 8;
  }

  /** The object paired with the reference in slot `slot`. */
  at(slot: number): object | undefined {
    const p = this.position[slot]! - 1;
    return p < 0 ? undefined : this.objects[(p / CHUNK) | 0]![p % CHUNK];
  }

  set(r: number, x: object, kind: number): void {
    const p = this.count++;
    if (p % CHUNK === 0) this.objects.push(new Array<object | undefined>(CHUNK));
    this.objects[(p / CHUNK) | 0]![p % CHUNK] = x;
    if (p === this.refs.length) {
      const grown = new Int32Array(2 * p);
      grown.set(this.refs);
      this.refs = grown;
    }
    this.refs[p] = r;
    const slot = this.slotOf(r);
    this.position[slot] = p + 1;
    this.kind[slot] = kind;
  }

  drop(r: number): void {
    const slot = this.slotOf(r);
    const p = this.position[slot]! - 1;
    if (p < 0) return;
    this.objects[(p / CHUNK) | 0]![p % CHUNK] = undefined;
    this.position[slot] = 0;
    this.kind[slot] = 0;
    if (++this.dropped > CHUNK && this.dropped > this.count / 2) this.compact();
  }

  /** Every pair dropped. */
  clear(): void {
    for (let p = 0; p < this.count; p++) {
      const slot = this.slotOf(this.refs[p]!);
      this.position[slot] = 0;
      this.kind[slot] = 0;
    }
    this.objects = [];
    this.count = 0;
    this.dropped = 0;
  }

  /** The pairs renumbered without the dropped ones' holes. */
  private compact(): void {
    const [objects, refs, count] = [this.objects, this.refs, this.count];
    this.objects = [];
    this.count = 0;
    this.refs = new Int32Array(refs.length);
    for (let p = 0; p < count; p++) {
      const x = objects[(p / CHUNK) | 0]![p % CHUNK];
      if (x === undefined) continue;
      const kind = this.kind[this.slotOf(refs[p]!)]!;
      this.set(refs[p]!, x, kind);
    }
    this.dropped = 0;
  }
}

/** A stack of references, in a typed array grown by doubling. */
export class Refs {
  private items = new Int32Array(64);
  length = 0;
  push(r: number): void {
    if (this.length === this.items.length) {
      const grown = new Int32Array(2 * this.length);
      grown.set(this.items);
      this.items = grown;
    }
    this.items[this.length++] = r;
  }
  /** The last reference, taken off (-1 when there is none: references are not negative). */
  pop(): number {
    return this.length ? this.items[--this.length]! : -1;
  }
  at(i: number): number {
    return this.items[i]!;
  }
}

/** What the pooled arena keeps of a module's object region between its runs. */
export interface Kept {
  /** Whose region it is (the module's data layout). */
  owner: object;
  table: PairTable;
  /** The region's bump pointer when the last run ended. */
  bump: number;
  /** The maps' tables (by the index a map's header holds). */
  tables: Map<number, number>[];
}

const kept = new WeakMap<DataBlock, Kept>();

/** What `arena` keeps for `owner`'s region `[start, end)`, or a fresh start (the table cleared)
 *  where it keeps nothing for it or more than half the region is taken. */
export function keptIn(arena: DataBlock, owner: object, start: number, end: number): Kept {
  const k = kept.get(arena);
  const fits = k !== undefined && k.table.start === start && k.table.bytes === end - start;
  if (fits && k.owner === owner && k.bump - start <= (end - start) / 2) return k;
  const table = fits ? (k.table.clear(), k.table) : tableFor(start, end - start);
  const fresh: Kept = { owner, table, bump: start, tables: [] };
  kept.set(arena, fresh);
  return fresh;
}

/** Tables of runs that ended (a run inside another's callback has a region of its own). */
const spare: PairTable[] = [];

/** An empty table for a region of `bytes` at `start` (typed arrays of tens of MiB are not made
 *  per run: V8 counts them as external memory and collects garbage for them). */
export function tableFor(start: number, bytes: number): PairTable {
  const i = spare.findIndex((t) => t.start === start && t.bytes === bytes);
  return i >= 0 ? spare.splice(i, 1)[0]! : new PairTable(start, bytes);
}

/** Gives a run's table back, emptied. */
export function giveBack(table: PairTable): void {
  table.clear();
  if (spare.length < 4) spare.push(table);
}
