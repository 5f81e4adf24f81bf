//! The first tier's counters and its door to the other tiers.
//!
//! Every pass through the merge point of the first tier (`generated/<lang>.tier1.ts`) first
//! decrements a counter picked by the position green (the pc) in a hashed table: one load, one
//! subtraction, one store and a branch not taken, which V8 keeps inside the interpreter's loop.
//! Positions that share a counter make each other hot sooner, as in PyPy's jitcounter; the table
//! is small and fixed, so counting costs no memory per program. When a counter goes below zero
//! the first tier offers its state to `tierUp`; the tier installed by `setTiers` either runs the
//! portal's frame to its end elsewhere (compiled code) and gives its result, or answers `STAY`
//! and the first tier goes on (the counter is set again, so a position that cannot go anywhere
//! is asked again only after as many passes as the threshold).

/** The counters: a position's counter is `hot[position & HOT_MASK]`. */
export const HOT_MASK = 4095;
export const hot = new Int32Array(HOT_MASK + 1);

/** What `tierUp` answers when the first tier goes on itself. */
export const STAY: unique symbol = Symbol("stay");

/** The portal's dispatch loop in the first tier, entered with the greens and reds. */
export type PortalLoop = (...state: never[]) => unknown;

/** What a tier does with a hot state: the frame's result, or `STAY`. */
export type OnHot = (loop: PortalLoop, greens: unknown[], reds: unknown[]) => unknown;

let threshold = 0x7fffffff;
let onHot: OnHot = () => STAY;

/** Sets the passes after which a position is hot, and what happens then; every counter starts
 *  again. Without a call, no position ever gets hot in practice (2^31 passes). */
export function setTiers(passes: number, handler: OnHot): void {
  threshold = Math.max(0, Math.min(passes, 0x7fffffff) - 1);
  onHot = handler;
  hot.fill(threshold);
}

/** Called by the first tier when the counter of `position` ran out. */
export function tierUp(
  loop: PortalLoop,
  position: number,
  greens: unknown[],
  reds: unknown[],
): unknown {
  hot[position & HOT_MASK] = threshold;
  return onHot(loop, greens, reds);
}
