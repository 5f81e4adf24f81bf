//! The differential fuzzing harness: random TLR, TL and Brainfuck programs, run on `interp` and on other
//! backends, which must give exactly what `interp` gives (the value, or the error message).
//!
//! Programs come from fast-check arbitraries (generators.ts), so a run is reproducible from its
//! seed: program `index` of seed `seed` is the `index`-th value `fc.sample` draws (it does not
//! depend on the count). There are four kinds of program (`origin`):
//!   clean    well-formed: an abstract statement tree (straight-line code, counted loops,
//!            forward conditionals, TL subroutine calls) lowered with every operand repaired
//!            into range, stacks balanced and registers allocated; most complete with a value,
//!            some run out of fuel (loops counted by the argument)
//!   mutated  a clean program with one or two byte mutations (replace, insert, delete, truncate)
//!   faulty   the same trees lowered with some repairs skipped: raw register and stack
//!            operands, raw branch targets, unguarded DIV, recursive CALLs, growing loops,
//!            missing ALLOCATE or RETURN
//!   raw      biased random bytes (mostly valid opcodes and small operands)
//! in the proportions 55 / 15 / 15 / 15 (tlr.ts, tl.ts, bf.ts). Any other language gets the
//! generic generator (generic.ts: programs grown under the interpreter's guidance).
//!
//! A failure names its seed and index (`futamura fuzz <lang> --seed S --index I` prints that
//! program as a file `futamura run` takes), its bytes and disassembly, and for the first few
//! a minimised program (greedy deletion of byte chunks) that still disagrees.
//!
//! A run is a `Plan`, a sequence of jobs (seed, index): one seed's programs here, seed blocks of
//! the schedule in schedule.ts. The jobs go to a `Runner`'s slots in turn (job j to slot
//! j mod slots: which worker ran a program does not depend on timing), in this process or in
//! worker processes; whenever a backend runs machine code (`native`) they go to workers, so that
//! a crash or a hang is reported with its seed and index.

import { langs, type Lang } from "../language.ts";
import { backends as registry, type Backend } from "../backends.ts";
import { UsageError } from "../cli/usage.ts";
import { ProgramCache } from "./generators.ts";
import { minimize } from "./minimize.ts";
import { disassemble, hex } from "./ops.ts";
import { InProcess, resolveBackends, type Ran, type Runner } from "./run.ts";
import { Tally, type Failure } from "./tally.ts";
import { DEFAULT_TIMEOUT_MS, WORKER_CRASH, WorkerPool } from "./workers.ts";

export type { Failure } from "./tally.ts";

export interface FuzzOptions {
  lang: string | Lang;
  seed?: number;
  count?: number;
  /** Backends to compare with interp (names or objects); default: every backend that runs the
   *  language (`backendsFor`) but interp. */
  backends?: (string | Backend)[];
  fuel?: number;
  /** Only program `index` of the seed. */
  index?: number;
  /** Minimise this many failures (default 5). */
  minimize?: number;
  /** Worker processes to run the programs in; 0 runs them in this process. Default: 1 when a
   *  backend is native (machine code that could kill this process), else 0. */
  workers?: number;
  /** Run in one worker process (`workers: 1`); false: in this process. */
  isolate?: boolean;
  /** A program's wall-clock limit in a worker (default 60 s): past it, a crash. */
  timeoutMs?: number;
  /** Hears of each program as it is counted. */
  onProgress?: (t: Tally) => void;
}

export interface FuzzReport {
  lang: string;
  /** The seeds run: `seed` alone, or `seed`..`lastSeed` (the schedule's blocks). */
  seed: number;
  lastSeed: number;
  count: number;
  fuel: number;
  backends: string[];
  /** The failures (the first KEPT_FAILURES found), and how many there were. */
  failures: Failure[];
  disagreements: number;
  /** Outcome kind on interp → number of programs. */
  histogram: Map<string, number>;
  /** Program origin → outcome kind → number of programs. */
  byOrigin: Map<string, Map<string, number>>;
  /** Milliseconds in all, and spent running each backend (interp included, summed over
   *  workers). */
  ms: number;
  backendMs: Map<string, number>;
  /** Programs each worker process ran; empty when they ran in this process. */
  workers: number[];
}

export const DEFAULT_SEED = 1;
export const DEFAULT_COUNT = 1000;
export const DEFAULT_FUEL = 10_000;
/** Brainfuck needs more: running off the right end of the 30,000-cell tape takes about 31,000
 *  steps. */
export const DEFAULT_FUEL_BF = 40_000;

/** Program `index` of `seed`, making `count` of the seed's programs at once. */
export interface SeedJob {
  seed: number;
  index: number;
  count: number;
}

/** The jobs of a run, by number (undefined past the end), asked for in increasing order by
 *  each slot; `seed` is the first seed, named in a report even when nothing ran. */
export interface Plan {
  readonly seed: number;
  job(j: number): SeedJob | undefined;
}

/** What every run needs: the language, fuel, backends, where the programs run. */
export interface Setup {
  lang: Lang;
  fuel: number;
  others: Backend[];
  runner: Runner;
  minimize: number;
  onProgress?: ((t: Tally) => void) | undefined;
}

/** Runs `count` programs of `seed` (or program `index` alone) on interp and the selected
 *  backends and compares them. */
export async function fuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const seed = opts.seed ?? DEFAULT_SEED;
  const first = opts.index ?? 0;
  const count = opts.index === undefined ? (opts.count ?? DEFAULT_COUNT) : 1;
  const setup = prepare(opts, count);
  const end = first + count;
  return runPlan(setup, {
    seed,
    job: (j) => (j < count ? { seed, index: first + j, count: end } : undefined),
  });
}

/** The language, fuel and backends of `opts`, and a runner with at most `jobs` slots. */
export function prepare(opts: FuzzOptions, jobs: number): Setup {
  const lang = typeof opts.lang === "string" ? langs[opts.lang] : opts.lang;
  if (!lang)
    throw new UsageError(
      `unknown language '${String(opts.lang)}' (${Object.keys(langs).join(", ")})`,
    );
  const fuel = opts.fuel ?? (lang.name === "bf" ? DEFAULT_FUEL_BF : DEFAULT_FUEL);
  // (by default the backends that run this language: not the compiling ones for objects yet)
  const others = resolveBackends(
    opts.backends ?? Object.keys(registry).filter((b) => b !== "interp"),
  );
  const workers = Math.min(workerCount(opts, others), Math.max(jobs, 1));
  if (workers > 0)
    for (const b of others)
      if (registry[b.name] !== b)
        throw new UsageError(`backend '${b.name}' is not registered: it cannot run in a worker`);
  const runner =
    workers > 0
      ? new WorkerPool(lang, fuel, others, workers, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS)
      : new InProcess(lang, fuel, others);
  return { lang, fuel, others, runner, minimize: opts.minimize ?? 5, onProgress: opts.onProgress };
}

/** Worker processes asked for, or by default one when any backend runs machine code. A
 *  backend made in this process (a test's, not in the registry) cannot go to a worker, which
 *  finds backends by name: by default those run here, native or not. */
function workerCount(opts: FuzzOptions, others: Backend[]): number {
  if (opts.workers !== undefined) return opts.workers;
  if (opts.isolate !== undefined) return opts.isolate ? 1 : 0;
  const registered = others.every((b) => registry[b.name] === b);
  return registered && others.some((b) => b.native) ? 1 : 0;
}

/** Runs the jobs of `plan`, minimises the first failures, and reports; closes the runner.
 *  `onRan` hears of each job as it is counted. */
export async function runPlan(
  setup: Setup,
  plan: Plan,
  onRan?: (seed: number, index: number, tally: Tally) => void,
): Promise<FuzzReport> {
  const start = performance.now();
  const { lang, fuel, others, runner } = setup;
  const programs = new ProgramCache(lang, 4 + runner.slots);
  const tally = new Tally(lang, fuel, registry.interp!, others, runner.slots, programs);
  try {
    await drive(runner, plan, (job, ran, slot) => {
      tally.add(job.seed, job.index, job.count, ran, slot);
      onRan?.(job.seed, job.index, tally);
      setup.onProgress?.(tally);
    });
    tally.sortFailures();
    await minimizeFailures(setup, tally.failures, programs);
  } finally {
    runner.close();
  }
  return {
    lang: lang.name,
    seed: tally.count ? tally.firstSeed : plan.seed,
    lastSeed: tally.count ? tally.lastSeed : plan.seed,
    count: tally.count,
    fuel,
    backends: others.map((b) => b.name),
    failures: tally.failures,
    disagreements: tally.disagreements,
    histogram: tally.histogram,
    byOrigin: tally.byOrigin,
    ms: performance.now() - start,
    backendMs: tally.backendMs,
    workers: runner instanceof WorkerPool ? tally.perSlot : [],
  };
}

/** Job j goes to slot j mod slots; each slot has up to `depth` jobs under way and counts their
 *  results in order. After an error no slot takes another job, and the first error is thrown
 *  when all have stopped. */
async function drive(
  runner: Runner,
  plan: Plan,
  onRan: (job: SeedJob, ran: Ran, slot: number) => void,
): Promise<void> {
  let failed = false;
  const slot = async (s: number) => {
    const underway: [SeedJob, Promise<Ran>][] = [];
    for (let j = s; ;) {
      for (let job; !failed && underway.length < runner.depth && (job = plan.job(j));) {
        const ran = runner.run(s, job);
        ran.catch(() => {}); // thrown when awaited, below
        underway.push([job, ran]);
        j += runner.slots;
      }
      const next = underway.shift();
      if (!next) return;
      onRan(next[0], await next[1], s);
    }
  };
  const ends = await Promise.allSettled(
    Array.from({ length: runner.slots }, (_, s) =>
      slot(s).catch((e: unknown) => {
        failed = true;
        throw e;
      }),
    ),
  );
  for (const e of ends) if (e.status === "rejected") throw e.reason;
}

/** Minimises the first few failures: smaller programs make better bug reports. A worker that
 *  died or was stopped is not asked again (each try could cost a restart or a timeout). */
async function minimizeFailures(
  setup: Setup,
  failures: Failure[],
  programs: ProgramCache,
): Promise<void> {
  for (const f of failures.slice(0, setup.minimize)) {
    if (f.got.startsWith(WORKER_CRASH)) continue;
    const m = await minimize(setup.runner, programs.get(f.seed, f.index), f.backend);
    if (m)
      f.minimal = {
        hex: hex(m.code),
        program: disassemble(setup.lang, m.code),
        expected: m.expected,
        got: m.got,
      };
  }
}
