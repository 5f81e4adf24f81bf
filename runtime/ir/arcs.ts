//! Sets of int32 values as arcs of the 32-bit circle, for passes that reason about comparisons
//! of `x + c` with constants (`merge-guards`, `cse`): what a comparison holds for is an arc, and
//! adding a constant turns an arc without any case for wrapping around.

import { countWork } from "../work.ts";
import type { Op, Operand } from "./types.ts";

export const CIRCLE = 2 ** 32;
export const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

/** `len` values (1 to 2^32) from `lo` on (0 to 2^32 - 1: an int32 taken unsigned), around the
 *  circle. */
export interface Arc {
  lo: number;
  len: number;
}

/** `v` modulo 2^32, for integers `v` (exact up to 2^53; the float remainder it stands for costs
 *  the passes that reason about arcs most of their time). */
export const mod = (v: number) => v >>> 0;

/** For which v `v op k` holds (undefined: none, or not a comparison with a constant). */
export function holds(op: string, k: number): Arc | undefined {
  switch (op) {
    case "int_le":
      return { lo: mod(INT_MIN), len: k - INT_MIN + 1 };
    case "int_lt":
      return k === INT_MIN ? undefined : { lo: mod(INT_MIN), len: k - INT_MIN };
    case "int_ge":
      return { lo: mod(k), len: INT_MAX - k + 1 };
    case "int_gt":
      return k === INT_MAX ? undefined : { lo: mod(k + 1), len: INT_MAX - k };
    case "uint_lt":
      return mod(k) === 0 ? undefined : { lo: 0, len: mod(k) };
  }
  return undefined;
}

/** The values not in `a` (undefined: none). */
export function complement(a: Arc): Arc | undefined {
  return a.len === CIRCLE ? undefined : { lo: mod(a.lo + a.len), len: CIRCLE - a.len };
}

/** The values of `a` with `c` added. */
export function shift(a: Arc, c: number): Arc {
  return a.len === CIRCLE ? a : { lo: mod(a.lo + c), len: a.len };
}

/** Whether every value of `a` is in `b`. */
export function within(a: Arc, b: Arc): boolean {
  return b.len === CIRCLE || mod(a.lo - b.lo) + a.len <= b.len;
}

/** The union of two arcs when it is one arc (not the whole circle). */
export function join(a: Arc, b: Arc): Arc | undefined {
  // From the start of the arc the other starts in (or just after).
  if (mod(b.lo - a.lo) <= a.len) return joinFrom(a, b);
  if (mod(a.lo - b.lo) <= b.len) return joinFrom(b, a);
  return undefined;
}

/** The union of `p` and `q`, which starts in `p` or just after it, unless it is the circle. */
function joinFrom(p: Arc, q: Arc): Arc | undefined {
  const len = Math.max(p.len, mod(q.lo - p.lo) + q.len);
  return len < CIRCLE ? { lo: p.lo, len } : undefined;
}

/** The shortest arc holding both arcs (the whole circle when none is shorter). */
export function cover(a: Arc, b: Arc): Arc {
  if (a.len === CIRCLE) return a;
  if (b.len === CIRCLE) return b;
  const one = join(a, b);
  if (one) return one;
  // Disjoint, or together the whole circle: from one's start on to the other's end.
  const ab = mod(b.lo - a.lo) + b.len;
  const ba = mod(a.lo - b.lo) + a.len;
  const len = Math.min(ab, ba);
  return len < CIRCLE ? { lo: ab <= ba ? a.lo : b.lo, len } : { lo: 0, len: CIRCLE };
}

/** The values in both arcs when they are one arc (undefined: none, or two pieces). */
export function meet(a: Arc, b: Arc): Arc | undefined {
  if (within(a, b)) return a;
  if (within(b, a)) return b;
  // Each piece starts where one arc starts inside the other.
  const ab = piece(a, b);
  const ba = piece(b, a);
  return ab && ba ? undefined : (ab ?? ba);
}

/** The piece of the meet of `p` and `q` that starts where `q` starts inside `p`, if it does. */
function piece(p: Arc, q: Arc): Arc | undefined {
  const d = mod(q.lo - p.lo);
  return d < p.len ? { lo: q.lo, len: Math.min(q.len, p.len - d) } : undefined;
}

/** An arc holding every value in both: their meet, or when that is two pieces the shorter
 *  (every value in both is in each). */
export function narrow(a: Arc, b: Arc): Arc {
  return meet(a, b) ?? (a.len <= b.len ? a : b);
}

/** What `linear` found for variables on the chains it walked (one per caller and `def`). */
export type LinearMemo = Map<number, { x: number; c: number }>;

/** `v` as `x + c`: through every addition of a constant (c taken around the circle), given the
 *  defining operation of each variable. With `memo`, a chain walked once is not walked again
 *  (every variable on it is remembered): a pointer moved by one at each step of a long
 *  straight line would otherwise cost the line's length at each of its comparisons. */
export function linear(
  v: number,
  def: (v: number) => Op | undefined,
  memo?: LinearMemo,
): { x: number; c: number } {
  let x = v;
  let c = 0;
  const path: number[] = [];
  for (let steps = 1; ; steps++) {
    const known = memo?.get(x);
    if (known) {
      countWork("linear", steps);
      return remember(memo!, path, known.x, mod(c + known.c));
    }
    const add = def(x);
    const addend: Operand | undefined = add?.args[1];
    if (
      add?.op !== "int_add" ||
      typeof add.args[0] !== "number" ||
      typeof addend !== "object" ||
      addend.k !== "int"
    ) {
      countWork("linear", steps);
      return memo ? remember(memo, path, x, c) : { x, c };
    }
    if (memo) path.push(x, c);
    x = add.args[0];
    c = mod(c + addend.v);
  }
}

/** Remembers `x + c'` for each variable of `path` (pairs: the variable, then the sum walked
 *  before reaching it) of a walk that ended at `x` with the sum `c`; gives `x + c`. */
function remember(
  memo: LinearMemo,
  path: number[],
  x: number,
  c: number,
): { x: number; c: number } {
  for (let i = 0; i < path.length; i += 2) memo.set(path[i]!, { x, c: mod(c - path[i + 1]!) });
  return { x, c };
}
