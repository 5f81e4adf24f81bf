//! Peak memory, whole process (issue 26): what a run of an allocation-heavy program holds at
//! its peak (`maxRssMB`, the process's maximum resident set, which `futamura run --stats`
//! reports), for `interp` and the backends whose machine code allocates in its own region.
//! Two programs: churn.tlc, whose live data is one list of 1,000 cells whatever its number of
//! rounds, run at n and 8n rounds (the check: machine code's peak does not grow with the rounds,
//! since it collects its region between them), and binarytrees.tlc at depth 16 (the Benchmarks
//! Game's size class; live data grows with the depth, so it is stated, not checked). Interleaved
//! runs, medians; every run's answer must be interp's. A part of `npm run bench` (its memory
//! table; `--only memory` alone).

import { spawnSync } from "node:child_process";
import { futamuraArgs } from "./command.ts";

const root = new URL("../", import.meta.url).pathname;

export interface MemoryRow {
  program: string;
  arg: number;
  backend: string;
  /** Median peak resident set of the whole process, MiB. */
  maxRssMB: number;
  /** Median run time (the run's own `runMs`, compiling included). */
  runMs: number;
  /** Collections of machine code's object region in the median run (0 for interp). */
  collections: number;
}

/** Peak memory may grow this much (MiB, or this fraction, whichever is more) from n rounds of
 *  churn.tlc to 8n before the check fails: V8's own heap and code move by a few MiB run to run. */
const SLACK_MB = 8;
const SLACK = 0.1;

interface Case {
  program: string;
  arg: number;
  backends: string[];
}

const CHURN = "interpreters/programs/churn.tlc";
const TREES = "interpreters/programs/binarytrees.tlc";

/** The cases (`--quick`: a smaller tree). Churn's n rounds allocate 32 MiB: past the growth
 *  policy's first span (`runtime/x64/region.ts`), so that n already runs in the steady state. */
function cases(quick: boolean): Case[] {
  const n = 2000;
  const compiled = ["x64", "jit"];
  return [
    { program: CHURN, arg: n, backends: ["interp", ...compiled] },
    { program: CHURN, arg: 8 * n, backends: compiled },
    { program: TREES, arg: quick ? 10 : 16, backends: ["interp", ...compiled] },
  ];
}

/** Measures every case `reps` times, interleaved; `failures` gets a line for a wrong answer or
 *  a peak that grew with churn's rounds. */
export function measureMemory(
  reps: number,
  quick: boolean,
  failures: string[],
  log?: NodeJS.WritableStream,
): MemoryRow[] {
  log?.write("\n== peak memory: allocation-heavy programs, whole process\n");
  const runs = cases(quick).flatMap((c) => c.backends.map((backend) => ({ ...c, backend })));
  const samples = runs.map(() => [] as { rss: number; ms: number; collections: number }[]);
  const answers = new Map<string, string>();
  for (let rep = 0; rep < reps; rep++)
    runs.forEach((r, i) => {
      const args = [
        ...futamuraArgs(root + "generator/futamura.mjs"),
        "run",
        "tlc",
        r.program,
        String(r.arg),
      ];
      const p = spawnSync(process.execPath, [...args, "--backend", r.backend, "--stats=json"], {
        cwd: root,
        encoding: "utf8",
        maxBuffer: 1 << 26,
      });
      const what = `${r.program} ${r.arg} on ${r.backend}`;
      const stats = JSON.parse(p.stderr.trim().split("\n").at(-1) ?? "{}");
      if (p.status !== 0 || typeof stats.maxRssMB !== "number") {
        failures.push(`memory: ${what}: exit ${p.status}: ${p.stderr.slice(0, 300)}`);
        return;
      }
      const key = `${r.program} ${r.arg}`;
      const want = answers.get(key) ?? (answers.set(key, p.stdout), p.stdout);
      if (p.stdout !== want) failures.push(`memory: ${what} answered ${p.stdout} (${want} before)`);
      samples[i]!.push({
        rss: stats.maxRssMB,
        ms: stats.runMs,
        collections: stats.collections ?? 0,
      });
      log?.write(`  ${what}: ${stats.maxRssMB} MiB, ${Math.round(stats.runMs)} ms\n`);
    });
  const rows = runs.flatMap((r, i) => {
    const xs = samples[i]!;
    if (!xs.length) return [];
    const mid = [...xs].sort((a, b) => a.rss - b.rss)[xs.length >> 1]!;
    const ms = [...xs].map((x) => x.ms).sort((a, b) => a - b)[xs.length >> 1]!;
    const row: MemoryRow = {
      program: r.program.split("/").at(-1)!,
      arg: r.arg,
      backend: r.backend,
      maxRssMB: mid.rss,
      runMs: Math.round(ms),
      collections: mid.collections,
    };
    return [row];
  });
  failures.push(...flatChecks(rows));
  return rows;
}

/** A line for each backend whose peak grew from churn's n rounds to 8n by more than the slack. */
function flatChecks(rows: MemoryRow[]): string[] {
  const churn = rows.filter((r) => r.program === CHURN.split("/").at(-1));
  return churn.flatMap((big) => {
    const small = churn.find((r) => r.backend === big.backend && r.arg * 8 === big.arg);
    if (!small) return [];
    const allowed = small.maxRssMB + Math.max(SLACK_MB, small.maxRssMB * SLACK);
    return big.maxRssMB > allowed
      ? [
          `memory: churn.tlc on ${big.backend}: peak ${big.maxRssMB} MiB at ${big.arg} rounds against ${small.maxRssMB} MiB at ${small.arg} (allowed ${Math.round(allowed)})`,
        ]
      : [];
  });
}

/** The memory table's lines. */
export function memoryTable(rows: MemoryRow[]): string[] {
  if (!rows.length) return [];
  const width = Math.max(...rows.map((r) => `${r.program} ${r.arg}`.length));
  return [
    "",
    "peak memory, whole process (median maxRSS): churn.tlc's live data is the same at n and 8n rounds",
    ...rows.map((r) =>
      `  ${`${r.program} ${r.arg}`.padEnd(width)}  ${r.backend.padEnd(6)}  ${String(r.maxRssMB).padStart(5)} MiB  ${String(r.runMs).padStart(7)} ms  ${r.collections ? `${r.collections} collections` : ""}`.trimEnd(),
    ),
  ];
}
