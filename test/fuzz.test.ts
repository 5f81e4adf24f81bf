// The differential fuzzing harness: every backend agrees with interp on random programs, the
// generators give a healthy mix of outcomes, and a wrong backend is caught and reported with
// what reproduces it.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { backends, type Backend } from "../generator/backends.ts";
import { main } from "../generator/cli/main.ts";
import { formatFailure, formatHistogram } from "../generator/fuzz/format.ts";
import { ProgramCache, programDigest, programs } from "../generator/fuzz/generators.ts";
import { fuzz, type FuzzReport } from "../generator/fuzz/harness.ts";
import { TLC_OPS, TL_OPS, TLR_OPS, disassemble, hex } from "../generator/fuzz/ops.ts";
import { InProcess, kind, runOne, type Ran } from "../generator/fuzz/run.ts";
import { WorkerPool } from "../generator/fuzz/workers.ts";
import { x64Supported } from "../runtime/x64/memory.ts";
import { langs } from "../generator/language.ts";
import { VmError, writeByte } from "../runtime/hints.ts";

/** The error messages an interpreter can raise, read from its source. */
function errorKinds(lang: string): string[] {
  const src = readFileSync(langs[lang]!.source, "utf8");
  return [...new Set([...src.matchAll(/new VmError\("([^"]+)"\)/g)].map((m) => `error: ${m[1]}`))];
}

/** A writable stream that keeps what is written to it. */
function sink(): Writable & { text: () => string } {
  const chunks: string[] = [];
  const w = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return Object.assign(w, { text: () => chunks.join("") });
}

/** Runs the CLI; its exit status and what it wrote to stdout and stderr. */
async function cli(...argv: string[]): Promise<{ status: number; out: string; err: string }> {
  const out = sink();
  const err = sink();
  // `main` is typed for process.stdout and process.stderr; any writable stream does.
  const status = await main(argv, out as never, err as never);
  return { status, out: out.text(), err: err.text() };
}

/** Progress lines on stderr (every 10 s by default: whether one comes depends on the time). */
const PROGRESS = /^fuzz \w+ progress: .*\n/gm;

const share = (r: FuzzReport, k: string) => (r.histogram.get(k) ?? 0) / r.count;

describe("instruction tables and disassembly", () => {
  for (const [lang, table] of [
    ["tlr", TLR_OPS],
    ["tl", TL_OPS],
    ["tlc", TLC_OPS],
  ] as const) {
    it(`${lang}: the opcode table matches the assembler`, () => {
      for (const [opcode, [name, operands]] of Object.entries(table)) {
        const fives = Array.from({ length: operands }, () => 5);
        // (a TLC program is its pool, here empty, then its code)
        const code = langs[lang]!.load([name, ...fives].join(" "), "t");
        const pool = lang === "tlc" ? [0] : [];
        expect(Array.from(code)).toEqual([...pool, Number(opcode), ...fives]);
      }
    });

    it(`${lang}: disassembly assembles back to the same bytes`, () => {
      const edge = [[], [0], [255, 1], [2], [3, 200, 7], [20, 0x80, 18]].map((b) =>
        Uint8Array.from(b),
      );
      for (const code of [...edge, ...programs(lang, 3, 300).map((p) => p.code)]) {
        expect(hex(langs[lang]!.load(disassemble(lang, code), "dis"))).toBe(hex(code));
      }
    });

    it(`${lang}: program i of a seed does not depend on the count`, () => {
      const a = programs(lang, 11, 40);
      const b = programs(lang, 11, 80).slice(0, 40);
      expect(b.map((p) => [hex(p.code), p.arg])).toEqual(a.map((p) => [hex(p.code), p.arg]));
    });
  }
});

/** A digest of programs' bytes, arguments, inputs and origins. */
function digest(ps: ReturnType<typeof programs>): string {
  const h = createHash("sha256");
  for (const p of ps)
    h.update(
      JSON.stringify([Array.from(p.code), p.arg, p.input ? Array.from(p.input) : null, p.origin]),
    );
  return h.digest("hex").slice(0, 16);
}

describe("the programs of a seed are fixed", () => {
  // Digests taken before generator/fuzz.ts was split into generator/fuzz/: a seed gives the
  // programs it always gave, so that a failure's seed and index and the seed ranges recorded in
  // the ledger still say what ran. A deliberate change to a generator changes these (and makes
  // the ledger's record describe other programs: start a new ledger).
  it.each([
    ["tlr", 1, 200, "deb9e15b5bc3dfd7"],
    ["tlr", 1000000, 1000, "484f8583e2b2937f"],
    ["tl", 1, 200, "fa017309c23b01c2"],
    ["tl", 1000000, 1000, "67b1bdfba235aaa7"],
    ["bf", 1, 200, "c8af7e770641a3c3"],
    ["bf", 1000000, 1000, "74e6053cde0ff281"],
    ["tlc", 1, 200, "b12778652574b891"],
  ] as const)("%s: seed %d, %d programs", (lang, seed, count, expected) => {
    expect(digest(programs(lang, seed, count))).toBe(expected);
  });
});

describe("brainfuck programs", () => {
  it("bf: disassembly is the program text, and balanced programs load back to the same bytes", () => {
    let balanced = 0;
    for (const p of programs("bf", 3, 300)) {
      const text = disassemble("bf", p.code);
      expect(text.length).toBe(p.code.length);
      let code: Uint8Array;
      try {
        code = langs.bf!.load(text, "dis.b");
      } catch {
        continue; // unbalanced brackets
      }
      balanced++;
      expect(hex(code)).toBe(hex(p.code));
    }
    expect(balanced).toBeGreaterThan(200);
  });

  it("bf: program i of a seed (and its input) does not depend on the count", () => {
    const key = (ps: ReturnType<typeof programs>) =>
      ps.map((p) => [hex(p.code), hex(p.input!), p.origin]);
    expect(key(programs("bf", 11, 80).slice(0, 40))).toEqual(key(programs("bf", 11, 40)));
  });

  it("bf: programs come with inputs, some empty, and read and write bytes", () => {
    const ps = programs("bf", 5, 300);
    expect(ps.every((p) => p.input instanceof Uint8Array && p.arg === 0)).toBe(true);
    expect(ps.some((p) => p.input!.length === 0)).toBe(true);
    expect(ps.filter((p) => p.input!.length > 0).length).toBeGreaterThan(150);
    expect(ps.filter((p) => p.code.includes(44)).length).toBeGreaterThan(50); // ','
    expect(ps.filter((p) => p.code.includes(46)).length).toBeGreaterThan(50); // '.'
    expect(ps.some((p) => p.code.some((b) => ![43, 44, 45, 46, 60, 62, 91, 93].includes(b)))).toBe(
      true,
    );
  });
});

// The backends' agreement on 1,000 programs per language, with a fixed seed.
const COUNT = 1000;
/** Errors the fuzzer's fuel does not reach: TLC's stack holds 65,536 items. */
const UNREACHED: Record<string, string[]> = { tlc: ["error: stack overflow"] };
const FUEL = 5000;
/** Brainfuck runs off the right end of its 30,000-cell tape in about 31,000 steps. */
const BF_FUEL = 35_000;

describe("every backend agrees with interp", () => {
  for (const [lang, seed] of [
    ["tlr", 20250101],
    ["tl", 20250102],
    ["bf", 20250103],
    ["tlc", 20250104],
  ] as const) {
    it(`${lang}: ${COUNT} programs (seed ${seed}) on ${Object.keys(backends)
      .filter((b) => b !== "interp")
      .join(", ")}`, async () => {
      const r = await fuzz({ lang, seed, count: COUNT, fuel: lang === "bf" ? BF_FUEL : FUEL });
      expect(r.backends).not.toContain("interp");
      expect(r.failures.map(formatFailure).join("\n")).toBe("");
      expect(r.count).toBe(COUNT);

      // A healthy histogram: many programs complete, every error of the interpreter occurs,
      // running out of fuel does not dominate, and no outcome is everything.
      const h = formatHistogram(r.histogram);
      expect(share(r, "completed"), h).toBeGreaterThanOrEqual(0.3);
      expect(share(r, "fuel exhausted"), h).toBeGreaterThan(0);
      expect(share(r, "fuel exhausted"), h).toBeLessThan(0.15);
      for (const k of errorKinds(lang))
        if (!UNREACHED[lang]?.includes(k))
          expect(r.histogram.get(k) ?? 0, `${k} never occurs:\n${h}`).toBeGreaterThan(0);
      for (const n of r.histogram.values()) expect(n / r.count, h).toBeLessThan(0.75);
      // Clean programs mostly complete; raw ones mostly fail, though not all at once.
      const clean = r.byOrigin.get("clean")!;
      const cleanTotal = [...clean.values()].reduce((x, y) => x + y, 0);
      expect((clean.get("completed") ?? 0) / cleanTotal, h).toBeGreaterThan(0.8);
      expect(r.byOrigin.get("raw")!.size, h).toBeGreaterThanOrEqual(4);
      if (lang === "bf") {
        // Completed is a good share; both ends of the tape and both brackets go wrong.
        expect(share(r, "completed"), h).toBeGreaterThanOrEqual(0.5);
        for (const k of [
          "error: pointer moved left of the tape",
          "error: pointer moved right of the tape",
          "error: unbalanced brackets: unmatched '['",
          "error: unbalanced brackets: unmatched ']'",
        ])
          expect(r.histogram.get(k) ?? 0, `${k} never occurs:\n${h}`).toBeGreaterThan(0);
      }
    }, 300_000);
  }
});

describe("a wrong backend is caught", () => {
  const offByOne: Backend = {
    name: "off-by-one",
    dumps: [],
    run: (lang, code, arg) => (lang.native(code, arg) + 1) | 0,
  };

  it("reports each disagreement with its seed, index, program and both results", async () => {
    const seed = 42;
    const r = await fuzz({ lang: "tlr", seed, count: 150, backends: [offByOne], fuel: 2000 });
    const completed = r.histogram.get("completed") ?? 0;
    expect(completed).toBeGreaterThan(0);
    expect(r.failures.length).toBe(completed); // exactly the programs that give a value
    const progs = programs("tlr", seed, 150);
    for (const f of r.failures) {
      expect(f.backend).toBe("off-by-one");
      expect(f.seed).toBe(seed);
      // The failure carries what reproduces it: the seed and index give back the bytes.
      expect(hex(progs[f.index]!.code)).toBe(f.hex);
      expect(progs[f.index]!.arg).toBe(f.arg);
      const value = Number(f.expected.replace("value ", ""));
      expect(f.got).toBe(`value ${(value + 1) | 0}`);
      expect(f.program).toBe(disassemble("tlr", progs[f.index]!.code));
    }
    const f = r.failures[0]!;
    const text = formatFailure(f);
    expect(text).toContain(`seed ${seed} index ${f.index}`);
    expect(text).toContain(f.hex);
    expect(text).toContain(f.program.split("\n")[0]);
    expect(text).toContain(`--seed ${seed} --index ${f.index} --backends off-by-one`);
    // The first failures are minimised: RETURN_A alone still disagrees.
    expect(f.minimal?.hex).toBe("06");
  });

  it("catches wrong error messages and crashes, in TL too", async () => {
    const wrongMessage: Backend = {
      name: "wrong-message",
      dumps: [],
      run(lang, code, arg) {
        try {
          return lang.native(code, arg);
        } catch (e) {
          if (e instanceof VmError && e.message === "stack underflow")
            throw new VmError("stack overflow");
          throw e;
        }
      },
    };
    const crashing: Backend = {
      name: "crashing",
      dumps: [],
      run(lang, code, arg) {
        const v = lang.native(code, arg);
        if (v === 0) throw new TypeError("boom");
        return v;
      },
    };
    const r = await fuzz({
      lang: "tl",
      seed: 7,
      count: 150,
      backends: [wrongMessage, crashing],
      fuel: 2000,
      minimize: 0,
    });
    const wm = r.failures.filter((f) => f.backend === "wrong-message");
    expect(wm.length).toBe(r.histogram.get("error: stack underflow"));
    expect(
      wm.every((f) => f.expected === "error: stack underflow" && f.got === "error: stack overflow"),
    ).toBe(true);
    const cr = r.failures.filter((f) => f.backend === "crashing");
    expect(cr.length).toBeGreaterThan(0);
    expect(cr.every((f) => f.expected === "value 0" && f.got === "crash: TypeError: boom")).toBe(
      true,
    );
    expect(kind("crash: TypeError: boom")).toBe("crash");
  });
});

describe("a wrong brainfuck backend is caught", () => {
  it("compares output bytes, and a failure shows the program's input", async () => {
    // Writes one byte too many after a program that completes.
    const extraByte: Backend = {
      name: "extra-byte",
      dumps: [],
      run(lang, code, arg) {
        const v = lang.native(code, arg);
        writeByte(0x21);
        return v;
      },
    };
    const seed = 8;
    const r = await fuzz({ lang: "bf", seed, count: 100, backends: [extraByte], fuel: 35_000 });
    expect(r.failures.length).toBe(r.histogram.get("completed"));
    const progs = programs("bf", seed, 100);
    for (const f of r.failures) {
      expect(f.got).toMatch(/; output ([0-9a-f]{2} )*21$/);
      expect(f.got.startsWith(f.expected.replace(/^completed$/, "completed; output"))).toBe(true);
      expect(f.input).toBe(hex(progs[f.index]!.input!));
      expect(f.program).toBe(String.fromCharCode(...progs[f.index]!.code));
    }
    const f = r.failures.find((x) => x.input !== "")!;
    expect(formatFailure(f)).toContain(`input ${f.input}, fuel 35000`);
  });

  it("runs a program with its input on every backend", async () => {
    const echo = Uint8Array.from("[-],[.[-],]", (c) => c.charCodeAt(0));
    const others = Object.values(backends).filter((b) => b.name !== "interp");
    const r = await runOne(langs.bf!, echo, 0, others, 35_000, Uint8Array.from([0x41, 0x42]));
    expect(r.expected).toBe("completed; output 41 42");
    expect(r.got).toEqual(others.map(() => "completed; output 41 42"));
    expect((await runOne(langs.bf!, echo, 0, [], 35_000)).expected).toBe("completed");
  });

  it("the worker process regenerates each program with its input", async () => {
    const opts = { lang: "bf", seed: 6, count: 40, backends: ["graph"], fuel: 35_000 } as const;
    const inProcess = await fuzz({ ...opts, backends: [...opts.backends] });
    const isolated = await fuzz({ ...opts, backends: [...opts.backends], isolate: true });
    expect(isolated.failures.map(formatFailure).join("\n")).toBe("");
    expect([...isolated.histogram]).toEqual([...inProcess.histogram]);
  });
});

describe("futamura fuzz", () => {
  it("exits 0 and prints the histogram when the backends agree", async () => {
    const r = await cli("fuzz", "tlr", "--count", "60", "--seed", "5", "--backends", "graph");
    expect(r.status).toBe(0);
    expect(r.err.replace(PROGRESS, "")).toBe("");
    expect(r.out).toMatch(/^fuzz tlr: 60 programs, seed 5, fuel 10000, interp vs graph: all agree/);
    expect(r.out).toMatch(/%\s+completed\n/);
  });

  it("exits 1 and prints each failure to stderr when a backend disagrees", async () => {
    backends["off-by-one"] = {
      name: "off-by-one",
      dumps: [],
      run: (lang, code, arg) => (lang.native(code, arg) + 1) | 0,
    };
    try {
      const r = await cli(
        "fuzz",
        "tl",
        "--count",
        "30",
        "--seed",
        "9",
        "--backends",
        "off-by-one",
        "--fuel",
        "1000",
        "--workers",
        "0", // the backend is registered in this process only
      );
      expect(r.status).toBe(1);
      expect(r.err).toMatch(
        /^FAIL tl seed 9 index \d+ .*backend off-by-one disagrees with interp/m,
      );
      expect(r.err).toContain("reproduce: futamura fuzz tl --seed 9 --index");
      expect(r.out).toMatch(/disagreements/);
      expect(r.out).toMatch(/completed/);
    } finally {
      delete backends["off-by-one"];
    }
  });

  it("prints one program, as a file futamura run takes, with --index", async () => {
    const r = await cli("fuzz", "tl", "--seed", "9", "--index", "3", "--backends", "graph");
    expect(r.status).toBe(0);
    const p = programs("tl", 9, 4)[3]!;
    expect(r.out).toContain(
      `program 3 of seed 9 (${p.origin}), arg ${p.arg}, bytes ${hex(p.code) || "(empty)"}`,
    );
    expect(r.out).toMatch(/^# fuzz tl: 1 programs/m);
    // The output is a program file: `futamura run` reruns it.
    expect(hex(langs.tl!.load(r.out, "index.tl"))).toBe(hex(p.code));
  });

  it("rejects bad options with exit 2", async () => {
    expect((await cli("fuzz", "tl", "--backends", "nope")).status).toBe(2);
    expect((await cli("fuzz", "tl", "--count", "x")).status).toBe(2);
    expect((await cli("fuzz")).status).toBe(2);
    expect((await cli("fuzz", "brainfuck")).status).toBe(2);
  });
});

describe("isolation", () => {
  it("a worker process that dies is reported with the program's seed and index, and the run goes on", async () => {
    process.env.FUTAMURA_FUZZ_CRASH = "3";
    try {
      const r = await cli(
        "fuzz",
        "tlr",
        "--count",
        "6",
        "--seed",
        "5",
        "--backends",
        "graph",
        "--isolate",
      );
      expect(r.status).toBe(1);
      expect(r.err).toMatch(/seed 5 index 3\b/);
      expect(r.err).toContain("crash: the worker process died (SIGSEGV)");
      expect(r.out).toMatch(/6 programs.*1 disagreements/);
    } finally {
      delete process.env.FUTAMURA_FUZZ_CRASH;
    }
  });
});

/** Runs `f` with environment variables set (worker processes inherit them). */
async function withEnv<T>(vars: Record<string, string>, f: () => Promise<T>): Promise<T> {
  Object.assign(process.env, vars);
  try {
    return await f();
  } finally {
    for (const k of Object.keys(vars)) delete process.env[k];
  }
}

describe("isolation of native backends", () => {
  it.skipIf(!x64Supported)(
    "a crash under --backends jit alone is reported with its seed and index (jit runs machine code)",
    async () => {
      const r = await withEnv({ FUTAMURA_FUZZ_CRASH: "3" }, () =>
        cli("fuzz", "tl", "--count", "8", "--seed", "11", "--backends", "jit"),
      );
      expect(r.status).toBe(1);
      expect(r.err).toMatch(
        /^FAIL tl seed 11 index 3 \(\w+\): backend jit disagrees with interp$/m,
      );
      expect(r.err).toContain("got (jit): crash: the worker process died (SIGSEGV)");
      expect(r.out).toMatch(/^fuzz tl: 8 programs, seed 11, .*: 1 disagreements/);
    },
  );

  it.skipIf(!x64Supported)("fuzz() runs native backends in a worker by default", async () => {
    const native = Object.values(backends).filter((b) => b.native);
    expect(native.map((b) => b.name)).toEqual(expect.arrayContaining(["jit", "x64"]));
    const r = await fuzz({ lang: "tlr", seed: 3, count: 4, backends: ["x64"] });
    expect(r.workers).toEqual([4]);
    const inProcess = await fuzz({ lang: "tlr", seed: 3, count: 4, backends: ["graph"] });
    expect(inProcess.workers).toEqual([]);
  });

  it("a native backend made in this process runs here by default, and cannot go to a worker", async () => {
    const mine: Backend = { ...backends.graph!, name: "graph (mine)", native: true };
    const r = await fuzz({ lang: "tlr", seed: 3, count: 4, backends: [mine] });
    expect(r.workers).toEqual([]);
    expect(r.failures).toEqual([]);
    await expect(
      fuzz({ lang: "tlr", seed: 3, count: 4, backends: [mine], workers: 1 }),
    ).rejects.toThrow("backend 'graph (mine)' is not registered: it cannot run in a worker");
  });

  it("the watchdog reports a program that never ends like a crash, with seed and index", async () => {
    const r = await withEnv({ FUTAMURA_FUZZ_HANG: "2" }, () =>
      fuzz({ lang: "tlr", seed: 5, count: 4, backends: ["graph"], workers: 1, timeoutMs: 4000 }),
    );
    expect(r.count).toBe(4);
    expect(r.failures.map((f) => [f.seed, f.index, f.backend, f.got])).toEqual([
      [5, 2, "graph", "crash: the worker process was stopped: no result within 4 s"],
    ]);
    // interp's result came before the hang; the run went on in a new worker.
    expect(r.failures[0]!.expected).toMatch(/^(value|error)/);
    expect([...r.histogram.values()].reduce((x, y) => x + y)).toBe(4);
  });
});

describe("workers", () => {
  it("two workers split the work: job j on worker j mod 2, the same programs and results as one process", async () => {
    const lang = langs.bf!;
    const seed = 6;
    const count = 40;
    const others = [backends.graph!];
    const pool = new WorkerPool(lang, 35_000, others, 2, 60_000);
    const alone = new InProcess(lang, 35_000, others);
    const split: Ran[] = [];
    try {
      await Promise.all(
        [0, 1].map(async (slot) => {
          for (let j = slot; j < count; j += 2)
            split[j] = await pool.run(slot, { seed, index: j, count });
        }),
      );
    } finally {
      pool.close();
    }
    const mine = programs("bf", seed, count);
    expect(split.map((r) => r.digest)).toEqual(mine.map(programDigest));
    for (let j = 0; j < count; j++) {
      const one = await alone.run(0, { seed, index: j, count });
      expect(split[j]!.expected).toBe(one.expected);
      expect(split[j]!.got).toEqual(one.got);
    }
  });

  it("a run on two workers reports what a run in this process reports", async () => {
    const opts = { lang: "tl", seed: 9, count: 30, backends: ["graph", "pe"], fuel: 2000 } as const;
    const two = await fuzz({ ...opts, backends: [...opts.backends], workers: 2 });
    const none = await fuzz({ ...opts, backends: [...opts.backends], workers: 0 });
    expect(two.workers).toEqual([15, 15]);
    expect(none.workers).toEqual([]);
    expect([...two.histogram].sort()).toEqual([...none.histogram].sort());
    expect([...two.byOrigin.keys()].sort()).toEqual([...none.byOrigin.keys()].sort());
    expect(two.failures).toEqual(none.failures);
  });

  it("a result of hundreds of kilobytes comes back whole from a worker", () => {
    // `>,-+[..]>-` writes two bytes a step until its fuel runs out: 80,000 bytes of output, a
    // result line of about 1.4 MB on every backend. Written to the pipe with one system call,
    // part of it was taken and the rest lost: the line reached the parent broken (printed as a
    // stray line) and the run waited for the watchdog. Through the command, in a process of its
    // own, as a user runs it (in this process the pipe took the whole line).
    expect(hex(programs("bf", 1000019, 720)[719]!.code)).toBe(
      hex(Uint8Array.from(">,-+[..]>-", (c) => c.charCodeAt(0))),
    );
    const bin = new URL("../generator/futamura.mjs", import.meta.url).pathname;
    const args = ["fuzz", "bf", "--seed", "1000019", "--index", "719", "--workers", "1"];
    const r = spawnSync(process.execPath, [bin, ...args, "--timeout", "30", "--progress", "0"], {
      encoding: "utf8",
      maxBuffer: 1 << 26,
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^# fuzz bf: 1 programs_ .*all agree/m);
  });

  it("a program cache gives program i of a seed whatever was asked before", () => {
    const cache = new ProgramCache("tl", 2);
    const ps = programs("tl", 4, 30);
    for (const [seed, i] of [
      [4, 29],
      [5, 3],
      [4, 0],
      [6, 1],
      [7, 2],
      [4, 17],
    ] as const)
      if (seed === 4) expect(hex(cache.get(seed, i, 10).code)).toBe(hex(ps[i]!.code));
      else cache.get(seed, i);
  });
});

describe("the seed schedule", () => {
  const ledgerIn = (dir: string) => JSON.parse(readFileSync(join(dir, "ledger.json"), "utf8"));

  it("runs accumulate in the ledger and never repeat a seed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fuzz-ledger-"));
    const file = join(dir, "ledger.json");
    const args = ["--backends", "graph", "--ledger", file, "--block", "10", "--workers", "2"];
    const first = await cli("fuzz", "tlr", "--seeds", "2", ...args);
    expect(first.status).toBe(0);
    expect(first.out).toMatch(
      /^fuzz tlr: 20 programs, seeds 1000000-1000001 \(10 each\), .*all agree/,
    );
    expect(first.out).toContain("seeds finished: 1000000-1000001\n");
    // The second run takes the next seeds; an existing ledger keeps its block.
    const second = await cli("fuzz", "tlr", "--seeds", "3", ...args.slice(0, -4), "--block", "50");
    expect(second.status).toBe(0);
    expect(second.out).toContain("seeds finished: 1000002-1000004\n");
    expect(second.out).toContain(
      `ledger ${file}: tlr 50 programs in all (5 seeds, 2 runs), 0 disagreements`,
    );
    const ledger = ledgerIn(dir);
    expect(ledger.block).toBe(10);
    expect(ledger.langs.tlr.next).toBe(1000005);
    expect(ledger.langs.tlr.runs.map((r: { seeds: number[][] }) => r.seeds)).toEqual([
      [[1000000, 1000001]],
      [[1000002, 1000004]],
    ]);
    expect(ledger.langs.tlr.runs[0]).toMatchObject({ programs: 20, disagreements: 0, workers: 2 });
    // Another language has a schedule of its own.
    const bf = await cli("fuzz", "bf", "--seeds", "1", ...args);
    expect(bf.out).toContain("seeds finished: 1000000\n");
    expect(ledgerIn(dir).langs.tlr.next).toBe(1000005);
  });

  it("a seed of the schedule is `--seed S --count <block>`: the same programs and outcomes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fuzz-ledger-"));
    const file = join(dir, "ledger.json");
    const scheduled = await cli(
      "fuzz",
      "tl",
      "--seeds",
      "1",
      "--block",
      "25",
      "--ledger",
      file,
      "--backends",
      "graph",
      "--workers",
      "0",
    );
    const alone = await cli(
      "fuzz",
      "tl",
      "--seed",
      "1000000",
      "--count",
      "25",
      "--backends",
      "graph",
      "--workers",
      "0",
    );
    const histogram = (out: string) =>
      out
        .split("\n")
        .filter((l) => /%/.test(l))
        .join("\n");
    expect(histogram(scheduled.out)).toBe(histogram(alone.out));
    expect(histogram(alone.out)).not.toBe("");
  });

  it("refuses a ledger another live process is using, and options that do not go together", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fuzz-ledger-"));
    const file = join(dir, "ledger.json");
    writeFileSync(`${file}.lock`, String(process.ppid));
    const r = await cli("fuzz", "tlr", "--seeds", "1", "--ledger", file, "--backends", "graph");
    expect(r.status).toBe(2);
    expect(r.err).toContain(`is in use by process ${process.ppid}`);
    expect((await cli("fuzz", "tlr", "--minutes", "1", "--seed", "3")).status).toBe(2);
    expect((await cli("fuzz", "tlr", "--ledger", file)).status).toBe(2);
    expect((await cli("fuzz", "tlr", "--minutes", "x")).status).toBe(2);
  });
});

describe("progress", () => {
  it("prints programs so far, the rate and disagreements on stderr", async () => {
    const r = await cli(
      "fuzz",
      "tlr",
      "--count",
      "20",
      "--seed",
      "5",
      "--backends",
      "graph",
      "--workers",
      "0",
      "--progress",
      "0.000001",
    );
    expect(r.status).toBe(0);
    expect(r.err).toMatch(
      /^fuzz tlr progress: \d+ of 20 \(\d+%\) programs, \d+ programs\/s, 0 disagreements, \d+:\d\d left$/m,
    );
    expect(r.out).toMatch(/all agree \([\d.]+ s, \d+ programs\/s, in this process; interp/);
  });
});
