//! `futamura fuzz`: the command line of the harness. One seed's programs (`--seed S --count N`,
//! or `--index I` alone, printed as a file `futamura run` takes), or the next seeds of the
//! schedule (`--minutes N` or `--seeds N`, recorded in the ledger). Programs run in worker
//! processes, one per core, unless `--workers 0`; progress goes to stderr every `--progress`
//! seconds, the summary (with the rate) to stdout.

import { GC_STRESS } from "../compiled.ts";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { UsageError } from "../cli/usage.ts";
import { checkStamp } from "../../runtime/stamp.ts";
import { language, langs, product, type Lang } from "../language.ts";
import { backends as registry, needsSpecialiser } from "../backends.ts";
import { formatFailure, formatProgress, formatSummary } from "./format.ts";
import { programs } from "./generators.ts";
import { fuzz, type FuzzOptions, type FuzzReport } from "./harness.ts";
import { formatSeeds } from "./ledger.ts";
import { disassemble, hex } from "./ops.ts";
import { fuzzSchedule } from "./schedule.ts";
import type { Tally } from "./tally.ts";

const USAGE =
  "fuzz <interpreter> [--seed S] [--count N] [--index I] [--backends a,b,...] [--fuel N] [--workers N]\n" +
  "            [--timeout S] [--progress S] [--minutes M | --seeds N] [--ledger FILE] [--block N]";

/** Failures printed in full; the rest are counted. */
const SHOWN = 20;

/** `futamura fuzz <interpreter> ...` (see USAGE and the header). */
export async function fuzzCommand(
  argv: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  const { values, positionals } = parse(argv);
  if (positionals.length !== 1) throw new UsageError(USAGE);
  // A shorthand or an interpreter's path, whose build products must be fresh (a backend that
  // cannot load them would disagree on every program).
  const lang = await language(positionals[0]!);
  checkStamp(product(lang, "graphs"));
  const named = values.backends?.split(",").filter((b) => b !== "");
  const chosen = named ?? Object.keys(registry).filter((b) => b !== "interp");
  checkStamp(product(lang, "tier1"));
  if (chosen.some(needsSpecialiser)) checkStamp(product(lang, "specialiser"));
  const scheduled = values.minutes !== undefined || values.seeds !== undefined;
  if (scheduled && [values.seed, values.count, values.index].some((v) => v !== undefined))
    throw new UsageError(
      "--minutes and --seeds take the schedule's seeds: no --seed, --count or --index",
    );
  const workers = int(values.workers, "--workers", 0) ?? availableParallelism();
  if (values.isolate && workers === 0)
    throw new UsageError("--isolate needs a worker: not --workers 0");
  const progressMs = (num(values.progress, "--progress", 0) ?? 10) * 1000;
  const started = performance.now();
  let last = started;
  let total: number | undefined;
  let deadline: number | undefined;
  const onProgress = (t: Tally) => {
    const now = performance.now();
    if (progressMs === 0 || now - last < progressMs) return;
    last = now;
    const left = deadline === undefined ? undefined : deadline - now;
    err.write(formatProgress(lang.name, t, now - started, total, left));
  };
  // (machine code collects its objects at every safepoint after an allocation: the workers
  // inherit the switch)
  if (values["gc-stress"]) process.env[GC_STRESS] = "1";
  const common: FuzzOptions = {
    lang,
    backends: chosen,
    fuel: int(values.fuel, "--fuel", 0),
    workers,
    timeoutMs: (num(values.timeout, "--timeout", 0.001) ?? 60) * 1000,
    onProgress,
  };
  if (scheduled) {
    const minutes = num(values.minutes, "--minutes", 0);
    if (minutes !== undefined) deadline = started + minutes * 60_000;
    const s = await fuzzSchedule({
      ...common,
      minutes,
      seeds: int(values.seeds, "--seeds", 1),
      ledger: values.ledger,
      block: int(values.block, "--block", 1),
    });
    printFailures(s.report, err);
    out.write(
      formatSummary(s.report, s.block) +
        `seeds finished: ${formatSeeds(s.run.seeds) || "none"}\n` +
        `ledger ${s.ledger}: ${lang.name} ${s.total.programs} programs in all (${s.total.seeds} seeds, ${s.total.runs} runs), ${s.total.disagreements} disagreements\n`,
    );
    return s.report.disagreements ? 1 : 0;
  }
  if (values.ledger !== undefined || values.block !== undefined)
    throw new UsageError("--ledger and --block go with --minutes or --seeds");
  const index = int(values.index, "--index", 0);
  total = index === undefined ? (int(values.count, "--count", 0) ?? 1000) : 1;
  const r = await fuzz({
    ...common,
    seed: int(values.seed, "--seed", Number.MIN_SAFE_INTEGER),
    count: int(values.count, "--count", 0),
    index,
  });
  printFailures(r, err);
  out.write(index === undefined ? formatSummary(r) : programFile(lang, r, index));
  return r.disagreements ? 1 : 0;
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        seed: { type: "string" },
        count: { type: "string" },
        backends: { type: "string" },
        fuel: { type: "string" },
        index: { type: "string" },
        isolate: { type: "boolean" },
        workers: { type: "string" },
        timeout: { type: "string" },
        progress: { type: "string" },
        minutes: { type: "string" },
        seeds: { type: "string" },
        ledger: { type: "string" },
        block: { type: "string" },
        "gc-stress": { type: "boolean" },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** An integer option of at least `min`. */
function int(s: string | undefined, what: string, min: number): number | undefined {
  if (s === undefined) return undefined;
  if (!/^-?\d+$/.test(s) || !Number.isSafeInteger(Number(s)) || Number(s) < min)
    throw new UsageError(
      `${what} takes an integer${min > Number.MIN_SAFE_INTEGER ? ` >= ${min}` : ""}, not '${s}'`,
    );
  return Number(s);
}

/** A number option of at least `min` (minutes and seconds may be fractions). */
function num(s: string | undefined, what: string, min: number): number | undefined {
  if (s === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(s) || Number(s) < min)
    throw new UsageError(`${what} takes a number${min > 0 ? ` > 0` : " >= 0"}, not '${s}'`);
  return Number(s);
}

function printFailures(r: FuzzReport, err: NodeJS.WritableStream): void {
  for (const f of r.failures.slice(0, SHOWN)) err.write(formatFailure(f) + "\n");
  if (r.disagreements > SHOWN) err.write(`... and ${r.disagreements - SHOWN} more failures\n`);
}

/** Program `index` of the report's seed as a file `futamura run` takes, the rest as comments
 *  (a language of another project: its bytes alone, as `run` reads a file without a loader). */
function programFile(lang: Lang, r: FuzzReport, index: number): string {
  const p = programs(lang, r.seed, index + 1)[index]!;
  if (langs[lang.name] !== lang) return disassemble(lang, p.code);
  const what = p.input ? `input ${hex(p.input) || "(empty)"}` : `arg ${p.arg}`;
  const comment = (text: string) =>
    // Brainfuck comments are any other bytes: its commands in them become underscores.
    (r.lang === "bf" ? text.replace(/[-+<>.,[\]]/g, "_") : text)
      .replace(/^/gm, "# ")
      .replace(/# $/, "");
  // A Brainfuck program's text may not end with a newline.
  const text = disassemble(r.lang, p.code);
  return (
    comment(
      `program ${index} of seed ${r.seed} (${p.origin}), ${what}, bytes ${hex(p.code) || "(empty)"}\n`,
    ) +
    text +
    (text === "" || text.endsWith("\n") ? "" : "\n") +
    comment(formatSummary(r))
  );
}
