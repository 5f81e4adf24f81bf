//! futamura as a library: what a project that depends on the package imports from `futamura`
//! (the interpreter itself imports its hints from `futamura/hints`). The command line is a
//! client of the same functions:
//!
//!   import { language, load, run, generate } from "futamura";
//!   await generate("./acc.ts");                  // the build products, as `futamura generate`
//!   const acc = await language("./acc.ts");      // the interpreter, its entry, its loader
//!   const code = load(acc, "ADD DEC LOOP RET", "sum.acc");
//!   const r = await run(acc, code, [100], { backend: "jit" });
//!   r.value; r.output; r.stats;                  // 5050, the bytes written, what the JIT did

import { readFileSync } from "node:fs";
import {
  DEFAULT_BACKEND,
  backends,
  runProgram,
  type Outcome,
  type RunOptions,
} from "./backends.ts";
import { LoadError, SubsetError, language, type Lang } from "./language.ts";
import type { Module } from "../runtime/ir/types.ts";

export { language, LoadError, SubsetError, type Lang };
export { backends, DEFAULT_BACKEND, type Outcome, type RunOptions };
export { VmError } from "../runtime/hints.ts";
export { StaleBuild } from "../runtime/stamp.ts";

/** A program text (or a program file's bytes, read as latin1) made bytecode by the language's
 *  loader (without one, its bytes are the bytecode); a faulty text is a `LoadError`. */
export function load(lang: Lang, text: string, file = "<program>"): Uint8Array {
  return lang.load(text, file);
}

/** Runs `code` with the entry's integers on a backend (`DEFAULT_BACKEND`, the tiered JIT, unless
 *  named): its value or interpreter error, its output, its statistics (`outcome.stats`). The
 *  build products must be fresh (else `StaleBuild`). One run at a time: the hints' I/O and fuel
 *  belong to the run. */
export async function run(
  lang: Lang,
  code: Uint8Array,
  args: readonly number[] = [],
  options: RunOptions & { backend?: string } = {},
): Promise<Outcome> {
  const name = options.backend ?? DEFAULT_BACKEND;
  const backend = backends[name];
  if (!backend) throw new LoadError(`no backend '${name}' (${Object.keys(backends).join(", ")})`);
  if (args.length !== lang.arity)
    throw new LoadError(`${lang.name} takes ${lang.arity} integers, not ${args.length}`);
  return runProgram(backend, lang, code, args, options);
}

/** Makes what is stale of the build products of the interpreter at `source` (graphs,
 *  specialiser, first tier, and, packaged, the JavaScript of its folder); gives the paths
 *  written or removed. Violations of the subset are a `SubsetError` listing each at
 *  `file:line:col`. */
export async function generate(source: string): Promise<string[]> {
  const { generateInterpreter } = await import("./build.ts");
  return generateInterpreter(source);
}

/** The low-level flow graphs of the interpreter at `source`, from its entry (`entry`, or the
 *  language's), as the frontend makes them, and their text (`futamura graphs`). */
export async function graphs(
  source: string,
  entry?: string,
): Promise<{ module: Module; text: string }> {
  const lang = await language(source);
  const { buildGraphs } = await import("./frontend/index.ts");
  const { printModule } = await import("../runtime/ir/print.ts");
  const r = buildGraphs(lang.source, entry ?? lang.entry, {
    text: readFileSync(lang.source, "utf8"),
    roots: lang.constants === undefined || entry !== undefined ? [] : [lang.constants],
  });
  if (!r.module) throw new SubsetError(r.violations);
  return { module: r.module, text: printModule(r.module) };
}
