//! The object region of a run's arena: allocation in it, and the container operations
//! compiled code asks JavaScript to do on it (the `heap` callback), on raw values.
//!
//! Layout (`abi.ts`): a reference is an offset from the arena's start, null is 0. An object is
//! its class id and 4 bytes per field; a list a header (length, capacity, the offset of its
//! items) and a buffer of items that is replaced when it grows; a map a header holding the index
//! of its table, a JavaScript Map from raw keys to raw values here (a key is an integer or a
//! reference, which is an object's identity for the run). Machine code reads and writes fields
//! and list items itself and allocates objects and lists itself (the `object` and `list`
//! stubs, and `push` while the buffer has room, and `pop`); what grows a list or needs a hash
//! table is a call into `operate`. Safepoints collect the region (`NativeModule.collect`) when
//! the bump pointer passes `S.objLow`, which `markLow` sets (the growth policy); running out
//! throws `NativeLimit`, which `operate` turns into `S.heapFail` for the code to stop with
//! `objectsFull`: out of memory if the live data outgrew the region, else a replay. The pooled arena keeps its region from one run to the next
//! (`pairs.ts`).

import {
  HEAP_FULL,
  HeapOp,
  LIST_CAPACITY,
  LIST_ITEMS,
  LIST_LENGTH,
  MAP_BYTES,
  MAP_TABLE,
  S,
} from "./abi.ts";
import { NativeLimit } from "./limit.ts";
import type { DataBlock } from "./memory.ts";

/** The least a run allocates between collections (see `markLow`). */
const MIN_SPAN = 16 << 20;
/** How many times what a collection keeps a run allocates before the next one. */
const SPAN_PER_LIVE = 3;

export class ObjectRegion {
  /** The whole arena, as 4-byte words. */
  readonly words: Int32Array;
  /** The run's first error in `operate` that is not the region running out (a bug: it is
   *  rethrown once the run has stopped). */
  failure: unknown;
  /** A collection found more than half the region live (`markLow`): the region filling up is
   *  then the program's live data outgrowing it, not a collection that could not be made. */
  outgrown = false;

  /** The region `[start, end)` of `arena`, taken up to `bump` (empty: `start`), with the maps'
   *  tables, by index (what an earlier run left: `pairs.ts`). */
  constructor(
    arena: DataBlock,
    readonly start: number,
    readonly end: number,
    bump = start,
    readonly tables: Map<number, number>[] = [],
    /** Collect at the first safepoint after any allocation (the stress switch). */
    readonly stress = false,
  ) {
    this.words = arena.i32(0, arena.size / 4);
    this.words[S.objBump / 4] = bump;
    this.markLow();
    this.words[S.objEnd / 4] = end;
    this.words[S.heapFail / 4] = 0;
  }

  /** Empties the region (a collection: what is live comes back in after). */
  restart(): void {
    this.words[S.objBump / 4] = this.start;
    this.tables.length = 0;
  }

  /** Sets where a safepoint collects, from what is taken now (after a collection: what is
   *  live). The growth policy: the next collection comes after `SPAN_PER_LIVE` times what is
   *  live more is taken, and no sooner than `MIN_SPAN`, so that a collection frees at least
   *  three times what it copies and the pages touched stay a few times the live data, not the
   *  region (a region is reserved, and untouched pages cost nothing); at most three quarters of
   *  the room left. Never again once what is live is more than half the region: the run is
   *  then `outgrown`, and filling the region is out of memory. Under stress, anything
   *  allocated from now on. */
  markLow(): void {
    const bump = this.bump;
    const live = bump - this.start;
    if (live > (this.end - this.start) / 2) {
      this.outgrown = true;
      this.noSafepoints();
      return;
    }
    const room = Math.floor(((this.end - bump) * 3) / 4);
    const span = this.stress ? 1 : Math.min(room, Math.max(MIN_SPAN, SPAN_PER_LIVE * live));
    this.words[S.objLow / 4] = bump + Math.ceil(span / 8) * 8;
  }

  /** No safepoint collects from now on in this run. */
  noSafepoints(): void {
    this.words[S.objLow / 4] = 0x7fffffff;
  }

  /** Where the region is taken up to. */
  get bump(): number {
    return this.words[S.objBump / 4]!;
  }

  /** `bytes` (a multiple of 4) of the region, zero-filled; its offset. */
  alloc(bytes: number): number {
    const w = this.words;
    const at = w[S.objBump / 4]!;
    const end = at + Math.ceil(bytes / 8) * 8;
    if (end > w[S.objEnd / 4]!)
      throw new NativeLimit(
        "x64: the object region is full (what is live fills it between safepoints)",
      );
    w[S.objBump / 4] = end;
    w.fill(0, at / 4, end / 4);
    return at;
  }

  /** A new map, empty; its reference. */
  newMap(): number {
    const r = this.alloc(MAP_BYTES);
    this.words[(r + MAP_TABLE) / 4] = this.tables.push(new Map()) - 1;
    return r;
  }

  /** The table of map `r`. */
  tableOf(r: number): Map<number, number> {
    return this.tables[this.words[(r + MAP_TABLE) / 4]!]!;
  }

  /** Container operation `op` (`HeapOp`) on raw values, for compiled code: its raw result. On
   *  failure it sets `S.heapFail` and gives 0 (compiled code tests it and stops). */
  operate(op: number, a: number, b: number, c: number): number {
    try {
      return this.operation(op, a, b, c);
    } catch (e) {
      if (!(e instanceof NativeLimit)) this.failure ??= e;
      this.words[S.heapFail / 4] = HEAP_FULL;
      return 0;
    }
  }

  private operation(op: number, a: number, b: number, c: number): number {
    const w = this.words;
    switch (op) {
      case HeapOp.list_push: {
        const n = w[(a + LIST_LENGTH) / 4]!;
        this.room(a, n + 1);
        w[w[(a + LIST_ITEMS) / 4]! / 4 + n] = b;
        w[(a + LIST_LENGTH) / 4] = n + 1;
        return 0;
      }
      case HeapOp.list_pop: {
        const n = w[(a + LIST_LENGTH) / 4]!;
        if (n === 0) return 0;
        w[(a + LIST_LENGTH) / 4] = n - 1;
        return w[w[(a + LIST_ITEMS) / 4]! / 4 + n - 1]!;
      }
      case HeapOp.list_insert: {
        // `splice(b, 0, c)`: past the end appends, a negative index counts from the end.
        const n = w[(a + LIST_LENGTH) / 4]!;
        const i = b < 0 ? Math.max(n + b, 0) : Math.min(b, n);
        this.room(a, n + 1);
        const at = w[(a + LIST_ITEMS) / 4]! / 4;
        w.copyWithin(at + i + 1, at + i, at + n);
        w[at + i] = c;
        w[(a + LIST_LENGTH) / 4] = n + 1;
        return 0;
      }
      case HeapOp.list_remove: {
        // `splice(b, 1)`
        const n = w[(a + LIST_LENGTH) / 4]!;
        const i = b < 0 ? Math.max(n + b, 0) : b;
        if (i >= n) return 0;
        const at = w[(a + LIST_ITEMS) / 4]! / 4;
        w.copyWithin(at + i, at + i + 1, at + n);
        w[(a + LIST_LENGTH) / 4] = n - 1;
        return 0;
      }
      case HeapOp.new_map:
        return this.newMap();
      default:
        return this.mapOperation(op, this.tableOf(a), b, c);
    }
  }

  private mapOperation(op: number, table: Map<number, number>, key: number, value: number): number {
    switch (op) {
      case HeapOp.map_get:
        return table.get(key) ?? 0;
      case HeapOp.map_has:
        return table.has(key) ? 1 : 0;
      case HeapOp.map_set:
        table.set(key, value);
        return 0;
      case HeapOp.map_delete:
        return table.delete(key) ? 1 : 0;
      case HeapOp.map_size:
        return table.size;
      default:
        throw new Error(`x64: no container operation ${op}`);
    }
  }

  /** Makes list `r`'s buffer hold at least `n` items (a new one twice as big, the items copied). */
  private room(r: number, n: number): void {
    const w = this.words;
    const capacity = w[(r + LIST_CAPACITY) / 4]!;
    if (n <= capacity) return;
    const grown = Math.max(2 * capacity, n, 4);
    const from = w[(r + LIST_ITEMS) / 4]! / 4;
    const at = this.alloc(4 * grown);
    w.copyWithin(at / 4, from, from + w[(r + LIST_LENGTH) / 4]!);
    w[(r + LIST_CAPACITY) / 4] = grown;
    w[(r + LIST_ITEMS) / 4] = at;
  }
}

/** The container operations' callback answers for the innermost run under way. */
const runs: ObjectRegion[] = [];

/** Runs `f` with `region` answering compiled code's container operations. */
export function withRegion<T>(region: ObjectRegion, f: () => T): T {
  runs.push(region);
  try {
    return f();
  } finally {
    runs.pop();
  }
}

/** The callback's body (`callbacks.ts`). */
export function operate(op: number, a: number, b: number, c: number): number {
  return runs.at(-1)!.operate(op, a, b, c);
}
