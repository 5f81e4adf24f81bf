//! `npm start`: the main job. Regenerates what is stale in `generated/`, then runs every example
//! program of every interpreter on every backend and prints a table of results and times.

import { readFileSync, readdirSync } from "node:fs";
import { langs } from "../interpreters/lang.ts";
import { backends, runProgram } from "./backends.ts";
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

export async function start(out: NodeJS.WritableStream): Promise<number> {
  for (const a of generate(await artifacts())) out.write(`regenerated ${a.path}\n`);
  const names = Object.keys(backends);
  const rows = [["program", "arg", "expected", ...names]];
  let bad = 0;
  for (const ex of examples()) {
    const lang = langs[ex.lang]!;
    const code = lang.load(readFileSync(root + ex.file, "latin1"), ex.file);
    const cells = [];
    for (const name of names) {
      const r = await runProgram(backends[name]!, lang, code, ex.arg);
      const got = r.error !== undefined ? `error: ${r.error}` : String(r.value);
      if (got !== ex.expect) bad++;
      cells.push(`${got === ex.expect ? "ok" : "WRONG " + got} ${r.stats.runMs}ms`);
    }
    rows.push([ex.file.replace("interpreters/programs/", ""), String(ex.arg), ex.expect, ...cells]);
  }
  for (const ex of byteExamples()) {
    const lang = langs[ex.lang]!;
    const file = "interpreters/programs/" + ex.file;
    const code = lang.load(readFileSync(root + file, "latin1"), file);
    const input = ex.input === undefined ? undefined : Buffer.from(ex.input, "latin1");
    const expect = JSON.stringify(ex.output) + (ex.error ? ` error: ${ex.error}` : "");
    const cells = [];
    for (const name of names) {
      const r = await runProgram(backends[name]!, lang, code, 0, { input });
      const got =
        JSON.stringify(Buffer.from(r.output).toString("latin1")) +
        (r.error ? ` error: ${r.error}` : "");
      if (got !== expect) bad++;
      cells.push(`${got === expect ? "ok" : "WRONG " + got} ${r.stats.runMs}ms`);
    }
    rows.push([
      ex.file + (ex.input ? " <input" : ""),
      "-",
      expect.length > 24 ? expect.slice(0, 21) + "..." : expect,
      ...cells,
    ]);
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
