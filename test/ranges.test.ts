// The arcs block parameters are given by `ir/ranges.ts`, on random loops: a pointer that starts
// at the argument or a constant, passes guards (raising, or leaving the loop), moves by a step
// and comes round again, a few times; loops one after the other. Each arc must hold for every
// value the parameter takes on L3 (the graph checks it itself), and cse, which decides
// comparisons from the arcs, must keep the meaning while deciding some.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseModule } from "../runtime/ir/parse.ts";
import { paramArcs } from "../runtime/ir/ranges.ts";
import type { Graph, Module } from "../runtime/ir/types.ts";
import { verifyModule } from "../runtime/ir/verify.ts";
import { definitions } from "../runtime/ir/walk.ts";
import { cse } from "../runtime/passes/cse.ts";
import { pruneBlocks } from "../runtime/passes/prune-blocks.ts";
import { INT_MAX, INT_MIN, edgeValues, outcome } from "./edges.ts";

interface Guard {
  op: "int_le" | "int_lt" | "int_ge" | "int_gt" | "uint_lt";
  c: number;
  k: number;
  /** Whether the test's true side fails. */
  failOnThen: boolean;
  /** Failing raises, or leaves the loop with the pointer. */
  leave: boolean;
}
interface Loop {
  guards: Guard[];
  step: number;
  trips: number;
}
interface Program {
  start: number | undefined;
  loops: Loop[];
}

const small = fc.integer({ min: -12, max: 12 });
const guard: fc.Arbitrary<Guard> = fc.record({
  op: fc.constantFrom("int_le", "int_lt", "int_ge", "int_gt", "uint_lt"),
  c: fc.oneof(small, fc.constantFrom(INT_MIN, INT_MAX, -30000)),
  k: fc.oneof(small, fc.constantFrom(INT_MIN, INT_MAX, 29999, 30000)),
  failOnThen: fc.boolean(),
  leave: fc.boolean(),
});
const loop: fc.Arbitrary<Loop> = fc.record({
  guards: fc.array(guard, { minLength: 1, maxLength: 4 }),
  step: fc.oneof(small, fc.constantFrom(INT_MAX, INT_MIN, 30000)),
  trips: fc.integer({ min: 1, max: 40 }),
});
const program: fc.Arbitrary<Program> = fc.record({
  start: fc.option(fc.oneof(small, fc.constantFrom(0, 29999, INT_MAX)), { nil: undefined }),
  loops: fc.array(loop, { minLength: 1, maxLength: 3 }),
});

/** The program as IR text: loop i's header is block `h`, entered with (pointer, 0). */
function text(p: Program): string {
  const lines = ["func @f -> i32 {", "b0(x.0: i32):"];
  let v = 1;
  let b = 1;
  lines.push(`  jump b${b}(${p.start ?? "x.0"}, 0)`);
  for (const l of p.loops) {
    const head = b;
    const exit = b + 1;
    b += 2;
    const [ptr, n] = [v++, v++];
    const body: string[] = [`b${head}(v${ptr}: i32, v${n}: i32):`];
    for (const g of l.guards) {
      const [sum, test] = [v++, v++];
      const [pass, fail] = [b++, b++];
      body.push(
        `  v${sum}: i32 = int_add v${ptr}, ${g.c}`,
        `  v${test}: bool = ${g.op} v${sum}, ${g.k}`,
        `  branch v${test}, b${g.failOnThen ? fail : pass}, b${g.failOnThen ? pass : fail}`,
        `b${fail}:`,
        g.leave ? `  jump b${exit}(v${ptr})` : `  raise "m${g.op}"`,
        `b${pass}:`,
      );
    }
    const [n1, done, next] = [v++, v++, v++];
    const more = b++;
    body.push(
      `  v${n1}: i32 = int_add v${n}, 1`,
      `  v${done}: bool = int_ge v${n1}, ${l.trips}`,
      `  branch v${done}, b${exit}(v${ptr}), b${more}`,
      `b${more}:`,
      `  v${next}: i32 = int_add v${ptr}, ${l.step}`,
      `  jump b${head}(v${next}, v${n1})`,
    );
    const out = v++;
    body.push(`b${exit}(v${out}: i32):`);
    lines.push(...body);
    // The next loop's header is the next block made.
    lines.push(p.loops.at(-1) === l ? `  return v${out}` : `  jump b${b}(v${out}, 0)`);
  }
  lines.push("}");
  // The parser wants blocks in order: number them as they come.
  const order = new Map<string, string>();
  for (const l of lines) {
    const m = /^b(\d+)/.exec(l);
    if (m) order.set(m[1]!, `b${order.size}`);
  }
  return lines.map((l) => l.replace(/\bb(\d+)\b/g, (_, n: string) => order.get(n)!)).join("\n");
}

/** Makes `g` check at the top of every block that its parameters are in their arcs (raising
 *  "outside its arc" where one is not). */
function checkArcs(g: Graph): number {
  const defs = definitions(g);
  const arcs = paramArcs(g, (v) => defs[v]);
  const fail =
    g.blocks.push({ params: [], ops: [], term: { k: "raise", msg: "outside its arc" } }) - 1;
  for (let bi = 0; bi < fail; bi++) {
    const b = g.blocks[bi]!;
    for (const p of b.params) {
      const arc = arcs.get(p);
      if (!arc) continue;
      const rest = g.blocks.push({ params: [], ops: b.ops, term: b.term }) - 1;
      const d = g.types.push("i32") - 1;
      const ok = g.types.push("bool") - 1;
      b.ops = [
        { op: "int_add", dst: d, args: [p, { k: "int", v: -arc.lo | 0 }] },
        { op: "uint_lt", dst: ok, args: [d, { k: "int", v: arc.len | 0 }] },
      ];
      b.term = {
        k: "branch",
        cond: ok,
        then: { block: rest, args: [] },
        else: { block: fail, args: [] },
      };
    }
  }
  return arcs.size;
}

const xs = edgeValues;
const run = outcome;

describe("ranges of block parameters", () => {
  it("hold for every value a parameter takes, on random loops", () => {
    let known = 0;
    fc.assert(
      fc.property(program, (p) => {
        const m = parseModule(text(p));
        verifyModule(m);
        const before = xs.map((x) => run(m, x));
        known += checkArcs(m.graphs[0]!);
        verifyModule(m);
        expect(xs.map((x) => run(m, x))).toEqual(before);
      }),
      { numRuns: 1000, seed: 3 },
    );
    expect(known).toBeGreaterThan(1000);
  });

  it("let cse decide comparisons in loops, meaning kept", () => {
    let fewer = 0;
    const branches = (m: Module) => m.graphs[0]!.blocks.filter((b) => b.term.k === "branch").length;
    fc.assert(
      fc.property(program, (p) => {
        const m = parseModule(text(p));
        const before = xs.map((x) => run(m, x));
        const n = branches(m);
        cse(m.graphs[0]!);
        pruneBlocks(m.graphs[0]!);
        verifyModule(m);
        if (branches(m) < n) fewer++;
        expect(xs.map((x) => run(m, x))).toEqual(before);
      }),
      { numRuns: 1000, seed: 5 },
    );
    expect(fewer).toBeGreaterThan(100);
  });

  it("take a Brainfuck scan loop's tape check: the back edge was checked, the entry is in range", () => {
    // [<<<<<<<<<]: p enters in [0, 30000); p - 9 >= 0 is guarded, then p - 9 < 30000 is checked.
    const m = parseModule(`func @f -> i32 {
b0(x.0: i32):
  v1: bool = uint_lt x.0, 30000
  branch v1, b1(x.0), b5
b1(v2: i32):
  v3: i32 = int_add v2, -9
  v4: bool = int_lt v3, 0
  branch v4, b5, b2
b2:
  v5: bool = uint_lt v3, 30000
  branch v5, b3, b5
b3:
  v6: bool = int_ne v3, 20
  branch v6, b1(v3), b4
b4:
  return v3
b5:
  raise "out"
}`);
    cse(m.graphs[0]!);
    pruneBlocks(m.graphs[0]!);
    const conds = m.graphs[0]!.blocks.flatMap((b) => (b.term.k === "branch" ? [b.term.cond] : []));
    expect(conds).toEqual([1, 4, 6]); // the tape check, v5, is decided
  });
});
