//! Removes redundant block parameters: a parameter whose every incoming value is one operand
//! (or the parameter itself, around a loop) is that operand. The frontend passes every local
//! variable to every block (maximal SSA) and the specialisers pass every red leaf to every merge
//! block; this pass leaves only the real merges, as Braun et al.'s trivial-phi removal does. A
//! worklist revisits only the parameters that receive a value just found redundant.

import type { Graph, Operand } from "../ir/types.ts";
import { jumpsOf, mapOperands, sameOperand } from "../ir/walk.ts";

export function pruneParams(g: Graph): void {
  // Residual graphs have tens of thousands of parameters: the tables are arrays indexed by
  // variable, not maps.
  const n = g.types.length;
  const subst: (Operand | undefined)[] = new Array(n);
  // Chains of substitutions are as long as the code (a pointer handed down every block of a
  // straight line): a lookup points every variable it passed straight at the end.
  const resolve = (o: Operand): Operand => {
    let end = o;
    for (let to; typeof end === "number" && (to = subst[end]) !== undefined;) end = to;
    for (let to; typeof o === "number" && (to = subst[o]) !== undefined && to !== end; o = to)
      subst[o] = end;
    return end;
  };
  // For each parameter, the operands flowing into it; for each variable, the parameters it flows into.
  const incoming: (Operand[] | undefined)[] = new Array(n);
  const feeds: (number[] | undefined)[] = new Array(n);
  for (const b of g.blocks)
    for (const j of jumpsOf(b.term)) {
      const params = g.blocks[j.block]!.params;
      for (let k = 0; k < j.args.length; k++) {
        const a = j.args[k]!;
        const p = params[k]!;
        (incoming[p] ??= []).push(a);
        if (typeof a === "number") (feeds[a] ??= []).push(p);
      }
    }
  const work: number[] = [];
  for (let bi = 1; bi < g.blocks.length; bi++) work.push(...g.blocks[bi]!.params); // the entry's parameters are the graph's
  let found = false;
  while (work.length) {
    const p = work.pop()!;
    if (subst[p] !== undefined) continue;
    let only: Operand | undefined;
    let trivial = true;
    for (const a0 of incoming[p] ?? []) {
      const a = resolve(a0);
      if (a === p) continue;
      if (only === undefined) only = a;
      else if (!sameOperand(only, a)) {
        trivial = false;
        break;
      }
    }
    if (!trivial || only === undefined) continue; // a real merge, or a block only reached from itself
    subst[p] = only;
    found = true;
    for (const q of feeds[p] ?? []) work.push(q);
  }
  if (!found) return;
  const pruned = g.blocks.map((b) => b.params.some((p) => subst[p] !== undefined));
  for (const b of g.blocks) {
    for (const j of jumpsOf(b.term))
      if (pruned[j.block]) {
        const params = g.blocks[j.block]!.params;
        j.args = j.args.filter((_, k) => subst[params[k]!] === undefined);
      }
  }
  g.blocks.forEach((b, bi) => {
    if (pruned[bi]) b.params = b.params.filter((p) => subst[p] === undefined);
  });
  mapOperands(g, resolve);
}
