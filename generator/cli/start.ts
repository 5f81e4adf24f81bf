//! `npm start`: the main job. Regenerates what is stale in `generated/`, then runs every example
//! program of every interpreter on every backend and prints a table of results and times.

import { readFileSync, readdirSync } from "node:fs";
import { relative } from "node:path";
import { langs } from "../language.ts";
import { backends, runProgram, type Outcome } from "../backends.ts";
import { artifacts, generate, root } from "../build.ts";

/** An example program states its argument and result: `# example: 7 -> 49`. */
export function examples(): { lang: string; file: string; arg: number; expect: string }[] {
  const dir = root + "interpreters/programs/";
  const list = [];
  for (const f of readdirSync(dir).sort()) {
    const lang = Object.values(langs).find((l) => f.endsWith(l.ext));
    if (!lang) continue;
    const text = readFileSync(dir + f, "utf8");
    for (const m of text.matchAll(/example: (-?\d+) -> (-?\d+|error: .*)/g))
      list.push({
        lang: lang.name,
        file: "interpreters/programs/" + f,
        arg: Number(m[1]),
        expect: m[2]!.trim(),
      });
  }
  return list;
}

/** Example programs of the languages that read and write bytes, with their input and output
 *  (`interpreters/programs/bytes-examples.json`: Brainfuck comments cannot hold them). */
export function byteExamples(): {
  lang: string;
  file: string;
  input?: string;
  output: string;
  error?: string;
}[] {
  return JSON.parse(readFileSync(root + "interpreters/programs/bytes-examples.json", "utf8"));
}

/** The width of a backend's cell: "ok" and a time. */
const CELL = 14;

/** One row of the table: a program, how to run it, and how to show an outcome to compare. */
interface Case {
  lang: string;
  file: string;
  arg: number;
  input?: Buffer;
  label: [string, string];
  expect: string;
  show(r: Outcome): string;
}

function cases(): Case[] {
  const int = examples().map((ex) => ({
    lang: ex.lang,
    file: ex.file,
    arg: ex.arg,
    label: [ex.file.replace("interpreters/programs/", ""), String(ex.arg)] as [string, string],
    expect: ex.expect,
    show: (r: Outcome) => (r.error !== undefined ? `error: ${r.error}` : String(r.value)),
  }));
  const bytes = byteExamples().map((ex) => ({
    lang: ex.lang,
    file: "interpreters/programs/" + ex.file,
    arg: 0,
    ...(ex.input === undefined ? {} : { input: Buffer.from(ex.input, "latin1") }),
    label: [ex.file + (ex.input ? " <input" : ""), "-"] as [string, string],
    expect: JSON.stringify(ex.output) + (ex.error ? ` error: ${ex.error}` : ""),
    show: (r: Outcome) =>
      JSON.stringify(Buffer.from(r.output).toString("latin1")) +
      (r.error ? ` error: ${r.error}` : ""),
  }));
  return [...int, ...bytes];
}

/** Regenerates what is stale, then runs every example on every backend, printing each row of
 *  the table as soon as it is done (the whole takes a while). */
export async function start(out: NodeJS.WritableStream): Promise<number> {
  for (const a of generate(await artifacts()))
    out.write(`regenerated ${relative(process.cwd(), a.path)}\n`);
  const names = Object.keys(backends);
  const all = cases();
  const shown = (c: Case) => (c.expect.length > 24 ? c.expect.slice(0, 21) + "..." : c.expect);
  const widths = [
    Math.max(7, ...all.map((c) => c.label[0].length)),
    Math.max(3, ...all.map((c) => c.label[1].length)),
    Math.max(8, ...all.map((c) => shown(c).length)),
    ...names.map((n) => Math.max(n.length, CELL)),
  ];
  const row = (cells: string[]) =>
    out.write(
      cells
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd() + "\n",
    );
  row(["program", "arg", "expected", ...names]);
  let bad = 0;
  for (const c of all) {
    const lang = langs[c.lang]!;
    const code = lang.load(readFileSync(root + c.file, "latin1"), c.file);
    const cells = [];
    for (const name of names) {
      const r = await runProgram(backends[name]!, lang, code, c.arg, { input: c.input });
      const got = c.show(r);
      if (got !== c.expect) bad++;
      cells.push(`${got === c.expect ? "ok" : "WRONG " + got} ${r.stats.runMs}ms`);
    }
    row([...c.label, shown(c), ...cells]);
  }
  out.write(
    bad ? `${bad} results differ from the expected\n` : "every backend gives the expected result\n",
  );
  if (!bad) {
    // A short version of the performance record (`npm run bench` for the real one).
    const { benchSummary } = await import("../../bench/harness.ts");
    out.write("\n" + (await benchSummary()) + "\n");
  }
  return bad ? 1 : 0;
}
