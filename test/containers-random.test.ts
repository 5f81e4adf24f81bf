// Random programs with lists and maps (issue 25): fast-check makes a loop body of list and map
// statements (push, pop checked for undefined, index reads and writes, insertion and removal at
// an index with JavaScript's meaning of negative and past-the-end indexes, a list of n copies,
// maps with integer keys and with object keys, get with ?? and with a check, has, delete, size),
// over a list of integers, a list of objects and two maps. Each program is written as
// TypeScript, lowered by the frontend and run on L3, and specialised by the abstract interpreter
// with a merge point in its loop, and must give what the same text gives natively (V8) for
// every argument.

import fc from "fast-check";
import { describe, it } from "vitest";
import { onL3AsNatively, specialisedAsNatively } from "./fixture-runs.ts";
import { defaultPolicy } from "../runtime/specialiser/policy.ts";

const root = new URL("../", import.meta.url).pathname;
const HINTS = `${root}runtime/hints.ts`;

const STEPS = [
  `xs.push((acc + i) | 0);`,
  `{ const v = xs.pop(); acc = (acc + (v ?? -1)) | 0; }`,
  `if (xs.length > 0) acc = (acc ^ xs[(i % xs.length) | 0]) | 0;`,
  `if (xs.length > 1) xs[((acc & 0x7fffffff) % xs.length) | 0] = i;`,
  `xs.splice((acc % 5) | 0, 0, i);`,
  `xs.splice((((i % 3) | 0) - 1) | 0, 1);`,
  `m.set(acc & 7, i);`,
  `{ const v = m.get(i & 7); if (v !== undefined) acc = (acc + v) | 0; else acc = (acc - 1) | 0; }`,
  `if (m.has(acc & 7)) m.delete(acc & 7); acc = (acc + m.size) | 0;`,
  `boxes.push(new Box(i));`,
  `{ const b = boxes.pop(); if (b !== undefined) { om.set(b, i); acc = (acc + b.v) | 0; } }`,
  `if (boxes.length > 0) { const b = boxes[0]; acc = (acc + (om.get(b) ?? 7)) | 0; }`,
  `acc = (acc + xs.length + boxes.length + om.size) | 0;`,
  `{ const t: number[] = new Array<number>(i & 3).fill(acc); xs.push(t.length); }`,
  `if (om.delete(last)) acc = (acc + 100) | 0; last = new Box(acc);`,
];

const arbSteps = fc.array(fc.nat(STEPS.length - 1), { minLength: 1, maxLength: 10 });

function source(steps: number[], driven: boolean): string {
  const out: string[] = [];
  if (driven)
    out.push(
      `import { JitDriver } from "${HINTS}";`,
      `const driver = new JitDriver({ greens: ["code", "pc"], reds: ["i", "n", "acc", "xs", "boxes", "m", "om", "last"], immutable: ["code"] });`,
    );
  out.push(
    `class Box {`,
    `  readonly v: number;`,
    `  constructor(v: number) {`,
    `    this.v = v;`,
    `  }`,
    `}`,
    driven
      ? `export function main(code: Uint8Array, n: number): number {`
      : `export function main(n: number): number {`,
    `  const xs: number[] = [n, 1];`,
    `  const boxes: Box[] = [];`,
    `  const m = new Map<number, number>();`,
    `  const om = new Map<Box, number>();`,
    `  let last = new Box(n);`,
    `  om.set(last, 5);`,
    `  let acc = 0;`,
    `  let i = 0;`,
    ...(driven ? [`  const pc = 0;`] : []),
    `  while (i < (n & 15)) {`,
    ...(driven ? [`    driver.mergePoint({ code, pc, i, n, acc, xs, boxes, m, om, last });`] : []),
    ...steps.map((s) => `    ${STEPS[s]}`),
    `    i = (i + 1) | 0;`,
    `  }`,
    `  return (acc + xs.length + m.size + om.size) | 0;`,
    `}`,
  );
  return out.join("\n") + "\n";
}

const ARGS = [0, 1, 2, 3, 5, 7, 12, 15, 31, -9, -1];

describe("random programs with lists and maps", () => {
  it("lower to graphs that give on L3 what V8 gives, for every argument", () => {
    fc.assert(
      fc.property(arbSteps, (steps) => {
        onL3AsNatively(`${root}interpreters/random-containers.ts`, source(steps, false), ARGS);
        return true;
      }),
      { numRuns: 150 },
    );
  }, 120_000);

  it("specialise with the abstract interpreter (a merge point in the loop) to what V8 gives", () => {
    fc.assert(
      fc.property(arbSteps, fc.boolean(), (steps, tiny) => {
        // A tiny residual budget makes continuations and fallbacks too.
        const policy = tiny ? { ...defaultPolicy, maxResidualOps: 12 } : defaultPolicy;
        const path = `${root}interpreters/random-containers.ts`;
        specialisedAsNatively(path, source(steps, true), ARGS, policy);
        return true;
      }),
      { numRuns: 100 },
    );
  }, 120_000);
});
