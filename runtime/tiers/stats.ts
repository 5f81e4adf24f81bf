//! What the tiers measure, the specialiser's statistics included: one schema whether or not the
//! run got hot enough to load the JIT (a run that never did reports its offers and zeros), so
//! `--stats` reads the same for every run of `jit` and `jit-graph`.

import { newStats, type SpecStats } from "../specialiser/stats.ts";

/** What the tiers measured, the specialiser's statistics included. */
export interface TierStats extends SpecStats {
  /** Hot states offered by the first tier, and runs of compiled code entered from them. */
  hotStates: number;
  entered: number;
  /** Entries not made because the state's objects did not fit compiled code's object region
   *  (the first tier went on). */
  notEntered: number;
  /** Positions that have entries (an entry per state: for Brainfuck, whose state is its
   *  position, as many as `tierEntries`). */
  entryPositions: number;
  /** Edge exits the first tier took over, and of those, in a callback (an exit of a graph
   *  another compiled graph called, which cannot leave the run). */
  takenOver: number;
  takenOverInside: number;
  /** Edge exits that went on in an entry made for their state (patched to go there). */
  linked: number;
  /** Exits taken into JS, fallbacks to the interpreter's graphs and the last reason. */
  exits: number;
  fallbacks: number;
  fallback?: string;
  codeBytes: number;
  compileMs: number;
  /** Collections of machine code's object region at safepoints. */
  collections?: number;
  collectionsInCalls?: number;
  /** Time in runs of compiled code (with the calls into JS they make: I/O, first-tier work in
   *  callbacks), not counting compiling. */
  compiledCodeMs: number;
  /** Steps of compile work over the program's life (`Policy.maxWork`), and once past it, why
   *  nothing more is compiled. */
  work: number;
  spent?: string;
}

export function newTierStats(): TierStats {
  return {
    ...newStats(),
    hotStates: 0,
    entered: 0,
    notEntered: 0,
    entryPositions: 0,
    takenOver: 0,
    takenOverInside: 0,
    linked: 0,
    exits: 0,
    fallbacks: 0,
    codeBytes: 0,
    compileMs: 0,
    compiledCodeMs: 0,
    work: 0,
  };
}
