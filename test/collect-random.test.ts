// Random object graphs collected (issue 26), in the style of the trusted collectors' tests:
// fast-check makes a loop body that builds and rewires a graph of nodes (cycles through `next`,
// sharing, a list of children per node, lists of lists, a map from nodes to new nodes, a map
// from integers to lists of nodes) and drops parts of it, and folds what it reads of the graph
// into the result at every trip. Each program is specialised with a merge point in its loop and
// run as machine code under the collector's stress switch (a collection at every safepoint
// reached after an allocation: the loop's back edge, so after nearly every trip), and must give
// what the same text gives natively (V8) for every argument: a reference the collector lost or
// failed to rewrite, a map keyed by an object that moved, a shared node copied twice, shows up
// in what the next trips read.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { specialisedAsNatively } from "./fixture-runs.ts";
import { x64Supported } from "../runtime/x64/memory.ts";

const root = new URL("../", import.meta.url).pathname;
const HINTS = `${root}runtime/hints.ts`;

/** An index into `pool` (never empty) from `e`. */
const at = (e: string) => `pool[((${e} & 0x7fffffff) % pool.length) | 0]`;

const STEPS = [
  // grow: new nodes sharing old ones
  `pool.push(new Node(i, ${at("acc")}));`,
  `pool.push(new Node(acc, null));`,
  // cycles and sharing
  `{ const a = ${at("i")}; const b = ${at("acc")}; a.next = b; b.next = a; }`,
  `${at("((acc + 1) | 0)")}.next = ${at("Math.imul(i, 3)")};`,
  `${at("i")}.kids.push(${at("acc")});`,
  // lists of lists
  `rows.push([${at("i")}, new Node(i, null)]);`,
  `rows[((acc & 0x7fffffff) % rows.length) | 0].push(${at("((i + acc) | 0)")});`,
  // maps with object keys and object values, and with list values
  `byNode.set(${at("i")}, new Node((acc + 1) | 0, ${at("acc")}));`,
  `{ const x = byNode.get(${at("acc")}); if (x !== undefined) acc = (acc + x.v) | 0; }`,
  `byNode.delete(${at("((i + 1) | 0)")});`,
  `byInt.set(acc & 7, rows[((i & 0x7fffffff) % rows.length) | 0]);`,
  `{ const r = byInt.get(i & 7); if (r !== undefined && r.length > 0) acc = (acc + r[0].v) | 0; }`,
  // drop: most of the graph becomes garbage
  `if (pool.length > 6) pool = [${at("acc")}, ${at("i")}];`,
  `if (rows.length > 4) rows = [rows[(rows.length - 1) | 0]];`,
  `{ const d = pool.pop(); if (d !== undefined) acc = (acc ^ d.v) | 0; if (pool.length === 0) pool.push(new Node(acc, d ?? null)); }`,
  // read through it
  `{ const p = ${at("acc")}.next; if (p !== null) { acc = (acc + p.v) | 0; const q = p.next; if (q !== null) acc = (acc ^ q.v) | 0; } }`,
  `{ const k = ${at("i")}.kids; if (k.length > 0) acc = (acc + k[(k.length - 1) | 0].v + k.length) | 0; }`,
  `${at("i")}.v = (acc + i) | 0;`,
];

const arbSteps = fc.array(fc.nat(STEPS.length - 1), { minLength: 2, maxLength: 9 });

function source(steps: number[]): string {
  return [
    `import { JitDriver } from "${HINTS}";`,
    `const driver = new JitDriver({ greens: ["code", "pc"], reds: ["i", "n", "acc", "pool", "rows", "byNode", "byInt"], immutable: ["code"] });`,
    `class Node {`,
    `  v: number;`,
    `  next: Node | null;`,
    `  readonly kids: Node[];`,
    `  constructor(v: number, next: Node | null) {`,
    `    this.v = v;`,
    `    this.next = next;`,
    `    this.kids = [];`,
    `  }`,
    `}`,
    `export function main(code: Uint8Array, n: number): number {`,
    `  let pool: Node[] = [new Node(n, null)];`,
    `  let rows: Node[][] = [[]];`,
    `  const byNode = new Map<Node, Node>();`,
    `  const byInt = new Map<number, Node[]>();`,
    `  let acc = 0;`,
    `  let i = 0;`,
    `  const pc = 0;`,
    `  while (i < (n & 63)) {`,
    `    driver.mergePoint({ code, pc, i, n, acc, pool, rows, byNode, byInt });`,
    ...steps.map((s) => `    ${STEPS[s]}`),
    // (what the trip left, folded in: every trip reads the graph after a collection)
    `    const head = ${at("i")};`,
    `    acc = (Math.imul(acc, 31) + head.v + pool.length + rows.length + byNode.size + byInt.size) | 0;`,
    `    i = (i + 1) | 0;`,
    `  }`,
    // (no loop after the loop: one without a merge point is the interpreter's, not compiled)
    `  const first = pool[0];`,
    `  const q = first.next;`,
    `  return (acc + first.v + first.kids.length + (q === null ? 0 : q.v) + rows[0].length) | 0;`,
    `}`,
  ].join("\n");
}

const ARGS = [0, 1, 5, 17, 40, 63];

describe.runIf(x64Supported)("random object graphs, collected at every safepoint", () => {
  it("give what V8 gives, on L3, as machine code and as machine code under the stress switch", () => {
    let collections = 0;
    fc.assert(
      fc.property(arbSteps, (steps) => {
        const path = `${root}interpreters/random-graphs.ts`;
        collections += specialisedAsNatively(path, source(steps), ARGS).collections;
        return true;
      }),
      { numRuns: 60 },
    );
    // (each program collects at nearly every trip of its longer runs)
    expect(collections).toBeGreaterThan(2000);
  }, 300_000);
});
