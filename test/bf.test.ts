// Tests of the Brainfuck interpreter: every command, wrapping, end of input, the pointer and
// bracket errors, output kept before an error, the loader's bracket check, the example programs
// on every backend, and the public corpus in ../shared/programs/bf when it is there.

import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { backends, runProgram, type Outcome } from "../generator/backends.ts";
import { main } from "../generator/cli/main.ts";
import { byteExamples } from "../generator/cli/start.ts";
import { LoadError, langs } from "../generator/language.ts";
import { VmError } from "../runtime/hints.ts";

const bf = langs.bf!;
const root = new URL("../", import.meta.url).pathname;
const corpus = join(root, "../shared/programs/bf/");

const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 255);
const text = (b: Uint8Array): string => String.fromCharCode(...b);

/** Runs raw program bytes (no loader) with `input` on a backend. */
function runRaw(code: Uint8Array, input = "", backend = "interp"): Promise<Outcome> {
  return runProgram(backends[backend]!, bf, code, 0, { input: bytes(input) });
}

/** Loads a program text, then runs it. */
function run(src: string, input = "", backend = "interp"): Promise<Outcome> {
  return runRaw(bf.load(src, "test.b"), input, backend);
}

/** A program, its input, and what it must give: output bytes and, if any, the error. */
interface Case {
  name: string;
  code: Uint8Array;
  input?: string;
  output: number[];
  error?: string;
}

const LEFT = "pointer moved left of the tape";
const RIGHT = "pointer moved right of the tape";

const cases: Case[] = [
  { name: "+ adds one, . writes the cell", code: bytes("+++."), output: [3] },
  { name: "- subtracts one", code: bytes("+++-."), output: [2] },
  { name: "0 - 1 wraps to 255", code: bytes("-."), output: [255] },
  { name: "255 + 1 wraps to 0", code: bytes("-+."), output: [0] },
  { name: "256 additions wrap to 0", code: bytes("+".repeat(256) + ".+."), output: [0, 1] },
  { name: "> and < move the pointer", code: bytes("+>++>+++<.<.>>."), output: [2, 1, 3] },
  { name: "[ skips past its ] when the cell is 0", code: bytes("[+++.]+."), output: [1] },
  {
    name: "] goes back to its [ while the cell is not 0",
    code: bytes("+++[.-]."),
    output: [3, 2, 1, 0],
  },
  { name: "nested loops", code: bytes("+++[>++[>+<-]<-]>>."), output: [6] },
  { name: ", reads a byte", code: bytes(",.,.,."), input: "AB\xff", output: [65, 66, 255] },
  { name: ", reads a zero byte", code: bytes("+,."), input: "\0", output: [0] },
  {
    name: ", at the end of input leaves the cell unchanged",
    code: bytes("+++,.,."),
    output: [3, 3],
  },
  {
    name: ", after the input runs out leaves the cell unchanged",
    code: bytes(",.+,.,."),
    input: "A",
    output: [65, 66, 66],
  },
  {
    name: "every other byte is a comment",
    code: Uint8Array.from([...bytes("a+b\n+ c\xff"), 0, 1, 127, 128, 200, ...bytes("xyz.")]),
    output: [2],
  },
  { name: "the empty program", code: bytes(""), output: [] },
  { name: "moving left of the tape", code: bytes("<"), output: [], error: LEFT },
  { name: "moving left after moving right", code: bytes(">><<<"), output: [], error: LEFT },
  { name: "output before an error is kept", code: bytes("+.+.<."), output: [1, 2], error: LEFT },
  {
    name: "moving right of the tape (cell 29999 is the last)",
    code: bytes("+[>+]"),
    output: [],
    error: RIGHT,
  },
  {
    name: "output before running off the right end is kept",
    code: bytes("++.[>+.]"),
    output: [2, ...Array(29999).fill(1)],
    error: RIGHT,
  },
  // Raw bytes, as compiled code would be given them: the interpreter's own bracket check.
  {
    name: "an unmatched ] in raw bytes",
    code: bytes("+.]"),
    output: [],
    error: "unbalanced brackets: unmatched ']'",
  },
  {
    name: "an unmatched [ in raw bytes",
    code: bytes("+.[[]"),
    output: [],
    error: "unbalanced brackets: unmatched '['",
  },
  {
    name: "] before [ in raw bytes",
    code: bytes("][+"),
    output: [],
    error: "unbalanced brackets: unmatched ']'",
  },
];

/** The example programs with an input and the output they must give (shared with npm start). */
const programs = byteExamples().filter((e) => e.lang === "bf");

function program(file: string): Uint8Array {
  const path = "interpreters/programs/" + file;
  return bf.load(readFileSync(root + path, "latin1"), path);
}

describe("the bf commands (interp)", () => {
  for (const c of cases)
    it(c.name, async () => {
      const r = await runRaw(c.code, c.input);
      expect(Array.from(r.output)).toEqual(c.output);
      expect(r.error).toBe(c.error);
      if (c.error === undefined) expect(r.value).toBe(0);
    });

  it("the tape has 30,000 cells: the pointer reaches cell 29999 and no further", async () => {
    const ok = await run(">".repeat(29999) + "+.");
    expect([ok.error, Array.from(ok.output)]).toEqual([undefined, [1]]);
    const off = await run("+." + ">".repeat(30000) + "+.");
    expect([off.error, Array.from(off.output)]).toEqual([RIGHT, [1]]);
  });

  it("cells start at 0 all along the tape", async () => {
    expect(Array.from((await run("+[>[+.]+]")).output)).toEqual([]); // never prints: every cell is 0
  });

  it("the interpreter's errors are VmErrors", () => {
    expect(() => bf.native(bytes("<"), [])).toThrow(VmError);
    expect(() => bf.native(bytes("["), [])).toThrow(
      new VmError("unbalanced brackets: unmatched '['"),
    );
  });
});

describe("the bf loader", () => {
  it("gives the bytes of the file, comments included", () => {
    expect(Array.from(bf.load("a+\xff[-]", "t.b"))).toEqual([97, 43, 255, 91, 45, 93]);
  });

  it("reports an unmatched ] at its line and column", () => {
    expect(() => bf.load("+[\n>]]", "t.b")).toThrow(new LoadError("t.b:2:3: unmatched ']'"));
    expect(() => bf.load("]", "t.b")).toThrow(new LoadError("t.b:1:1: unmatched ']'"));
  });

  it("reports an unmatched [ at its line and column (the outermost one left open)", () => {
    expect(() => bf.load("ab\n [[+]", "t.b")).toThrow(new LoadError("t.b:2:2: unmatched '['"));
    expect(() => bf.load("[]\n\n  [ [", "t.b")).toThrow(new LoadError("t.b:3:3: unmatched '['"));
  });

  it("makes the CLI exit 2 with file:line:col", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bf-"));
    const file = join(dir, "bad.b");
    writeFileSync(file, "Loop\n  +[>+\n");
    let out = "";
    let err = "";
    const status = await main(
      ["run", "bf", file],
      { write: (s: string) => ((out += s), true) } as never,
      {
        write: (s: string) => ((err += s), true),
      } as never,
    );
    expect([status, out, err]).toEqual([2, "", `${file}:2:4: unmatched '['\n`]);
  });
});

describe("the example programs", () => {
  it("have comments without command characters (the code is what the test expects)", () => {
    for (const p of new Set(programs.map((p) => p.file))) {
      const src = readFileSync(root + "interpreters/programs/" + p, "latin1");
      for (const line of src.split("\n"))
        if (/[a-z]/i.test(line))
          expect(line, `${p}: a comment line with a command`).not.toMatch(/[-+<>[\].,]/);
    }
  });
});

// Every backend must agree with the expected results. The compiled backends are run on the
// command cases and the example programs (the specialiser handles each in well under a second).
for (const name of Object.keys(backends)) {
  describe(`bf on the ${name} backend`, () => {
    for (const p of programs)
      it(`${p.file}${p.input !== undefined ? ` with input ${JSON.stringify(p.input)}` : ""}`, async () => {
        const r = await runRaw(program(p.file), p.input, name);
        expect(text(r.output)).toBe(p.output);
        expect(r.error).toBe(p.error);
        expect(r.stats.fallback).toBeUndefined();
      });

    if (name !== "interp")
      for (const c of cases)
        it(c.name, async () => {
          const r = await runRaw(c.code, c.input, name);
          expect(Array.from(r.output)).toEqual(c.output);
          expect(r.error).toBe(c.error);
          expect(r.stats.fallback).toBeUndefined();
        });
  });
}

describe.skipIf(!existsSync(corpus))("the public corpus (../shared/programs/bf)", () => {
  const load = (file: string) => bf.load(readFileSync(corpus + file, "latin1"), corpus + file);

  // About a billion steps: 10 s natively. The other backends take minutes (see the report).
  it("bench.b prints the alphabet backwards (interp)", async () => {
    const r = await runRaw(load("bench.b"));
    expect([r.error, text(r.output)]).toEqual([undefined, "ZYXWVUTSRQPONMLKJIHGFEDCBA\n"]);
  }, 120_000);

  // About ten billion steps: 30 s to well over a minute natively, so it runs in a child process
  // (the CLI, on interp): a test that blocks its worker that long loses vitest's RPC.
  it.skipIf(process.env.FUTAMURA_SLOW !== "1")(
    "mandelbrot.b draws the set (interp; FUTAMURA_SLOW=1)",
    async () => {
      const out = await new Promise<Buffer>((resolve, reject) => {
        const child = execFile(
          process.execPath,
          [root + "generator/futamura.mjs", "run", "bf", corpus + "mandelbrot.b"],
          { encoding: "buffer", maxBuffer: 1 << 20 },
          (e, stdout, stderr) =>
            e ? reject(new Error(`${e.message}\n${stderr.toString()}`)) : resolve(stdout),
        );
        child.stdin?.end();
      });
      expect(out.length).toBe(6240);
      expect(createHash("md5").update(out).digest("hex")).toBe("5024283fa65866ddd347b877798e84d8");
    },
    600_000,
  );
});

if (!existsSync(corpus))
  describe("the public corpus", () => it.skip(`skipped: ${corpus} is absent`, () => {}));
