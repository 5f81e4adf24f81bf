// What the guard and range tests run their one-argument graphs `@f` on: values at the edges
// that Brainfuck's tape and pointer checks and 32-bit wrapping make, each way; and the outcome
// of a run on L3 (a value, or the message raised).

import type { Module } from "../runtime/ir/types.ts";
import { L3 } from "../runtime/l3.ts";

export const INT_MIN = -(2 ** 31);
export const INT_MAX = 2 ** 31 - 1;

const edges = [0, 1, 2, 3, 7, 8, 9, 10, 29998, 29999, 30000];
export const edgeValues = [
  ...edges.flatMap((e) => [e, -e]),
  ...[0, 1, 2, 5, 9, 10, 11].flatMap((d) => [INT_MIN + d, INT_MAX - d]),
];

export function outcome(m: Module, x: number): unknown {
  const s = new L3(m).run("f", [x]);
  return s.k === "raise" ? s.msg : s.k === "return" ? s.value : s.k;
}
