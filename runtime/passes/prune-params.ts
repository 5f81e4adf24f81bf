//! Removes redundant block parameters: a parameter whose every incoming value is one operand
//! (or the parameter itself, around a loop) is that operand. The frontend passes every local
//! variable to every block (maximal SSA) and the specialisers pass every red leaf to every merge
//! block; this pass leaves only the real merges, as Braun et al.'s trivial-phi removal does. A
//! worklist revisits only the parameters that receive a value just found redundant.

import type { Graph, Operand } from "../ir/types.ts";
import { jumpsOf, mapOperands, sameOperand } from "../ir/walk.ts";

export function pruneParams(g: Graph): void {
  const subst = new Map<number, Operand>();
  const resolve = (o: Operand): Operand => {
    while (typeof o === "number" && subst.has(o)) o = subst.get(o)!;
    return o;
  };
  // For each parameter, the operands flowing into it; for each variable, the parameters it flows into.
  const incoming = new Map<number, Operand[]>();
  const feeds = new Map<number, number[]>();
  for (const b of g.blocks)
    for (const j of jumpsOf(b.term))
      j.args.forEach((a, k) => {
        const p = g.blocks[j.block]!.params[k]!;
        let list = incoming.get(p);
        if (!list) incoming.set(p, (list = []));
        list.push(a);
        if (typeof a === "number") {
          let f = feeds.get(a);
          if (!f) feeds.set(a, (f = []));
          f.push(p);
        }
      });
  const work = g.blocks.slice(1).flatMap((b) => b.params); // the entry's parameters are the graph's
  while (work.length) {
    const p = work.pop()!;
    if (subst.has(p)) continue;
    let only: Operand | undefined;
    let trivial = true;
    for (const a0 of incoming.get(p) ?? []) {
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
    for (const q of feeds.get(p) ?? []) work.push(q);
  }
  if (!subst.size) return;
  const keep = g.blocks.map((b) => b.params.map((p) => !subst.has(p)));
  g.blocks.forEach((b, bi) => (b.params = b.params.filter((_, k) => keep[bi]![k])));
  for (const b of g.blocks)
    for (const j of jumpsOf(b.term)) j.args = j.args.filter((_, k) => keep[j.block]![k]);
  mapOperands(g, resolve);
}
