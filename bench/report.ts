//! The shape of the benchmark's record (`bench/results.json`): what the harness measures, the
//! table and the chart (`svg.ts`) read, and the tests check.

import type { MemoryRow } from "./memory.ts";
import type { StartupRow } from "./startup.ts";

export interface BenchSettings {
  reps: number;
  /** Seconds a run may take. */
  cap: number;
  /** Seconds the reference (`interp`) may take. */
  interpCap: number;
  quick: boolean;
  /** Workload names (or file names) to run; all when empty. */
  only: string[];
  /** Backend names to run (gcc included); all when empty. */
  backends: string[];
}

/** One completed run. */
export interface Sample {
  compileMs: number;
  runMs: number;
  totalMs: number;
  /** The child process's wall time, start-up included. */
  procMs: number;
  /** The machine code's own run, where the backend reports it (x64's `nativeMs`). */
  nativeMs?: number;
}

/** One backend on one workload. */
export interface Entry {
  backend: string;
  status: "ok" | "over cap" | "failed" | "wrong";
  runs: number;
  compileMs?: number;
  runMs?: number;
  totalMs?: number;
  nativeMs?: number;
  minRunMs?: number;
  maxRunMs?: number;
  ratioInterp?: number;
  ratioGcc?: number;
  /** The whole process's time (median) and its ratio to interp's (compile-cost workloads). */
  procMs?: number;
  ratioProc?: number;
  note?: string;
  samples: Sample[];
  stats?: Record<string, unknown>;
}

/** Eager specialisation of a workload's program by both specialisers in the bench's own
 *  process, interleaved: the generated specialiser's speed against the abstract interpreter's
 *  once V8 has compiled both (a JIT's steady state; the per-run `spec µs/key` figures are a fresh
 *  process's, cold). Each runs `WARM_MS` first, then at least `reps` times and `WARM_MS` more
 *  (up to `MAX_RUNS` runs each). Times in ms, the median of the timed runs, with the clean-up
 *  passes and without them (`walk`: the specialiser's own part; the passes see byte-identical
 *  graphs from both); `fastest`, the fastest runs' (which leave out the garbage collections and
 *  table allocations that only some runs pay for). */
export interface SpecTimes {
  /** Timed runs of each. */
  runs: number;
  keys: number;
  pe: SpecMs;
  generated: SpecMs;
  /** The abstract interpreter's time over the generated specialiser's. */
  ratio: number;
  ratioWalk: number;
  fastest: { pe: SpecMs; generated: SpecMs; ratioWalk: number };
  /** The residual builder's calls of a specialisation alone (`builderMs`, median): what any
   *  specialiser giving these residual graphs through the shared builder spends at least; so
   *  the abstract interpreter's time without clean-up over it bounds `ratioWalk` (`ceiling`). */
  builderMs: number;
  ceiling: number;
}

export interface SpecMs {
  ms: number;
  walkMs: number;
}

export interface WorkloadResult {
  name: string;
  /** A compile-cost workload (see `Workload.cost`). */
  cost?: boolean;
  lang: string;
  file: string;
  arg?: number;
  /** The integers of a program named on the command line. */
  args?: number[];
  about: string;
  /** The reference result: the first bytes of stdout, or the error. */
  result?: string;
  reference: string;
  entries: Entry[];
  spec?: SpecTimes | { error: string };
}

export interface Report {
  machine: Record<string, unknown>;
  settings: BenchSettings;
  workloads: WorkloadResult[];
  skipped: { name: string; why: string }[];
  failures: string[];
  /** Start-up of the command, whole process (`startup.ts`). */
  startup?: StartupRow[];
  /** Peak memory of allocation-heavy programs, whole process (`memory.ts`). */
  memory?: MemoryRow[];
}
