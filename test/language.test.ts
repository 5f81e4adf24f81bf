// A language is a file: an interpreter written anywhere on disk (here, a temporary folder
// outside this repository, holding an accumulator machine that is in none of futamura's files)
// is generated and run by path, through the real command line, on every backend, giving what
// the interpreter itself gives; with a descriptor beside it (a loader, a convention) and
// without one (the program file's bytes are the bytecode, the entry is the one exported
// function); its build products go to a `generated/` beside it and are refused once stale.

import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "../generator/backends.ts";

const root = new URL("../", import.meta.url).pathname;
const BACKENDS = Object.keys(backends);

interface Result {
  code: number;
  out: string;
  err: string;
}

/** `futamura ...argv` as a real process, from `cwd`. */
function futamura(cwd: string, ...argv: string[]): Promise<Result> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [root + "generator/futamura.mjs", ...argv],
      { cwd, timeout: 120_000 },
      (e, out, err) => {
        if (e && typeof e.code !== "number") return reject(e);
        resolve({ code: (e?.code as number | undefined) ?? 0, out, err });
      },
    );
  });
}

/** The accumulator machine: ADD adds n, DEC takes one from n, LOOP goes back to the start
 *  while n is not 0, OUT writes acc's low byte, RET gives acc. `hints` is the specifier of
 *  futamura's hints from its folder. */
function accumulator(hints: string): string {
  return `// An accumulator machine, written for this test only.
import { JitDriver, VmError, writeByte } from "${hints}";

export const ADD = 1;
export const DEC = 2;
export const LOOP = 3;
export const OUT = 4;
export const RET = 5;

const driver = new JitDriver({
  greens: ["code", "pc"],
  reds: ["acc", "n"],
  immutable: ["code"],
});

export function run(code: Uint8Array, n: number): number {
  let acc = 0;
  let pc = 0;
  while (pc < code.length) {
    driver.mergePoint({ code, pc, acc, n });
    const op = code[pc];
    pc = (pc + 1) | 0;
    switch (op) {
      case ADD:
        acc = (acc + n) | 0;
        break;
      case DEC:
        n = (n - 1) | 0;
        break;
      case LOOP:
        if (n !== 0) pc = 0;
        break;
      case OUT:
        writeByte(acc & 255);
        break;
      case RET:
        return acc;
      default:
        throw new VmError("unknown opcode");
    }
  }
  return acc;
}
`;
}

/** A descriptor naming a loader that assembles words (ADD DEC LOOP OUT RET). */
const DESCRIPTOR = (hints: string) => `import { LoadError } from "${hints}";
import { ADD, DEC, LOOP, OUT, RET } from "./machine.ts";

const WORDS: Record<string, number> = { ADD: 1, DEC: 2, LOOP: 3, OUT: 4, RET: 5 };

export const languages = {
  acc: {
    source: "./machine.ts",
    entry: "run",
    ext: ".acc",
    convention: "int" as const,
    // The instruction set, for the fuzzer: the interpreter's opcodes, none with an operand.
    isa: {
      opcodes: { ADD: [ADD, false], DEC: [DEC, false], LOOP: [LOOP, false], OUT: [OUT, false], RET: [RET, false] },
      min: 0,
      max: 255,
      labels: "absolute" as const,
    },
    load(text: string, file: string): Uint8Array {
      return Uint8Array.from(
        text.split(/\\s+/).filter((w) => w !== ""),
        (w, i) => {
          const op = WORDS[w.toUpperCase()];
          if (op === undefined) throw new LoadError(file + ": word " + (i + 1) + ": unknown '" + w + "'");
          return op;
        },
      );
    },
  },
};
`;

let dir: string;

beforeAll(() => {
  // A project of its own: ES modules, as interpreters are.
  dir = mkdtempSync(join(tmpdir(), "futamura-lang-"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "mine", type: "module" }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A folder of the temporary project with `files` in it. */
function folder(name: string, files: Record<string, string>): string {
  const at = join(dir, name);
  mkdirSync(at, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(at, f), text);
  return at;
}

const hintsFrom = (at: string) => relative(at, join(root, "runtime/hints.ts"));

/** A machine whose values are objects (issue 25's first step): a sum kept as a tree of pairs. */
const boxes = (hints: string) => `// A machine of boxed values, written for this test only.
import { JitDriver, VmError } from "${hints}";

abstract class Val {
  abstract num(): number;
}
class Num extends Val {
  readonly n: number;
  constructor(n: number) {
    super();
    this.n = n;
  }
  num(): number {
    return this.n;
  }
}
class Pair extends Val {
  readonly a: Val;
  readonly b: Val;
  constructor(a: Val, b: Val) {
    super();
    this.a = a;
    this.b = b;
  }
  num(): number {
    return (this.a.num() + this.b.num()) | 0;
  }
}

const driver = new JitDriver({ greens: ["code", "pc"], reds: ["acc", "n"], immutable: ["code"] });

export function run(code: Uint8Array, n: number): number {
  let acc: Val = new Num(0);
  let pc = 0;
  while (pc < code.length) {
    driver.mergePoint({ code, pc, acc, n });
    const op = code[pc];
    pc = (pc + 1) | 0;
    switch (op) {
      case 1:
        acc = new Pair(acc, new Num(n));
        break;
      case 2:
        n = (n - 1) | 0;
        break;
      case 3:
        if (n !== 0) pc = 0;
        break;
      case 4:
        return acc instanceof Pair ? acc.num() : -1;
      default:
        throw new VmError("unknown opcode");
    }
  }
  return acc.num();
}
`;

/** A machine whose state is objects that never change class: a cell, and the machine holding it. */
const cells = (hints: string) => `// A machine of objects, written for this test only.
import { JitDriver, VmError } from "${hints}";

class Cell {
  v: number;
  constructor(v: number) {
    this.v = v;
  }
}

class Machine {
  readonly acc: Cell;
  n: number;
  constructor(n: number) {
    this.acc = new Cell(0);
    this.n = n;
  }
}

const driver = new JitDriver({ greens: ["code", "pc"], reds: ["m"], immutable: ["code"] });

export function run(code: Uint8Array, n: number): number {
  const m = new Machine(n);
  let pc = 0;
  while (pc < code.length) {
    driver.mergePoint({ code, pc, m });
    const op = code[pc];
    pc = (pc + 1) | 0;
    switch (op) {
      case 1:
        m.acc.v = (m.acc.v + m.n) | 0;
        break;
      case 2:
        m.n = (m.n - 1) | 0;
        break;
      case 3:
        if (m.n !== 0) pc = 0;
        break;
      case 4:
        return m.acc.v;
      case 5: {
        // A box made and read in one instruction: virtual, it costs nothing.
        const box = new Cell((m.n + 1) | 0);
        m.acc.v = (m.acc.v + box.v) | 0;
        break;
      }
      default:
        throw new VmError("unknown opcode");
    }
  }
  return m.acc.v;
}
`;

describe("an interpreter anywhere on disk", () => {
  it("with objects: generated, run on every backend alike", async () => {
    const at = folder("boxes", {});
    writeFileSync(join(at, "boxes.ts"), boxes(hintsFrom(at)));
    writeFileSync(join(at, "cells.ts"), cells(hintsFrom(at)));
    writeFileSync(join(at, "sum.bin"), Uint8Array.of(1, 2, 3, 4));
    writeFileSync(join(at, "bad.bin"), Uint8Array.of(1, 9));
    for (const name of ["boxes.ts", "cells.ts"]) {
      const gen = await futamura(at, "generate", name);
      expect(gen, gen.err).toEqual(expect.objectContaining({ code: 0, err: "" }));
    }
    // its specialiser too (jit-graph runs it)
    expect(existsSync(join(at, "generated", "boxes.ts"))).toBe(true);
    const running = BACKENDS;
    for (const [interpreter, program, n, out] of [
      ["boxes.ts", "sum.bin", "50", "1275\n"],
      ["boxes.ts", "sum.bin", "1", "1\n"],
      ["boxes.ts", "bad.bin", "3", ""],
      ["cells.ts", "sum.bin", "100000", "705082704\n"],
      ["cells.ts", "bad.bin", "3", ""],
    ] as const)
      for (const b of running) {
        const r = await futamura(at, "run", interpreter, program, n, "--backend", b);
        expect(r, `${interpreter} ${program} on ${b}`).toEqual(
          out ? { code: 0, out, err: "" } : { code: 1, out: "", err: "error: unknown opcode\n" },
        );
      }
    // The same fuel: the step limit at the same pass on every backend.
    for (const b of running)
      expect(
        await futamura(at, "run", "cells.ts", "sum.bin", "100", "--fuel", "77", "--backend", b),
        b,
      ).toEqual({ code: 1, out: "", err: "error: step limit exceeded\n" });
    // pe specialises the machine of objects: the dispatch gone, the machine object and the
    // cell it holds virtual across merge points (virtuals nest: the count and the cell's value
    // are loop variables), nothing allocated.
    const pe = await futamura(
      at,
      "run",
      "cells.ts",
      "sum.bin",
      "9",
      "--backend",
      "pe",
      "--dump",
      "residual",
    );
    expect(pe.out).toBe("45\n");
    expect(pe.err).not.toMatch(/new_object|Machine\.n|Cell\.v|switch/);
    expect(pe.err).toMatch(/int_add/);
    // A box made and read within an instruction is never allocated either.
    writeFileSync(join(at, "boxed.bin"), Uint8Array.of(5, 5, 2, 3, 4));
    const boxed = await futamura(
      at,
      "run",
      "cells.ts",
      "boxed.bin",
      "9",
      "--backend",
      "pe",
      "--dump",
      "residual",
    );
    const interp = await futamura(at, "run", "cells.ts", "boxed.bin", "9", "--backend", "interp");
    expect(boxed.out).toBe(interp.out);
    expect(boxed.err).not.toMatch(/new_object/);
    // Fuzzed on every backend.
    const f = await futamura(at, "fuzz", "cells.ts", "--count", "100", "--seed", "3");
    expect(f.code, f.err).toBe(0);
    expect(f.out).toMatch(
      new RegExp(
        `: 100 programs, seed 3, .*interp vs ${BACKENDS.filter((b) => b !== "interp").join(", ")}: all agree`,
      ),
    );
  }, 120_000);

  it("without a descriptor: generated beside it, run by path on every backend, as interp", async () => {
    const at = folder("plain", {});
    writeFileSync(join(at, "acc.ts"), accumulator(hintsFrom(at)));
    // ADD DEC LOOP OUT RET as bytes: n + (n-1) + ... + 1, then written as a byte and returned.
    writeFileSync(join(at, "sum.bin"), Uint8Array.of(1, 2, 3, 4, 5));
    const gen = await futamura(at, "generate", "acc.ts");
    expect(gen.err).toBe("");
    expect(gen.code).toBe(0);
    for (const f of ["acc.graphs", "acc.ts", "acc.tier1.ts"])
      expect(existsSync(join(at, "generated", f)), f).toBe(true);
    expect((await futamura(at, "check", "acc.ts")).code).toBe(0);
    for (const n of ["7", "300", "1"]) {
      const want = await futamura(at, "run", "acc.ts", "sum.bin", n, "--backend", "interp");
      for (const backend of BACKENDS) {
        // The tiers compile at once: entered, left and bridged on the first trips.
        if (backend.startsWith("jit"))
          expect(
            await futamura(
              at,
              "run",
              "acc.ts",
              "sum.bin",
              n,
              "--backend",
              backend,
              "--threshold",
              "1",
            ),
            `${backend} --threshold 1, n = ${n}`,
          ).toEqual(want);
        const got = await futamura(
          at,
          "run",
          join(at, "acc.ts"),
          "sum.bin",
          n,
          "--backend",
          backend,
        );
        expect(got, `${backend}, n = ${n}`).toEqual(want);
      }
      if (n === "7") expect(want).toEqual({ code: 0, out: "\x1c28\n", err: "" });
    }
    // An interpreter error is the interpreter's on every backend.
    writeFileSync(join(at, "bad.bin"), Uint8Array.of(1, 9));
    for (const backend of BACKENDS)
      expect(await futamura(at, "run", "acc.ts", "bad.bin", "1", "--backend", backend)).toEqual({
        code: 1,
        out: "",
        err: "error: unknown opcode\n",
      });
  }, 300_000);

  it("with a descriptor: its loader makes the bytecode, its load errors are exit 2", async () => {
    const at = folder("described", {
      "futamura.ts": DESCRIPTOR(hintsFrom(join(dir, "described"))),
    });
    writeFileSync(join(at, "machine.ts"), accumulator(hintsFrom(at)));
    writeFileSync(join(at, "sum.acc"), "ADD DEC\nLOOP RET\n");
    expect((await futamura(at, "generate", "machine.ts")).code).toBe(0);
    // The descriptor names the language: its products are acc.*.
    expect(existsSync(join(at, "generated", "acc.graphs"))).toBe(true);
    for (const backend of ["interp", "jit-graph", ...(backends.jit ? ["jit"] : [])])
      expect(
        await futamura(at, "run", "machine.ts", "sum.acc", "100", "--backend", backend),
      ).toEqual({ code: 0, out: "5050\n", err: "" });
    writeFileSync(join(at, "typo.acc"), "ADD JUMP");
    expect(await futamura(at, "run", "machine.ts", "typo.acc", "1")).toEqual({
      code: 2,
      out: "",
      err: "typo.acc: word 2: unknown 'JUMP'\n",
    });
  }, 120_000);

  it("is fuzzed from day one: 300 programs of the generic generator agree on every backend", async () => {
    // Without an instruction set (its bytes), and with one (its descriptor's).
    for (const [name, interp] of [
      ["plain", "acc.ts"],
      ["described", "machine.ts"],
    ] as const) {
      // (No progress lines on stderr, however slow the machine.)
      const r = await futamura(
        join(dir, name),
        "fuzz",
        interp,
        "--count",
        "300",
        "--seed",
        "5",
        "--progress",
        "0",
      );
      expect(r.err, name).toBe("");
      expect(r.code, name).toBe(0);
      expect(r.out).toMatch(/: 300 programs, seed 5, .*: all agree/);
      // Guided by the interpreter, programs mostly run: errors are not most of the outcomes.
      const errors = [...r.out.matchAll(/^\s*(\d+)\s+[\d.]+%\s+error: /gm)].reduce(
        (n, m) => n + Number(m[1]),
        0,
      );
      expect(errors, `${name}: ${r.out}`).toBeLessThan(150);
    }
  }, 300_000);

  it("finds the entry among several exported functions: the one that reaches the driver", async () => {
    const at = folder("several", {});
    // A helper exported beside the entry, which reaches the merge point through a function
    // that is not exported.
    const source = accumulator(hintsFrom(at))
      .replace("export function run(", "function loop(")
      .concat(
        "\nexport function describe(op: number): number {\n  return op + 1;\n}\n",
        "\nexport function run(code: Uint8Array, n: number): number {\n  return loop(code, n);\n}\n",
      );
    writeFileSync(join(at, "acc.ts"), source);
    writeFileSync(join(at, "sum.bin"), Uint8Array.of(1, 2, 3, 5));
    for (const step of [["interp"], ["generate"], ["jit"], ["jit-graph"]]) {
      const r =
        step[0] === "generate"
          ? await futamura(at, "generate", "acc.ts")
          : await futamura(at, "run", "acc.ts", "sum.bin", "10", "--backend", step[0]!);
      expect(r, step[0]).toEqual(
        step[0] === "generate"
          ? expect.objectContaining({ code: 0, err: "" })
          : { code: 0, out: "55\n", err: "" },
      );
    }
  }, 120_000);

  it("takes as many integers as its entry does, on every backend, and is fuzzed with them", async () => {
    const at = folder("pair", {});
    // acc += a, b times: an entry of two integers after the bytecode.
    const source = accumulator(hintsFrom(at))
      .replace(
        "export function run(code: Uint8Array, n: number): number {",
        "export function run(code: Uint8Array, a: number, n: number): number {",
      )
      .replace('reds: ["acc", "n"],', 'reds: ["acc", "a", "n"],')
      .replace(
        "driver.mergePoint({ code, pc, acc, n });",
        "driver.mergePoint({ code, pc, acc, a, n });",
      )
      .replace("acc = (acc + n) | 0;", "acc = (acc + a) | 0;");
    writeFileSync(join(at, "pair.ts"), source);
    writeFileSync(join(at, "mul.bin"), Uint8Array.of(1, 2, 3, 5));
    expect((await futamura(at, "generate", "pair.ts")).code).toBe(0);
    for (const backend of BACKENDS)
      expect(
        await futamura(at, "run", "pair.ts", "mul.bin", "7", "6", "--backend", backend),
        backend,
      ).toEqual({
        code: 0,
        out: "42\n",
        err: "",
      });
    const one = await futamura(at, "run", "pair.ts", "mul.bin", "7");
    expect(one).toEqual({
      code: 2,
      out: "",
      err: "usage: pair programs take 2 integer arguments\n",
    });
    const f = await futamura(at, "fuzz", "pair.ts", "--count", "100");
    expect(f.code, f.err).toBe(0);
    expect(f.out).toMatch(/: 100 programs, .*: all agree/);
  }, 300_000);

  it("refuses stale build products: the interpreter changed since `generate`", async () => {
    const at = folder("stale", {});
    writeFileSync(join(at, "acc.ts"), accumulator(hintsFrom(at)));
    writeFileSync(join(at, "p.bin"), Uint8Array.of(1, 5));
    expect((await futamura(at, "generate", "acc.ts")).code).toBe(0);
    writeFileSync(
      join(at, "acc.ts"),
      accumulator(hintsFrom(at)).replace("acc = (acc + n) | 0;", "acc = (acc + n + 1) | 0;"),
    );
    expect(await futamura(at, "run", "acc.ts", "p.bin", "4", "--backend", "interp")).toEqual({
      code: 0,
      out: "5\n",
      err: "",
    });
    for (const backend of BACKENDS.filter((b) => b !== "interp")) {
      const r = await futamura(at, "run", "acc.ts", "p.bin", "4", "--backend", backend);
      expect(r.code, backend).toBe(2);
      expect(r.out).toBe("");
      expect(r.err).toMatch(/was made from another version of acc\.ts .*futamura generate/);
    }
    expect((await futamura(at, "check", "acc.ts")).code).toBe(1);
  }, 120_000);

  it("names what is wrong with a path that is not an interpreter", async () => {
    const at = folder("wrong", {
      "two.ts": "export function a() { return 1; }\nexport function b() { return 2; }\n",
      "notes.txt": "hello",
    });
    writeFileSync(join(at, "p.bin"), Uint8Array.of(1));
    const cases: [string, RegExp][] = [
      [
        "nowhere.ts",
        /^nowhere\.ts: no such interpreter \(neither a file nor one of tlr, tl, tlc, bf\)\n$/,
      ],
      [".", /^\.: is a directory; name the interpreter's \.ts file\n$/],
      ["notes.txt", /^notes\.txt: an interpreter is a \.ts file\n$/],
      [
        "two.ts",
        /^two\.ts: exports several functions \(a, b\), none reaching a driver's merge point; name the entry in a futamura\.ts/,
      ],
    ];
    // A descriptor that says something wrong: named, not a crash.
    const bad = folder("wrong/described", {
      "futamura.ts": 'export const languages = { x: { source: "./x.ts", convention: "ints" } };\n',
      "x.ts": "export function run(code: Uint8Array): number {\n  return 0;\n}\n",
    });
    const d = await futamura(bad, "run", "x.ts", "../p.bin", "--backend", "interp");
    expect(d.code).toBe(2);
    expect(d.err).toMatch(/futamura\.ts: languages\.x: `convention` is neither "int" nor "bytes"/);
    // A project whose package.json does not say "type": "module".
    const cjs = folder("wrong/commonjs", {
      "package.json": "{}",
      "one.ts": "export function a() {}\n",
    });
    const r = await futamura(cjs, "run", "one.ts", "../p.bin", "--backend", "interp");
    // Fuzzing a language never generated: said at once (exit 2), not a crash per program.
    writeFileSync(
      join(at, "fine.ts"),
      "export function run(code: Uint8Array): number {\n  return 0;\n}\n",
    );
    const f = await futamura(at, "fuzz", "fine.ts", "--count", "3");
    expect(f.code).toBe(2);
    expect(f.err).toMatch(/fine\.graphs.*futamura generate/);
    for (const backend of BACKENDS.filter((b) => b !== "interp")) {
      const r = await futamura(at, "run", "fine.ts", "p.bin", "--backend", backend);
      expect(r.code, backend).toBe(2);
      expect(r.err, backend).toMatch(/does not exist; run `futamura generate` to make it\n$/);
    }
    expect(r.err).toMatch(
      /^one\.ts: interpreters are ES modules: add "type": "module" to .*package\.json/,
    );
    for (const [spec, message] of cases) {
      const r = await futamura(at, "run", spec, "p.bin", "1", "--backend", "interp");
      expect(r.code, spec).toBe(2);
      expect(r.err, spec).toMatch(message);
    }
  }, 60_000);
});
