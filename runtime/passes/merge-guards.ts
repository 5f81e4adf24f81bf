//! Merges chains of guards that raise the same error. Brainfuck's `<<<<<<<<<` checks the tape
//! pointer before each move (`ptr - k <= 0`: raise), nine compares and jumps where one does.
//!
//! A guard is a branch one side of which only raises, on a comparison of `x + c` (or `x`) with a
//! constant: it fails for an interval of x, taken on the 32-bit circle so that wrapping is exact
//! (`x - 7 <= 0` fails for x in [INT_MIN + 7, 7], not for every x <= 7). A chain is a guard
//! followed, through blocks with one predecessor and no effects (what a raise skips cannot be
//! seen), by guards on the same x raising the same message. When their intervals join into one,
//! the first guard tests the union (`uint_lt x - lo, len`, or one signed comparison when the
//! union starts at INT_MIN or ends at INT_MAX) and the others go straight on: the run raises the
//! same message exactly when one of them would have.
//!
//! Cost: linear in the graph: a block is in at most one chain (then done), and a chain's walk
//! stops at the first block it cannot take; plus reading each guard's `x + c` (`arcs.ts`).

import { type Arc, type LinearMemo, CIRCLE, INT_MIN, join, mod } from "../ir/arcs.ts";
import { comparison, sideArc } from "../ir/ranges.ts";
import { OPS } from "../ir/ops.ts";
import type { Graph, Jump } from "../ir/types.ts";
import { definitions, predecessorCounts, sizeOf } from "../ir/walk.ts";
import { countWork } from "../work.ts";

interface Guard extends Arc {
  x: number;
  msg: string;
  /** The side that goes on, and whether it is the branch's `then`. */
  pass: Jump;
  raiseOnThen: boolean;
}

const SIGNED = new Set(["int_le", "int_lt", "int_ge", "int_gt"]);

export function mergeGuards(g: Graph): void {
  const def = definitions(g);
  const preds = predecessorCounts(g);
  const memo: LinearMemo = new Map();
  const raises = (j: Jump): string | undefined => {
    const b = g.blocks[j.block]!;
    return b.ops.length === 0 && b.term.k === "raise" ? b.term.msg : undefined;
  };
  const guardAt = (bi: number): Guard | undefined => {
    const t = g.blocks[bi]!.term;
    if (t.k !== "branch" || typeof t.cond !== "number") return undefined;
    const [onThen, onElse] = [raises(t.then), raises(t.else)];
    if ((onThen === undefined) === (onElse === undefined)) return undefined;
    if (!SIGNED.has(def[t.cond]?.op ?? "")) return undefined;
    // The values of x (the comparison is of x + c) for which the guard fails.
    const raiseOnThen = onThen !== undefined;
    const fail = sideArc(
      comparison(t.cond, (n) => def[n], undefined, memo),
      raiseOnThen,
    );
    if (!fail || fail[1].len >= CIRCLE) return undefined;
    return {
      x: fail[0],
      ...fail[1],
      msg: (onThen ?? onElse)!,
      pass: raiseOnThen ? t.else : t.then,
      raiseOnThen,
    };
  };
  let steps = 2 * sizeOf(g);
  const effectFree = (bi: number) => {
    steps += 1 + g.blocks[bi]!.ops.length;
    return g.blocks[bi]!.ops.every((op) => ["pure", "read"].includes(OPS[op.op]!.effect));
  };

  const done = new Set<number>();
  g.blocks.forEach((_, first) => {
    const g0 = done.has(first) ? undefined : guardAt(first);
    if (!g0 || g0.pass.args.length) return;
    const chain = [first];
    let arc: Arc = g0;
    for (let cur = g0; ;) {
      const next = cur.pass.block;
      if (preds[next] !== 1 || !effectFree(next) || done.has(next)) break;
      const gn = guardAt(next);
      const joined = gn && gn.x === g0.x && gn.msg === g0.msg ? join(arc, gn) : undefined;
      if (!gn || !joined) break;
      chain.push(next);
      arc = joined;
      cur = gn;
      if (gn.pass.args.length) break;
    }
    chain.forEach((b) => done.add(b));
    if (chain.length < 2) return;
    // The first guard tests the union; the others go on.
    const b0 = g.blocks[first]!;
    const t0 = b0.term as Extract<typeof b0.term, { k: "branch" }>;
    const fail = g0.raiseOnThen ? t0.then : t0.else;
    const cond = g.types.push("bool") - 1;
    // (the guard's own line and position, where its condition was made)
    const { pos, at } = def[t0.cond as number]!;
    // (A new list: the block's may be the one empty list blocks share, `build.ts`.)
    const ops = (b0.ops = [...b0.ops]);
    const test = (op: string, x: number, k: number) =>
      ops.push({ op, dst: cond, args: [x, { k: "int", v: k | 0 }], imm: undefined, pos, at });
    // An arc that starts at INT_MIN or ends at INT_MAX is one signed comparison; one that
    // starts at 0, one unsigned; others, an unsigned comparison of x - lo.
    if (arc.lo === mod(INT_MIN)) test("int_lt", g0.x, INT_MIN + arc.len);
    else if (arc.lo + arc.len === mod(INT_MIN)) test("int_ge", g0.x, arc.lo);
    else if (arc.lo === 0) test("uint_lt", g0.x, arc.len);
    else {
      const shifted = g.types.push("i32") - 1;
      ops.push({
        op: "int_add",
        dst: shifted,
        args: [g0.x, { k: "int", v: -arc.lo | 0 }],
        imm: undefined,
        pos,
        at,
      });
      test("uint_lt", shifted, arc.len);
    }
    b0.term = { k: "branch", cond, then: fail, else: g0.pass };
    for (const b of chain.slice(1)) {
      const gb = guardAt(b)!;
      g.blocks[b]!.term = { k: "jump", to: gb.pass };
    }
  });
  countWork("merge-guards", steps);
}
