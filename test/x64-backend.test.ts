// The x64 backend runs real machine code: it must give exactly what interp gives (values, error
// messages, output, the step where fuel runs out), every operation must mean what the opcode
// table says bit for bit (compared with `fold` and with L3), and its memory must stay W^X.

import { readFileSync } from "node:fs";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { backends, runProgram, type Backend } from "../generator/backends.ts";
import { nativeFactory, runJit } from "../generator/compiled.ts";
import { examples } from "../generator/cli/start.ts";
import { langs, type Lang, graphsOf } from "../generator/language.ts";
import { getFuel, setFuel, setIo } from "../runtime/hints.ts";
import { OPS } from "../runtime/ir/ops.ts";
import { parseModule } from "../runtime/ir/parse.ts";
import type { Graph } from "../runtime/ir/types.ts";
import { L3 } from "../runtime/l3.ts";
import { specialise } from "../runtime/specialiser/pe.ts";
import { x64Supported } from "../runtime/x64/memory.ts";
import { perfMap } from "../runtime/x64/disasm.ts";
import { Program } from "../runtime/jit.ts";
import { defaultPolicy } from "../runtime/specialiser/policy.ts";
import { NativeModule } from "../runtime/x64/native.ts";
import { randomModule } from "./x64-random.ts";

const root = new URL("../", import.meta.url).pathname;
const INT_MIN = -0x80000000;
const INT_MAX = 0x7fffffff;
const x64 = backends.x64!;
/** The x64 backend, synchronously (the backend itself loads its machinery when first used). */
const x64Now: Backend = {
  ...x64,
  run: (lang, code, arg, opts, stats) => runJit(lang, code, arg, opts, stats, { target: "x64" }),
};

const load = (lang: string, file: string): Uint8Array =>
  langs[lang]!.load(readFileSync(root + file, "latin1"), file);

/** What a run gives, as comparable text. */
async function outcome(
  b: Backend,
  lang: Lang,
  code: Uint8Array,
  arg: number,
  opts: { fuel?: number; input?: Uint8Array } = {},
) {
  const r = await runProgram(b, lang, code, arg, opts);
  return { value: r.value, error: r.error, output: Buffer.from(r.output).toString("latin1") };
}

/** Runs a backend directly with a budget; its outcome and the fuel left. */
function withFuel(
  b: Backend,
  lang: Lang,
  code: Uint8Array,
  arg: number,
  fuel: number,
): [string, number] {
  setFuel(fuel);
  try {
    return [`value ${b.run(lang, code, [arg], { fuel }, {})}`, getFuel()];
  } catch (e) {
    return [`error ${(e as Error).message}`, getFuel()];
  } finally {
    setFuel(undefined);
  }
}

const title = x64Supported
  ? "x64 backend"
  : "x64 backend: SKIPPED, machine code needs x86-64 Linux";

describe.skipIf(!x64Supported)(title, () => {
  it("gives what interp gives on every example program, with and without fuel", async () => {
    for (const ex of examples()) {
      const lang = langs[ex.lang]!;
      const code = load(ex.lang, ex.file);
      for (const fuel of [undefined, 0, 1, 7, 50, 100_000]) {
        const want = await outcome(backends.interp!, lang, code, ex.arg, { fuel });
        expect(
          await outcome(x64, lang, code, ex.arg, { fuel }),
          `${ex.file} ${ex.arg} fuel ${fuel}`,
        ).toEqual(want);
      }
      if (ex.expect.startsWith("error: "))
        expect((await outcome(x64, lang, code, ex.arg)).error).toBe(ex.expect.slice(7));
      else expect((await outcome(x64, lang, code, ex.arg)).value).toBe(Number(ex.expect));
    }
  });

  it("runs out of fuel at exactly the step interp does, and leaves the same fuel", () => {
    for (const [lang, file, arg] of [
      ["tl", "loop.tl", 30],
      ["tl", "call.tl", 4],
      ["tl", "factorial.tl", 6],
      ["tlr", "square.tlr", 9],
    ] as const) {
      const code = load(lang, "interpreters/programs/" + file);
      for (let fuel = 0; fuel <= 80; fuel++) {
        expect(withFuel(x64Now, langs[lang]!, code, arg, fuel), `${file} fuel ${fuel}`).toEqual(
          withFuel(backends.interp!, langs[lang]!, code, arg, fuel),
        );
      }
    }
  });

  it("wraps on overflow as interp does", async () => {
    const cases = [
      ["tl", "loop.tl", 1_000_000],
      ["tl", "factorial.tl", 13],
      ["tl", "factorial.tl", 20],
      ["tlr", "square.tlr", 46341],
      ["tlr", "square.tlr", 65536],
    ] as const;
    for (const [lang, file, arg] of cases) {
      const code = load(lang, "interpreters/programs/" + file);
      expect(await outcome(x64, langs[lang]!, code, arg), `${file} ${arg}`).toEqual(
        await outcome(backends.interp!, langs[lang]!, code, arg),
      );
    }
  });

  it("divides as TL does: INT_MIN / -1 is INT_MIN, division by zero is TL's error", async () => {
    const tl = langs.tl!;
    const divide = tl.load("PUSHARG\nPUSH -1\nDIV\nRETURN\n", "div.tl");
    const byArg = tl.load("PUSH 100\nPUSHARG\n.byte 11\nRETURN\n", "div.tl"); // .byte 11 is DIV
    for (const arg of [INT_MIN, INT_MAX, -1, 0, 7, -7]) {
      for (const code of [divide, byArg])
        expect(await outcome(x64, tl, code, arg), `arg ${arg}`).toEqual(
          await outcome(backends.interp!, tl, code, arg),
        );
    }
    expect((await outcome(x64, tl, divide, INT_MIN)).value).toBe(INT_MIN);
    expect((await outcome(x64, tl, byArg, 0)).error).toBe("division by zero");
  });

  it("recurses to TL's call depth limit on the native stack", async () => {
    const tl = langs.tl!;
    const forever = tl.load("start:\n  CALL start\n  RETURN\n", "rec.tl");
    const counting = tl.load(
      "start:\n  PUSHARG\n  PUSH 1\n  ADD\n  PUSH 7\n  PUSH 8\n  CALL start\n  ADD\n  ADD\n  RETURN\n",
      "rec.tl",
    );
    for (const code of [forever, counting]) {
      const want = await outcome(backends.interp!, tl, code, 0);
      expect(want.error).toBe("call depth exceeded");
      expect(await outcome(x64, tl, code, 0)).toEqual(want);
    }
  });

  it("runs Brainfuck with input and output, and its errors", async () => {
    const bf = langs.bf!;
    const input = new TextEncoder().encode("futamura\n");
    for (const f of ["hello.b", "wrap.b", "nested.b", "left.b", "cat.b", "rev.b"]) {
      const code = load("bf", "interpreters/programs/" + f);
      const want = await outcome(backends.interp!, bf, code, 0, { input });
      expect(await outcome(x64, bf, code, 0, { input }), f).toEqual(want);
      expect(await outcome(x64, bf, code, 0, { input, fuel: 300 }), `${f} fuel 300`).toEqual(
        await outcome(backends.interp!, bf, code, 0, { input, fuel: 300 }),
      );
    }
    expect(
      (await outcome(x64, bf, load("bf", "interpreters/programs/rev.b"), 0, { input })).output,
    ).toBe("\narumatuf");
  });

  it("agrees with interp on 150 random Brainfuck programs (I/O, wrapping, tape errors, fuel)", async () => {
    let seed = 12345;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const input = new TextEncoder().encode("hello");
    for (let i = 0; i < 150; i++) {
      let text = "";
      let depth = 0;
      for (let n = 5 + Math.floor(rnd() * 60); n > 0; n--) {
        const r = rnd();
        if (r < 0.1 && depth < 4) ((text += "["), depth++);
        else if (r < 0.2 && depth > 0) ((text += "]"), depth--);
        else text += "+-<>.,++>>"[Math.floor(rnd() * 10)];
      }
      const code = langs.bf!.load(text + "]".repeat(depth), "random.b");
      const opts = { fuel: 3000, input };
      expect(await outcome(x64, langs.bf!, code, 0, opts), text).toEqual(
        await outcome(backends.interp!, langs.bf!, code, 0, opts),
      );
    }
  });

  describe("every operation of the opcode table, bit for bit", () => {
    const INTS = [
      0,
      1,
      -1,
      2,
      -2,
      5,
      -7,
      31,
      32,
      33,
      63,
      255,
      256,
      INT_MIN,
      INT_MIN + 1,
      INT_MAX,
      0x12345678,
      -0x12345679,
    ];
    const BOOLS = [false, true];
    const lit = (v: number | boolean) => String(v);
    // (The operations on objects: test/objects.test.ts, containers.test.ts and the TLC tests.)
    const scalar = (i: (typeof OPS)[string]) =>
      i.args !== "variadic" && i.args.every((t) => t === "i32" || t === "bool");
    for (const [name, info] of Object.entries(OPS).filter(([, i]) => i.fold && scalar(i))) {
      it(name, () => {
        const types = info.args as ("i32" | "bool")[];
        const values = (t: string) => (t === "bool" ? BOOLS : INTS);
        const ret = info.ret as string;
        // One graph with variables only, and one per constant on either side (immediate forms).
        const graphs: {
          name: string;
          text: string;
          run: (x: number | boolean, y: number | boolean) => (number | boolean)[];
        }[] = [];
        const params = types.map((t, i) => `p.${i}: ${t}`).join(", ");
        const body = (args: string) => `  v.9: ${ret} = ${name} ${args}\n  return v.9`;
        graphs.push({
          name: "vv",
          text: `func @vv -> ${ret} {\nb0(${params}):\n${body(types.map((_, i) => `p.${i}`).join(", "))}\n}`,
          run: (x, y) => (types.length === 1 ? [x] : [x, y]),
        });
        if (types.length === 2) {
          values(types[1]!).forEach((c, k) =>
            graphs.push({
              name: `vc${k}`,
              text: `func @vc${k} -> ${ret} {\nb0(p.0: ${types[0]}):\n${body(`p.0, ${lit(c)}`)}\n}`,
              run: (x) => [x],
            }),
          );
          values(types[0]!).forEach((c, k) =>
            graphs.push({
              name: `cv${k}`,
              text: `func @cv${k} -> ${ret} {\nb0(p.1: ${types[1]}):\n${body(`${lit(c)}, p.1`)}\n}`,
              run: (_, y) => [y],
            }),
          );
        }
        const native = new NativeModule(parseModule(graphs.map((g) => g.text).join("\n\n")), {
          check: true,
        });
        try {
          const wrong: string[] = [];
          for (const x of values(types[0]!)) {
            for (const y of types.length === 2 ? values(types[1]!) : [0]) {
              const want = info.fold!(x, y);
              for (const g of graphs) {
                if (g.name.startsWith("vc") && values(types[1]!)[Number(g.name.slice(2))] !== y)
                  continue;
                if (g.name.startsWith("cv") && values(types[0]!)[Number(g.name.slice(2))] !== x)
                  continue;
                const s = native.run(g.name, g.run(x, y));
                if (s.k !== "return" || s.value !== want)
                  wrong.push(`${g.name}(${x}, ${y}): ${JSON.stringify(s)}, want ${want}`);
              }
            }
          }
          expect(wrong.slice(0, 5)).toEqual([]);
        } finally {
          native.free();
        }
      });
    }
  });

  it("int_div and int_mod never fault: 0 for a zero divisor, INT_MIN / -1 = INT_MIN, % -1 = 0", () => {
    const m = parseModule(`
func @div -> i32 {
b0(a.0: i32, b.1: i32):
  v2: i32 = int_div a.0, b.1
  return v2
}

func @mod -> i32 {
b0(a.0: i32, b.1: i32):
  v2: i32 = int_mod a.0, b.1
  return v2
}
`);
    const native = new NativeModule(m, { check: true });
    for (const [a, b, div, mod] of [
      [INT_MIN, -1, INT_MIN, 0],
      [7, 0, 0, 0],
      [INT_MIN, 0, 0, 0],
      [-7, 2, -3, -1],
      [7, -1, -7, 0],
      [INT_MAX, -1, -INT_MAX, 0],
    ]) {
      expect(native.run("div", [a!, b!])).toEqual({ k: "return", value: div });
      expect(native.run("mod", [a!, b!])).toEqual({ k: "return", value: mod });
    }
    native.free();
  });

  it("agrees with L3 on 200 random modules (spills, stack arguments, arrays, raises)", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const { module, args } = randomModule(seed);
      const native = new NativeModule(module, { check: true });
      for (const a of args)
        expect(native.run("main", a), `seed ${seed} args ${a}`).toEqual(
          new L3(module).run("main", a),
        );
      native.free();
    }
  });

  describe("arrays, exits and the native limits", () => {
    const m = parseModule(`
func @make -> i32 {
b0(n.0: i32, i.1: i32, v.2: i32):
  a.3: u8[] = new_array<u8[]> n.0
  array_set a.3, i.1, v.2
  v.4: i32 = array_get a.3, i.1
  v.5: i32 = array_len a.3
  v.6: i32 = int_add v.4, v.5
  return v.6
}

func @fresh -> i32 {
b0(n.0: i32):
  a.1: i32[] = new_array<i32[]> 4
  v.2: i32 = array_get a.1, 3
  array_set a.1, 3, n.0
  return v.2
}

func @calls -> i32 {
b0(n.0: i32):
  jump b1(n.0, 0)
b1(k.1: i32, s.2: i32):
  v.3: bool = int_gt k.1, 0
  branch v.3, b2, b3
b2:
  v.4: i32 = call<fresh> k.1
  v.5: i32 = int_add s.2, v.4
  v.6: i32 = int_sub k.1, 1
  jump b1(v.6, v.5)
b3:
  return s.2
}

func @deep -> i32 {
b0(n.0: i32):
  v.1: i32 = int_add n.0, 1
  v.2: i32 = call<deep> v.1
  return v.2
}

func @leave -> i32 {
b0(a.0: i32, b.1: i32):
  exit 7(a.0, b.1, 5)
}
`);
    const native = x64Supported ? new NativeModule(m, { check: true }) : undefined!;

    it("u8 items keep the low 8 bits; loads zero-extend; lengths", () => {
      expect(native.run("make", [10, 3, 0x1ff])).toEqual({ k: "return", value: 0xff + 10 });
      expect(native.run("make", [1, 0, -1])).toEqual({ k: "return", value: 256 });
    });

    it("a negative length raises L3's message", () => {
      expect(native.run("make", [-1, 0, 0])).toEqual({ k: "raise", msg: "invalid array length" });
      expect(new L3(m).run("make", [-1, 0, 0])).toEqual({
        k: "raise",
        msg: "invalid array length",
      });
    });

    it("new arrays are zero-filled although the memory of returned frames is reused", () => {
      // Each call allocates 4 items, reads item 3 (0 if fresh), then writes to it.
      expect(native.run("calls", [100_000])).toEqual({ k: "return", value: 0 });
    });

    it("arena exhaustion and native stack exhaustion are clean errors", () => {
      const small = new NativeModule(m, { heapBytes: 1 << 20 });
      expect(() => small.run("make", [100_000_000, 0, 0])).toThrow(
        /heap of 1048576 bytes is exhausted/,
      );
      expect(small.run("make", [1000, 0, 0])).toEqual({ k: "return", value: 1000 });
      small.free();
      expect(() => native.run("deep", [0])).toThrow(/native stack exhausted/);
      expect(native.run("make", [10, 3, 4])).toEqual({ k: "return", value: 14 }); // still usable
    });

    it("an exit returns its status and state", () => {
      const s = native.run("leave", [-3, 9]);
      expect(s.k).toBe("exit");
      if (s.k === "exit") {
        expect(s.status).toBe(7);
        expect(s.state).toEqual([-3, 9, 5]);
      }
    });
  });

  describe("promotions: continuations resolved while machine code waits", () => {
    // `count` exits with the parity of n and n - 1 until n is 0; each continuation does the
    // same (one per parity), adding its value: a loop through promotions, one per trip.
    const m = parseModule(`
func @count -> i32 {
b0(n.0: i32):
  v.1: i32 = int_and n.0, 1
  exit 0(v.1, n.0, 0)
}

func @wide -> i32 {
b0(a.0: i32):
  exit 1(a.0, a.0, 1, 2, 3, 4, 5, 6, 7)
}
`);
    const resumed = (g: Graph) => ({ name: g.name, graphs: [g], perValue: true });
    const continuation = (status: number, value: number) => {
      if (status === 1) {
        const ps = Array.from({ length: 8 }, (_, i) => `p.${i}: i32`).join(", ");
        return parseModule(
          `func @wide$${value} -> i32 {\nb0(${ps}):\n  v.8: i32 = int_add p.0, p.7\n  v.9: i32 = int_mul v.8, ${value}\n  return v.9\n}`,
        ).graphs[0]!;
      }
      if (value > 1) throw new Error(`no continuation for ${value}`);
      return parseModule(`
func @count$${value} -> i32 {
b0(n.0: i32, s.1: i32):
  v.2: i32 = int_add s.1, ${value}
  v.3: i32 = int_sub n.0, 1
  v.4: bool = int_le v.3, 0
  branch v.4, b1, b2
b1:
  return v.2
b2:
  v.5: i32 = int_and v.3, 1
  exit 0(v.5, v.3, v.2)
}`).graphs[0]!;
    };

    it("one continuation per value, tail-called: a long loop through promotions keeps the stack flat", () => {
      const native = new NativeModule(m, {
        check: true,
        continuation: (s, v) => resumed(continuation(s, v)),
      });
      expect(native.run("count", [7])).toEqual({ k: "return", value: 4 });
      expect(native.run("count", [300_000])).toEqual({ k: "return", value: 150_000 });
      expect(native.continuations).toBe(2);
      native.free();
    });

    it("continuations go into the module's chunk of executable memory, after its code", () => {
      const native = new NativeModule(m, { continuation: (s, v) => resumed(continuation(s, v)) });
      expect(native.run("count", [300_000])).toEqual({ k: "return", value: 150_000 });
      expect(native.continuations).toBe(2);
      const [main, ...rest] = native.compilations;
      for (const b of rest) {
        expect(b.code).toBe(main!.code);
        expect(b.at % 16).toBe(0);
      }
      expect(rest[0]!.at).toBeGreaterThanOrEqual(main!.size);
      expect(rest[1]!.at).toBeGreaterThanOrEqual(rest[0]!.at + rest[0]!.size);
      native.free();
    });

    it("a continuation that does not fit in the chunk starts one of its own, with its stubs", () => {
      const native = new NativeModule(m, {
        check: true,
        chunkRoom: 1,
        continuation: (s, v) => resumed(continuation(s, v)),
      });
      // The continuations' exits reach JS through their own chunks' exit thunks.
      expect(native.run("count", [300_000])).toEqual({ k: "return", value: 150_000 });
      const chunks = new Set(native.compilations.map((b) => b.code));
      expect(chunks.size).toBe(3);
      expect(native.compilations.every((b) => b.at === 0)).toBe(true);
      expect(native.run("wide", [5])).toEqual({ k: "return", value: 60 });
      native.free();
    });

    it("more state than argument registers: an ordinary call", () => {
      const native = new NativeModule(m, {
        check: true,
        continuation: (s, v) => resumed(continuation(s, v)),
      });
      expect(native.run("wide", [5])).toEqual({ k: "return", value: 60 });
      native.free();
    });

    it("a continuation that cannot be made ends the run with its error", () => {
      const native = new NativeModule(m, {
        continuation: (s, v) => resumed(v === 0 ? continuation(s, 5) : continuation(s, v)),
      });
      expect(() => native.run("count", [4])).toThrow(/no continuation for 5/);
      expect(native.run("wide", [1])).toEqual({ k: "return", value: 8 }); // still usable
      native.free();
    });

    it("without a resolver an exit leaves to JS with its state", () => {
      const native = new NativeModule(m);
      expect(native.run("count", [9])).toEqual({ k: "exit", status: 0, state: [1, 9, 0] });
      native.free();
    });
  });

  it("keeps none of its pages writable and executable while compiled code runs", () => {
    const wx = () =>
      readFileSync("/proc/self/maps", "utf8")
        .trim()
        .split("\n")
        .map((l) => l.split(/\s+/) as [string, string])
        .filter(([, perms]) => perms[1] === "w" && perms[2] === "x")
        .map(([range]) => range);
    const before = new Set(wx());
    const code = langs.bf!.load(",.", "read.b");
    const spec = specialise(graphsOf(langs.bf!), "run", [{ k: "a", arr: code, type: "u8[]" }]);
    const native = new NativeModule(spec.module);
    let during: string[] = [];
    let ours = "";
    setIo({
      read: () => {
        during = wx();
        const start = native.code.address;
        const end = start + BigInt(native.code.capacity);
        ours = readFileSync("/proc/self/maps", "utf8")
          .split("\n")
          .filter((l) => {
            const [s, e] = (l.split(" ")[0] ?? "").split("-").map((x) => BigInt("0x" + (x || "0")));
            return s! < end && e! > start;
          })
          .map((l) => l.split(/\s+/)[1])
          .join(" ");
        return 65;
      },
      write: () => {},
    });
    try {
      expect(native.run("run", [code]).k).toBe("return");
    } finally {
      setIo({ read: () => -1, write: () => {} });
      native.free();
    }
    expect(ours).toMatch(/^r-x/);
    // V8 itself may map a writable and executable page for its own code while the program
    // runs (a 256 KB code page): it stays after ours are freed. Regions that came during the
    // run and went with `free()` were the module's, and there must be none.
    const range = (r: string) => r.split("-").map((x) => BigInt("0x" + x)) as [bigint, bigint];
    const after = wx().map(range);
    const came = during.filter((r) => !before.has(r)).map(range);
    const went = came.filter(([s, e]) => !after.some(([as, ae]) => as <= s && e <= ae));
    expect(went).toEqual([]);
  });

  it("dumps the machine code, each instruction with its residual operation", async () => {
    const chunks: string[] = [];
    const log = new Writable({ write: (c, _e, done) => (chunks.push(String(c)), done()) });
    const r = await runProgram(x64, langs.tl!, load("tl", "interpreters/programs/loop.tl"), 10, {
      dump: "asm",
      log,
    });
    expect(r.value).toBe(55);
    const text = chunks.join("");
    expect(text).toMatch(/^func @execute\$1:$/m);
    // (with where it comes from: the program position and the interpreter's line)
    expect(text).toMatch(
      /^\s+[0-9a-f]+:\s+add \w+,\w+\s+; at @0,\d+ {2}line \d+ {2}v\d+: i32 = int_add/m,
    );
    expect(text).toMatch(/; branch v\d+, b\d+, b\d+/);
    expect(r.stats.codeBytes).toBeGreaterThan(0);
    expect(r.stats.compileMs).toBeTypeOf("number");
  });

  it("gives perf a symbol per residual operation, covering the code without overlap", () => {
    const code = load("tl", "interpreters/programs/loop.tl");
    const p = new Program(
      graphsOf(langs.tl!),
      "interpret",
      code,
      { policy: defaultPolicy, target: "x64" },
      nativeFactory,
    );
    expect(p.run(10)).toEqual({ k: "return", value: 55 });
    const lines = perfMap(p.nativeModule!).trim().split("\n");
    const syms = lines.map((l) => {
      const [start, size, ...name] = l.split(" ");
      return { start: BigInt("0x" + start), size: BigInt("0x" + size), name: name.join(" ") };
    });
    expect(
      syms.some((s) => /^@execute\S* at @0,\d+ line \d+ v\d+: i32 = int_add/.test(s.name)),
    ).toBe(true);
    expect(syms.some((s) => s.name.startsWith("runtime "))).toBe(true);
    syms.slice(1).forEach((s, i) => {
      const prev = syms[i]!;
      if (s.start >= prev.start) expect(prev.start + prev.size <= s.start).toBe(true);
    });
    p.free();
  });
});

describe.skipIf(x64Supported)("x64 backend elsewhere", () => {
  it("says it needs x86-64 Linux", () => {
    expect(() => x64.run(langs.tl!, new Uint8Array([21]), [0], {}, {})).toThrow(/x86-64 Linux/);
  });
});
