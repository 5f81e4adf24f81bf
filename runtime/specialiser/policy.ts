//! Every rule the specialisers must agree on, in one place: the abstract interpreter and the
//! generated specialisers both call these, so they take every decision the same way.
//!
//! - Merge-point key: the values of the greens, and the shape of each red: "red", or a virtual
//!   array's type and length with the constants among its items. Reaching a known key closes a
//!   residual loop. Reds that are not virtual are red at the merge point whatever they hold.
//! - Generalisation, in two steps. The first integer green is the program position (the pc);
//!   the other integer greens (a stack depth) may vary. After `maxVariants` keys at one
//!   position, new arrivals there use the *weak* key, without item constants (every item a
//!   run-time value). After `maxVariants` more, they use the *general* key `<position>*`: the
//!   varying greens become red and the virtuals are forced. A green that is not a constant at
//!   all (a pc computed at run time) also goes to the general key. So specialisation terminates:
//!   at most `2 * maxVariants + 1` keys per position.
//! - Virtuals: `new_array` of a constant length (up to `maxAllocation`) is virtual; it is forced
//!   (really allocated) where it escapes: indexed by a run-time value, passed to a residual call,
//!   returned, at a generalised merge point, or as a red at a merge point when it is longer than
//!   `maxVirtualLength` (a Brainfuck tape: its items would make every key huge). A virtual that
//!   reaches the merge point as a green (a bracket table computed from the bytecode) is frozen
//!   into a compile-time constant array; writing it afterwards gives up (`SpecialisationLimit`).
//! - Inlining: calls to functions without a merge point are inlined up to `maxInlineDepth`.
//!   A call to the portal (a function with a merge point: TLC's SEND, TL's CALL) is inlined
//!   too, as PyPy inlines a recursive portal call into its trace: its frame (and the objects it
//!   makes) stays virtual, its merge points are passed without a key while its greens are
//!   constants and it has passed at most `maxInlinedSteps` of them. Past that, or where it
//!   branches more than the bounds allow, the specialisation starts again with that call (its
//!   graph and constant arguments) never inlined (`InlineTooLong`; PyPy's `dont_trace_here`),
//!   and it becomes a residual call to a graph specialised for the call's constant arguments,
//!   which is what every portal call is with `maxInlinedSteps` 0.
//! - Bounds: `maxOps` operations processed in one specialisation, `maxPathSplits` red branches
//!   on one path between two merge points (a loop on run-time values inside one instruction
//!   would otherwise unroll until `maxOps`; a long green loop, such as bracket matching, does
//!   not branch on red values and is not bounded by it), `maxPaths` paths waiting; past any of
//!   them the specialiser gives up (`SpecialisationLimit`) and the caller falls back to the
//!   interpreter. `maxResidualOps` bounds the residual code of a program over its life (the
//!   code cache): past it, what has not been specialised yet runs in the interpreter.
//! - Compile budget: `maxWork` bounds the compile work of a program over its life, in steps that
//!   every stage counts (`runtime/work.ts`: operations walked and emitted, specialisations given
//!   up included, every clean-up pass, every x86-64 stage), never in time, so it is
//!   deterministic. Past it nothing more is compiled: an exit not resolved yet goes on in the
//!   interpreter, a hot state stays in the first tier. `maxResidualOps` did not bound compile
//!   time (issue 22: 3,000 sequential Brainfuck loops took 63 s on the lazy JIT of the time,
//!   20,000 nested loops 85 s, each well under 1,000,000 residual operations): (1) it counts the
//!   residual operations kept (284,270 for the 3,000 loops), not the work: the walk over
//!   operations folded away (1,282,198), each graph's fixed costs (42,763 graphs, each through
//!   every clean-up pass and the whole x86-64 pipeline), and specialisations given up, whose
//!   operations it gave back; (2) the work per residual operation was not bounded: stages were
//!   superlinear (layout's loop depths flooded each loop body per back edge and its rotation
//!   searched and spliced the block order per header: 700 million steps for 5,000 nested loops
//!   of ~30,000 residual operations; `forward` and the register allocator quadratic on long
//!   blocks and many calls). Now every stage is near-linear (`test/compile-cost.test.ts`
//!   counts).

import type { SpecStats } from "./stats.ts";

export interface Policy {
  maxVariants: number;
  maxVirtualLength: number;
  maxAllocation: number;
  maxInlineDepth: number;
  /** Merge points an inlined portal call may pass (0: portal calls are never inlined). */
  maxInlinedSteps: number;
  /** Safepoints at loops' heads (machine code of a module with objects: the object region is
   *  collected there, `safepoint`). */
  safepoints?: boolean;
  maxOps: number;
  maxPathSplits: number;
  maxPaths: number;
  /** Residual operations made for one program, continuations included: the code cache's size. */
  maxResidualOps: number;
  /** Steps of compile work (`runtime/work.ts`) one program may take over its life: specialising
   *  (operations walked and emitted, specialisations given up included), clean-up, every
   *  backend stage. Past it no continuation is compiled (each exit taken after goes on in the
   *  interpreter). */
  maxWork: number;
  /** Whether residual code charges fuel at merge points (only when a budget is set). */
  fuel: boolean;
  /** Values a promotion's residual code tests inline before its exit: the first ones the run
   *  showed at the same promotion (PyPy's guard_value and guard_class: a loop through a
   *  promotion stays one loop; a site seeing more values exits for the rest). */
  maxGuards: number;
  /** Items of a virtualizable's list unpacked where compiled code is entered, at most: a longer
   *  list stays a run-time one (each item unpacked costs a read and a class guard at the entry,
   *  a write-back at each exit, and a part of every key). */
  maxUnpacked: number;
  /** Parameters of a label at most (tiers: `MergePoints.labelJoins`): a jump into one is an
   *  exit, whose values machine code passes in the state buffer (64 at most, the first the
   *  exit's value). */
  maxLabelParams: number;
}

export const defaultPolicy: Policy = {
  maxVariants: 8,
  maxVirtualLength: 256,
  maxUnpacked: 16,
  maxAllocation: 1 << 20,
  maxInlineDepth: 16,
  maxInlinedSteps: 32,
  maxOps: 2_000_000,
  maxPathSplits: 1_000,
  maxPaths: 10_000,
  maxResidualOps: 1_000_000,
  maxWork: 20_000_000,
  fuel: false,
  maxGuards: 4,
  maxLabelParams: 48,
};

/** Thrown when a bound of the policy is reached; the caller falls back to the interpreter. */
export class SpecialisationLimit extends Error {
  /** What the specialisation that gave up had done (set where it gave up). */
  stats?: SpecStats;
}

/** An inlined portal call went on too long or branched too much: the specialisation starts
 *  again with the call `key` names residual. */
export class InlineTooLong extends SpecialisationLimit {
  constructor(readonly key: string) {
    super(`the portal call ${key} inlined went on too long`);
  }
}

/** Specialisations started again for calls that could not be inlined, at most. */
export const MAX_INLINE_RETRIES = 16;

/** The position part of a key: the immutable greens and the first integer green. */
export function positionKey(greens: (number | boolean | string)[], isPosition: boolean[]): string {
  return greens.filter((_, i) => isPosition[i]).join(",");
}

/** Whether a position with `variants` keys already must be generalised before adding one. */
export function mustGeneralise(policy: Policy, variants: number): boolean {
  return variants >= policy.maxVariants;
}

/** Whether an allocation of `length` items starts virtual. */
export function allocatesVirtual(policy: Policy, length: number): boolean {
  return length >= 0 && length <= policy.maxAllocation;
}

/** Whether a virtual red of `length` items stays virtual across a merge point. */
export function staysVirtual(policy: Policy, length: number): boolean {
  return length <= policy.maxVirtualLength;
}
