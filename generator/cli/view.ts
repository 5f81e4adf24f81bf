//! `futamura view <interpreter> <program> [args...] [-o report.html]`: runs the program once (on
//! `jit` unless told) and writes one self-contained HTML page of what the JIT made of it
//! (`generator/view/`): the program with where code and time went by position; a position's
//! residual code, machine code and interpreter source side by side; the events as a timeline;
//! the statistics. The program's own output is not printed (the page shows it); the page's path
//! is, on stdout.

import { readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_BACKEND, backends } from "../backends.ts";
import { language } from "../language.ts";
import {
  cannotRead,
  hideNegatives,
  programInts,
  readProgram,
  RUN_OPTIONS,
  runOptionsOf,
  unhidden,
  unhiddenValues,
} from "./args.ts";
import { UsageError } from "./usage.ts";

export const VIEW_USAGE = `view <interpreter> <program-file> [args...] [-o report.html] [options]
      -o, --out FILE   the page to write (default: <program-file's name>.html here)
      --backend NAME   a backend making compiled code: jit, x64, jit-graph, pe (default: ${DEFAULT_BACKEND})
      --input FILE     the program's standard input (default: none)
      --fuel N, --threshold N, --heap-mb N   as for run`;

export async function viewCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: hideNegatives(argv),
      allowPositionals: true,
      options: {
        out: { type: "string", short: "o" },
        backend: { type: "string" },
        input: { type: "string" },
        ...RUN_OPTIONS,
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const values = unhiddenValues(parsed.values);
  const [langName, file, ...args] = parsed.positionals.map(unhidden);
  if (!langName || !file) throw new UsageError("view <interpreter> <program-file> [args...]");
  const name = values.backend ?? DEFAULT_BACKEND;
  const backend = backends[name];
  if (!backend || !VIEWABLE.includes(name))
    throw new UsageError(
      `view shows compiled code: --backend takes ${VIEWABLE.filter((b) => backends[b]).join(", ")}, not '${name}'`,
    );
  const lang = await language(langName);
  const ints = programInts(lang, args);
  const code = lang.load(readProgram(file), file);
  const options = runOptionsOf(values);
  let input: Uint8Array | undefined;
  try {
    input = values.input === undefined ? undefined : readFileSync(values.input);
  } catch (e) {
    throw cannotRead(values.input!, e);
  }
  const { gather } = await import("../view/gather.ts");
  const { page } = await import("../view/page.ts");
  const data = await gather({
    lang,
    program: basename(file),
    code,
    args: ints,
    backend,
    ...(input ? { input } : {}),
    options,
  });
  const path = values.out ?? `${basename(file)}.html`;
  writeFileSync(path, page(data));
  out.write(`wrote ${path}\n`);
  return 0;
}

/** The backends whose compiled code a page can show. */
const VIEWABLE = ["jit", "x64", "jit-graph", "pe"];
