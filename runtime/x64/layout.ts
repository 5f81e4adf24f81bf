//! Block layout: the linear order in which blocks are allocated and emitted, and loop depths.
//!
//! The order is a reverse postorder from the entry (definitions before uses, loops together),
//! with each branch's `then` successor placed right after it (the depth-first search visits it
//! last): residual code's `then` is the hot side (a loop going on, a bounds check passing) and
//! its `else` often a raise. Then loops are rotated: a header ending in a conditional branch
//! whose latch jumps back to it moves after the latch, so each trip ends in one conditional
//! jump back to the top instead of a jump to the header plus the header's test.

import { reversePostorderFrom } from "../ir/walk.ts";
import { edgesOf, type MFunc } from "./mir.ts";

/** The blocks reachable from the entry in layout order, and the loop depth of each block. */
export function layout(f: MFunc): { order: number[]; depth: number[] } {
  const order = reversePostorder(f);
  const depth = loopDepths(f, order);
  // The blocks ending in a jump to each block: the latches a rotation looks for.
  const jumpsTo = new Map<number, number[]>();
  for (const b of order) {
    const t = f.blocks[b]!.term;
    if (t.k === "jmp") jumpsTo.set(t.to.block, [...(jumpsTo.get(t.to.block) ?? []), b]);
  }
  for (const h of [...order]) rotate(f, order, h, jumpsTo.get(h) ?? []);
  return { order, depth };
}

/** The search takes each branch's `then` last, so that it comes right after the branch. */
function reversePostorder(f: MFunc): number[] {
  return reversePostorderFrom(f.entry, (b) =>
    edgesOf(f.blocks[b]!.term)
      .map((e) => e.block)
      .reverse(),
  );
}

/** Moves loop header `h` after its last latch, if that latch jumps to it unconditionally and
 *  `h` ends in a conditional branch. */
function rotate(f: MFunc, order: number[], h: number, latches: number[]): void {
  if (f.blocks[h]!.term.k !== "br" || h === f.entry || !latches.length) return;
  const at = order.indexOf(h);
  const latch = Math.max(-1, ...latches.map((b) => order.indexOf(b)).filter((i) => i > at));
  if (latch < 0) return;
  order.splice(latch + 1, 0, h);
  order.splice(at, 1);
}

/** Loop depth per block: each edge to a block no later in reverse postorder closes a loop made
 *  of the blocks that reach the edge's source without passing its target. */
function loopDepths(f: MFunc, order: number[]): number[] {
  const rank: number[] = [];
  order.forEach((b, i) => (rank[b] = i));
  const preds: number[][] = f.blocks.map(() => []);
  for (const b of order) for (const e of edgesOf(f.blocks[b]!.term)) preds[e.block]!.push(b);
  const depth = f.blocks.map(() => 0);
  for (const b of order) {
    for (const e of edgesOf(f.blocks[b]!.term)) {
      const head = e.block;
      if (rank[head]! > rank[b]!) continue;
      const body = new Set([head]);
      const work = [b];
      while (work.length) {
        const x = work.pop()!;
        if (body.has(x)) continue;
        body.add(x);
        work.push(...preds[x]!);
      }
      for (const x of body) depth[x]!++;
    }
  }
  return depth;
}
