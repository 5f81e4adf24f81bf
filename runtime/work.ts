//! Work counters: how many steps each compilation stage took, counted by the stages themselves
//! (the iterations of their loops, in a local counter added here once per call), so that how
//! compile work grows with the program can be checked deterministically, without timing
//! (`test/compile-cost.test.ts`), and so that the JIT can bound its work over a program's life
//! (`runtime/jit.ts`, `Policy.maxWork`): a step is a unit of work a stage does in constant time
//! (an operation visited, a set element moved, a range compared).
//!
//! The counters are process-wide and only ever grow (JavaScript runs one stage at a time, so
//! the difference of `workDone()` around a call is that call's work). Adding is one map update
//! per stage call: free next to the stage itself.

const byStage = new Map<string, number>();
let total = 0;

/** Records `steps` steps of `stage`. */
export function countWork(stage: string, steps: number): void {
  total += steps;
  byStage.set(stage, (byStage.get(stage) ?? 0) + steps);
}

/** Every step counted so far, all stages together. */
export function workDone(): number {
  return total;
}

/** Steps counted so far per stage. */
export function workByStage(): Map<string, number> {
  return new Map(byStage);
}
