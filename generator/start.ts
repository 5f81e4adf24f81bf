//! `npm start`: the main job. Regenerates what is stale in `generated/`, then runs every example
//! program of every interpreter on every backend and prints a table of results and times.

import { readFileSync, readdirSync } from "node:fs";
import { langs } from "./language.ts";
import { backends, runProgram, type Outcome } from "./backends.ts";
import { artifacts, generate, root } from "./build.ts";

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

export async function start(out: NodeJS.WritableStream): Promise<number> {
  for (const a of generate(await artifacts())) out.write(`regenerated ${a.path}\n`);
  const names = Object.keys(backends);
  const rows = [["program", "arg", "expected", ...names]];
  let bad = 0;
  for (const c of cases()) {
    const lang = langs[c.lang]!;
    const code = lang.load(readFileSync(root + c.file, "latin1"), c.file);
    const cells = [];
    for (const name of names) {
      const r = await runProgram(backends[name]!, lang, code, c.arg, { input: c.input });
      const got = c.show(r);
      if (got !== c.expect) bad++;
      cells.push(`${got === c.expect ? "ok" : "WRONG " + got} ${r.stats.runMs}ms`);
    }
    const expect = c.expect.length > 24 ? c.expect.slice(0, 21) + "..." : c.expect;
    rows.push([...c.label, expect, ...cells]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows)
    out.write(
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd() + "\n",
    );
  out.write(
    bad ? `${bad} results differ from the expected\n` : "every backend gives the expected result\n",
  );
  if (!bad) {
    // A short version of the performance record (`npm run bench` for the real one).
    const { benchSummary } = await import("./bench.ts");
    out.write("\n" + (await benchSummary()) + "\n");
  }
  return bad ? 1 : 0;
}
