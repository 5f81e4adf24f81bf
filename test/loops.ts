// The loops of residual graphs, for tests that say what a loop holds (golden residual code:
// no allocation, no class test): the blocks on a cycle, and their operations.

import type { Graph, Op } from "../runtime/ir/types.ts";
import { successors } from "../runtime/ir/walk.ts";

/** The blocks of `g` on a cycle: its loops' bodies. */
export function loopBlocks(g: Graph): number[] {
  const onCycle = (b: number) => {
    const seen = new Set<number>();
    const todo = successors(g.blocks[b]!.term);
    while (todo.length) {
      const x = todo.pop()!;
      if (x === b) return true;
      if (!seen.has(x)) (seen.add(x), todo.push(...successors(g.blocks[x]!.term)));
    }
    return false;
  };
  return g.blocks.map((_, b) => b).filter(onCycle);
}

/** The operations of the loops of residual graphs. */
export function loopOps(graphs: Graph[]): Op[] {
  return graphs.flatMap((g) => loopBlocks(g).flatMap((b) => g.blocks[b]!.ops));
}
