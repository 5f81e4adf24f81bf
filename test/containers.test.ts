// Lists, maps and module-level constant objects in the subset (issue 25): the frontend lowers
// `T[]` and `Map<K, V>` to the IR's high-level list and map operations and makes constant
// objects at build time; the graphs verify, print and parse back, and L3 runs them to exactly
// what the same TypeScript computes natively (test/fixtures/containers.ts), errors included.
// What stays outside is rejected at its position.

import fc from "fast-check";
import { relative } from "node:path";
import { describe, expect, it } from "vitest";
import { buildGraphs } from "../generator/frontend/index.ts";
import { parseModule } from "../runtime/ir/parse.ts";
import { printModule } from "../runtime/ir/print.ts";
import { L3 } from "../runtime/l3.ts";
import * as fixture from "./fixtures/containers.ts";
import { fixtureRuns } from "./fixture-runs.ts";

const root = new URL("../", import.meta.url).pathname;
const path = new URL("./fixtures/containers.ts", import.meta.url).pathname;
const entries = Object.keys(fixture) as (keyof typeof fixture)[];

const { graphsOf, native, onL3, onX64 } = fixtureRuns(path, fixture);

describe("lists and maps on the graph interpreter", () => {
  for (const entry of entries)
    it(`${entry}: verifies, prints and parses back, runs on L3 and x64 as natively`, () => {
      const text = printModule(graphsOf(entry));
      expect(printModule(parseModule(text))).toBe(text);
      for (const n of [0, 1, 2, 3, 4, 5, 7, 8, 13, 33, 64, 65, 127, -1, -5]) {
        expect(onL3(entry, n), `${entry}(${n})`).toBe(native(entry, n));
        expect(onX64(entry, n) ?? native(entry, n), `x64: ${entry}(${n})`).toBe(native(entry, n));
      }
      fc.assert(
        fc.property(
          fc.integer({ min: -200, max: 300 }),
          (n) => onL3(entry, n) === native(entry, n),
        ),
        { numRuns: 100 },
      );
    });

  it("container operations stay high-level in the graphs (no loops over arrays)", () => {
    const text = printModule(graphsOf("counts"));
    for (const op of [
      "new_map<map<i32,i32>>",
      "map_get",
      "map_has",
      "map_set",
      "map_delete",
      "map_size",
    ])
      expect(text).toContain(op);
    const stack = printModule(graphsOf("stackSum"));
    for (const op of ["new_list<list<ref>>", "list_push", "list_pop", "list_len"])
      expect(stack).toContain(op);
  });

  it("an index past the end raises the subset's index error", () => {
    const r = buildGraphs(`${root}interpreters/list-index.ts`, "f", {
      text: "export function f(i: number): number {\n  const xs: number[] = [5, 6];\n  return xs[i];\n}\n",
    });
    expect(r.violations).toEqual([]);
    const l3 = new L3(r.module!);
    expect(l3.run("f", [1])).toEqual({ k: "return", value: 6 });
    expect(l3.run("f", [2])).toEqual({ k: "raise", msg: "index out of range" });
    expect(l3.run("f", [-1])).toEqual({ k: "raise", msg: "index out of range" });
  });
});

const rejected: { name: string; lines: string[]; at: [number, number, string][] }[] = [
  {
    name: "unchecked-pop",
    lines: [
      "export function f(n: number): number {",
      "  const xs: number[] = [n];",
      "  const x = xs.pop();",
      "  return (x + 1) | 0;",
      "}",
    ],
    at: [[4, 11, "'x' is possibly 'undefined'"]],
  },
  {
    name: "non-null-assertion",
    lines: [
      "export function f(n: number): number {",
      "  const m = new Map<number, number>();",
      "  return m.get(n)!;",
      "}",
    ],
    at: [[3, 10, "type assertions are not in the subset"]],
  },
  {
    name: "untyped-literal",
    lines: ["export function f(n: number): number {", "  const xs = [];", "  return n;", "}"],
    at: [[2, 9, "is not in the subset"]],
  },
  {
    name: "holes",
    lines: [
      "export function f(n: number): number {",
      "  const xs: number[] = new Array<number>(n);",
      "  return xs.length;",
      "}",
    ],
    at: [[2, 24, "new Array(...) is not in the subset"]],
  },
  {
    name: "splice-many",
    lines: [
      "export function f(n: number): number {",
      "  const xs: number[] = [1, 2, 3];",
      "  xs.splice(0, 2);",
      "  return xs.length;",
      "}",
    ],
    at: [[3, 3, "splice is l.splice(i, 0, x) or l.splice(i, 1)"]],
  },
  {
    name: "string-keys",
    lines: [
      "export function f(n: number): number {",
      "  const m = new Map<boolean, number>();",
      "  return m.size;",
      "}",
    ],
    at: [[2, 9, "is not in the subset"]],
  },
  {
    name: "higher-order",
    lines: [
      "export function f(n: number): number {",
      "  const xs: number[] = [n];",
      "  xs.sort();",
      "  return xs.length;",
      "}",
    ],
    at: [[3, 3, "'sort' on a list is not in the subset"]],
  },
  {
    name: "set-as-value",
    lines: [
      "export function f(n: number): number {",
      "  const m = new Map<number, number>();",
      "  const same = m.set(n, n);",
      "  return same.size;",
      "}",
    ],
    at: [[3, 16, "set is a statement"]],
  },
  {
    name: "compare-defined-value",
    lines: [
      "export function f(n: number): boolean {",
      "  const xs: number[] = [n];",
      "  return xs[0] === undefined;",
      "}",
    ],
    at: [[3, 10, "only a value that may be undefined"]],
  },
  {
    name: "mutable-constant",
    lines: [
      "class Cell {",
      "  v: number;",
      "  constructor(v: number) {",
      "    this.v = v;",
      "  }",
      "}",
      "const origin = new Cell(0);",
      "export function f(n: number): number {",
      "  return (origin.v + n) | 0;",
      "}",
    ],
    at: [[7, 16, "a module-level object is a constant: 'Cell.v' is not readonly"]],
  },
  {
    name: "constant-with-a-list",
    lines: [
      "class Bag {",
      "  readonly items: number[];",
      "  constructor() {",
      "    this.items = [];",
      "  }",
      "}",
      "const bag = new Bag();",
      "export function f(n: number): number {",
      "  return (bag.items.length + n) | 0;",
      "}",
    ],
    at: [[7, 13, "'Bag.items' is a list or map that may change"]],
  },
  {
    name: "constant-argument",
    lines: [
      "class K {",
      "  readonly v: number;",
      "  constructor(v: number) {",
      "    this.v = v;",
      "  }",
      "}",
      "function seven(): number {",
      "  return 7;",
      "}",
      "const k = new K(seven());",
      "export function f(n: number): number {",
      "  return (k.v + n) | 0;",
      "}",
    ],
    at: [
      [10, 17, "a constant object's arguments are integers, booleans, null or constant objects"],
    ],
  },
];

describe("lists and maps outside the subset are rejected at file:line:col", () => {
  for (const c of rejected)
    it(c.name, () => {
      const file = `${root}interpreters/bad-${c.name}.ts`;
      const r = buildGraphs(file, "f", { text: c.lines.join("\n") + "\n" });
      expect(r.module, `${c.name} is accepted`).toBeUndefined();
      for (const [line, col, message] of c.at) {
        const prefix = `${relative(process.cwd(), file)}:${line}:${col}: `;
        const hit = r.violations.find((v) => v.startsWith(prefix) && v.includes(message));
        expect(hit, `no "${prefix}...${message}" in\n  ${r.violations.join("\n  ")}`).toBeDefined();
      }
    });
});
