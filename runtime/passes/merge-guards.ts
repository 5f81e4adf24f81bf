//! Merges chains of guards that raise the same error. Brainfuck's `<<<<<<<<<` checks the tape
//! pointer before each move (`ptr - k <= 0`: raise), nine compares and jumps where one does.
//!
//! A guard is a branch one side of which only raises, on a comparison of `x + c` (or `x`) with a
//! constant: it fails for an interval of x, taken on the 32-bit circle so that wrapping is exact
//! (`x - 7 <= 0` fails for x in [INT_MIN + 7, 7], not for every x <= 7). A chain is a guard
//! followed, through blocks with one predecessor and no effects (what a raise skips cannot be
//! seen), by guards on the same x raising the same message. When their intervals join into one,
//! the first guard tests the union (`uint_lt x - lo, len`) and the others go straight on: the run
//! raises the same message exactly when one of them would have.

import { OPS } from "../ir/ops.ts";
import type { Graph, Jump, Op } from "../ir/types.ts";
import { jumpsOf } from "../ir/walk.ts";

const CIRCLE = 2 ** 32;
const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

/** The values of x for which a guard fails: `len` values from `lo` on, around the circle. */
interface Arc {
  lo: number;
  len: number;
}

interface Guard extends Arc {
  x: number;
  msg: string;
  /** The side that goes on, and whether it is the branch's `then`. */
  pass: Jump;
  raiseOnThen: boolean;
}

/** For which v `v op k` holds, as a signed range (empty: undefined). */
const HOLDS: Record<string, (k: number) => [number, number] | undefined> = {
  int_le: (k) => [INT_MIN, k],
  int_lt: (k) => (k === INT_MIN ? undefined : [INT_MIN, k - 1]),
  int_ge: (k) => [k, INT_MAX],
  int_gt: (k) => (k === INT_MAX ? undefined : [k + 1, INT_MAX]),
};

const mod = (v: number) => ((v % CIRCLE) + CIRCLE) % CIRCLE;

/** The union of two arcs when it is one arc (not the whole circle). */
function join(a: Arc, b: Arc): Arc | undefined {
  for (const [p, q] of [
    [a, b],
    [b, a],
  ] as const) {
    const d = mod(q.lo - p.lo);
    if (d <= p.len) {
      const len = Math.max(p.len, d + q.len);
      return len < CIRCLE ? { lo: p.lo, len } : undefined;
    }
  }
  return undefined;
}

export function mergeGuards(g: Graph): void {
  const def = new Map<number, Op>();
  const preds = g.blocks.map(() => 0);
  for (const b of g.blocks) {
    for (const op of b.ops) if (op.dst >= 0) def.set(op.dst, op);
    for (const j of jumpsOf(b.term)) preds[j.block]!++;
  }
  const raises = (j: Jump): string | undefined => {
    const b = g.blocks[j.block]!;
    return b.ops.length === 0 && b.term.k === "raise" ? b.term.msg : undefined;
  };
  const guardAt = (bi: number): Guard | undefined => {
    const t = g.blocks[bi]!.term;
    if (t.k !== "branch" || typeof t.cond !== "number") return undefined;
    const [onThen, onElse] = [raises(t.then), raises(t.else)];
    if ((onThen === undefined) === (onElse === undefined)) return undefined;
    const cmp = def.get(t.cond);
    const holds = cmp && HOLDS[cmp.op];
    const [v, k] = cmp?.args ?? [];
    if (!holds || typeof v !== "number" || typeof k !== "object" || k.k !== "int") return;
    const range = holds(k.v);
    if (!range) return undefined;
    // v = x + c, through every addition of a constant (so `p + 1 <= 0` and `(p + 1) - 1 <= 0`
    // are guards on the same p); c is taken around the circle like the intervals.
    let x = v;
    let c = 0;
    for (;;) {
      const add = def.get(x);
      const addend = add?.args[1];
      if (add?.op !== "int_add" || typeof add.args[0] !== "number" || typeof addend !== "object")
        break;
      if (addend.k !== "int") return undefined;
      x = add.args[0];
      c = mod(c + addend.v);
    }
    // The failing values of v, then of x = v - c.
    const raiseOnThen = onThen !== undefined;
    const len = range[1] - range[0] + 1;
    const fail = raiseOnThen ? { lo: range[0], len } : { lo: range[1] + 1, len: CIRCLE - len };
    if (fail.len <= 0 || fail.len >= CIRCLE) return undefined;
    return {
      x,
      lo: mod(fail.lo - c),
      len: fail.len,
      msg: (onThen ?? onElse)!,
      pass: raiseOnThen ? t.else : t.then,
      raiseOnThen,
    };
  };
  const effectFree = (bi: number) =>
    g.blocks[bi]!.ops.every((op) => ["pure", "read"].includes(OPS[op.op]!.effect));

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
    const shifted = g.types.push("i32") - 1;
    const cond = g.types.push("bool") - 1;
    const pos = def.get(t0.cond as number)!.pos;
    b0.ops.push(
      {
        op: "int_add",
        dst: shifted,
        args: [g0.x, { k: "int", v: -arc.lo | 0 }],
        imm: undefined,
        pos,
      },
      {
        op: "uint_lt",
        dst: cond,
        args: [shifted, { k: "int", v: arc.len | 0 }],
        imm: undefined,
        pos,
      },
    );
    b0.term = { k: "branch", cond, then: fail, else: g0.pass };
    for (const b of chain.slice(1)) {
      const gb = guardAt(b)!;
      g.blocks[b]!.term = { k: "jump", to: gb.pass };
    }
  });
}
