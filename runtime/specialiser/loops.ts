//! Loops of the merge-point key graph (which key paths went to from which), for remaking a hot
//! loop as one graph: the innermost natural loop around a key. Dominators by Cooper, Harvey and
//! Kennedy's iterative algorithm ("A Simple, Fast Dominance Algorithm"), over the keys reachable
//! from the root. A cycle that is not a natural loop (entered at two keys) is no loop here.
//!
//! Keys are numbered as they come (the root "" is 0) and the tables are arrays: the graph grows
//! with every key specialised, and the dominators are computed again at each remake after it grew.
//!
//! Cost: O(keys + edges) per remake that follows new edges (iterations of the dominator
//! algorithm, each a pass over the keys): quadratic over a program's life when every loop is
//! remade (3,000 sequential loops: 1,715 remakes over ~40,000 keys). Lazy machinery that "Tiers"
//! (issue 23) replaces; until then it is bounded by the program's compile budget
//! (`Policy.maxWork`: its steps are counted, `runtime/work.ts`).

import { reversePostorderFrom } from "../ir/walk.ts";
import { countWork } from "../work.ts";

export class KeyGraph {
  private ids = new Map<string, number>([["", 0]]);
  private names: string[] = [""];
  private succs: Set<number>[] = [new Set()];
  private preds: number[][] = [[]];
  /** Dominators and natural loops by header, made again only after an edge is added. */
  private doms: Dominators | undefined;
  private loops = new Map<number, Loop | undefined>();

  link(from: string, to: string): void {
    const [a, b] = [this.id(from), this.id(to)];
    if (this.succs[a]!.has(b)) return;
    this.succs[a]!.add(b);
    this.preds[b]!.push(a);
    this.doms = undefined;
    this.loops.clear();
  }

  /** The keys `key` links to. */
  successors(key: string): string[] {
    const k = this.ids.get(key);
    return k === undefined ? [] : [...this.succs[k]!].map((s) => this.names[s]!);
  }

  /** The keys reachable from the root, and whether `a` dominates `b` (both reachable). */
  dominance(): { reachable: string[]; dominates(a: string, b: string): boolean } {
    const d = (this.doms ??= dominators(this.succs, this.preds));
    return {
      reachable: this.names.filter((_, k) => d.idom[k]! >= 0),
      dominates: (a, b) => d.dominates(this.ids.get(a)!, this.ids.get(b)!),
    };
  }

  /** The keys of the innermost natural loop that contains `key` and more than `than` keys
   *  (its header first), or an empty set when there is none. */
  innermostLoop(key: string, than = 0): Set<string> {
    const k = this.ids.get(key);
    const { idom } = (this.doms ??= dominators(this.succs, this.preds));
    if (k === undefined || idom[k]! < 0) return new Set();
    for (let h = k; h !== 0; h = idom[h]!) {
      countWork("key-graph", 1);
      const loop = this.loopAt(h);
      if (loop?.body.has(k) && loop.body.size > than) return loop.keys;
    }
    return new Set();
  }

  private id(key: string): number {
    let k = this.ids.get(key);
    if (k === undefined) {
      this.ids.set(key, (k = this.names.push(key) - 1));
      this.succs.push(new Set());
      this.preds.push([]);
    }
    return k;
  }

  /** The natural loop headed by `h`, if back edges reach it. */
  private loopAt(h: number): Loop | undefined {
    if (this.loops.has(h)) return this.loops.get(h);
    const { idom, dominates } = this.doms!;
    const tails = this.preds[h]!.filter((t) => idom[t]! >= 0 && dominates(h, t));
    let loop: Loop | undefined;
    let steps = 1 + this.preds[h]!.length;
    if (tails.length) {
      const body = new Set([h]);
      const work = tails;
      while (work.length) {
        const n = work.pop()!;
        steps++;
        if (body.has(n)) continue;
        body.add(n);
        for (const p of this.preds[n]!) if (idom[p]! >= 0) work.push(p);
      }
      loop = { body, keys: new Set([...body].map((b) => this.names[b]!)) };
    }
    this.loops.set(h, loop);
    countWork("key-graph", steps);
    return loop;
  }
}

/** A natural loop's keys, by number and by name (its header first). */
interface Loop {
  body: Set<number>;
  keys: Set<string>;
}

/** Dominators from node 0: every reachable node's immediate dominator (-1 for the others; the
 *  root's is itself), and a constant-time test on the dominator tree's depth-first intervals. */
interface Dominators {
  idom: Int32Array;
  dominates(a: number, b: number): boolean;
}

function dominators(succs: Set<number>[], preds: number[][]): Dominators {
  const n = succs.length;
  // Postorder numbers: the intersection walks up to the node finished later.
  const rpo = reversePostorderFrom(0, (v) => [...succs[v]!]);
  const po = new Int32Array(n).fill(-1);
  rpo.forEach((v, i) => (po[v] = rpo.length - 1 - i));
  const idom = new Int32Array(n).fill(-1);
  idom[0] = 0;
  let steps = n;
  const intersect = (a: number, b: number): number => {
    while (a !== b) {
      steps++;
      while (po[a]! < po[b]!) a = idom[a]!;
      while (po[b]! < po[a]!) b = idom[b]!;
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (let i = 1; i < rpo.length; i++) {
      const v = rpo[i]!;
      steps += 1 + preds[v]!.length;
      let d = -1;
      for (const p of preds[v]!) if (idom[p]! >= 0) d = d < 0 ? p : intersect(p, d);
      if (d >= 0 && idom[v] !== d) ((idom[v] = d), (changed = true));
    }
  }
  // Depth-first intervals of the dominator tree: a dominates b when a's holds b's.
  const kids: number[][] = Array.from({ length: n }, () => []);
  for (let v = 1; v < n; v++) if (idom[v]! >= 0) kids[idom[v]!]!.push(v);
  const pre = new Int32Array(n);
  const post = new Int32Array(n);
  const walk: [number, number][] = [[0, 0]];
  let clock = 0;
  while (walk.length) {
    const top = walk.at(-1)!;
    if (top[1] === 0) pre[top[0]] = clock++;
    const next = kids[top[0]]![top[1]++];
    if (next !== undefined) walk.push([next, 0]);
    else ((post[top[0]] = clock++), walk.pop());
  }
  countWork("key-graph", steps);
  return { idom, dominates: (a, b) => pre[a]! <= pre[b]! && post[b]! <= post[a]! };
}
