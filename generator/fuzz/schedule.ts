//! The seed schedule: `futamura fuzz <lang> --minutes N` (or `--seeds N`) runs the next unused
//! seeds of the ledger (ledger.ts), a block of programs each, and records each seed as it
//! finishes, so that runs accumulate towards a million programs per language and never run a
//! seed twice. When the time is up no new seed is started; the seeds started are finished, so
//! that a seed in the ledger always means all of its programs.

import { formatFailureLine } from "./format.ts";
import {
  prepare,
  runPlan,
  type FuzzOptions,
  type FuzzReport,
  type Plan,
  type SeedJob,
} from "./harness.ts";
import { DEFAULT_LEDGER, Ledger, addSeed, currentCommit, type LedgerRun } from "./ledger.ts";
import type { Tally } from "./tally.ts";

export interface ScheduleOptions extends Omit<FuzzOptions, "seed" | "count" | "index"> {
  /** The ledger file (default: fuzz-ledger.json at the repository's root). */
  ledger?: string;
  /** Start no new seed after this many minutes. */
  minutes?: number;
  /** Start no more than this many seeds. */
  seeds?: number;
  /** Programs per seed, for a new ledger (an existing one keeps its own). */
  block?: number;
}

export interface ScheduleReport {
  report: FuzzReport;
  /** This run's entry in the ledger, and the ledger's totals for the language after it. */
  run: LedgerRun;
  total: ReturnType<Ledger["total"]>;
  ledger: string;
  block: number;
}

/** Failures kept in a run's ledger entry. */
const LEDGER_FAILURES = 20;

/** Runs the next seeds of the schedule for `opts.lang` and records them. */
export async function fuzzSchedule(opts: ScheduleOptions): Promise<ScheduleReport> {
  const ledger = Ledger.open(opts.ledger ?? DEFAULT_LEDGER, opts.block);
  try {
    const setup = prepare(opts, Infinity);
    const lang = setup.lang.name;
    const block = ledger.block;
    const start = performance.now();
    const run: LedgerRun = {
      seeds: [],
      programs: 0,
      disagreements: 0,
      failures: [],
      backends: setup.others.map((b) => b.name),
      fuel: setup.fuel,
      workers: setup.runner.slots,
      seconds: 0,
      programsPerSecond: 0,
      date: new Date().toISOString(),
      commit: currentCommit(),
    };
    ledger.begin(lang, run);
    const deadline = opts.minutes === undefined ? Infinity : start + opts.minutes * 60_000;
    const over = (started: number) =>
      performance.now() >= deadline || (opts.seeds !== undefined && started >= opts.seeds);
    const plan = new SeedBlocks(ledger.next(lang), block, () => ledger.claim(lang), over);
    const compared = new Map<number, number>();
    const finished = (seed: number, tally: Tally) => {
      addSeed(run.seeds, seed);
      run.programs += block;
      run.disagreements = tally.disagreements;
      run.failures = tally.failures.slice(0, LEDGER_FAILURES).map(formatFailureLine);
      const seconds = (performance.now() - start) / 1000;
      run.seconds = Math.round(seconds * 10) / 10;
      run.programsPerSecond = Math.round(tally.count / seconds);
      ledger.update();
    };
    const report = await runPlan(setup, plan, (seed, _index, tally) => {
      const n = (compared.get(seed) ?? 0) + 1;
      compared.set(seed, n);
      if (n === block) (compared.delete(seed), finished(seed, tally));
    });
    run.seconds = Math.round(report.ms / 100) / 10;
    run.programsPerSecond = Math.round((report.count * 1000) / report.ms);
    ledger.update();
    return { report, run, total: ledger.total(lang), ledger: ledger.path, block };
  } finally {
    ledger.close();
  }
}

/** Jobs in blocks of `block` programs, one seed each, claimed as the first job of a block is
 *  asked for, until `over(blocks started)` says to start no more. */
class SeedBlocks implements Plan {
  private seeds: number[] = [];
  private stopAt = Infinity;

  constructor(
    readonly seed: number,
    private block: number,
    private claim: () => number,
    private over: (started: number) => boolean,
  ) {}

  job(j: number): SeedJob | undefined {
    const b = Math.floor(j / this.block);
    while (b >= this.seeds.length && b < this.stopAt) {
      if (this.over(this.seeds.length)) this.stopAt = this.seeds.length;
      else this.seeds.push(this.claim());
    }
    if (b >= this.stopAt) return undefined;
    return { seed: this.seeds[b]!, index: j % this.block, count: this.block };
  }
}
