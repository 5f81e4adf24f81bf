// Labels (`Graph.labels`): blocks other graphs jump into, with their parameters as arguments.
// The IR text, the verifier, every clean-up pass (a label is a root: no fact flows into it, its
// parameters stay), L3 and x86-64 entering one through an exit, past the six argument registers.
// The tiers' use of them (bridges jumping into loops made before) is tested in tiers.test.ts.

import { describe, expect, it } from "vitest";
import { parseModule } from "../runtime/ir/parse.ts";
import { printModule } from "../runtime/ir/print.ts";
import { verifyGraph, verifyModule } from "../runtime/ir/verify.ts";
import { cleanup, runPasses } from "../runtime/passes/index.ts";
import type { Module } from "../runtime/ir/types.ts";
import { L3 } from "../runtime/l3.ts";
import { paramArcs } from "../runtime/ir/ranges.ts";
import { definitions } from "../runtime/ir/walk.ts";
import { x64Supported } from "../runtime/x64/memory.ts";
import { NativeModule } from "../runtime/x64/native.ts";

// `@loop`'s head is label 0: k counts down; a..f rotate, the last taking a + g; z is passed
// unchanged and compared with 5 on every trip. From its own entry z is 3 (prune-params would
// make it the constant, and cse decide the comparison); entered at the label it is what the
// caller passes. `@start` goes on in the label with eight values.
const TEXT = `
func @loop -> i32 {
b0(n.0: i32):
  jump b1(n.0, 1, 2, 3, 4, 5, 6, 7, 3)
b1(k.1: i32, a.2: i32, b.3: i32, c.4: i32, d.5: i32, e.6: i32, f.7: i32, g.8: i32, z.9: i32): label 0
  v.10: bool = int_le k.1, 0
  branch v.10, b2, b3
b2:
  v.11: i32 = int_add a.2, g.8
  v.12: i32 = int_mul v.11, z.9
  return v.12
b3:
  v.13: bool = int_lt z.9, 5
  branch v.13, b4, b5
b4:
  v.14: i32 = int_sub k.1, 1
  v.15: i32 = int_add a.2, g.8
  jump b1(v.14, b.3, c.4, d.5, e.6, f.7, g.8, v.15, z.9)
b5:
  raise "z is 5 or more"
}

func @start -> i32 {
b0(n.0: i32, z.1: i32):
  exit 0(0, n.0, 10, 20, 30, 40, 50, 60, 70, z.1)
}
`;

/** What `@loop` gives entered at its head with `k, a..g, z`. */
function expected(state: number[]): number | string {
  let [k, a, b, c, d, e, f, g, z] = state as [number, ...number[]];
  for (;;) {
    if (k <= 0) return Math.imul((a! + g!) | 0, z!);
    if (!(z! < 5)) return "z is 5 or more";
    [k, a, b, c, d, e, f, g] = [k - 1, b!, c!, d!, e!, f!, g!, (a! + g!) | 0];
  }
}

const cleaned = (): Module => {
  const m = parseModule(TEXT);
  for (const g of m.graphs)
    runPasses(g, cleanup, (after, pass) =>
      expect(verifyGraph(m, after), `after ${pass}`).toEqual([]),
    );
  return m;
};

const outcome = (s: { k: string; value?: unknown; msg?: string }) =>
  s.k === "return" ? s.value : s.msg;

describe("labels in the IR", () => {
  it("print as `label i` after the block's head and parse back", () => {
    const m = parseModule(TEXT);
    expect(m.graphs[0]!.labels).toEqual([1]);
    expect(printModule(m)).toContain("b1(k.1: i32,");
    expect(printModule(m)).toMatch(/z\.9: i32\): label 0\n/);
    expect(printModule(parseModule(printModule(m)))).toBe(printModule(m));
    verifyModule(m);
  });

  it("are roots for the verifier: a value from before a label is not defined after it", () => {
    const m = parseModule(
      TEXT.replace("v.12: i32 = int_mul v.11, z.9", "v.12: i32 = int_mul v.11, n.0"),
    );
    expect(verifyGraph(m, m.graphs[0]!).join("\n")).toMatch(
      /uses n\.0 where its definition does not dominate/,
    );
    const entry = parseModule(TEXT);
    entry.graphs[0]!.labels = [0];
    expect(verifyGraph(entry, entry.graphs[0]!).join("\n")).toMatch(
      /label 0 is no block after the entry/,
    );
    const twice = parseModule(TEXT);
    twice.graphs[0]!.labels = [1, 1];
    expect(verifyGraph(twice, twice.graphs[0]!).join("\n")).toMatch(/b1 is labelled twice/);
  });

  it("keep their blocks and parameters through the clean-up, which still cleans the rest", () => {
    const m = cleaned();
    const g = m.graphs[0]!;
    expect(g.labels).toHaveLength(1);
    expect(g.blocks[g.labels![0]!]!.params).toHaveLength(9);
    // (the pipeline ran: the comparison with 5 is still there, tested at every trip)
    expect(printModule(m)).toContain("int_lt");
    // Without the label, z is the constant 3 and the comparison is decided.
    const plain = parseModule(TEXT);
    delete plain.graphs[0]!.labels;
    runPasses(plain.graphs[0]!, cleanup);
    expect(printModule(plain)).not.toContain("int_lt");
  });

  it("start the ranges of their parameters from every value (what another graph passes)", () => {
    const m = parseModule(`
func @guard -> i32 {
b0(n.0: i32):
  jump b1(n.0, 3)
b1(k.1: i32, z.2: i32): label 0
  v.3: bool = int_le k.1, 0
  branch v.3, b2, b3
b2:
  return z.2
b3:
  v.4: bool = int_lt z.2, 5
  branch v.4, b4, b5
b4:
  v.5: i32 = int_sub k.1, 1
  jump b1(v.5, z.2)
b5:
  raise "z is 5 or more"
}`);
    const g = m.graphs[0]!;
    const def = definitions(g);
    expect(paramArcs(g, (v) => def[v]).get(2)).toBeUndefined();
    delete g.labels;
    expect(paramArcs(g, (v) => def[v]).get(2)).toEqual({ lo: 3, len: 1 });
  });
});

describe("entering a label through an exit", () => {
  const cases = [
    [3, 2],
    [0, 4],
    [12, 1],
    [5, 5],
    [40, -7],
  ] as const;

  it("on L3: what the loop gives from the state passed", () => {
    const m = cleaned();
    const l3 = new L3(m, () => ({ graph: "loop#0", args: [], fixed: true }));
    expect(l3.run("loop", [4])).toEqual({
      k: "return",
      value: expected([4, 1, 2, 3, 4, 5, 6, 7, 3]),
    });
    for (const [n, z] of cases) {
      const want = expected([n, 10, 20, 30, 40, 50, 60, 70, z]);
      const l3at = new L3(m, (_, state) => ({
        graph: "loop#0",
        args: state.slice(1),
        fixed: true,
      }));
      expect(outcome(l3at.run("start", [n, z])), `${n} ${z}`).toBe(want);
    }
  });

  it.runIf(x64Supported)(
    "on x86-64: an entry of its own, arguments past the sixth in the state buffer, allocation checked",
    () => {
      const native = new NativeModule(cleaned(), {
        check: true,
        continuation: () => ({ name: "loop#0", graphs: [], perValue: false }),
      });
      try {
        expect(native.run("loop", [4])).toEqual({
          k: "return",
          value: expected([4, 1, 2, 3, 4, 5, 6, 7, 3]),
        });
        for (const [n, z] of cases)
          expect(outcome(native.run("start", [n, z])), `${n} ${z}`).toBe(
            expected([n, 10, 20, 30, 40, 50, 60, 70, z]),
          );
      } finally {
        native.free();
      }
    },
  );
});
