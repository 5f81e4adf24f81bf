//! Removes redundant block parameters: a parameter whose every incoming value is one operand
//! (or the parameter itself, around a loop) is that operand. The frontend passes every local
//! variable to every block (maximal SSA); this pass leaves only the real merges, as Braun et
//! al.'s trivial-phi removal does.

import type { Graph, Operand } from "../ir/types.ts";
import { jumpsOf, mapOperands, sameOperand } from "../ir/walk.ts";

export function pruneParams(g: Graph): void {
  const subst = new Map<number, Operand>();
  const resolve = (o: Operand): Operand => {
    while (typeof o === "number" && subst.has(o)) o = subst.get(o)!;
    return o;
  };
  const incoming = g.blocks.map(() => [] as Operand[][]);
  for (const b of g.blocks) for (const j of jumpsOf(b.term)) incoming[j.block]!.push(j.args);

  for (let changed = true; changed; ) {
    changed = false;
    g.blocks.forEach((b, bi) => {
      if (bi === 0) return; // the entry's parameters are the graph's
      b.params.forEach((p, k) => {
        if (subst.has(p)) return;
        let only: Operand | undefined;
        for (const args of incoming[bi]!) {
          const a = resolve(args[k]!);
          if (a === p) continue;
          if (only === undefined) only = a;
          else if (!sameOperand(only, a)) return;
        }
        if (only === undefined) return; // a block only reached from itself: left to pruneBlocks
        subst.set(p, only);
        changed = true;
      });
    });
  }
  if (!subst.size) return;
  const keep = g.blocks.map((b) => b.params.map((p) => !subst.has(p)));
  g.blocks.forEach((b, bi) => (b.params = b.params.filter((_, k) => keep[bi]![k])));
  for (const b of g.blocks) for (const j of jumpsOf(b.term)) j.args = j.args.filter((_, k) => keep[j.block]![k]);
  mapOperands(g, resolve);
}
