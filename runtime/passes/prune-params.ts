//! Removes redundant block parameters: a parameter whose every incoming value is one operand
//! (or the parameter itself, around a loop) is that operand. The frontend passes every local
//! variable to every block (maximal SSA) and the specialisers pass every red leaf to every merge
//! block; this pass leaves only the real merges, as Braun et al.'s trivial-phi removal does. A
//! worklist revisits only the parameters that receive a value just found redundant.
//!
//! Cost: linear in the graph and its jump arguments: a parameter is looked at once, and again
//! once for each argument of it found redundant (each argument feeds one parameter), plus the
//! substitution's lookups.

import type { Graph, Operand } from "../ir/types.ts";
import { Substitution, jumpsOf, mapOperands, sameOperand, sizeOf } from "../ir/walk.ts";
import { countWork } from "../work.ts";

export function pruneParams(g: Graph): void {
  const subst = new Substitution(g);
  const resolve = subst.resolve;
  // For each parameter, the operands flowing into it; for each variable, the parameters it flows into.
  // Arrays indexed by variable: residual graphs have tens of thousands of parameters.
  const incoming: (Operand[] | undefined)[] = new Array(g.types.length);
  const feeds: (number[] | undefined)[] = new Array(g.types.length);
  let steps = sizeOf(g);
  for (const b of g.blocks)
    for (const j of jumpsOf(b.term)) {
      const params = g.blocks[j.block]!.params;
      steps += j.args.length;
      for (let k = 0; k < j.args.length; k++) {
        const a = j.args[k]!;
        const p = params[k]!;
        (incoming[p] ??= []).push(a);
        if (typeof a === "number") (feeds[a] ??= []).push(p);
      }
    }
  const work: number[] = [];
  // The entry's parameters are the graph's, a label's those other graphs pass.
  const labels = new Set(g.labels);
  for (let bi = 1; bi < g.blocks.length; bi++)
    if (!labels.has(bi)) for (const p of g.blocks[bi]!.params) work.push(p);
  while (work.length) {
    const p = work.pop()!;
    if (subst.has(p)) continue;
    let only: Operand | undefined;
    let trivial = true;
    for (const a0 of incoming[p] ?? []) {
      steps++;
      const a = resolve(a0);
      if (a === p) continue;
      if (only === undefined) only = a;
      else if (!sameOperand(only, a)) {
        trivial = false;
        break;
      }
    }
    if (!trivial || only === undefined) continue; // a real merge, or a block only reached from itself
    subst.set(p, only);
    for (const q of feeds[p] ?? []) work.push(q);
  }
  if (!subst.size) return countWork("prune-params", steps + subst.steps);
  const pruned = g.blocks.map((b) => b.params.some((p) => subst.has(p)));
  for (const b of g.blocks) {
    for (const j of jumpsOf(b.term))
      if (pruned[j.block]) {
        const params = g.blocks[j.block]!.params;
        j.args = j.args.filter((_, k) => !subst.has(params[k]!));
      }
  }
  g.blocks.forEach((b, bi) => {
    if (pruned[bi]) b.params = b.params.filter((p) => !subst.has(p));
  });
  steps += mapOperands(g, resolve);
  countWork("prune-params", steps + subst.steps);
}
