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

  // Eager: a continuation per value the run shows (the offset of one of three arms), made the
  // first time; code made after tests the values seen before inline (PyPy's guard_value), so
  // that the loop through the promotion stays in the continuation, not one exit per trip.
  for (const name of ["pe"])
    it(`${name}: each run-time value gets one continuation, and later code tests it inline`, async () => {
      for (const arg of [0, 1, 2, 3, 10, 25]) {
        const want = await runProgram(backends.interp!, tl, code, arg);
        const got = await runProgram(backends[name]!, tl, code, arg);
        expect(got.value).toBe(want.value);
        expect(got.stats.continuations).toBe(Math.min(arg, 3));
        expect(got.stats.exits).toBe(Math.min(arg, 3));
        if (arg > 0) expect(got.stats.guards).toBeGreaterThan(0);
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
