// Classes in the subset (issue 25, first step): the frontend lowers classes, fields, methods
// with dynamic dispatch, constructors, `instanceof` and null to the IR's object operations;
// the graphs verify, print and parse back to the same text, and L3 runs them to exactly what
// the same TypeScript computes natively, errors included (test/fixtures/objects.ts). (An
// interpreter with objects through the command line: test/language.test.ts.)

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseModule } from "../runtime/ir/parse.ts";
import { printModule } from "../runtime/ir/print.ts";
import { verifyModule } from "../runtime/ir/verify.ts";
import * as fixture from "./fixtures/objects.ts";
import { fixtureRuns } from "./fixture-runs.ts";

const path = new URL("./fixtures/objects.ts", import.meta.url).pathname;
const entries = Object.keys(fixture) as (keyof typeof fixture)[];

const { graphsOf, native, onL3, onX64 } = fixtureRuns(path, fixture);

describe("classes on the graph interpreter", () => {
  it("the module's classes: ids in preorder, inherited fields first", () => {
    const classes = graphsOf("sumList").classes!;
    expect(classes.map((c) => `${c.name} ${c.id}..${c.last}`)).toEqual([
      "Value 0..3",
      "Int 1..1",
      "Nil 2..2",
      "Cons 3..3",
      "Counter 4..4",
    ]);
    expect(classes.find((c) => c.name === "Cons")!.fields).toEqual([
      { name: "car", type: "ref", readonly: true },
      { name: "cdr", type: "ref", readonly: false },
    ]);
  });

  for (const entry of entries)
    it(`${entry}: verifies, prints and parses back, runs on L3 and x64 as natively`, () => {
      const m = graphsOf(entry);
      verifyModule(m);
      const text = printModule(m);
      expect(printModule(parseModule(text))).toBe(text);
      for (const n of [0, 1, 2, 3, 4, 5, 6, 7, 10, 33, -1, -5]) {
        expect(onL3(entry, n), `${entry}(${n})`).toBe(native(entry, n));
        expect(onX64(entry, n) ?? native(entry, n), `x64: ${entry}(${n})`).toBe(native(entry, n));
      }
      fc.assert(
        fc.property(fc.integer({ min: -50, max: 300 }), (n) => onL3(entry, n) === native(entry, n)),
        { numRuns: 100 },
      );
    });

  it("a call on a receiver of one possible class is direct; of several, a switch on its class", () => {
    const text = printModule(graphsOf("dispatch"));
    // `w.isTrue()`: every class inherits Value's, so one call.
    expect(text).toMatch(/call<Value\$isTrue>/);
    // `v.add(...)`: three implementations, one switch over the concrete classes' ids.
    expect(text).toMatch(/switch v\d+, 1: b\d+, 2: b\d+, 3: b\d+, default: b\d+/);
  });
});
