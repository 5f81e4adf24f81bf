//! Common-subexpression elimination and redundant-branch elimination over extended basic
//! blocks: a block with a single predecessor inherits what is known at the end of it (it is
//! dominated by it), a block with several starts afresh. Known: the pure operations already
//! computed (an equal one is replaced by the first), and the value of each condition a branch
//! has tested on the way (a second branch on it becomes a jump). Removes the repeated bounds
//! checks of a Brainfuck tape access: `uint_lt ptr, 30000` tested once per cell update. A merge
//! point forgets everything (only its arguments live across it for the specialisers).
//!
//! The facts are scoped tables walked depth-first over the tree of single-predecessor edges:
//! a block adds to them and takes its additions back when its subtree is done, so a long chain
//! of blocks (a residual graph's straight-line code) costs its length, not its length squared.

import { OPS } from "../ir/ops.ts";
import type { Graph, Operand } from "../ir/types.ts";
import { jumpsOf, mapOperands } from "../ir/walk.ts";

/** A block to visit with the condition its edge decides, or the undoing of a visited one. */
type Step =
  | { k: "visit"; block: number; cond?: [number, boolean] }
  | { k: "undo"; exprs: string[]; conds: number[]; saved?: Tables };

interface Tables {
  exprs: Map<string, Operand>;
  conds: Map<number, boolean>;
}

export function cse(g: Graph): void {
  const preds = g.blocks.map(() => 0);
  for (const b of g.blocks) for (const j of jumpsOf(b.term)) preds[j.block]!++;
  // A block is visited from its predecessor when it has only that one and comes after it.
  const inherits = g.blocks.map(() => false);
  g.blocks.forEach((b, bi) => {
    for (const j of jumpsOf(b.term))
      if (preds[j.block] === 1 && j.block > bi) inherits[j.block] = true;
  });
  const subst = new Map<number, Operand>();
  const resolve = (o: Operand): Operand => {
    while (typeof o === "number" && subst.has(o)) o = subst.get(o)!;
    return o;
  };
  const key = (o: Operand) => (typeof o === "number" ? `v${o}` : `${o.k}${o.v}`);
  let t: Tables = { exprs: new Map(), conds: new Map() };

  const visit = (bi: number, cond: [number, boolean] | undefined, work: Step[]) => {
    const undo: Step & { k: "undo" } = { k: "undo", exprs: [], conds: [] };
    if (cond && !t.conds.has(cond[0])) (t.conds.set(cond[0], cond[1]), undo.conds.push(cond[0]));
    const b = g.blocks[bi]!;
    b.ops = b.ops.filter((op) => {
      op.args = op.args.map(resolve);
      if (op.op === "merge_point" && !undo.saved) {
        // The specialisers keep only the merge point's arguments across it: forget the rest
        // (until this block's subtree is done).
        undo.saved = t;
        t = { exprs: new Map(), conds: new Map() };
      }
      if (op.dst < 0 || OPS[op.op]!.effect !== "pure") return true;
      const k = `${op.op}<${op.imm ?? ""}>${op.args.map(key).join(",")}`;
      const seen = t.exprs.get(k);
      if (seen === undefined) {
        t.exprs.set(k, op.dst);
        if (!undo.saved) undo.exprs.push(k);
        return true;
      }
      subst.set(op.dst, seen);
      return false;
    });
    const term = b.term;
    if (term.k === "branch") {
      term.cond = resolve(term.cond);
      const known = typeof term.cond === "number" ? t.conds.get(term.cond) : undefined;
      if (known !== undefined) b.term = { k: "jump", to: known ? term.then : term.else };
    }
    work.push(undo);
    const now = b.term;
    for (const j of jumpsOf(now)) {
      if (!inherits[j.block] || j.block <= bi) continue;
      const decides =
        now.k === "branch" && typeof now.cond === "number" && now.then.block !== now.else.block;
      work.push({
        k: "visit",
        block: j.block,
        ...(decides ? { cond: [now.cond as number, j === now.then] as [number, boolean] } : {}),
      });
    }
  };

  g.blocks.forEach((_, root) => {
    if (inherits[root]) return;
    const work: Step[] = [{ k: "visit", block: root }];
    while (work.length) {
      const s = work.pop()!;
      if (s.k === "visit") {
        visit(s.block, s.cond, work);
        continue;
      }
      if (s.saved) t = s.saved;
      for (const k of s.exprs) t.exprs.delete(k);
      for (const c of s.conds) t.conds.delete(c);
    }
  });
  mapOperands(g, resolve);
}
