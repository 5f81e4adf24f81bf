//! Reporting, as text: the histogram of outcomes, a failure with what reproduces it, the
//! summary of a run (with its rate), and the progress lines a long run prints on stderr.

import type { FuzzReport } from "./harness.ts";
import type { Failure, Tally } from "./tally.ts";

/** One line per outcome kind, most frequent first: count, percent, kind. */
export function formatHistogram(h: Map<string, number>): string {
  const total = [...h.values()].reduce((x, y) => x + y, 0);
  const width = String(total).length;
  return [...h.entries()]
    .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
    .map(
      ([k, n]) =>
        `${String(n).padStart(width)}  ${((100 * n) / (total || 1)).toFixed(1).padStart(5)}%  ${k}\n`,
    )
    .join("");
}

/** A failure, with what reproduces it. */
export function formatFailure(f: Failure): string {
  const indent = (s: string) => s.replace(/^(?=.)/gm, "    ");
  const rerun = `futamura fuzz ${f.lang} --seed ${f.seed} --index ${f.index} --backends ${f.backend} --fuel ${f.fuel}`;
  let s =
    `FAIL ${f.lang} seed ${f.seed} index ${f.index} (${f.origin}): backend ${f.backend} disagrees with interp\n` +
    `  ${f.input !== undefined ? `input ${f.input || "(empty)"}` : `arg ${f.arg}`}, fuel ${f.fuel}\n  expected (interp): ${f.expected}\n  got (${f.backend}): ${f.got}\n` +
    `  reproduce: ${rerun}\n  bytes: ${f.hex || "(empty)"}\n  program:\n${indent(f.program) || "    (empty)\n"}`;
  if (f.minimal)
    s +=
      `  minimised (${f.minimal.expected} vs ${f.minimal.got}):\n  bytes: ${f.minimal.hex || "(empty)"}\n` +
      `  program:\n${indent(f.minimal.program) || "    (empty)\n"}`;
  return s;
}

/** A failure in one line, for the ledger: `seed S index I backend B: expected X, got Y`. */
export function formatFailureLine(f: Failure): string {
  return `seed ${f.seed} index ${f.index} backend ${f.backend}: expected ${f.expected}, got ${f.got}`;
}

/** The seeds of a report: `seed 5`, or `seeds 1000000-1000011`. */
function seedsOf(r: { seed: number; lastSeed: number }): string {
  return r.seed === r.lastSeed ? `seed ${r.seed}` : `seeds ${r.seed}-${r.lastSeed}`;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const perSecond = (count: number, ms: number) => Math.round((count * 1000) / Math.max(ms, 1));

/** The verdict line and the histogram. `each`: programs per seed, for the schedule's runs. */
export function formatSummary(r: FuzzReport, each?: number): string {
  const verdict = r.disagreements ? `${r.disagreements} disagreements` : "all agree";
  const where = r.workers.length
    ? `${r.workers.length} worker${r.workers.length === 1 ? "" : "s"}`
    : "in this process";
  const times = [...r.backendMs].map(([b, ms]) => `${b} ${seconds(ms)}`).join(", ");
  return (
    `fuzz ${r.lang}: ${r.count} programs, ${seedsOf(r)}${each ? ` (${each} each)` : ""}, fuel ${r.fuel}, ` +
    `interp vs ${r.backends.join(", ") || "(nothing)"}: ${verdict} ` +
    `(${seconds(r.ms)}, ${perSecond(r.count, r.ms)} programs/s, ${where}; ${times})\n` +
    formatHistogram(r.histogram)
  );
}

/** A progress line (stderr): programs so far (of `total`), rate, disagreements, time left. */
export function formatProgress(
  lang: string,
  t: Tally,
  ms: number,
  total?: number,
  leftMs?: number,
): string {
  const seeds =
    t.count && t.firstSeed !== t.lastSeed
      ? `, ${seedsOf({ seed: t.firstSeed, lastSeed: t.lastSeed })}`
      : "";
  const of = total === undefined ? "" : ` of ${total} (${Math.floor((100 * t.count) / total)}%)`;
  const rate = perSecond(t.count, ms);
  const left =
    leftMs !== undefined
      ? leftMs
      : total !== undefined && rate > 0
        ? ((total - t.count) / rate) * 1000
        : undefined;
  const clock = (m: number) => {
    const s = Math.max(0, Math.round(m / 1000));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  };
  return (
    `fuzz ${lang} progress: ${t.count}${of} programs${seeds}, ${rate} programs/s, ` +
    `${t.disagreements} disagreements${left === undefined ? "" : `, ${clock(left)} left`}\n`
  );
}
