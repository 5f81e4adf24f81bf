//! The first tier's counters and its door to the other tiers.
//!
//! The first tier (`generated/<lang>.tier1.ts`) must run at the speed of the interpreter, so it
//! does not count every pass through its merge point: a local countdown (a register: one
//! decrement and a branch not taken per pass) samples every `period`-th pass, and the sample
//! counts that pass's position in a hashed table of counters, `period` at a time, in line (a
//! call making the state's arrays at every sample cost more than the counting). A hot loop is
//! sampled in proportion to the passes it makes, which is what "hot" means; counting every pass
//! in memory cost bench.b a quarter of its time, the countdown a tenth at most. Positions that share a
//! counter (`position & HOT_MASK`) make each other hot sooner, as in PyPy's jitcounter; the
//! table is small and fixed, so counting costs no memory per program. When a counter runs out,
//! the state is offered to the tier `setTiers` installed, which either runs the portal's frame
//! to its end elsewhere (compiled code) and gives its result, or answers `STAY` and the first
//! tier goes on (the counter starts again, so a position that cannot go anywhere is offered
//! again only after as many passes as the threshold), or answers `RESUME` with a new state in
//! `resumed` (compiled code ran part of the frame and left at a merge point it has no code
//! for): the first tier takes the state and goes on at its merge point, in the same JS frame,
//! so that a run passing between tiers any number of times does not grow the stack. Everything is counted in passes, never
//! in time: the same run makes the same decisions.

/** The counters: a position's counter is `hot[position & HOT_MASK]`. */
export const HOT_MASK = 4095;
export const hot = new Int32Array(HOT_MASK + 1);

/** What `tierUp` answers when the first tier goes on itself. */
export const STAY: unique symbol = Symbol("stay");

/** What `tierUp` answers when the first tier goes on from the state in `resumed` (greens then
 *  reds, at the merge point). */
export const RESUME: unique symbol = Symbol("resume");
export let resumed: unknown[] = [];

/** Answers `RESUME` with `state` (greens then reds) for the first tier to go on from. */
export function resumeAt(state: unknown[]): typeof RESUME {
  resumed = state;
  return RESUME;
}

/** Passes between samples: 64, or the threshold where that is smaller (a threshold of 1
 *  samples every pass), plus a pseudo-random jitter of up to `jitter` (a mask; 0 under a
 *  threshold of 64): a fixed stride would land on the same positions of a loop whose length
 *  divides it, and the others would never be found warm. */
export const SAMPLE_PERIOD = 64;
export let period = SAMPLE_PERIOD;
export let jitter = 31;

/** The countdown to the next sample as one frame of the portal leaves it to the next (a frame
 *  too short to reach a sample of its own still counts its passes); it starts again with the
 *  counters, so that a run's samples do not depend on the runs before it. */
export const carry = { tick: SAMPLE_PERIOD, due: 0, dueAt: 0 };

/** Passes a position found hot waits for its frame's loop to turn before its state is offered
 *  where it stands (a frame that never turns: recursion without loops). */
export const TURN_WAIT = 10_000;

/** The portal's dispatch loop in the first tier, entered with the greens and reds. */
export type PortalLoop = (...state: never[]) => unknown;

/** What a tier does with a hot state: the frame's result, `STAY`, or `RESUME` (`resumeAt`). */
export type OnHot = (loop: PortalLoop, greens: unknown[], reds: unknown[]) => unknown;

const NEVER = 0x7fffffff;
let threshold = NEVER;
let onHot: OnHot = () => STAY;
hot.fill(NEVER);

/** Sets the passes after which a position is hot (about: counted `period` at a time), and what
 *  happens then; every counter starts again. Without a call, no position is ever hot. */
export function setTiers(passes: number, handler: OnHot): void {
  threshold = Math.max(0, Math.min(passes, NEVER) - 1);
  period = Math.max(1, Math.min(SAMPLE_PERIOD, threshold));
  jitter = period === SAMPLE_PERIOD ? 31 : 0;
  onHot = handler;
  carry.tick = period;
  carry.due = 0;
  hot.fill(threshold);
}

/** Changes where hot states go, the counters and what they sampled kept: a run that loads the
 *  JIT only once it is warm (`generator/backends.ts`) hands its warm state over so. */
export function setOnHot(handler: OnHot): void {
  onHot = handler;
}

/** Whether `position` has been sampled since the counters started (or since it was last hot):
 *  the first tier has run it often (tiers compile such positions, `Engine.region`). */
export function isWarm(position: number): boolean {
  return hot[position & HOT_MASK]! < threshold;
}

/** Makes `position` offered at its next sample (it has code to enter). */
export function offerSoon(position: number): void {
  hot[position & HOT_MASK] = 0;
}

/** Makes `position` never offered again (nothing can be made of it). */
export function offerNever(position: number): void {
  hot[position & HOT_MASK] = NEVER;
}

/** Called by the first tier when the counter of `position` has run out: whether its state is
 *  offered here. Under the production sampling it is not: the counter starts again (the
 *  position kept warm) and the
 *  next `TURN_WAIT` passes look for a turn of the frame's loop (`turned`), where the state is
 *  offered, so that entries are made at loop heads, as PyPy's `can_enter_jit` sits at back
 *  edges. A threshold under the sampling period (tests: 1, 2, 7) offers it here, at any pass. */
export function due(position: number): boolean {
  if (period < SAMPLE_PERIOD) return true;
  // (one short of the threshold: the position stays warm, in the region of the entry made
  // where its loop turns, rather than an edge of it)
  hot[position & HOT_MASK] = threshold - 1;
  carry.due = TURN_WAIT;
  carry.dueAt = position;
  return false;
}

/** While a hot offer waits (`carry.due`, for the position `carry.dueAt`): whether the pass at
 *  `position`, after one at `last` in the same frame (-1: the frame's first), turns a loop that
 *  holds the hot position (the position did not increase, and is not past the hot one: an
 *  inner loop before it turning is not its loop), or the wait is over; either way the state is
 *  offered here. */
export function turned(position: number, last: number): boolean {
  if ((position > last || position > carry.dueAt) && --carry.due > 0) return false;
  carry.due = 0;
  return true;
}

/** Called by the first tier to offer its state at `position`: where the position's counter ran
 *  out (it counts each sample in line, `period` at a time, so that a sample makes nothing), or
 *  where a loop turned for one that did (`due`, `turned`). Its counter starts again; the frame's
 *  result, `STAY` or `RESUME`. */
export function tierUp(
  loop: PortalLoop,
  position: number,
  greens: unknown[],
  reds: unknown[],
): unknown {
  hot[position & HOT_MASK] = threshold;
  return threshold === NEVER ? STAY : onHot(loop, greens, reds);
}
