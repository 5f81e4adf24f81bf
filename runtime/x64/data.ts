//! Where the arena holds what: the state buffer, the table of constant objects, the data
//! constants (the bytecode), the heap of arrays, room for data constants that appear after
//! compilation (a continuation specialised during the run may read a compile-time array the
//! first graphs did not), then the object region (`objects.ts`). Code addresses data
//! as `[r15 + offset]`, so a constant's offset never changes once given; every run writes all
//! of them into its arena, and one placed during a run is written into the live arena at once.

import type { Data } from "../ir/types.ts";
import { ARRAY_HEADER, STATE_BYTES } from "./abi.ts";
import type { DataBlock } from "./memory.ts";

/** Room for data constants placed after compilation. Untouched, it costs nothing. */
const LATE_BYTES = 1 << 20;

/** Constant objects the code can name: the table holds each one's reference for the run
 *  (`[r15 + CONSTANTS + 4k]` is constant `k` of the module's `objects`; `objects.ts` fills it). */
export const CONSTANT_SLOTS = 1 << 14;
export const CONSTANTS = STATE_BYTES;

/** Bytes an array of `length` items of `elem` bytes takes (header, items, padded to 8). */
export function arrayBytes(length: number, elem: 1 | 4): number {
  return Math.ceil((ARRAY_HEADER + length * elem) / 8) * 8;
}

/** An array's bytes as the arena holds them. */
export function arrayImage(values: ArrayLike<number>, elem: 1 | 4): Uint8Array {
  const image = new Uint8Array(arrayBytes(values.length, elem));
  const view = new DataView(image.buffer);
  view.setInt32(0, values.length, true);
  for (let k = 0; k < values.length; k++) {
    if (elem === 4) view.setInt32(ARRAY_HEADER + 4 * k, values[k]!, true);
    else view.setUint8(ARRAY_HEADER + k, values[k]! & 255);
  }
  return image;
}

/** Whose data constants each arena holds, and how many of them (arenas are pooled across
 *  modules: another module's run overwrites them). */
const holding = new WeakMap<DataBlock, { layout: DataLayout; images: number }>();

export class DataLayout {
  /** Offset of each data constant's array from the arena's start. */
  readonly offsets: number[] = [];
  readonly heapStart: number;
  readonly heapEnd: number;
  /** The object region (`objects.ts`), and after it the root stack (`roots.ts`), after
   *  everything else (both empty for a module without objects). */
  readonly objectStart: number;
  readonly objectEnd: number;
  readonly rootStart: number;
  readonly rootEnd: number;
  /** The arena's size. */
  readonly size: number;
  private images: { at: number; bytes: Uint8Array }[] = [];
  private next: number;

  constructor(data: readonly Data[], heapBytes: number, regionBytes: number, rootBytes: number) {
    this.next = CONSTANTS + 4 * CONSTANT_SLOTS;
    data.forEach((d) => this.place(d));
    this.heapStart = this.next;
    this.heapEnd = this.heapStart + heapBytes;
    this.next = this.heapEnd;
    this.objectStart = this.heapEnd + LATE_BYTES;
    this.objectEnd = this.objectStart + regionBytes;
    this.rootStart = this.objectEnd;
    this.rootEnd = this.rootStart + rootBytes;
    this.size = this.rootEnd;
  }

  /** Places the constants of `data` not placed yet, after the heap; into `arena` too if given. */
  extend(data: readonly Data[], arena?: DataBlock): void {
    for (let i = this.offsets.length; i < data.length; i++) {
      const { at, bytes } = this.place(data[i]!);
      if (at + bytes.length > this.objectStart)
        throw new Error("x64: no room left for the data constants of continuations");
      arena?.u8(at, bytes.length).set(bytes);
    }
  }

  /** Writes every data constant into `arena` (those it holds already from an earlier run are
   *  left: nothing writes data constants, and the heap lies apart). */
  write(arena: DataBlock): void {
    const had = holding.get(arena);
    const from = had?.layout === this ? had.images : 0;
    for (let i = from; i < this.images.length; i++) {
      const { at, bytes } = this.images[i]!;
      arena.u8(at, bytes.length).set(bytes);
    }
    holding.set(arena, { layout: this, images: this.images.length });
  }

  private place(d: Data): { at: number; bytes: Uint8Array } {
    const image = { at: this.next, bytes: arrayImage(d.values, d.type === "u8[]" ? 1 : 4) };
    this.offsets.push(image.at);
    this.images.push(image);
    this.next += image.bytes.length;
    return image;
  }
}
