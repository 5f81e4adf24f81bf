//! Sequentialising a parallel move: every destination receives the value its source held
//! *before* any of the moves, as block arguments and call arguments require.
//!
//! A move may go once nothing still pending reads its destination. When no move may go, the
//! pending moves form cycles (each destination is read by another move, and destinations are
//! distinct); one source is then saved in the scratch location and its move reads the scratch
//! instead, which frees that source's location and unblocks the cycle. Constants are loaded
//! last: they read no location, but their destinations may be sources of the others.
//!
//! The first move (in the given order) that may go goes first, and a cycle is broken at its
//! first move. Cost: O(k log k) for k moves: each location counts the pending moves reading it,
//! and the moves that may go wait in a heap by their order (it was a scan of every pending move
//! per pending move per step: k³).

import { countWork } from "../work.ts";
import { isLoc, locKey, sameLoc, type Loc, type Move } from "./loc.ts";

/** The moves, in an order that performs them as if all at once; `scratch` is the only
 *  location written that is no destination (and only when there is a cycle). */
export function sequentialise(moves: readonly Move[], scratch: Loc): Move[] {
  const seen = new Set<string>();
  for (const m of moves) {
    const k = locKey(m.dst);
    if (seen.has(k)) throw new Error(`parallel move: ${k} is written twice`);
    if (sameLoc(m.dst, scratch) || (isLoc(m.src) && sameLoc(m.src, scratch)))
      throw new Error("parallel move: the scratch is a party");
    seen.add(k);
  }
  const pending = moves
    .filter((m) => isLoc(m.src) && !sameLoc(m.src, m.dst))
    .map((m) => ({ ...m }));
  // Pending moves reading each location, and the pending move writing each.
  const readers = new Map<string, number>();
  const writer = new Map<string, number>();
  pending.forEach((m, i) => {
    const src = locKey(m.src as Loc);
    readers.set(src, (readers.get(src) ?? 0) + 1);
    writer.set(locKey(m.dst), i);
  });
  const ready = new Heap();
  pending.forEach((m, i) => {
    if (!readers.get(locKey(m.dst))) ready.push(i);
  });
  const done = new Uint8Array(pending.length);
  /** `m` no longer reads its source: the move writing it may go once nothing else does. */
  const release = (m: Move) => {
    const src = locKey(m.src as Loc);
    const n = readers.get(src)! - 1;
    readers.set(src, n);
    const w = writer.get(src);
    if (n === 0 && w !== undefined && !done[w]) ready.push(w);
  };
  const out: Move[] = [];
  let first = 0;
  let left = pending.length;
  while (left) {
    const i = ready.pop();
    if (i !== undefined) {
      const m = pending[i]!;
      done[i] = 1;
      left--;
      out.push(m);
      release(m);
      continue;
    }
    // Every pending destination is still read: break a cycle through the scratch.
    while (done[first]) first++;
    const m = pending[first]!;
    out.push({ dst: scratch, src: m.src, w: m.w });
    release(m);
    m.src = scratch;
  }
  for (const m of moves) if (!isLoc(m.src)) out.push(m);
  countWork("pmove", moves.length + ready.steps);
  return out;
}

/** A binary min-heap of move numbers. */
class Heap {
  private a: number[] = [];
  steps = 0;
  push(x: number): void {
    const a = this.a;
    let i = a.push(x) - 1;
    while (i > 0 && a[(i - 1) >> 1]! > a[i]!) {
      const p = (i - 1) >> 1;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
      this.steps++;
    }
    this.steps++;
  }
  pop(): number | undefined {
    const a = this.a;
    if (!a.length) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      for (let i = 0; ;) {
        const [l, r] = [2 * i + 1, 2 * i + 2];
        let m = i;
        if (l < a.length && a[l]! < a[m]!) m = l;
        if (r < a.length && a[r]! < a[m]!) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
        this.steps++;
      }
    }
    this.steps++;
    return top;
  }
}
