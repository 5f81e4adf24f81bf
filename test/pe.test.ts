import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { backends, runProgram } from "../generator/backends.ts";
import { langs, graphsOf } from "../generator/language.ts";
import { parseModule } from "../runtime/ir/parse.ts";
import { printModule } from "../runtime/ir/print.ts";
import { verifyModule } from "../runtime/ir/verify.ts";
import { L3 } from "../runtime/l3.ts";
import { specialise } from "../runtime/specialiser/pe.ts";

const root = new URL("../", import.meta.url).pathname;

function residual(lang: string, text: string) {
  const l = langs[lang]!;
  const code = l.load(text, "test");
  const r = specialise(graphsOf(langs[lang]!), l.entry, [
    { k: "a", arr: code, type: "u8[]" },
    { k: "r", o: 0, type: "i32" },
  ]);
  verifyModule(r.module);
  return { text: printModule(r.module), stats: r.stats };
}

const program = (f: string) => readFileSync(root + "interpreters/programs/" + f, "utf8");

/** Runs a program on interp and pe; they must agree. */
async function agree(lang: string, text: string, arg: number) {
  const l = langs[lang]!;
  const code = l.load(text, "test");
  const want = await runProgram(backends.interp!, l, code, arg);
  const got = await runProgram(backends.pe!, l, code, arg);
  expect({ value: got.value, error: got.error }).toEqual({ value: want.value, error: want.error });
  expect(got.stats.fallback).toBeUndefined();
  return want;
}

describe("abstract interpreter", () => {
  it("turns TLR square into one loop over residual variables", async () => {
    const { text } = residual("tlr", program("square.tlr"));
    await expect(text).toMatchFileSnapshot("golden/residual/square.tlr.ir");
    expect(text).not.toMatch(/array_|new_array|switch|merge_point|data \$/);
    expect(text.match(/^b\d+/gm)!.length).toBeLessThanOrEqual(4);
  });

  it("keeps TL's value stack out of the residual loop", async () => {
    const { text } = residual("tl", program("loop.tl"));
    await expect(text).toMatchFileSnapshot("golden/residual/loop.tl.ir");
    expect(text).not.toMatch(/array_|new_array|switch/);
  });

  it("specialises factorial and fibonacci without a stack", async () => {
    for (const f of ["factorial.tl", "fibonacci.tl", "brstk.tl"]) {
      const { text } = residual("tl", program(f));
      await expect(text).toMatchFileSnapshot(`golden/residual/${f}.ir`);
      expect(text).not.toMatch(/new_array/);
    }
  });

  it("is deterministic", () => {
    for (const [lang, f] of [
      ["tlr", "square.tlr"],
      ["tl", "call.tl"],
      ["tl", "fibonacci.tl"],
    ] as const)
      expect(residual(lang, program(f)).text).toBe(residual(lang, program(f)).text);
  });

  it("refuses graphs with a variable live across a merge point but not among its arguments", () => {
    // The state after a merge point holds only its arguments: y would be a value of an
    // earlier trip. (The frontend reports it in an interpreter's source, at the merge point.)
    const m = parseModule(`
      func @main -> i32 {
      b0(x.0: i32, y.1: i32):
        merge_point<0> x.0
        v2: i32 = int_add x.0, y.1
        return v2
      }`);
    const red = { k: "r", o: 0, type: "i32" } as const;
    expect(() => specialise(m, "main", [red, red])).toThrow(
      "@main: v1 is live across the merge point but is not one of its arguments",
    );
  });

  it("gives a side of a red branch its own copy of a virtual the branch passes it", () => {
    // The else side is passed v1; the then side (followed first) writes v1 before replacing
    // it. Were the side handed the path's v1, it would read the then side's 5.
    const m = parseModule(`
      func @main -> i32 {
      b0(c.0: bool):
        v1: i32[] = new_array<i32[]> 2
        branch c.0, b1, b2(v1)
      b1:
        array_set v1, 0, 5
        v3: i32[] = new_array<i32[]> 2
        jump b2(v3)
      b2(t.4: i32[]):
        v5: i32 = array_get t.4, 0
        return v5
      }`);
    const residual = specialise(m, "main", [{ k: "r", o: 0, type: "bool" }]).module;
    for (const c of [true, false])
      expect(new L3(residual).run("main", [c])).toEqual(new L3(m).run("main", [c]));
  });

  it("keeps two reds holding one virtual one virtual across a merge point", () => {
    // b is a, counted up in a loop: the key says so, and the state after the merge point
    // shares one new virtual between them (two copies would leave b's count at 0).
    const m = parseModule(`
      driver greens(pc) reds(n, a, b) immutable()
      func @main -> i32 {
      b0(x.0: i32):
        v1: i32[] = new_array<i32[]> 2
        jump b1(0, x.0, v1, v1)
      b1(pc.2: i32, n.3: i32, a.4: i32[], b.5: i32[]):
        merge_point<1> pc.2, n.3, a.4, b.5
        v6: bool = int_lt n.3, 3
        branch v6, b2, b3
      b2:
        v7: i32 = array_get a.4, 0
        v8: i32 = int_add v7, 1
        array_set a.4, 0, v8
        v9: i32 = int_add n.3, 1
        jump b1(pc.2, v9, a.4, b.5)
      b3:
        v10: i32 = array_get b.5, 0
        return v10
      }`);
    const residual = specialise(m, "main", [{ k: "r", o: 0, type: "i32" }]).module;
    for (const x of [0, 2, 5])
      expect(new L3(residual).run("main", [x])).toEqual(new L3(m).run("main", [x]));
  });

  it("terminates on a loop that grows the stack on every trip", async () => {
    const grow = `
        PUSHARG
      loop:
        PUSH 9          # one more item per trip
        SWAP
        PUSH 1
        SUB
        PICK 0
        BR_COND loop
        RETURN
        ${"NOP\n".repeat(60)}   # room for 70 items on the stack`;
    const { stats } = residual("tl", grow);
    expect(stats.generalisations).toBeGreaterThan(0);
    for (const arg of [0, 3, 7, 12, 40, 100]) await agree("tl", grow, arg);
  });

  it("raises a bad opcode only on the path that reaches it", async () => {
    const text = `
        PUSHARG
        BR_COND skip
        .byte 99        # an unknown opcode, reached only when arg is 0
      skip:
        PUSH 7
        RETURN`;
    expect((await agree("tl", text, 1)).value).toBe(7);
    expect((await agree("tl", text, 0)).error).toBe("unknown opcode");
  });

  it("agrees with the interpreter on every example program", async () => {
    const { examples } = await import("../generator/cli/start.ts");
    for (const ex of examples()) await agree(ex.lang, readFileSync(root + ex.file, "utf8"), ex.arg);
  });
});
