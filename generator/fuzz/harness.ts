//! The differential fuzzing harness: random TLR, TL and Brainfuck programs, run on `interp` and on other
//! backends, which must give exactly what `interp` gives (the value, or the error message).
//!
//! Programs come from fast-check arbitraries (generators.ts), so a run is reproducible from its
//! seed: program `index` of seed `seed` is the `index`-th value `fc.sample` draws (it does not
//! depend on the count). There are four kinds of program (`origin`):
//!   clean    well-formed: an abstract statement tree (straight-line code, counted loops,
//!            forward conditionals, TL subroutine calls) lowered with every operand repaired
//!            into range, stacks balanced and registers allocated; most complete with a value,
//!            some run out of fuel (loops counted by the argument)
//!   mutated  a clean program with one or two byte mutations (replace, insert, delete, truncate)
//!   faulty   the same trees lowered with some repairs skipped: raw register and stack
//!            operands, raw branch targets, unguarded DIV, recursive CALLs, growing loops,
//!            missing ALLOCATE or RETURN
//!   raw      biased random bytes (mostly valid opcodes and small operands)
//! in the proportions 55 / 15 / 15 / 15 (tlr.ts, tl.ts, bf.ts).
//!
//! A failure names its seed and index (`futamura fuzz <lang> --seed S --index I` prints that
//! program as a file `futamura run` takes), its bytes and disassembly, and for the first few
//! a minimised program (greedy deletion of byte chunks) that still disagrees.

import { langs, type Lang } from "../../interpreters/lang.ts";
import { backends as registry, type Backend } from "../backends.ts";
import { UsageError } from "../cli.ts";
import { programs } from "./generators.ts";
import { minimize } from "./minimize.ts";
import { disassemble, hex } from "./ops.ts";
import type { Program } from "./program.ts";
import { kind, runOne, type Result } from "./run.ts";
import { Worker } from "./workers.ts";

export interface Failure {
  /** Program `index` of seed `seed` reproduces it (`futamura fuzz <lang> --seed S --index I`). */
  seed: number;
  index: number;
  lang: string;
  backend: string;
  arg: number;
  /** The program's input as hex bytes, for languages that read bytes. */
  input?: string;
  fuel: number;
  origin: Program["origin"];
  /** The program as hex bytes and as assembler text (`futamura run` takes the latter). */
  hex: string;
  program: string;
  expected: Result;
  got: Result;
  /** A smaller program (and its results) that still disagrees, when minimisation found one. */
  minimal?: { hex: string; program: string; expected: Result; got: Result };
}

export interface FuzzOptions {
  lang: string | Lang;
  seed?: number;
  count?: number;
  /** Backends to compare with interp (names or objects); default: every backend but interp. */
  backends?: (string | Backend)[];
  fuel?: number;
  /** Only program `index` of the seed. */
  index?: number;
  /** Minimise this many failures (default 5). */
  minimize?: number;
  /** Run the programs in a child process, so that a backend that kills its process (machine
   *  code gone wrong) is reported with the program's seed and index instead of ending the run. */
  isolate?: boolean;
}

export interface FuzzReport {
  lang: string;
  seed: number;
  count: number;
  fuel: number;
  backends: string[];
  failures: Failure[];
  /** Outcome kind on interp → number of programs. */
  histogram: Map<string, number>;
  /** Program origin → outcome kind → number of programs. */
  byOrigin: Map<string, Map<string, number>>;
  /** Milliseconds in all, and spent running each backend (interp included). */
  ms: number;
  backendMs: Map<string, number>;
}

export const DEFAULT_SEED = 1;
export const DEFAULT_COUNT = 1000;
export const DEFAULT_FUEL = 10_000;
/** Brainfuck needs more: running off the right end of the 30,000-cell tape takes about 31,000
 *  steps. */
export const DEFAULT_FUEL_BF = 40_000;

export function resolveBackends(list: (string | Backend)[] | undefined): Backend[] {
  if (list === undefined) return Object.values(registry).filter((b) => b.name !== "interp");
  return list.map((b) => {
    if (typeof b !== "string") return b;
    const found = registry[b];
    if (!found)
      throw new UsageError(`unknown backend '${b}' (${Object.keys(registry).join(", ")})`);
    return found;
  });
}

/** Runs `count` programs of `seed` on interp and the selected backends and compares them. */
export async function fuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const start = performance.now();
  const lang = typeof opts.lang === "string" ? langs[opts.lang] : opts.lang;
  if (!lang)
    throw new UsageError(
      `unknown language '${String(opts.lang)}' (${Object.keys(langs).join(", ")})`,
    );
  const seed = opts.seed ?? DEFAULT_SEED;
  const count = opts.count ?? DEFAULT_COUNT;
  const fuel = opts.fuel ?? (lang.name === "bf" ? DEFAULT_FUEL_BF : DEFAULT_FUEL);
  const others = resolveBackends(opts.backends);
  const progs =
    opts.index === undefined
      ? programs(lang.name, seed, count)
      : programs(lang.name, seed, opts.index + 1);
  const first = opts.index ?? 0;
  const worker = opts.isolate ? new Worker(lang, seed, progs.length, fuel, others) : undefined;

  const failures: Failure[] = [];
  const histogram = new Map<string, number>();
  const byOrigin = new Map<string, Map<string, number>>();
  const backendMs = new Map<string, number>([registry.interp!, ...others].map((b) => [b.name, 0]));
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  for (let index = first; index < progs.length; index++) {
    const p = progs[index]!;
    const { expected, got, ms } = worker
      ? await worker.run(index, others)
      : await runOne(lang, p.code, p.arg, others, fuel, p.input);
    [registry.interp!, ...others].forEach((b, i) =>
      backendMs.set(b.name, backendMs.get(b.name)! + ms[i]!),
    );
    const k = kind(expected);
    bump(histogram, k);
    if (!byOrigin.has(p.origin)) byOrigin.set(p.origin, new Map());
    bump(byOrigin.get(p.origin)!, k);
    const base = {
      seed,
      index,
      lang: lang.name,
      arg: p.arg,
      ...(p.input ? { input: hex(p.input) } : {}),
      fuel,
      origin: p.origin,
      hex: hex(p.code),
      program: disassemble(lang.name, p.code),
      expected,
    };
    if (expected.startsWith("crash: "))
      failures.push({
        ...base,
        backend: "interp",
        got: expected,
        expected: "a value or an interpreter error",
      });
    others.forEach((b, i) => {
      if (got[i] !== expected) failures.push({ ...base, backend: b.name, got: got[i]! });
    });
  }

  worker?.close();

  // Minimise the first few failures: smaller programs make better bug reports.
  const budget = opts.minimize ?? 5;
  for (const f of failures.slice(0, budget)) {
    if (worker && f.got.startsWith("crash: the worker")) continue; // not again in this process
    const b = f.backend === "interp" ? registry.interp! : others.find((o) => o.name === f.backend)!;
    const m = await minimize(
      lang,
      progs[f.index]!.code,
      f.arg,
      b,
      fuel,
      400,
      progs[f.index]!.input,
    );
    if (m)
      f.minimal = {
        hex: hex(m.code),
        program: disassemble(lang.name, m.code),
        expected: m.expected,
        got: m.got,
      };
  }
  return {
    lang: lang.name,
    seed,
    count: progs.length - first,
    fuel,
    backends: others.map((b) => b.name),
    failures,
    histogram,
    byOrigin,
    ms: performance.now() - start,
    backendMs,
  };
}
