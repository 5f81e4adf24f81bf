import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { backends, runProgram } from "../generator/backends.ts";
import { langs, graphsOf } from "../generator/language.ts";
import { printModule } from "../runtime/ir/print.ts";
import { specialise } from "../runtime/specialiser/pe.ts";

const root = new URL("../", import.meta.url).pathname;
const tl = langs.tl!;
const code = tl.load(readFileSync(root + "interpreters/programs/switch.tl", "utf8"), "switch.tl");

describe("promotion", () => {
  it("ends the residual path in an exit where the promoted value is a run-time one", () => {
    const r = specialise(graphsOf(langs.tl!), tl.entry, [
      { k: "a", arr: code, type: "u8[]" },
      { k: "r", o: 0, type: "i32" },
    ]);
    expect(printModule(r.module)).toMatch(/exit 0\(/);
  });

  // Eager: continuations are keyed by the exact state, which changes each trip here. (Lazy
  // specialisation shares keys program-wide and settles: see test/jit.test.ts.)
  for (const name of ["pe"])
    it(`${name}: each run-time value gets its own continuation, counted in the stats`, async () => {
      for (const arg of [0, 1, 2, 3, 10, 25]) {
        const want = await runProgram(backends.interp!, tl, code, arg);
        const got = await runProgram(backends[name]!, tl, code, arg);
        expect(got.value).toBe(want.value);
        // One exit per trip round the loop (arg trips), each a value seen first in its state.
        expect(got.stats.continuations).toBe(arg);
        expect(got.stats.fallback).toBeUndefined();
      }
    });

  it("keeps a promoted compile-time value without an exit", () => {
    const brstk = tl.load(
      readFileSync(root + "interpreters/programs/brstk.tl", "utf8"),
      "brstk.tl",
    );
    const r = specialise(graphsOf(langs.tl!), tl.entry, [
      { k: "a", arr: brstk, type: "u8[]" },
      { k: "r", o: 0, type: "i32" },
    ]);
    expect(r.stats.promotions).toBeGreaterThan(0);
    expect(printModule(r.module)).not.toMatch(/exit/);
  });
});
