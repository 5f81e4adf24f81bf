//! The benchmark's workloads. Each integer program's argument is sized so that the plain
//! interpreter (`interp`) runs for about a second on the project's 2-core development machine;
//! `quickArg` (for `--quick`) is a tenth of that. The Brainfuck programs take no argument and live
//! outside the project, in `../shared/programs/bf/`; their expected output is known (the md5 in
//! that folder's README), so they are checked against it even where `interp` is over the cap.
//!
//! The compile-cost workloads (issue 22, item 5) are programs made by the bench (`text`, written
//! under `bench/tmp/`) that the interpreter runs in well under a second but that are large to
//! compile: they measure how compile time grows with the program, by whole process against
//! `interp` (`cost`), on `interp`, `x64` and `jit` only.

import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";

export interface Workload {
  /** What `--only` matches (or the file's base name). */
  name: string;
  lang: string;
  /** Relative to the project root. */
  file: string;
  /** The argument of an "int" program; none for a "bytes" program. */
  arg?: number;
  /** All the integers the entry takes, for a program named on the command line
   *  (`futamura bench <interpreter> <program> [args...]`): no quick variant. */
  args?: number[];
  quickArg?: number;
  /** Standard input, a file relative to the project root (a "bytes" program). */
  input?: string;
  /** The known output (md5 of stdout, exit 0), where `interp` may not finish within the cap. */
  expect?: { md5: string; what: string };
  /** Minutes on the slow backends: left out of `--quick` unless `--only` names it. */
  heavy?: boolean;
  /** The program's text, for a program the bench makes (written to `file` first). */
  text?: () => string;
  /** The backends to run it on (all when absent). */
  backends?: string[];
  /** A compile-cost workload: compared by the whole process's time (start-up, compilation and
   *  run), in a table of its own. */
  cost?: boolean;
  about: string;
}

/** Issue 22's compile-cost shapes, as Brainfuck text. */
const sequentialLoops = (n: number) =>
  Array.from(
    { length: n },
    (_, i) => "+".repeat((i % 7) + 1) + "[->" + "+".repeat((i % 5) + 1) + "<]>",
  ).join("");
const nestedLoops = (n: number) => "+" + "[".repeat(n) + "-" + "]".repeat(n);
const COST_BACKENDS = ["interp", "x64", "jit"];

/** The real programs of `../shared/programs/bf/` (those with an input and the output they
 *  must give): public programs no one here wrote. */
const REAL = "../shared/programs/bf/";
const realPrograms = (): Workload[] => {
  const dir = new URL("../" + REAL, import.meta.url).pathname;
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".b") && existsSync(dir + f.replace(/\.b$/, ".out")))
    .sort()
    .map((f) => {
      const name = f.replace(/\.b$/, "");
      return {
        name,
        lang: "bf",
        file: REAL + f,
        input: REAL + name + ".in",
        expect: {
          md5: createHash("md5")
            .update(readFileSync(dir + name + ".out"))
            .digest("hex"),
          what: `${name}.out`,
        },
        about: `Brainfuck: ${name}, a real program with its input`,
      };
    });
};

export const workloads: Workload[] = [
  {
    name: "square",
    lang: "tlr",
    file: "interpreters/programs/square.tlr",
    arg: 15_000_000,
    quickArg: 1_500_000,
    about: "TLR: a loop of 9 register instructions per unit of arg",
  },
  {
    name: "loop",
    lang: "tl",
    file: "interpreters/programs/loop.tl",
    arg: 12_000_000,
    quickArg: 1_200_000,
    about: "TL: sum 1..arg, 8 stack instructions per trip",
  },
  {
    name: "fibonacci",
    lang: "tl",
    file: "interpreters/programs/fibonacci.tl",
    arg: 6_500_000,
    quickArg: 650_000,
    about: "TL: (a, b) = (b, a + b), with ROLL; 12 instructions per trip",
  },
  {
    name: "factorial",
    lang: "tl",
    file: "interpreters/programs/factorial.tl",
    arg: 7_500_000,
    quickArg: 750_000,
    about: "TL: PyPy's factorial loop; the product wraps to 0 from arg 34 on",
  },
  {
    name: "brstk",
    lang: "tl",
    file: "interpreters/programs/brstk.tl",
    arg: 7_000_000,
    quickArg: 700_000,
    about: "TL: doubling with BR_COND_STK (promoted branch offsets); 2^arg wraps to 0",
  },
  {
    name: "call",
    lang: "tl",
    file: "interpreters/programs/call.tl",
    arg: 750_000,
    quickArg: 75_000,
    about: "TL: a loop making two nested CALLs per trip",
  },
  // TLC (issue 25): an interpreter of objects. No C translation: a C TLC would be a C
  // interpreter of objects with a collector, not the mechanical translation of a program the
  // other languages get (which is what gcc -O2 stands for here).
  {
    name: "tlc-sum",
    lang: "tlc",
    file: "interpreters/programs/sum.tlc",
    arg: 2_000_000,
    quickArg: 200_000,
    about: "TLC: sum 0..arg-1 in boxed integers on a stack of objects, 11 instructions per trip",
  },
  {
    name: "tlc-sum-long",
    lang: "tlc",
    file: "interpreters/programs/sum.tlc",
    arg: 30_000_000,
    quickArg: 3_000_000,
    backends: ["interp", "x64", "jit"],
    about: "TLC: tlc-sum long enough that start-up and compiling are not most of the run",
  },
  {
    name: "tlc-conslist",
    lang: "tlc",
    file: "interpreters/programs/conslist.tlc",
    arg: 400_000,
    quickArg: 40_000,
    about: "TLC: build a list of arg cons cells, then walk it with CAR and CDR",
  },
  {
    name: "tlc-methods",
    lang: "tlc",
    file: "interpreters/programs/accumulator.tlc",
    arg: 600_000,
    quickArg: 60_000,
    about: "TLC: a loop sending add/1 to an object (a frame per SEND), arg times",
  },
  {
    name: "tlc-binarytrees",
    lang: "tlc",
    file: "interpreters/programs/binarytrees.tlc",
    arg: 14,
    quickArg: 8,
    backends: ["interp", "x64", "jit"],
    about:
      "TLC: the Benchmarks Game's binary-trees (cons-cell trees by recursive SENDs), depth 14: far more allocated than live",
  },
  {
    name: "bench.b",
    lang: "bf",
    file: "../shared/programs/bf/bench.b",
    expect: {
      md5: "ff84a182ecc6da31db638d7c562996d6",
      what: "ZYXWVUTSRQPONMLKJIHGFEDCBA and a newline",
    },
    about: "Brainfuck: kostya/benchmarks' bench.b, nested counting loops",
  },
  {
    name: "mandelbrot.b",
    lang: "bf",
    file: "../shared/programs/bf/mandelbrot.b",
    expect: { md5: "5024283fa65866ddd347b877798e84d8", what: "6,240 bytes of ASCII art" },
    heavy: true,
    about: "Brainfuck: Erik Bosman's mandelbrot viewer",
  },
  ...realPrograms(),
  {
    name: "seq-loops-3000",
    lang: "bf",
    file: "bench/tmp/seq-loops-3000.b",
    text: () => sequentialLoops(3000),
    backends: COST_BACKENDS,
    cost: true,
    about: "compile cost: 3,000 sequential small loops (39 KB), each run a few times",
  },
  {
    name: "nested-5000",
    lang: "bf",
    file: "bench/tmp/nested-5000.b",
    text: () => nestedLoops(5000),
    backends: COST_BACKENDS,
    cost: true,
    about: "compile cost: 5,000 nested loops, run once",
  },
  {
    name: "nested-20000",
    lang: "bf",
    file: "bench/tmp/nested-20000.b",
    text: () => nestedLoops(20000),
    backends: COST_BACKENDS,
    cost: true,
    about: "compile cost: 20,000 nested loops, run once",
  },
];
