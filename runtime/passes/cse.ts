//! Common-subexpression elimination and redundant-branch elimination over extended basic
//! blocks: a block with a single predecessor inherits what is known at the end of it (it is
//! dominated by it), a block with several starts afresh. Known: the pure operations already
//! computed (an equal one is replaced by the first), and the value of each condition a branch
//! has tested on the way (a second branch on it becomes a jump). Removes the repeated bounds
//! checks of a Brainfuck tape access: `uint_lt ptr, 30000` tested once per cell update. A merge
//! point forgets everything (only its arguments live across it for the specialisers).

import { OPS } from "../ir/ops.ts";
import type { Graph, Operand } from "../ir/types.ts";
import { jumpsOf, mapOperands } from "../ir/walk.ts";

interface Facts {
  exprs: Map<string, Operand>;
  conds: Map<number, boolean>;
}

export function cse(g: Graph): void {
  const preds = g.blocks.map(() => 0);
  for (const b of g.blocks) for (const j of jumpsOf(b.term)) preds[j.block]!++;
  const subst = new Map<number, Operand>();
  const resolve = (o: Operand): Operand => {
    while (typeof o === "number" && subst.has(o)) o = subst.get(o)!;
    return o;
  };
  const key = (o: Operand) => (typeof o === "number" ? `v${o}` : `${o.k}${o.v}`);
  const at: (Facts | undefined)[] = [];
  g.blocks.forEach((b, bi) => {
    const facts = at[bi] ?? { exprs: new Map(), conds: new Map() };
    b.ops = b.ops.filter((op) => {
      op.args = op.args.map(resolve);
      if (op.op === "merge_point") {
        // The specialisers keep only the merge point's arguments across it: forget the rest.
        facts.exprs.clear();
        facts.conds.clear();
      }
      if (op.dst < 0 || OPS[op.op]!.effect !== "pure") return true;
      const k = `${op.op}<${op.imm ?? ""}>${op.args.map(key).join(",")}`;
      const seen = facts.exprs.get(k);
      if (seen === undefined) return (facts.exprs.set(k, op.dst), true);
      subst.set(op.dst, seen);
      return false;
    });
    const t = b.term;
    if (t.k === "branch") {
      t.cond = resolve(t.cond);
      const known = typeof t.cond === "number" ? facts.conds.get(t.cond) : undefined;
      if (known !== undefined) b.term = { k: "jump", to: known ? t.then : t.else };
    }
    // Hand the facts on to successors this block alone reaches (each gets its own copy).
    const term = b.term;
    for (const j of jumpsOf(term)) {
      if (preds[j.block] !== 1 || j.block <= bi) continue;
      const next: Facts = { exprs: new Map(facts.exprs), conds: new Map(facts.conds) };
      if (
        term.k === "branch" &&
        typeof term.cond === "number" &&
        term.then.block !== term.else.block
      )
        next.conds.set(term.cond, j === term.then);
      at[j.block] = next;
    }
  });
  mapOperands(g, resolve);
}
