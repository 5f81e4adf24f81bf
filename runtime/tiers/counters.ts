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
//! again only after as many passes as the threshold). Everything is counted in passes, never
//! in time: the same run makes the same decisions.

/** The counters: a position's counter is `hot[position & HOT_MASK]`. */
export const HOT_MASK = 4095;
export const hot = new Int32Array(HOT_MASK + 1);

/** What `tierUp` answers when the first tier goes on itself. */
export const STAY: unique symbol = Symbol("stay");

/** Passes between samples: 64, or the threshold where that is smaller (a threshold of 1
 *  samples every pass). */
export let period = 64;

/** The portal's dispatch loop in the first tier, entered with the greens and reds. */
export type PortalLoop = (...state: never[]) => unknown;

/** What a tier does with a hot state: the frame's result, or `STAY`. */
export type OnHot = (loop: PortalLoop, greens: unknown[], reds: unknown[]) => unknown;

const NEVER = 0x7fffffff;
let threshold = NEVER;
let onHot: OnHot = () => STAY;
hot.fill(NEVER);

/** Sets the passes after which a position is hot (about: counted `period` at a time), and what
 *  happens then; every counter starts again. Without a call, no position is ever hot. */
export function setTiers(passes: number, handler: OnHot): void {
  threshold = Math.max(0, Math.min(passes, NEVER) - 1);
  period = Math.max(1, Math.min(64, threshold));
  onHot = handler;
  hot.fill(threshold);
}

/** Called by the first tier when the counter of `position` has run out (it counts each sample
 *  in line, `period` at a time, so that a sample makes nothing): the counter starts again, and
 *  the state is offered; the frame's result or `STAY`. */
export function tierUp(
  loop: PortalLoop,
  position: number,
  greens: unknown[],
  reds: unknown[],
): unknown {
  hot[position & HOT_MASK] = threshold;
  return threshold === NEVER ? STAY : onHot(loop, greens, reds);
}
