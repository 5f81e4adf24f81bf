// The interpreter subset (docs/SUBSET.md): what the frontend rejects, with `file:line:col:
// message`, and what it accepts, with graphs that verify and compute what V8 computes.

import { existsSync } from "node:fs";
import { relative } from "node:path";
import { describe, expect, it } from "vitest";
import { buildGraphs } from "../generator/frontend/index.ts";
import { verifyGraph } from "../runtime/ir/verify.ts";
import type { Module } from "../runtime/ir/types.ts";
import { L3 } from "../runtime/l3.ts";
import * as accepted from "./fixtures/accepted.ts";

const root = new URL("../", import.meta.url).pathname;

/** A source that does not exist on disk: the frontend is given its text. */
const pathOf = (name: string) => `${root}interpreters/bad-${name}.ts`;
/** How the frontend names that file in a violation. */
const shownAs = (name: string) => relative(process.cwd(), pathOf(name));

function violations(name: string, lines: string[], entry = "f"): string[] {
  const r = buildGraphs(pathOf(name), entry, { text: lines.join("\n") + "\n" });
  expect(r.module, `${name} is accepted`).toBeUndefined();
  for (const v of r.violations) expect(v.startsWith(`${shownAs(name)}:`), v).toBe(true);
  return r.violations;
}

interface Rejected {
  name: string;
  lines: string[];
  /** The violation the construct must cause: line, column, and a part of the message. */
  at: [number, number, string][];
}

const rejected: Rejected[] = [
  {
    name: "closure",
    lines: [
      "export function f(x: number): number {",
      "  const g = (y: number): number => (y + 1) | 0;",
      "  return g(x);",
      "}",
    ],
    at: [
      [2, 13, "a closure is not in the subset"],
      [3, 10, "call to g is not in the subset"],
    ],
  },
  {
    name: "function-expression",
    lines: [
      "export function f(x: number): number {",
      "  const g = function (y: number): number {",
      "    return y;",
      "  };",
      "  return g(x);",
      "}",
    ],
    at: [[2, 13, "a closure is not in the subset"]],
  },
  {
    name: "higher-order",
    lines: [
      "function inc(y: number): number {",
      "  return (y + 1) | 0;",
      "}",
      "function apply(g: (y: number) => number, x: number): number {",
      "  return g(x);",
      "}",
      "export function f(x: number): number {",
      "  return apply(inc, x);",
      "}",
    ],
    at: [
      [4, 16, "type '(y: number) => number' is not in the subset"],
      [8, 16, "'inc' is not a local variable or an integer constant"],
    ],
  },
  {
    name: "any",
    lines: ["export function f(x: any): number {", "  return x | 0;", "}"],
    at: [[1, 19, "type 'any' is not in the subset"]],
  },
  {
    name: "any-local",
    lines: ["export function f(x: number): number {", "  let y: any = x;", "  return y;", "}"],
    at: [[2, 7, "type 'any' is not in the subset"]],
  },
  {
    name: "float",
    lines: ["export function f(x: number): number {", "  return (x + 0.5) | 0;", "}"],
    at: [[2, 15, "only 32-bit integer literals are in the subset"]],
  },
  {
    name: "big-literal",
    lines: ["export function f(x: number): number {", "  return (x + 2147483648) | 0;", "}"],
    at: [[2, 15, "only 32-bit integer literals are in the subset"]],
  },
  {
    name: "string",
    lines: ["export function f(x: number): number {", '  const s = "abc";', "  return x;", "}"],
    at: [[2, 13, "a string is not in the subset"]],
  },
  {
    name: "eval",
    lines: ["export function f(x: number): number {", '  return eval("x") | 0;', "}"],
    at: [[2, 10, "call to eval is not in the subset"]],
  },
  {
    name: "try-catch",
    lines: [
      "export function f(x: number): number {",
      "  try {",
      "    return x;",
      "  } catch (e) {",
      "    return 0;",
      "  }",
      "}",
    ],
    at: [[2, 3, "TryStatement is not in the subset"]],
  },
  {
    name: "math-floor",
    lines: ["export function f(x: number): number {", "  return Math.floor(x);", "}"],
    at: [
      [
        2,
        10,
        "call to Math.floor is not in the subset (only functions of this module and the hints)",
      ],
    ],
  },
  {
    name: "console-log",
    lines: ["export function f(x: number): number {", "  console.log(x);", "  return x;", "}"],
    at: [[2, 3, "call to console.log is not in the subset"]],
  },
  {
    name: "plus-equals",
    lines: ["export function f(x: number): number {", "  x += 1;", "  return x;", "}"],
    at: [[2, 3, "'+=' is not int32-safe"]],
  },
  {
    name: "minus-equals",
    lines: [
      "export function f(x: number): number {",
      "  let y = 0;",
      "  y -= x;",
      "  return y;",
      "}",
    ],
    at: [[3, 3, "'-=' is not int32-safe"]],
  },
  {
    name: "increment",
    lines: ["export function f(x: number): number {", "  x++;", "  return x;", "}"],
    at: [[2, 3, "'++' is not int32-safe"]],
  },
  {
    name: "for-increment",
    lines: [
      "export function f(x: number): number {",
      "  let s = 0;",
      "  for (let i = 0; i < x; i++) s = (s + i) | 0;",
      "  return s;",
      "}",
    ],
    at: [[3, 26, "'++' is not int32-safe"]],
  },
  {
    name: "uncoerced",
    lines: ["export function f(a: number, b: number): number {", "  return a + b;", "}"],
    at: [[2, 10, "coerce with | 0"]],
  },
  {
    name: "uncoerced-local",
    lines: [
      "export function f(a: number, b: number): number {",
      "  const c = a - b;",
      "  return c;",
      "}",
    ],
    at: [[2, 13, "coerce with | 0"]],
  },
  {
    name: "multiply",
    lines: ["export function f(a: number, b: number): number {", "  return (a * b) | 0;", "}"],
    at: [[2, 11, "Math.imul"]],
  },
  {
    name: "double-equals",
    lines: [
      "export function f(a: number, b: number): number {",
      "  if (a == b) return 1;",
      "  return 0;",
      "}",
    ],
    at: [[2, 9, "use === and !=="]],
  },
  {
    name: "object-literal",
    lines: ["export function f(a: number): number {", "  const o = { x: a };", "  return a;", "}"],
    at: [[2, 13, "an object literal is not in the subset"]],
  },
  {
    name: "class",
    lines: [
      "class Box {",
      "  v = 0;",
      "}",
      "export function f(a: number): number {",
      "  return a;",
      "}",
    ],
    at: [[2, 3, "set a field in the constructor, not where it is declared"]],
  },
  {
    name: "class-members",
    lines: [
      "interface Shape {}",
      "class Box implements Shape {",
      "  static count: number;",
      "  w?: number;",
      "  readonly h: number;",
      "  constructor(readonly d: number) {",
      "    this.h = d;",
      "  }",
      "  get area(): number {",
      "    return this.h;",
      "  }",
      "  grow(): void {",
      "    this.h = 1;",
      "  }",
      "}",
      "export function f(a: number): number {",
      "  const b = new Box(a);",
      "  b.grow();",
      "  return b.h;",
      "}",
    ],
    at: [
      [1, 1, "type declarations are not in the subset"],
      [2, 1, "implements is not in the subset"],
      [3, 3, "static fields are not in the subset"],
      [4, 3, "optional fields are not in the subset"],
      [6, 3, "declare fields as fields, not as constructor parameters"],
      [9, 3, "GetAccessor in a class is not in the subset"],
      [13, 5, "'h' is readonly: set only in the constructor"],
    ],
  },
  {
    name: "class-null",
    lines: [
      "class Cell {",
      "  next: Cell | null;",
      "  constructor() {",
      "    this.next = null;",
      "  }",
      "}",
      "abstract class Shape {}",
      "export function f(a: number): number {",
      "  const c = new Cell();",
      "  const s = new Shape();",
      "  return c.next.next === null ? a : 0;",
      "}",
    ],
    at: [
      [10, 13, "Shape is abstract"],
      [11, 10, "check the reference for null first"],
    ],
  },
  {
    name: "var",
    lines: ["export function f(a: number): number {", "  var b = a;", "  return b;", "}"],
    at: [[2, 3, "use let or const, not var"]],
  },
  {
    name: "top-level-let",
    lines: ["let count = 0;", "export function f(a: number): number {", "  return a;", "}"],
    at: [[1, 1, "top-level variables must be const"]],
  },
  {
    name: "import",
    lines: [
      'import { assemble } from "./asm.ts";',
      'import { readFileSync } from "node:fs";',
      'import { JitDriver, parseArgs } from "../runtime/hints.ts";',
      "export function f(a: number): number {",
      "  return a;",
      "}",
    ],
    at: [
      // (a module of the interpreter's folder lends integer constants only)
      [1, 10, "'assemble' is not an exported integer constant of asm.ts"],
      [2, 1, `imports are of futamura's hints ("futamura/hints") or of constants of a module`],
      [3, 21, "'parseArgs' is not a hint of the subset"],
    ],
  },
  {
    name: "throw-error",
    lines: [
      'import { VmError } from "../runtime/hints.ts";',
      "export function f(a: number): number {",
      '  if (a === 0) throw new Error("zero");',
      '  if (a === 1) throw new VmError("fine");',
      "  return a;",
      "}",
    ],
    at: [[3, 22, 'throw only new VmError("a literal message")']],
  },
  {
    name: "throw-computed",
    lines: [
      'import { VmError } from "../runtime/hints.ts";',
      "export function f(a: number): number {",
      '  if (a === 0) throw new VmError("zero" + a);',
      "  if (a === 1) throw 42;",
      "  return a;",
      "}",
    ],
    at: [
      [3, 22, 'throw only new VmError("a literal message")'],
      [4, 22, 'throw only new VmError("a literal message")'],
    ],
  },
  {
    // The specialisers keep only the merge point's arguments across it.
    name: "live-across-merge-point",
    lines: [
      'import { JitDriver } from "../runtime/hints.ts";',
      'const driver = new JitDriver({ greens: ["code", "pc"], reds: ["acc"], immutable: ["code"] });',
      "export function f(code: Uint8Array, a: number): number {",
      "  let pc = 0;",
      "  let acc = a;",
      "  let last = 0;",
      "  while (pc < code.length) {",
      "    driver.mergePoint({ code, pc, acc });",
      "    acc = (acc + last) | 0;",
      "    last = code[pc];",
      "    pc = (pc + 1) | 0;",
      "  }",
      "  return acc;",
      "}",
    ],
    at: [[8, 5, "'last' is live across the merge point but is neither a green nor a red"]],
  },
  {
    // A virtualizable is the interpreter's frame: one of the reds.
    name: "virtualizable-not-red",
    lines: [
      'import { JitDriver } from "../runtime/hints.ts";',
      "const driver = new JitDriver({",
      '  greens: ["code", "pc"], reds: ["acc"], immutable: ["code"], virtualizables: ["pc"],',
      "});",
      "export function f(code: Uint8Array, a: number): number {",
      "  let pc = 0;",
      "  let acc = a;",
      "  while (pc < code.length) {",
      "    driver.mergePoint({ code, pc, acc });",
      "    acc = (acc + 1) | 0;",
      "    pc = (pc + 1) | 0;",
      "  }",
      "  return acc;",
      "}",
    ],
    at: [[2, 30, "virtualizable 'pc' must also be red"]],
  },
];

describe("sources outside the subset are rejected at file:line:col", () => {
  it("the frontend reads the given text; the file need not exist", () => {
    expect(existsSync(pathOf("closure"))).toBe(false);
    const r = buildGraphs(pathOf("closure"), "f", {
      text: "export function f(x: number): number {\n  return x;\n}\n",
    });
    expect(r.violations).toEqual([]);
    expect(r.module?.graphs.map((g) => g.name)).toEqual(["f"]);
    expect(existsSync(pathOf("closure"))).toBe(false);
  });

  for (const c of rejected) {
    it(c.name, () => {
      const found = violations(c.name, c.lines);
      for (const [line, col, message] of c.at) {
        const prefix = `${shownAs(c.name)}:${line}:${col}: `;
        const hit = found.find((v) => v.startsWith(prefix) && v.includes(message));
        expect(hit, `no "${prefix}...${message}" in\n  ${found.join("\n  ")}`).toBeDefined();
      }
    });
  }

  it("reports every violation, sorted by position, whatever order they are found in", () => {
    // The module scan (line 5) runs before lowering finds the other two (lines 2 and 3).
    const found = violations("three", [
      "export function f(a: number): number {",
      "  var b = a;",
      "  return a == b ? 1 : 0;",
      "}",
      "let counter = 0;",
    ]);
    const file = shownAs("three");
    expect(found).toEqual([
      `${file}:2:3: use let or const, not var`,
      `${file}:3:12: use === and !==`,
      `${file}:5:1: top-level variables must be const`,
    ]);
  });

  it("reports violations in every function the entry reaches", () => {
    const found = violations("reach", [
      "function g(a: number): number {",
      "  a++;",
      "  return a;",
      "}",
      "export function f(a: number): number {",
      "  return (g(a) + 1.5) | 0;",
      "}",
    ]);
    const file = shownAs("reach");
    expect(found).toEqual([
      `${file}:2:3: '++' is not int32-safe: write x = (x + 1) | 0`,
      `${file}:6:18: only 32-bit integer literals are in the subset`,
    ]);
  });
});

// --- accepted sources ---

const FIXTURE = root + "test/fixtures/accepted.ts";
const INT_MAX = 2147483647;
const INT_MIN = -2147483648;
/** Inputs around the edges: zero, signs, shift counts of 31..64, the ends of the range. */
const INPUTS = [
  0,
  1,
  -1,
  2,
  3,
  7,
  -7,
  10,
  31,
  32,
  33,
  64,
  -33,
  100,
  0x12345678,
  INT_MAX,
  INT_MAX - 1,
  INT_MIN,
  INT_MIN + 1,
];

const built = new Map<string, Module>();
function graphsOf(entry: string): Module {
  let m = built.get(entry);
  if (!m) {
    const r = buildGraphs(FIXTURE, entry);
    expect(r.violations).toEqual([]);
    m = r.module!;
    built.set(entry, m);
  }
  return m;
}

/** Runs `entry` on L3; the run must return. */
function onL3(entry: string, args: number[]): number | boolean {
  const s = new L3(graphsOf(entry)).run(entry, args);
  if (s.k !== "return")
    throw new Error(`${entry}(${args.join(", ")}) ended with ${JSON.stringify(s)}`);
  return s.value as number | boolean;
}

type Fixture = (...args: number[]) => number;
const functions: [string, Fixture, number][] = [
  ["add", accepted.add, 2],
  ["sub3", accepted.sub3, 2],
  ["neg", accepted.neg, 1],
  ["mul", accepted.mul, 2],
  ["div", accepted.div, 2],
  ["mod", accepted.mod, 2],
  ["shifts", accepted.shifts, 2],
  ["ushr3", accepted.ushr3, 1],
  ["bits", accepted.bits, 2],
  ["control", accepted.control, 2],
  ["gcd", accepted.gcd, 2],
  ["countSmall", accepted.countSmall, 2],
  ["arrays", accepted.arrays, 2],
];

describe("sources inside the subset are accepted", () => {
  it("every function of the fixture builds, and its graphs verify", () => {
    for (const [name] of functions) {
      const m = graphsOf(name);
      expect(m.graphs[0]!.name).toBe(name);
      for (const g of m.graphs) expect(verifyGraph(m, g), `${name}: @${g.name}`).toEqual([]);
    }
    // Calls pull in the functions they reach, and only those.
    expect(
      graphsOf("countSmall")
        .graphs.map((g) => g.name)
        .sort(),
    ).toEqual(["countSmall", "gcd", "small"]);
    expect(
      graphsOf("arrays")
        .graphs.map((g) => g.name)
        .sort(),
    ).toEqual(["arrays", "fill"]);
  });

  it("the edge cases of int32 arithmetic on L3 are V8's", () => {
    expect(onL3("add", [INT_MAX, 1])).toBe(INT_MIN);
    expect(onL3("add", [INT_MIN, -1])).toBe(INT_MAX);
    expect(onL3("sub3", [INT_MIN, 0])).toBe(INT_MAX - 2);
    expect(onL3("neg", [INT_MIN])).toBe(INT_MIN);
    expect(onL3("mul", [65536, 65536])).toBe(0);
    expect(onL3("mul", [INT_MAX, INT_MAX])).toBe(1);
    expect(onL3("div", [INT_MIN, -1])).toBe(INT_MIN);
    expect(onL3("div", [7, 0])).toBe(0);
    expect(onL3("div", [-7, 0])).toBe(0);
    expect(onL3("div", [-7, 2])).toBe(-3); // truncates toward zero
    expect(onL3("mod", [7, 0])).toBe(0);
    expect(onL3("mod", [INT_MIN, -1])).toBe(0);
    expect(onL3("mod", [-7, 2])).toBe(-1); // takes the dividend's sign
    expect(onL3("shifts", [1, 32])).toBe((1 << 32) ^ Math.imul(1 >> 32, 7)); // shift counts are mod 32
    expect(onL3("shifts", [1, 33])).toBe(2);
    expect(onL3("shifts", [INT_MIN, 64])).toBe(INT_MIN ^ Math.imul(INT_MIN, 7));
    expect(onL3("ushr3", [-1])).toBe(0x1fffffff);
    expect(onL3("ushr3", [INT_MIN])).toBe(0x10000000);
  });

  for (const [name, native, arity] of functions) {
    it(`${name} gives the same value on L3 as natively`, () => {
      const cases: number[][] =
        name === "control"
          ? [-2, -1, 0, 1, 2, 3, 4].flatMap((op) => INPUTS.map((x) => [op, x]))
          : arity === 1
            ? INPUTS.map((x) => [x])
            : INPUTS.flatMap((a) => INPUTS.map((b) => [a, b]));
      for (const args of cases)
        expect(onL3(name, args), `${name}(${args.join(", ")})`).toBe(native(...args));
    });
  }
});
