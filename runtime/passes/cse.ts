//! Common-subexpression elimination and redundant-branch elimination over extended basic
//! blocks: a block with a single predecessor inherits what is known at the end of it (it is
//! dominated by it), a block with several starts afresh. Known: the pure operations already
//! computed (an equal one is replaced by the first), and the value of each condition a branch
//! has tested on the way (a second branch on it becomes a jump), and the values each variable x
//! can have given the comparisons of `x + c` with constants on the way (an arc of the 32-bit
//! circle, `ir/arcs.ts`): a comparison that holds for all of them, or for none, becomes a jump.
//! A block parameter's values start as the arc `ir/ranges.ts` finds for it (what every jump to
//! it passes), which carries facts across blocks with several predecessors: round a loop.
//! Removes the repeated bounds checks of a Brainfuck tape access: `uint_lt ptr, 30000` tested
//! once per cell update, not at all after pointer guards that imply it, nor at a loop's head
//! when the loop's entry and back edge were checked. A merge point forgets everything else
//! (only its arguments live across it for the specialisers).
//!
//! The facts are scoped tables walked depth-first over the tree of single-predecessor edges:
//! a block adds to them and takes its additions back when its subtree is done, so a long chain
//! of blocks (a residual graph's straight-line code) costs its length, not its length squared.
//!
//! Cost: linear in the graph (each block visited once, each table entry added and taken back
//! once), plus the substitution's lookups, reading each comparison's `x + c` (`arcs.ts`) and
//! the parameters' arcs (`ranges.ts`).

import { type Arc, type LinearMemo, complement, narrow, shift, within } from "../ir/arcs.ts";
import { OPS } from "../ir/ops.ts";
import { comparison, paramArcs, sideArc } from "../ir/ranges.ts";
import type { Graph, Operand } from "../ir/types.ts";
import {
  Substitution,
  definitions,
  inheritors,
  jumpsOf,
  mapOperands,
  predecessorCounts,
} from "../ir/walk.ts";
import { countWork } from "../work.ts";

/** A block to visit with the condition its edge decides, or the undoing of a visited one. */
type Step =
  | { k: "visit"; block: number; cond?: [number, boolean]; range?: [number, Arc] }
  | {
      k: "undo";
      exprs: string[];
      conds: number[];
      ranges: [number, Arc | undefined][];
      saved?: Tables;
    };

interface Tables {
  exprs: Map<string, Operand>;
  conds: Map<number, boolean>;
  ranges: Map<number, Arc>;
}

export function cse(g: Graph): void {
  const preds = predecessorCounts(g);
  const inherits = inheritors(g, preds);
  const subst = new Substitution(g);
  const resolve = subst.resolve;
  const fresh = (): Tables => ({ exprs: new Map(), conds: new Map(), ranges: new Map() });
  let t = fresh();
  const defs = definitions(g);
  const def = (v: number) => defs[v];
  // What block parameters hold wherever they are defined: the start of every range.
  const params = paramArcs(g, def, preds, inherits);
  const rangeOf = (x: number) => t.ranges.get(x) ?? params.get(x);
  let steps = 0;
  const memo: LinearMemo = new Map();

  const visit = (bi: number, s: Step & { k: "visit" }, work: Step[]) => {
    const undo: Step & { k: "undo" } = { k: "undo", exprs: [], conds: [], ranges: [] };
    const { cond, range } = s;
    if (cond && !t.conds.has(cond[0])) (t.conds.set(cond[0], cond[1]), undo.conds.push(cond[0]));
    if (range) {
      const [x, arc] = range;
      const old = t.ranges.get(x);
      const now = rangeOf(x);
      t.ranges.set(x, now ? narrow(now, arc) : arc);
      undo.ranges.push([x, old]);
    }
    const b = g.blocks[bi]!;
    const ops = b.ops;
    let kept = 0;
    steps += 1 + ops.length;
    for (const op of ops) {
      const args = op.args;
      for (let i = 0; i < args.length; i++) args[i] = resolve(args[i]!);
      if (op.op === "merge_point" && !undo.saved) {
        // The specialisers keep only the merge point's arguments across it: forget the rest
        // (until this block's subtree is done).
        undo.saved = t;
        t = fresh();
      }
      if (op.dst >= 0 && OPS[op.op]!.effect === "pure") {
        let k = `${op.op}<${op.imm ?? ""}>`;
        for (const a of args) k += typeof a === "number" ? `v${a},` : `${a.k}${a.v},`;
        const seen = t.exprs.get(k);
        if (seen !== undefined) {
          subst.set(op.dst, seen);
          continue;
        }
        t.exprs.set(k, op.dst);
        if (!undo.saved) undo.exprs.push(k);
      }
      ops[kept++] = op;
    }
    ops.length = kept;
    const term = b.term;
    let test: ReturnType<typeof comparison>;
    if (term.k === "branch") {
      term.cond = resolve(term.cond);
      let known = typeof term.cond === "number" ? t.conds.get(term.cond) : undefined;
      test = comparison(term.cond, def, resolve, memo);
      const r = test && rangeOf(test.x);
      if (known === undefined && test && r) {
        const values = shift(r, test.c);
        const fails = complement(test.holds);
        if (within(values, test.holds)) known = true;
        else if (fails && within(values, fails)) known = false;
      }
      if (known !== undefined) b.term = { k: "jump", to: known ? term.then : term.else };
    }
    work.push(undo);
    const now = b.term;
    for (const j of jumpsOf(now)) {
      if (!inherits[j.block]) continue;
      const next: Step & { k: "visit" } = { k: "visit", block: j.block };
      if (now.k === "branch" && typeof now.cond === "number" && now.then.block !== now.else.block) {
        const taken = j === now.then;
        next.cond = [now.cond, taken];
        const range = sideArc(test, taken);
        if (range) next.range = range;
      }
      work.push(next);
    }
  };

  g.blocks.forEach((_, root) => {
    if (inherits[root]) return;
    const work: Step[] = [{ k: "visit", block: root }];
    while (work.length) {
      const s = work.pop()!;
      if (s.k === "visit") {
        visit(s.block, s, work);
        continue;
      }
      steps += 1 + s.exprs.length + s.conds.length + s.ranges.length;
      if (s.saved) t = s.saved;
      for (const k of s.exprs) t.exprs.delete(k);
      for (const c of s.conds) t.conds.delete(c);
      for (const [x, old] of s.ranges.reverse())
        if (old) t.ranges.set(x, old);
        else t.ranges.delete(x);
    }
  });
  steps += mapOperands(g, resolve);
  countWork("cse", steps + subst.steps);
}
