import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../runtime/ir/build.ts";
import { parseModule } from "../runtime/ir/parse.ts";
import { printModule } from "../runtime/ir/print.ts";
import { verifyModule } from "../runtime/ir/verify.ts";
import fc from "fast-check";
import type { Module } from "../runtime/ir/types.ts";
import { cse } from "../runtime/passes/cse.ts";
import { pruneBlocks } from "../runtime/passes/prune-blocks.ts";
import { mergeGuards } from "../runtime/passes/merge-guards.ts";
import { INT_MAX, INT_MIN, edgeValues, outcome } from "./edges.ts";

const dir = new URL("./ir/", import.meta.url);
const strip = (t: string) =>
  t
    .split("\n")
    .filter((l) => !l.startsWith(";"))
    .map((l) => l.replace(/\s+@/, " @").trimEnd())
    .join("\n")
    .trim();

describe("IR text", () => {
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".ir"))) {
    it(`${f} round-trips and verifies`, () => {
      const text = readFileSync(new URL(f, dir), "utf8");
      const m = parseModule(text);
      verifyModule(m);
      const printed = printModule(m);
      expect(printModule(parseModule(printed))).toBe(printed);
      expect(strip(printed)).toBe(strip(text));
    });
  }
});

/** Each case is a small broken graph; the verifier's complete report is golden text. */
const broken: Record<string, string> = {
  "undefined variable": `b0:\n  return v7`,
  "defined twice": `b0(x.0: i32):\n  x.0: i32 = int_add 1, 2\n  return x.0`,
  "use before definition": `b0:\n  v1: i32 = int_add v2, 1\n  v2: i32 = int_add 1, 1\n  return v1`,
  "definition does not dominate": `b0(c.0: bool):\n  branch c.0, b1, b2\nb1:\n  v1: i32 = int_add 1, 1\n  jump b2\nb2:\n  return v1`,
  "jump arity": `b0:\n  jump b1(1, 2)\nb1(x.1: i32):\n  return x.1`,
  "argument type": `b0(c.0: bool):\n  v1: i32 = int_add c.0, 1\n  return v1`,
  "branch on an integer": `b0(x.0: i32):\n  branch x.0, b1, b1\nb1:\n  return 0`,
  "result type": `b0(x.0: i32):\n  v1: i32 = int_lt x.0, 1\n  return x.0`,
  "return type": `b0(c.0: bool):\n  return c.0`,
  "unknown operation": `b0:\n  v1: i32 = int_frob 1, 2\n  return v1`,
  "call to unknown graph": `b0:\n  v1: i32 = call<nowhere> 1\n  return v1`,
  "missing result": `b0:\n  int_add 1, 2\n  return 0`,
  "jump to missing block": `b0:\n  jump b9`,
  "duplicate switch cases": `b0(x.0: i32):\n  switch x.0, 1: b1, 1: b1, default: b1\nb1:\n  return 0`,
  "array type": `b0(x.0: i32):\n  v1: i32 = array_len x.0\n  return v1`,
};

describe("graph builder", () => {
  it("finishes a graph only when every block is terminated, and names the open ones", () => {
    const b = new GraphBuilder("f", "i32");
    const [b0, b1, b2] = [b.newBlock(), b.newBlock(), b.newBlock()];
    b.terminate(b0, { k: "jump", to: { block: b1, args: [] } });
    expect(() => b.finish()).toThrow("blocks left open: b1, b2");
    b.terminate(b2, { k: "return", value: { k: "int", v: 0 } });
    expect(() => b.finish()).toThrow("blocks left open: b1");
    expect(() => b.terminate(b2, { k: "raise", msg: "x" })).toThrow("terminated twice");
    b.terminate(b1, { k: "jump", to: { block: b2, args: [] } });
    expect(b.finish().blocks.length).toBe(3);
  });

  it("starts blocks with one shared empty list, and the verifier sees it grown in place", () => {
    const b = new GraphBuilder("f", "i32");
    const [b0, b1] = [b.newBlock(), b.newBlock()];
    expect(b.g.blocks[b0]!.params).toBe(b.g.blocks[b1]!.ops);
    b.terminate(b0, { k: "jump", to: { block: b1, args: [] } });
    b.terminate(b1, { k: "return", value: { k: "int", v: 0 } });
    const m = { graphs: [b.finish()], data: [] };
    expect(() => verifyModule(m)).not.toThrow();
    b.g.blocks[b1]!.params.push(b.newVar("i32")); // wrong: grows the list both blocks share
    try {
      expect(() => verifyModule(m)).toThrow(
        "the empty list blocks share (NONE) was grown in place",
      );
    } finally {
      b.g.blocks[b1]!.params.pop();
    }
  });
});

describe("verifier", () => {
  it("reports every broken graph", async () => {
    const report = Object.entries(broken).map(([name, body]) => {
      try {
        verifyModule(parseModule(`func @f -> i32 {\n${body}\n}`));
        return `${name}: accepted`;
      } catch (e) {
        return `${name}: ${(e as Error).message}`;
      }
    });
    expect(report.every((r) => !r.endsWith("accepted"))).toBe(true);
    await expect(report.join("\n") + "\n").toMatchFileSnapshot("golden/verifier.txt");
  });

  it("ignores a block no path reaches when it computes dominators (fold leaves them to prune-blocks)", () => {
    // b3 is the folded branch's other side: it jumps to the join with a value b0 defines, and
    // must not make b0 stop dominating the join and the loop head.
    const text = [
      "func @f -> i32 {",
      "b0(n.0: i32):",
      "  jump b1(0)",
      "b1(i.1: i32):",
      "  v2: bool = int_lt i.1, n.0",
      "  branch v2, b2, b5",
      "b2:",
      "  jump b4(1)",
      "b3:",
      "  jump b4(n.0)",
      "b4(x.3: i32):",
      "  i.4: i32 = int_add i.1, x.3",
      "  jump b1(i.4)",
      "b5:",
      "  return i.1",
      "}",
    ].join("\n");
    expect(() => verifyModule(parseModule(text))).not.toThrow();
  });
});

describe("merge-guards", () => {
  const OPS = ["int_le", "int_lt", "int_ge", "int_gt"] as const;
  interface G {
    op: (typeof OPS)[number] | "uint_lt";
    c: number;
    k: number;
    raiseOnThen: boolean;
    msg: number;
    /** Computes x + c as (x + first) + (c - first), wrapping, when given. */
    first?: number | undefined;
  }
  /** A chain of guards on x (with a pure operation between each), then `return x`. */
  const chain = (gs: G[]): string => {
    const lines = ["func @f -> i32 {", "b0(x.0: i32):"];
    let v = 1;
    gs.forEach((g, i) => {
      const [pass, fail] = [`b${2 * i + 2}`, `b${2 * i + 1}`];
      if (g.first !== undefined)
        lines.push(
          `  v.${v + 2}: i32 = int_add x.0, ${g.first}`,
          `  v.${v}: i32 = int_add v.${v + 2}, ${(g.c - g.first) | 0}`,
        );
      else lines.push(`  v.${v}: i32 = int_add x.0, ${g.c}`);
      lines.push(
        `  v.${v + 1}: bool = ${g.op} v.${v}, ${g.k}`,
        `  branch v.${v + 1}, ${g.raiseOnThen ? fail : pass}, ${g.raiseOnThen ? pass : fail}`,
        `${fail}:`,
        `  raise "m${g.msg}"`,
        `${pass}:`,
      );
      v += 3;
    });
    lines.push("  return x.0", "}");
    return lines.join("\n");
  };
  const xs = edgeValues;
  const run = outcome;

  it("Brainfuck's pointer guards become one test, raising exactly where one of them would", () => {
    const left = Array.from({ length: 9 }, (_, i): G => ({
      op: "int_le",
      c: -i,
      k: 0,
      raiseOnThen: true,
      msg: 0,
    }));
    const m = parseModule(chain(left));
    const before = xs.map((x) => run(m, x));
    mergeGuards(m.graphs[0]!);
    verifyModule(m);
    const branches = m.graphs[0]!.blocks.filter((b) => b.term.k === "branch");
    expect(branches).toHaveLength(1);
    expect(xs.map((x) => run(m, x))).toEqual(before);
  });

  /** Runs `pass` on 2,000 random chains of `ops`: the meaning (on the edge values `xs`) stays,
   *  and more than 200 chains lose a branch (the pass is not vacuous). */
  const keepsMeaning = (ops: G["op"][], seed: number, pass: (g: Module["graphs"][0]) => void) => {
    const guard = fc.record({
      op: fc.constantFrom(...ops),
      c: fc.oneof(fc.integer({ min: -12, max: 12 }), fc.constantFrom(INT_MIN, INT_MAX, -30000)),
      k: fc.oneof(
        fc.integer({ min: -12, max: 12 }),
        fc.constantFrom(INT_MIN, INT_MAX, 29999, 30000),
      ),
      raiseOnThen: fc.boolean(),
      msg: fc.integer({ min: 0, max: 1 }),
      first: fc.option(fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constant(INT_MAX)), {
        nil: undefined,
      }),
    });
    const branches = (m: Module) => m.graphs[0]!.blocks.filter((b) => b.term.k === "branch");
    let fewer = 0;
    fc.assert(
      fc.property(fc.array(guard, { minLength: 1, maxLength: 6 }), (gs) => {
        const m = parseModule(chain(gs));
        const before = xs.map((x) => run(m, x));
        const n = branches(m).length;
        pass(m.graphs[0]!);
        verifyModule(m);
        if (branches(m).length < n) fewer++;
        expect(xs.map((x) => run(m, x))).toEqual(before);
      }),
      { numRuns: 2000, seed },
    );
    expect(fewer).toBeGreaterThan(200);
  };

  it("keeps the meaning of random chains (wrapping, both sides, other messages, sums of sums)", () =>
    keepsMeaning([...OPS], 7, mergeGuards));

  it("cse: a comparison implied by the ones before it becomes a jump, meaning kept", () =>
    // As in the pipeline: the blocks a decided branch no longer reaches go.
    keepsMeaning([...OPS, "uint_lt"], 11, (g) => (cse(g), pruneBlocks(g))));

  it("cse: Brainfuck's tape check after pointer guards that imply it goes", () => {
    // p < 29999, then p + 1 > 0, then ... p - 9 > 0: the tape check on p - 9 is implied.
    const gs: G[] = [
      { op: "int_ge", c: 0, k: 29999, raiseOnThen: true, msg: 0 },
      ...Array.from({ length: 10 }, (_, i): G => ({
        op: "int_le",
        c: 1 - i,
        k: 0,
        raiseOnThen: true,
        msg: 1,
      })),
      { op: "uint_lt", c: -9, k: 30000, raiseOnThen: false, msg: 2 },
    ];
    const m = parseModule(chain(gs));
    cse(m.graphs[0]!);
    const tested = m.graphs[0]!.blocks.filter((b) => b.term.k === "branch").length;
    expect(tested).toBe(11);
  });
});
