//! The clean-up pipeline every graph goes through after it is built (by the frontend or by a
//! specialiser): a flat list, in order. Tests run the verifier after each pass.

import type { Graph } from "../ir/types.ts";
import { cse } from "./cse.ts";
import { dce } from "./dce.ts";
import { fold } from "./fold.ts";
import { forward } from "./forward.ts";
import { fuseBlocks } from "./fuse-blocks.ts";
import { mergeGuards } from "./merge-guards.ts";
import { pruneBlocks } from "./prune-blocks.ts";
import { pruneParams } from "./prune-params.ts";
import { reassociate } from "./reassociate.ts";
import { renumber } from "./renumber.ts";

export type Pass = (g: Graph) => void;

export const cleanup: [string, Pass][] = [
  // A specialiser's graph is mostly chains of blocks (one per merge-point key): fused first,
  // the passes after see 40% fewer (mandelbrot: 25,853 blocks, then 15,571).
  ["fuse-blocks", fuseBlocks],
  ["prune-blocks", pruneBlocks],
  ["prune-params", pruneParams],
  ["fold", fold],
  ["prune-blocks", pruneBlocks],
  ["prune-params", pruneParams],
  ["fuse-blocks", fuseBlocks],
  ["cse", cse],
  ["prune-blocks", pruneBlocks],
  ["fuse-blocks", fuseBlocks],
  ["forward", forward],
  ["reassociate", reassociate],
  ["fold", fold],
  // A loop that moves a pointer and back passes the pointer it got: it is the entry's value.
  ["prune-params", pruneParams],
  ["fold", fold],
  ["merge-guards", mergeGuards],
  ["fuse-blocks", fuseBlocks],
  ["prune-blocks", pruneBlocks],
  ["dce", dce],
  ["renumber", renumber],
];

/** Runs `passes` in order; `check` (the verifier, under test) runs after each. */
export function runPasses(
  g: Graph,
  passes: [string, Pass][],
  check?: (g: Graph, pass: string) => void,
): void {
  for (const [name, pass] of passes) {
    pass(g);
    check?.(g, name);
  }
}
