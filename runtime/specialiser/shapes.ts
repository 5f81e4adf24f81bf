//! The shapes of reds in merge-point keys, as parts (`keys.ts`): what a key fixes of each red.
//! A red that is not virtual is one part (`SHAPE`, with a run-time array's known length, or
//! `CLASSED` with a reference's known class). A virtual is a segment: its head (`VIRTUAL`,
//! `LIST`, `OBJECT`), the number m of items that follow, and the shape of each item: a
//! constant's part, `NULL_PART`, `CONSTANT + i`, a run-time value (`HOLE`, or `CLASSED`), a
//! virtual held by the first (`ALIAS`), a run-time value held by the first (`REPEAT`), or a
//! nested virtual's own segment. Here: reading
//! segments, and widening one shape to cover another. No engine state: plain functions.

import {
  ALIAS,
  CLASSED,
  CONSTANT,
  GENERAL,
  HOLE,
  LIST,
  OBJECT,
  REPEAT,
  SHAPE,
  VIRTUAL,
} from "./keys.ts";
import type { Field } from "./value.ts";

/** Whether part `x` heads a virtual's segment. */
export function isHead(x: number): boolean {
  return (x >= VIRTUAL && x < HOLE) || (x >= LIST && x < ALIAS);
}

/** Whether part `x` heads a virtual object's or list's segment (not a typed array's, whose
 *  shapes that differ stay apart, as they always have). */
function isNested(x: number): boolean {
  return x >= LIST && x < ALIAS;
}

/** Whether part `x` stands for a run-time value of the state (a leaf of the key). */
export function isLeafPart(x: number): boolean {
  return x === HOLE || (x >= SHAPE && x < GENERAL) || (x >= CLASSED && x < REPEAT);
}

/** Whether part `x` is an item's scalar shape: a constant, null, a constant object, a hole. */
function isScalarItem(x: number): boolean {
  return !isHead(x) && (x < ALIAS || x >= CONSTANT);
}

/** The number of parts of the shape at `parts[j]` (a virtual's segment, nested items and all). */
export function segment(parts: number[], j: number): number {
  if (!isHead(parts[j]!)) return 1;
  let end = j + 2;
  for (let k = 0, m = parts[j + 1]!; k < m; k++) end += segment(parts, end);
  return end - j;
}

/** The number of `items` but for the constant zeros they end with (an array's, an object's:
 *  a key does not depend on how far a virtual was written). */
export function unzeroed(items: Field[]): number {
  let m = items.length;
  while (m > 0) {
    const it = items[m - 1]!;
    if (it.k !== "c" || it.v !== 0) break;
    m--;
  }
  return m;
}

/** Widens the reds' shapes `shape[0..s)` in place to the least that covers `prev` too: an
 *  item's scalar shapes that differ become holes (a known class forgotten), a virtual's items
 *  are widened item by item where both have the same head (and a list the same length), and a
 *  virtual whose shape differs otherwise becomes a run-time value (it is forced: a chain that
 *  grows at every trip, a cons list built in a loop, is forced where it grows, not the frame
 *  that holds it). Where virtuals are shared (`ALIAS`), shapes that differ stay the current
 *  state's (the key differs, and generalisation forces them after). Returns the new end (a
 *  hole may lengthen a virtual's items). */
export function widen(prev: number[], shape: number[], s: number): number {
  const out: number[] = [];
  const structural = !hasAlias(prev, prev.length) && !hasAlias(shape, s);
  for (let i = 0, j = 0; j < s; i += segment(prev, i), j += segment(shape, j)) {
    const x = shape[j]!;
    const y = prev[i]!;
    // A red that is not virtual stays as it is, but that a known class is forgotten where the
    // other's is not the same.
    if (!isHead(x)) out.push(x >= CLASSED && x !== y ? SHAPE : x);
    else widenSegment(prev, i, shape, j, out, structural, SHAPE);
  }
  for (let k = 0; k < out.length; k++) shape[k] = out[k]!;
  return out.length;
}

/** Appends to `out` the widening of the shape at `shape[j]` by the one at `prev[i]`; `hole` is
 *  a run-time value's part there (`SHAPE` for a red, `HOLE` for an item). */
function widenSegment(
  prev: number[],
  i: number,
  shape: number[],
  j: number,
  out: number[],
  structural: boolean,
  hole: number,
): void {
  const x = shape[j]!;
  const y = prev[i]!;
  if (isHead(x) && x === y && (x < LIST || x >= OBJECT || prev[i + 1] === shape[j + 1])) {
    const m = shape[j + 1]!;
    const mp = prev[i + 1]!;
    const items: number[][] = [];
    let a = i + 2;
    let b = j + 2;
    for (let k = 0; k < Math.max(m, mp); k++) {
      const item: number[] = [];
      // (past an array's or object's written items, its implicit zero)
      if (k < m && k < mp) widenSegment(prev, a, shape, b, item, structural, HOLE);
      else if (k < m) widenSegment(ZERO_PART, 0, shape, b, item, structural, HOLE);
      else widenSegment(prev, a, ZERO_PART, 0, item, structural, HOLE);
      if (k < mp) a += segment(prev, a);
      if (k < m) b += segment(shape, b);
      items.push(item);
    }
    if (x < LIST || x >= OBJECT)
      while (items.length && items.at(-1)!.length === 1 && items.at(-1)![0] === 0) items.pop();
    out.push(x, items.length);
    for (const item of items) out.push(...item);
    return;
  }
  if (isScalarItem(x) && isScalarItem(y) && x !== y) out.push(HOLE);
  else if (structural && (isNested(x) || (isNested(y) && !isHead(x))) && !isLeafPart(x))
    out.push(hole);
  else for (let k = 0, n = segment(shape, j); k < n; k++) out.push(shape[j + k]!);
}

/** Whether shape parts `parts[0..n)` share a virtual (an `ALIAS` part). */
function hasAlias(parts: number[], n: number): boolean {
  for (let k = 0; k < n; k++) if (parts[k]! >= ALIAS && parts[k]! < CONSTANT) return true;
  return false;
}

const ZERO_PART = [0];
