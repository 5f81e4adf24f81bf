//! Dead-code elimination: removes pure operations and allocations whose results are never used,
//! and block parameters that only feed themselves (values carried around a loop for nothing).
//! A value is live if an effect, a terminator or a live parameter uses it: a worklist marks
//! liveness backwards from those roots, each variable once.

import { OPS } from "../ir/ops.ts";
import type { Graph, Op, Operand } from "../ir/types.ts";
import { jumpsOf, termOperands } from "../ir/walk.ts";

export function dce(g: Graph): void {
  const removable = (op: string) => OPS[op]!.effect === "pure" || OPS[op]!.effect === "alloc";
  // What makes each variable's definition live: its operation, or (a parameter) the jump
  // arguments that flow into it.
  const defOp = new Map<number, Op>();
  const incoming = new Map<number, Operand[]>();
  for (const b of g.blocks) {
    for (const op of b.ops) if (op.dst >= 0) defOp.set(op.dst, op);
    for (const j of jumpsOf(b.term))
      j.args.forEach((a, k) => {
        const p = g.blocks[j.block]!.params[k]!;
        let list = incoming.get(p);
        if (!list) incoming.set(p, (list = []));
        list.push(a);
      });
  }
  const live = new Set<number>();
  const work: number[] = [];
  const use = (o: Operand) => {
    if (typeof o === "number" && !live.has(o)) (live.add(o), work.push(o));
  };
  for (const b of g.blocks) {
    for (const op of b.ops) if (!removable(op.op)) op.args.forEach(use);
    termOperands(b.term).forEach(use);
  }
  g.blocks[0]!.params.forEach(use);
  while (work.length) {
    const v = work.pop()!;
    defOp.get(v)?.args.forEach(use);
    incoming.get(v)?.forEach(use);
  }
  const keep = g.blocks.map((b) => b.params.map((p) => live.has(p)));
  for (const b of g.blocks) {
    for (const j of jumpsOf(b.term)) j.args = j.args.filter((_, k) => keep[j.block]![k]);
    b.ops = b.ops.filter((op) => !removable(op.op) || live.has(op.dst));
  }
  g.blocks.forEach((b, bi) => (b.params = b.params.filter((_, k) => keep[bi]![k])));
}
