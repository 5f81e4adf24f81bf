//! Dead-code elimination: removes pure operations and allocations whose results are never used,
//! and block parameters that only feed themselves (values carried around a loop for nothing).
//! A value is live if an effect, a terminator or a live parameter uses it.

import { OPS } from "../ir/ops.ts";
import type { Graph, Operand } from "../ir/types.ts";
import { jumpsOf } from "../ir/walk.ts";

export function dce(g: Graph): void {
  const live = new Set<number>();
  const use = (o: Operand) => typeof o === "number" && live.add(o);
  const removable = (op: string) => OPS[op]!.effect === "pure" || OPS[op]!.effect === "alloc";
  for (let before = -1; before !== live.size; ) {
    before = live.size;
    for (const b of g.blocks) {
      for (const op of b.ops) if (!removable(op.op) || live.has(op.dst)) op.args.forEach(use);
      const t = b.term;
      if (t.k === "branch") use(t.cond);
      else if (t.k === "switch") use(t.on);
      else if (t.k === "return" && t.value !== undefined) use(t.value);
      else if (t.k === "exit") t.args.forEach(use);
      for (const j of jumpsOf(t)) j.args.forEach((a, k) => live.has(g.blocks[j.block]!.params[k]!) && use(a));
    }
  }
  const keep = g.blocks.map((b, bi) => b.params.map((p) => bi === 0 || live.has(p)));
  for (const b of g.blocks) {
    for (const j of jumpsOf(b.term)) j.args = j.args.filter((_, k) => keep[j.block]![k]);
    b.ops = b.ops.filter((op) => !removable(op.op) || live.has(op.dst));
  }
  g.blocks.forEach((b, bi) => (b.params = b.params.filter((_, k) => keep[bi]![k])));
}
