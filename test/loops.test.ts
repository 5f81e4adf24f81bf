// The loops of the merge-point key graph (runtime/specialiser/loops.ts): dominators and the innermost
// natural loop around a key, on graphs small enough to check by hand and on random ones against
// the definition.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KeyGraph } from "../runtime/specialiser/loops.ts";

/** A key graph from "a>b" edges; "" is the root. */
function graph(edges: string): KeyGraph {
  const g = new KeyGraph();
  for (const e of edges.split(/\s+/).filter(Boolean)) {
    const [from, to] = e.split(">");
    g.link(from === "root" ? "" : from!, to!);
  }
  return g;
}

const sorted = (s: Set<string>) => [...s].sort();

describe("innermost loops", () => {
  // root → a → b → c → b (inner loop b,c) → d → a (outer loop a..d) → e (after it)
  const nest = graph("root>a a>b b>c c>b c>d d>a d>e");

  it("a key of an inner loop is in the inner loop; its header first", () => {
    const inner = nest.innermostLoop("c");
    expect([...inner][0]).toBe("b");
    expect(sorted(inner)).toEqual(["b", "c"]);
  });

  it("asking for a loop larger than the one a graph holds gives the enclosing loop", () => {
    expect(sorted(nest.innermostLoop("b", 2))).toEqual(["a", "b", "c", "d"]);
    expect(sorted(nest.innermostLoop("a"))).toEqual(["a", "b", "c", "d"]);
    expect(nest.innermostLoop("a", 4).size).toBe(0);
  });

  it("a key in no loop, or unknown, has none", () => {
    expect(nest.innermostLoop("e").size).toBe(0);
    expect(nest.innermostLoop("zz").size).toBe(0);
  });

  it("a self-loop is a loop of one key", () => {
    expect(sorted(graph("root>a a>a a>b").innermostLoop("a"))).toEqual(["a"]);
  });

  it("a cycle entered at two keys is no natural loop", () => {
    expect(graph("root>a root>b a>b b>a").innermostLoop("a").size).toBe(0);
  });

  it("edges added later are seen (the cache is dropped)", () => {
    const g = graph("root>a a>b");
    expect(g.innermostLoop("b").size).toBe(0);
    g.link("b", "a");
    expect(sorted(g.innermostLoop("b"))).toEqual(["a", "b"]);
  });

  it("dominators agree with the definition on random graphs", () => {
    const edge = fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 1, max: 7 }));
    fc.assert(
      fc.property(fc.array(edge, { maxLength: 20 }), (es) => {
        const g = new KeyGraph();
        for (const [a, b] of es) g.link(a === 0 ? "" : `k${a}`, `k${b}`);
        const { reachable, dominates } = g.dominance();
        // a dominates b iff b is unreachable from the root once a is taken out.
        const reach = (without: string) => {
          const seen = new Set<string>([""]);
          const work = [""];
          while (work.length)
            for (const n of g.successors(work.pop()!))
              if (n !== without && !seen.has(n)) (seen.add(n), work.push(n));
          return seen;
        };
        expect(new Set(reachable)).toEqual(reach("\0"));
        for (const a of reachable)
          for (const b of reachable) {
            const want = a === b || a === "" || !reach(a).has(b);
            expect(dominates(a, b), `${a} dom ${b}`).toBe(want);
          }
      }),
      { numRuns: 300 },
    );
  });
});
