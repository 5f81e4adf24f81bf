//! Sequentialising a parallel move: every destination receives the value its source held
//! *before* any of the moves, as block arguments and call arguments require.
//!
//! A move may go once nothing still pending reads its destination. When no move may go, the
//! pending moves form cycles (each destination is read by another move, and destinations are
//! distinct); one source is then saved in the scratch location and its move reads the scratch
//! instead, which frees that source's location and unblocks the cycle. Constants are loaded
//! last: they read no location, but their destinations may be sources of the others.

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
  const out: Move[] = [];
  const isRead = (l: Loc, except: Move) =>
    pending.some((m) => m !== except && isLoc(m.src) && sameLoc(m.src, l));
  let steps = moves.length;
  while (pending.length) {
    steps += pending.length * pending.length;
    const i = pending.findIndex((m) => !isRead(m.dst, m));
    if (i >= 0) {
      out.push(pending.splice(i, 1)[0]!);
      continue;
    }
    // Every pending destination is still read: break a cycle through the scratch.
    const m = pending[0]!;
    out.push({ dst: scratch, src: m.src, w: m.w });
    m.src = scratch;
  }
  for (const m of moves) if (!isLoc(m.src)) out.push(m);
  countWork("pmove", steps);
  return out;
}
