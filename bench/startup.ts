//! Start-up, whole process: what a user waits for before a program runs at all. The command as
//! the package runs it (`dist/`, made by `npm run build` first: JavaScript, nothing transformed)
//! and as a checkout runs it (TypeScript through tsx), side by side with `node -e 0`, in one
//! run, interleaved, medians. A part of `npm run bench` (its start-up table).

import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { futamuraArgs } from "./command.ts";

const root = new URL("../", import.meta.url).pathname;

export interface StartupRow {
  what: string;
  /** The command, from the project's root. */
  command: string;
  /** Median wall time of the whole process. */
  ms: number;
  /** `ms` over `node -e 0`'s. */
  ratioNode: number;
}

/** Times each start-up case `reps` times, interleaved; builds the package first. */
export function measureStartup(reps: number, log?: NodeJS.WritableStream): StartupRow[] {
  log?.write("\n== start-up: npm run build, then each command, whole process\n");
  const built = spawnSync("npm", ["run", "--silent", "build"], { cwd: root, encoding: "utf8" });
  if (built.status !== 0) throw new Error(`npm run build failed: ${built.stderr}`);
  mkdirSync(root + "bench/tmp", { recursive: true });
  writeFileSync(root + "bench/tmp/one-step.tlr", "RETURN_A\n");
  const program = ["run", "tlr", "bench/tmp/one-step.tlr", "1", "--backend"];
  const cases: [string, string[]][] = [["node -e 0", ["-e", "0"]]];
  for (const [form, bin] of [
    ["package", "dist/generator/futamura.mjs"],
    ["checkout", "generator/futamura.mjs"],
  ] as const)
    cases.push(
      [`${form}: futamura --help`, [...futamuraArgs(root + bin), "--help"]],
      [`${form}: one-step program, interp`, [...futamuraArgs(root + bin), ...program, "interp"]],
      [`${form}: one-step program, jit`, [...futamuraArgs(root + bin), ...program, "jit"]],
    );
  const samples = cases.map(() => [] as number[]);
  for (let rep = 0; rep < reps; rep++)
    cases.forEach(([what, args], i) => {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8" });
      samples[i]!.push(performance.now() - t0);
      if (r.status !== 0) throw new Error(`${what}: exit ${r.status}: ${r.stderr}`);
    });
  const medians = samples.map((xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!);
  return cases.map(([what, args], i) => ({
    what,
    command: ["node", ...args].join(" "),
    ms: Math.round(medians[i]!),
    ratioNode: Math.round((medians[i]! / medians[0]!) * 100) / 100,
  }));
}

/** The start-up table's lines. */
export function startupTable(rows: StartupRow[]): string[] {
  if (!rows.length) return [];
  const width = Math.max(...rows.map((r) => r.what.length));
  return [
    "",
    "start-up, whole process (median): the command as the package runs it and as a checkout does",
    ...rows.map(
      (r) =>
        `  ${r.what.padEnd(width)}  ${String(r.ms).padStart(5)} ms  ${r.ratioNode.toFixed(2)}x node`,
    ),
  ];
}
