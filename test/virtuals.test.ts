// Virtual objects and lists that nest, share and cycle (issue 25): programs written for the
// cases the abstract interpreter must keep exact across merge points and when forcing: a cycle
// (a node whose next is itself), one object held in two places of a list and written through
// one of them, a list of boxes that grows at every trip (widened structurally: forced where it
// grows), a virtual that escapes into a map and is found again by identity. Each runs with
// `pe` (specialised, residual graphs on L3) and natively (V8), for many arguments, and must
// give the same; each also checks what stays virtual.

import { describe, expect, it } from "vitest";
import { printModule } from "../runtime/ir/print.ts";
import type { Graph } from "../runtime/ir/types.ts";
import { loopOps } from "./loops.ts";
import { Program as Jit } from "../runtime/jit.ts";
import { defaultPolicy } from "../runtime/specialiser/policy.ts";
import { specialisedAsNatively } from "./fixture-runs.ts";

const root = new URL("../", import.meta.url).pathname;
const HINTS = `${root}runtime/hints.ts`;

const head = [
  `import { JitDriver } from "${HINTS}";`,
  "class Node {",
  "  next: Node | null;",
  "  v: number;",
  "  constructor(v: number) {",
  "    this.next = null;",
  "    this.v = v;",
  "  }",
  "}",
];

const ARGS = [0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 17, 31, 64, 100];

/** Runs `main` of `body` (after the Node class) on pe and natively for many arguments, none
 *  falling back to the interpreter; gives the residual graphs made for `n`, and as text. */
function agree(name: string, body: string[], n = 9): { text: string; graphs: Graph[] } {
  const text = [...head, ...body].join("\n") + "\n";
  const { jit, module } = specialisedAsNatively(`${root}interpreters/${name}.ts`, text, ARGS);
  expect(jit.stats.fallback).toBeUndefined();
  const graphs: Graph[] = [];
  const code = new Uint8Array(0);
  const onGraphs = (gs: Graph[]) => graphs.push(...gs);
  new Jit(module, "main", code, { policy: defaultPolicy, target: "l3", onGraphs }).run(n);
  return { text: printModule({ graphs, data: [] }), graphs };
}

describe("virtuals that nest, share and cycle", () => {
  it("a portal call takes a virtual argument after a run-time one, each where the callee expects it", () => {
    // run(code, pc, k, box): k (run-time) comes before box (virtual, dead after the call): the
    // callee's parameters are k, then box's leaves, in the order the call passes them.
    const residual = agree("portal-args", [
      'const driver = new JitDriver({ greens: ["code", "pc"], reds: ["i", "k", "acc", "box"], immutable: ["code"] });',
      "export function main(code: Uint8Array, n: number): number {",
      "  return run(code, 0, n & 15, new Node(Math.imul(n, 3)));",
      "}",
      "function run(code: Uint8Array, pc: number, k: number, box: Node): number {",
      "  let acc = 0;",
      "  let i = 0;",
      "  while (i < k) {",
      "    driver.mergePoint({ code, pc, i, k, acc, box });",
      "    acc = (acc + box.v) | 0;",
      "    i = (i + 1) | 0;",
      "  }",
      "  if (k > 0) acc = (acc + run(code, pc, (k - 1) | 0, new Node(Math.imul(k, 7)))) | 0;",
      "  return acc;",
      "}",
    ]);
    // (no Node is allocated: the box goes to the callee as its value)
    expect(residual.text).toMatch(/call<run\$/);
    expect(residual.text).not.toMatch(/new_object/);
  });

  it("a cycle and a shared item cross merge points virtual, and escape as they were", () => {
    const residual = agree("cycle", [
      'const driver = new JitDriver({ greens: ["code", "pc"], reds: ["i", "n", "acc", "a", "xs"], immutable: ["code"] });',
      "export function main(code: Uint8Array, n: number): number {",
      "  const a = new Node(1);",
      "  a.next = a;",
      "  const b = new Node(2);",
      "  const xs: Node[] = [b, b, a];",
      "  let acc = 0;",
      "  let i = 0;",
      "  const pc = 0;",
      "  while (i < n) {",
      "    driver.mergePoint({ code, pc, i, n, acc, a, xs });",
      "    const nx = a.next;",
      "    if (nx !== null) acc = (acc + nx.v) | 0;",
      "    xs[0].v = (xs[0].v + i) | 0;",
      "    acc = (acc + xs[1].v) | 0;",
      "    i = (i + 1) | 0;",
      "  }",
      "  // escapes: into a map, found again by identity; the cycle and the sharing kept",
      "  const m = new Map<Node, number>();",
      "  m.set(a, 5);",
      "  m.set(xs[1], 6);",
      "  const back = a.next;",
      "  let r = acc;",
      "  if (back !== null) r = (r + (m.get(back) ?? 100)) | 0;",
      "  r = (r + (m.get(xs[0]) ?? 1000)) | 0;",
      "  if (xs[0] === xs[1]) r = (r + 7) | 0;",
      "  return r;",
      "}",
    ]);
    // In the loop nothing is allocated: the nodes and the list are virtual across the merge
    // point (b's value a loop variable). They are made where they escape, the cycle as it was
    // (a's next is a), b once though the list holds it twice; the list never escapes.
    const ops = loopOps(residual.graphs).map((o) => o.op);
    expect(ops.length).toBeGreaterThan(0);
    expect(ops.filter((op) => /^(new_|list_|set_field)/.test(op))).toEqual([]);
    expect(residual.text).toMatch(
      /(v\d+): ref = new_object<Node> +@\d+:0\n {2}set_field<Node\.next> \1, \1 +@\d+:0\n/,
    );
    expect(residual.text).not.toMatch(/new_list/);
  });

  it("a list of boxes that grows at every trip is forced where it grows, its holder kept virtual", () => {
    const residual = agree("grow", [
      "class Holder {",
      "  readonly boxes: Node[];",
      "  count: number;",
      "  constructor() {",
      "    this.boxes = [];",
      "    this.count = 0;",
      "  }",
      "}",
      'const driver = new JitDriver({ greens: ["code", "pc"], reds: ["i", "n", "h"], immutable: ["code"] });',
      "export function main(code: Uint8Array, n: number): number {",
      "  const h = new Holder();",
      "  let i = 0;",
      "  const pc = 0;",
      "  while (i < n) {",
      "    driver.mergePoint({ code, pc, i, n, h });",
      "    h.boxes.push(new Node(i));",
      "    h.count = (h.count + i) | 0;",
      "    i = (i + 1) | 0;",
      "  }",
      "  const last = h.boxes.pop();",
      "  let sum = (h.count + h.boxes.length) | 0;",
      "  if (last !== undefined) sum = (sum + last.v) | 0;",
      "  if (h.boxes.length > 2) sum = (sum + h.boxes[2].v) | 0;",
      "  return sum;",
      "}",
    ]);
    // The holder is never allocated: its count stays a loop variable after the list is forced.
    expect(residual.text).not.toMatch(/new_object<Holder>/);
    expect(loopOps(residual.graphs).filter((o) => o.op === "new_list")).toEqual([]);
  });

  it("a chain that grows at every trip is forced where it grows", () => {
    agree("chain", [
      'const driver = new JitDriver({ greens: ["code", "pc"], reds: ["i", "n", "head"], immutable: ["code"] });',
      "export function main(code: Uint8Array, n: number): number {",
      "  let head = new Node(0);",
      "  let i = 0;",
      "  const pc = 0;",
      "  while (i < n) {",
      "    driver.mergePoint({ code, pc, i, n, head });",
      "    const x = new Node((i + i + i) | 0);",
      "    x.next = head;",
      "    head = x;",
      "    i = (i + 1) | 0;",
      "  }",
      "  let sum = 0;",
      "  let at: Node | null = head;",
      "  let k = 0;",
      "  while (at !== null && k < 1000) {",
      "    sum = (sum + at.v) | 0;",
      "    at = at.next;",
      "    k = (k + 1) | 0;",
      "  }",
      "  return sum;",
      "}",
    ]);
  });
});
