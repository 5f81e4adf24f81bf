//! `futamura fuzz`: the command line of the harness.

import { parseArgs } from "node:util";
import { backends as registry } from "../backends.ts";
import { UsageError } from "../cli.ts";
import { formatFailure, formatHistogram } from "./format.ts";
import { programs } from "./generators.ts";
import { fuzz } from "./harness.ts";
import { disassemble, hex } from "./ops.ts";
/** `futamura fuzz <lang> [--seed S] [--count N] [--backends a,b] [--fuel N] [--index I]`. */
export async function fuzzCommand(
  argv: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        seed: { type: "string" },
        count: { type: "string" },
        backends: { type: "string" },
        fuel: { type: "string" },
        index: { type: "string" },
        isolate: { type: "boolean" },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1)
    throw new UsageError(
      "fuzz <lang> [--seed S] [--count N] [--backends a,b,...] [--fuel N] [--index I] [--isolate]",
    );
  const int = (s: string | undefined, what: string, min: number) => {
    if (s === undefined) return undefined;
    if (!/^-?\d+$/.test(s) || !Number.isSafeInteger(Number(s)) || Number(s) < min)
      throw new UsageError(`${what} takes an integer${min === 0 ? " >= 0" : ""}, not '${s}'`);
    return Number(s);
  };
  const backendNames = values.backends?.split(",").filter((b) => b !== "");
  const r = await fuzz({
    lang: positionals[0]!,
    seed: int(values.seed, "--seed", Number.MIN_SAFE_INTEGER),
    count: int(values.count, "--count", 0),
    backends: backendNames,
    fuel: int(values.fuel, "--fuel", 0),
    index: int(values.index, "--index", 0),
    // Machine code runs in a child process unless told otherwise: a crash must not lose the seed.
    isolate: values.isolate ?? (backendNames ?? Object.keys(registry)).includes("x64"),
  });
  const shown = 20;
  for (const f of r.failures.slice(0, shown)) err.write(formatFailure(f) + "\n");
  if (r.failures.length > shown) err.write(`... and ${r.failures.length - shown} more failures\n`);
  const verdict = r.failures.length ? `${r.failures.length} disagreements` : "all agree";
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const times = [...r.backendMs].map(([b, ms]) => `${b} ${s(ms)}`).join(", ");
  let summary =
    `fuzz ${r.lang}: ${r.count} programs, seed ${r.seed}, fuel ${r.fuel}, interp vs ${r.backends.join(", ") || "(nothing)"}: ` +
    `${verdict} (${s(r.ms)}: ${times})\n` +
    formatHistogram(r.histogram);
  if (values.index !== undefined) {
    // The program as a file `futamura run` takes, everything else as comments.
    const index = Number(values.index);
    const p = programs(r.lang, r.seed, index + 1)[index]!;
    const what = p.input ? `input ${hex(p.input) || "(empty)"}` : `arg ${p.arg}`;
    const comment = (text: string) =>
      // Brainfuck comments are any other bytes: its commands in them become underscores.
      (r.lang === "bf" ? text.replace(/[-+<>.,[\]]/g, "_") : text)
        .replace(/^/gm, "# ")
        .replace(/# $/, "");
    // A Brainfuck program's text may not end with a newline.
    const text = disassemble(r.lang, p.code);
    summary =
      comment(
        `program ${index} of seed ${r.seed} (${p.origin}), ${what}, bytes ${hex(p.code) || "(empty)"}\n`,
      ) +
      text +
      (text === "" || text.endsWith("\n") ? "" : "\n") +
      comment(summary);
  }
  out.write(summary);
  return r.failures.length ? 1 : 0;
}
