//! Removes blocks unreachable from the entry and the labels and renumbers the rest in order of
//! first reach (depth-first from the entry, then from each label; successors in terminator
//! order), so that equal graphs print equally.
//!
//! Cost: linear in blocks and jumps (each block entered once, each jump pushed once).

import type { Graph } from "../ir/types.ts";
import { jumpsOf, rootsOf, successors } from "../ir/walk.ts";
import { countWork } from "../work.ts";

export function pruneBlocks(g: Graph): void {
  const order: number[] = [];
  const index = new Int32Array(g.blocks.length).fill(-1);
  let steps = g.blocks.length;
  for (const root of rootsOf(g)) {
    const stack = [root];
    while (stack.length) {
      const b = stack.pop()!;
      steps++;
      if (index[b]! >= 0) continue;
      index[b] = order.length;
      order.push(b);
      const next = successors(g.blocks[b]!.term);
      for (let i = next.length - 1; i >= 0; i--) stack.push(next[i]!);
    }
  }
  g.blocks = order.map((b) => g.blocks[b]!);
  for (const b of g.blocks) for (const j of jumpsOf(b.term)) j.block = index[j.block]!;
  if (g.labels) g.labels = g.labels.map((l) => index[l]!);
  countWork("prune-blocks", steps);
}
