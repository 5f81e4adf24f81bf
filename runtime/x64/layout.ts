//! Block layout: the linear order in which blocks are allocated and emitted, and loop depths.
//!
//! The order is a reverse postorder from the entry (definitions before uses, loops together),
//! with each branch's `then` successor placed right after it (the depth-first search visits it
//! last): residual code's `then` is the hot side (a loop going on, a bounds check passing) and
//! its `else` often a raise. Then loops are rotated: a header ending in a conditional branch
//! whose latch jumps back to it moves after the latch, so each trip ends in one conditional
//! jump back to the top instead of a jump to the header plus the header's test.
//!
//! Loop depths (for spill weights) come from the loop nesting forest, found as Havlak does
//! ("Nesting of Reducible and Irreducible Loops", 1997) for reducible loops: headers in reverse
//! preorder, each loop's body gathered backwards from its back edges over the loops inside it
//! already collapsed into their headers (union-find). A predecessor that is not below the header
//! in the search tree enters the loop elsewhere (irreducible): it is left out.
//!
//! Cost: near-linear in blocks and edges (the search, each block collapsed into one loop once,
//! union-find with path halving); a rotation is a constant-time move in a linked list (it was an
//! `indexOf` and two `splice`s each, and the depths a flood of each loop body per back edge:
//! quadratic in nested loops, 47% of compiling 5,000 nested Brainfuck loops).

import { countWork } from "../work.ts";
import { edgesOf, type MFunc } from "./mir.ts";

/** The blocks reachable from the entry in layout order, and the loop depth of each block. */
export function layout(f: MFunc): { order: number[]; depth: number[] } {
  const search = depthFirst(f);
  const depth = loopDepths(f, search);
  const order = rotated(f, search);
  countWork("layout", search.steps + order.length);
  return { order, depth };
}

/** A depth-first search from the entry, each branch's `then` taken last: the reverse
 *  postorder, and each block's preorder number and the last preorder number below it (so a
 *  block is below another when its number is within the other's). -1 for blocks not reached. */
interface Search {
  rpo: number[];
  pre: Int32Array;
  last: Int32Array;
  byPre: number[];
  steps: number;
}

function depthFirst(f: MFunc): Search {
  const n = f.blocks.length;
  const pre = new Int32Array(n).fill(-1);
  const last = new Int32Array(n).fill(-1);
  const byPre: number[] = [];
  const post: number[] = [];
  const succs = (b: number) =>
    edgesOf(f.blocks[b]!.term)
      .map((e) => e.block)
      .reverse();
  const enter = (b: number) => {
    pre[b] = byPre.push(b) - 1;
    return { b, succ: succs(b), next: 0 };
  };
  let steps = 0;
  // From the entry, then from each label's entry (what it reaches that the entry does not),
  // each search's blocks in reverse postorder after the ones before.
  const rpo: number[] = [];
  for (const root of [f.entry, ...f.labels]) {
    if (pre[root]! >= 0) continue;
    const from = post.length;
    const stack = [enter(root)];
    while (stack.length) {
      steps++;
      const top = stack.at(-1)!;
      if (top.next < top.succ.length) {
        const s = top.succ[top.next++]!;
        if (pre[s]! < 0) stack.push(enter(s));
      } else {
        last[top.b] = byPre.length - 1;
        post.push(top.b);
        stack.pop();
      }
    }
    for (let i = post.length - 1; i >= from; i--) rpo.push(post[i]!);
  }
  return { rpo, pre, last, byPre, steps };
}

/** Loop depth per block: how many natural loops hold it (see the header). */
function loopDepths(f: MFunc, s: Search): number[] {
  const { pre, last, byPre } = s;
  const n = f.blocks.length;
  const below = (a: number, b: number) => pre[a]! <= pre[b]! && pre[b]! <= last[a]!;
  const preds: number[][] = f.blocks.map(() => []);
  let steps = n;
  for (const b of byPre)
    for (const e of edgesOf(f.blocks[b]!.term)) (preds[e.block]!.push(b), steps++);
  // Union-find: each block's representative, the header of the outermost loop found so far
  // that holds it (itself if none).
  const up = Int32Array.from({ length: n }, (_, i) => i);
  const find = (x: number) => {
    while (up[x] !== x) ((up[x] = up[up[x]!]!), (x = up[x]!), steps++);
    return x;
  };
  const header = new Int32Array(n).fill(-1);
  const isHeader = new Uint8Array(n);
  const mark = new Int32Array(n).fill(-1);
  for (let i = byPre.length - 1; i >= 0; i--) {
    const h = byPre[i]!;
    const body: number[] = [];
    const add = (x: number) => {
      const r = find(x);
      if (r !== h && mark[r] !== h && below(h, r)) ((mark[r] = h), body.push(r));
    };
    for (const t of preds[h]!) if (below(h, t)) ((isHeader[h] = 1), add(t));
    for (let k = 0; k < body.length; k++) {
      const x = body[k]!;
      for (const p of preds[x]!) if (!below(x, p)) add(p);
      steps += 1 + preds[x]!.length;
    }
    for (const x of body) ((header[x] = h), (up[x] = h));
  }
  // Headers come before what they hold in preorder.
  const loopDepth = new Int32Array(n);
  const depth = f.blocks.map(() => 0);
  for (const b of byPre) {
    const outer = header[b]! >= 0 ? loopDepth[header[b]!]! : 0;
    if (isHeader[b]) loopDepth[b] = outer + 1;
    depth[b] = isHeader[b] ? loopDepth[b]! : outer;
  }
  countWork("layout", steps + byPre.length);
  return depth;
}

/** `order` with each loop header ending in a conditional branch moved after its last latch
 *  that jumps to it unconditionally and comes after it. Latches end in jumps and the blocks
 *  moved in branches, so a latch never moves, and a header moves once: whether a latch comes
 *  after its header is the same in `order` as at the header's turn. A latch is below its
 *  header in the search (a back edge): a label's code, searched from its own entry, jumps
 *  into a loop from outside it. */
function rotated(f: MFunc, s: Search): number[] {
  const { rpo: order, pre, last } = s;
  const n = f.blocks.length;
  const rank = new Int32Array(n).fill(-1);
  order.forEach((b, i) => (rank[b] = i));
  // The last latch after each header (by rank), for the headers that can rotate.
  const latch = new Int32Array(n).fill(-1);
  for (const b of order) {
    const t = f.blocks[b]!.term;
    if (t.k !== "jmp") continue;
    const h = t.to.block;
    if (pre[b]! < pre[h]! || pre[b]! > last[h]!) continue;
    if (rank[b]! > rank[h]! && (latch[h]! < 0 || rank[b]! > rank[latch[h]!]!)) latch[h] = b;
  }
  const next = new Int32Array(n).fill(-1);
  const prev = new Int32Array(n).fill(-1);
  for (let i = 0; i + 1 < order.length; i++)
    ((next[order[i]!] = order[i + 1]!), (prev[order[i + 1]!] = order[i]!));
  for (const h of order) {
    const l = latch[h]!;
    if (l < 0 || f.blocks[h]!.term.k !== "br" || h === f.entry) continue;
    // Unlink h (never the first block: the entry), then link it after l.
    next[prev[h]!] = next[h]!;
    if (next[h]! >= 0) prev[next[h]!] = prev[h]!;
    prev[h] = l;
    next[h] = next[l]!;
    if (next[l]! >= 0) prev[next[l]!] = h;
    next[l] = h;
  }
  const out: number[] = [];
  for (let b = order[0]!; b >= 0; b = next[b]!) out.push(b);
  return out;
}
