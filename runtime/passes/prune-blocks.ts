//! Removes blocks unreachable from the entry and renumbers the rest in order of first reach
//! (depth-first, successors in terminator order), so that equal graphs print equally.

import type { Graph } from "../ir/types.ts";
import { jumpsOf, successors } from "../ir/walk.ts";

export function pruneBlocks(g: Graph): void {
  const order: number[] = [];
  const index = new Map<number, number>();
  const stack = [0];
  while (stack.length) {
    const b = stack.pop()!;
    if (index.has(b)) continue;
    index.set(b, order.length);
    order.push(b);
    stack.push(...successors(g.blocks[b]!.term).reverse());
  }
  g.blocks = order.map((b) => g.blocks[b]!);
  for (const b of g.blocks) for (const j of jumpsOf(b.term)) j.block = index.get(j.block)!;
}
