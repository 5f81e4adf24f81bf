//! Dead-code elimination: removes pure operations and allocations whose results are never used,
//! and block parameters that only feed themselves (values carried around a loop for nothing).
//! A value is live if an effect, a terminator or a live parameter uses it: a worklist marks
//! liveness backwards from those roots, each variable once.
//!
//! Cost: linear in the graph (each variable marked once, its definition's operands or its
//! incoming arguments read once).

import { OPS } from "../ir/ops.ts";
import type { Graph, Op, Operand } from "../ir/types.ts";
import { jumpsOf, sizeOf, termOperands } from "../ir/walk.ts";
import { countWork } from "../work.ts";

export function dce(g: Graph): void {
  const removable = (op: string) => OPS[op]!.effect === "pure" || OPS[op]!.effect === "alloc";
  // What makes each variable's definition live: its operation, or (a parameter) the jump
  // arguments that flow into it. (Arrays by variable: residual graphs have tens of thousands.)
  const defOp: (Op | undefined)[] = new Array(g.types.length);
  const incoming: (Operand[] | undefined)[] = new Array(g.types.length);
  for (const b of g.blocks) {
    for (const op of b.ops) if (op.dst >= 0) defOp[op.dst] = op;
    for (const j of jumpsOf(b.term)) {
      const params = g.blocks[j.block]!.params;
      for (let k = 0; k < j.args.length; k++) (incoming[params[k]!] ??= []).push(j.args[k]!);
    }
  }
  const live = new Uint8Array(g.types.length);
  const work: number[] = [];
  const use = (o: Operand) => {
    if (typeof o === "number" && !live[o]) ((live[o] = 1), work.push(o));
  };
  for (const b of g.blocks) {
    for (const op of b.ops) if (!removable(op.op)) op.args.forEach(use);
    termOperands(b.term).forEach(use);
  }
  g.blocks[0]!.params.forEach(use);
  // (a label's parameters are what other graphs pass: kept)
  for (const l of g.labels ?? []) g.blocks[l]!.params.forEach(use);
  let steps = 2 * sizeOf(g);
  while (work.length) {
    const v = work.pop()!;
    steps += 1 + (defOp[v]?.args.length ?? 0) + (incoming[v]?.length ?? 0);
    defOp[v]?.args.forEach(use);
    incoming[v]?.forEach(use);
  }
  const keep = g.blocks.map((b) => b.params.map((p) => live[p] === 1));
  for (const b of g.blocks) {
    for (const j of jumpsOf(b.term)) j.args = j.args.filter((_, k) => keep[j.block]![k]);
    b.ops = b.ops.filter((op) => !removable(op.op) || live[op.dst] === 1);
  }
  g.blocks.forEach((b, bi) => (b.params = b.params.filter((_, k) => keep[bi]![k])));
  countWork("dce", steps);
}
