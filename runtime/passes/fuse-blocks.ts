//! Fuses a block into its only predecessor when that predecessor ends in a plain jump to it:
//! the jump's arguments replace the block's parameters. Straightens the chains of empty blocks
//! that lowering `if`, `switch` and bounds checks leaves behind.
//!
//! Cost: linear in the graph (each block is fused into one other at most once, its operations
//! moved once), plus the substitution's lookups.

import type { Graph } from "../ir/types.ts";
import { Substitution, mapOperands, predecessorCounts, sizeOf } from "../ir/walk.ts";
import { countWork } from "../work.ts";

export function fuseBlocks(g: Graph): void {
  const preds = predecessorCounts(g);
  const subst = new Substitution(g);
  const dead = new Set<number>();
  g.blocks.forEach((b, bi) => {
    if (dead.has(bi)) return;
    // The block's list of operations is copied once before it grows (it may be the empty list
    // new blocks share, `build.ts`), not once per fused block: chains are long.
    let own = false;
    for (;;) {
      const t = b.term;
      if (t.k !== "jump" || t.to.block === 0 || t.to.block === bi || preds[t.to.block] !== 1) break;
      const next = g.blocks[t.to.block]!;
      next.params.forEach((p, k) => subst.set(p, t.to.args[k]!));
      if (!own) {
        b.ops = b.ops.slice();
        own = true;
      }
      b.ops.push(...next.ops);
      b.term = next.term;
      if (next.termPos) b.termPos = next.termPos;
      else delete b.termPos;
      if (next.termAt !== undefined) b.termAt = next.termAt;
      else delete b.termAt;
      dead.add(t.to.block);
    }
  });
  let steps = sizeOf(g);
  if (!dead.size) return countWork("fuse-blocks", steps);
  // Fused blocks stay in place unreached; renumbering happens in pruneBlocks.
  for (const d of dead)
    g.blocks[d] = { params: [], ops: [], term: { k: "raise", msg: "unreachable" } };
  steps += mapOperands(g, subst.resolve);
  countWork("fuse-blocks", steps + subst.steps);
}
