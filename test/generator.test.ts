import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { specialisers } from "../generated/index.ts";
import { analyse, explain, printBinding } from "../generator/bta.ts";
import { artifacts } from "../generator/build.ts";
import { examples } from "../generator/cli/start.ts";
import { programs } from "../generator/fuzz/generators.ts";
import { langs, graphsOf } from "../generator/language.ts";
import { parseModule } from "../runtime/ir/parse.ts";
import { printModule } from "../runtime/ir/print.ts";
import type { Compiled, Engine } from "../runtime/specialiser/engine.ts";
import { makeConstants } from "../runtime/l3.ts";
import { VmError } from "../runtime/hints.ts";
import { specialise } from "../runtime/specialiser/pe.ts";
import { konst, type AVal } from "../runtime/specialiser/value.ts";

const root = new URL("../", import.meta.url).pathname;

/** Whether `f` runs without raising an interpreter error (`VmError`). */
function ok(f: () => unknown): boolean {
  try {
    f();
    return true;
  } catch (e) {
    if (e instanceof VmError) return false;
    throw e;
  }
}

function both(lang: string, code: Uint8Array) {
  const l = langs[lang]!;
  const m = graphsOf(l);
  // (a program's constants, TLC's pool, made first and passed after the bytecode)
  const made = l.constants ? [makeConstants(m, l.constants, code)] : [];
  const args = (e: Engine): AVal[] => [
    { k: "a", arr: code, type: "u8[]" },
    ...made.map((c) => e.promoted(c as object)),
    { k: "r", o: 0, type: "i32" },
  ];
  const pe = specialise(m, l.entry, args);
  const gen = specialise(m, l.entry, args, undefined, specialisers[lang]);
  // (with where each operation comes from: the program position and the interpreter's line)
  const opts = { at: true };
  return { pe: printModule(pe.module, opts), gen: printModule(gen.module, opts) };
}

describe("binding-time analysis", () => {
  for (const lang of Object.keys(langs))
    it(`marks every value of ${lang} green or red (golden text)`, async () => {
      const m = graphsOf(langs[lang]!);
      const bt = analyse(m, langs[lang]!.entry);
      expect(bt.errors).toEqual([]);
      await expect(printBinding(m, bt)).toMatchFileSnapshot(`golden/bta/${lang}.txt`);
    });

  it("makes a red array's length green where every array of its class has a green length", () => {
    // v1 and v2 are red (indexed with a run-time value); v1's length is 4 wherever it goes,
    // v2's is the run-time n, and v3 comes in from run time.
    const m = parseModule(`
      func @main -> i32 {
      b0(n.0: i32, v3: i32[]):
        v1: i32[] = new_array<i32[]> 4
        v2: i32[] = new_array<i32[]> n.0
        array_set v1, n.0, 1
        array_set v2, n.0, 1
        v4: i32 = array_len v1
        v5: i32 = array_len v2
        v6: i32 = array_len v3
        return v4
      }`);
    const gs = analyse(m, "main").greens.get("main")!;
    expect([1, 2, 4, 5, 6].map((v) => gs[v])).toEqual([false, false, true, false, false]);
  });

  it("explains why a value is red, back to where it started", () => {
    const m = graphsOf(langs.tl!);
    const lines = explain(m, analyse(m, "interpret"), "execute", "depth");
    expect(lines[0]).toMatch(/^depth\.\d+ in @execute is red: declared red by the driver/);
    expect(explain(m, analyse(m, "interpret"), "execute", "pc")).toEqual([
      expect.stringMatching(/^pc\.\d+ in @execute is green$/),
    ]);
  });
});

describe("generated specialisers", () => {
  it("give byte-identical residual graphs to the abstract interpreter on every example", () => {
    for (const ex of examples()) {
      const lang = langs[ex.lang]!;
      const code = lang.load(readFileSync(root + ex.file, "latin1"), ex.file);
      const { pe, gen } = both(ex.lang, code);
      expect(gen, ex.file).toBe(pe);
    }
  });

  it("give byte-identical residual graphs on 300 random TLC programs (objects, lists, the pool)", () => {
    // Virtual objects and lists, nested, the pool's constants read green, references promoted:
    // the generated specialiser calls the engine for every reference, the walk's rules.
    let specialised = 0;
    for (const program of programs("tlc", 20261207, 300)) {
      // (a malformed pool is the program's error before any specialisation)
      const m = graphsOf(langs.tlc!);
      const pool = () => makeConstants(m, langs.tlc!.constants!, program.code);
      if (!ok(pool)) continue;
      const r = both("tlc", program.code);
      expect(r.gen).toBe(r.pe);
      specialised++;
    }
    expect(specialised).toBeGreaterThan(200);
  });

  it("raise where a helper they run as a plain function raises, as the walk does", () => {
    // TL's operand decoding is wholly green: compiled code calls it directly, and a missing
    // operand (PUSH as the last byte) throws `Raised` in it, which must end the path in a raise.
    const { pe, gen } = both("tl", Uint8Array.from([2]));
    expect(pe).toContain('raise "missing operand"');
    expect(gen).toBe(pe);
  });

  it("match what the generator makes from the interpreters now", async () => {
    for (const a of await artifacts()) expect(readFileSync(a.path, "utf8"), a.path).toBe(a.text);
  });

  it("go on generically where the engine does not know a length they take as green", () => {
    const m = parseModule(`
      func @main -> i32 {
      b0(a.0: i32[]):
        v1: i32 = array_len a.0
        return v1
      }`);
    // @main as the emitter would write it, were v1 green (a.0 comes in from run time, so the
    // engine does not know its length: the walk must take over at the operation).
    const main: Compiled = {
      greens: [false, true],
      run(e, p, f) {
        f.op = 0;
        const length = e.knownLength(p, f.env[0] as AVal);
        if (length === undefined) return true;
        return e.ret(p, f, konst(length));
      },
    };
    const args: AVal[] = [{ k: "r", o: 0, type: "i32[]" }];
    const pe = printModule(specialise(m, "main", args).module);
    expect(pe).toContain("array_len a.0");
    expect(printModule(specialise(m, "main", args, undefined, { main }).module)).toBe(pe);
  });

  it("read an array passed to a residual call at run time, as the walk does", () => {
    // The call forces the virtual (it escapes), and the callee writes it at run time: the read
    // after the call must be residual. Compiled code hands the engine the slot as it holds it
    // (a virtual, since forced), so the engine's array operations resolve it first.
    const m = parseModule(`
      func @main -> i32 {
      b0(x.0: i32):
        v1: i32[] = new_array<i32[]> 4
        array_set v1, 1, 7
        v2: i32 = call<sink> v1
        v3: i32 = array_get v1, 1
        return v3
      }
      func @sink -> i32 {
      b0(a.0: i32[]):
        merge_point<0> a.0
        array_set a.0, 1, 9
        return 0
      }`);
    // @main as the emitter would write it (all red).
    const main: Compiled = {
      greens: [false, false, false, false],
      run(e, p, f) {
        if (f.op < 1) {
          f.env[1] = e.alloc(p, konst(4), "i32[]");
          e.set(p, f.env[1] as AVal, konst(1), konst(7));
          f.op = 1;
          e.call(p, "sink", [f.env[1] as AVal], 2);
          return true;
        }
        f.env[3] = e.get(p, f.env[1] as AVal, konst(1));
        return e.ret(p, f, f.env[3] as AVal);
      },
    };
    const args: AVal[] = [{ k: "r", o: 0, type: "i32" }];
    const pe = printModule(specialise(m, "main", args).module);
    expect(pe).toContain("v3: i32 = array_get v1, 1\n  return v3");
    expect(printModule(specialise(m, "main", args, undefined, { main }).module)).toBe(pe);
  });

  it("go on generically where a call returns a run-time value into a green", () => {
    const m = parseModule(`
      func @main -> i32 {
      b0(x.0: i32):
        v1: i32 = call<id> x.0
        v2: i32 = int_add v1, 1
        return v2
      }
      func @id -> i32 {
      b0(a.0: i32):
        return a.0
      }`);
    // @main as the emitter would write it, were v1 and v2 green (the callee, run generically,
    // returns a run-time value: the caller must turn generic and the walk do the rest).
    const main: Compiled = {
      greens: [false, true, true],
      run(e, p, f) {
        f.op = 1;
        e.call(p, "id", [f.env[0] as AVal], 1);
        return true;
      },
    };
    const args: AVal[] = [{ k: "r", o: 0, type: "i32" }];
    const pe = printModule(specialise(m, "main", args).module);
    expect(pe).toContain("int_add x.0, 1");
    expect(printModule(specialise(m, "main", args, undefined, { main }).module)).toBe(pe);
  });
});
