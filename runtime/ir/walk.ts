//! Visiting the parts of a graph that every pass needs: the jumps of a terminator and every
//! operand, so that passes do not each spell out the terminator kinds.

import type { Graph, Jump, Operand, Term } from "./types.ts";

export function jumpsOf(t: Term): Jump[] {
  switch (t.k) {
    case "jump":
      return [t.to];
    case "branch":
      return [t.then, t.else];
    case "switch":
      return [...t.cases.map((c) => c.to), t.default];
    default:
      return [];
  }
}

export function successors(t: Term): number[] {
  return jumpsOf(t).map((j) => j.block);
}

/** Rewrites every operand used in the graph (not definitions) through `f`. */
export function mapOperands(g: Graph, f: (o: Operand) => Operand): void {
  for (const b of g.blocks) {
    for (const op of b.ops) op.args = op.args.map(f);
    const t = b.term;
    for (const j of jumpsOf(t)) j.args = j.args.map(f);
    if (t.k === "branch") t.cond = f(t.cond);
    else if (t.k === "switch") t.on = f(t.on);
    else if (t.k === "return" && t.value !== undefined) t.value = f(t.value);
    else if (t.k === "exit") t.args = t.args.map(f);
  }
}

export function sameOperand(a: Operand, b: Operand): boolean {
  return typeof a === "number" || typeof b === "number" ? a === b : a.k === b.k && a.v === b.v;
}
