//! Reporting: the histogram of outcomes and a failure with what reproduces it, as text.

import type { Failure } from "./harness.ts";

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
