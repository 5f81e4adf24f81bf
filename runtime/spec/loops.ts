//! Loops of the merge-point key graph (which key paths went to from which), for remaking a hot
//! loop as one graph: the innermost natural loop around a key. Dominators by Cooper, Harvey and
//! Kennedy's iterative algorithm ("A Simple, Fast Dominance Algorithm"), over the keys reachable
//! from the root. A cycle that is not a natural loop (entered at two keys) is no loop here.

export class KeyGraph {
  readonly succs = new Map<string, Set<string>>();
  readonly preds = new Map<string, Set<string>>();
  /** Dominators from the root "" and natural loops by header, made again only after an edge
   *  is added. */
  private doms: Dominators | undefined;
  private loops = new Map<string, Set<string> | undefined>();

  link(from: string, to: string): void {
    let s = this.succs.get(from);
    if (!s) this.succs.set(from, (s = new Set()));
    if (s.has(to)) return;
    s.add(to);
    let p = this.preds.get(to);
    if (!p) this.preds.set(to, (p = new Set()));
    p.add(from);
    this.doms = undefined;
    this.loops.clear();
  }

  /** The keys of the innermost natural loop that contains `key` and more than `than` keys
   *  (its header first), or an empty set when there is none. */
  innermostLoop(key: string, than = 0): Set<string> {
    const { idom } = (this.doms ??= dominators(this, ""));
    if (!idom.has(key)) return new Set();
    for (let h = key; h !== ""; h = idom.get(h)!) {
      const body = this.loopAt(h);
      if (body?.has(key) && body.size > than) return body;
    }
    return new Set();
  }

  /** The natural loop headed by `h`, if back edges reach it. */
  private loopAt(h: string): Set<string> | undefined {
    if (this.loops.has(h)) return this.loops.get(h);
    const { idom, dominates } = this.doms!;
    const tails = [...(this.preds.get(h) ?? [])].filter((t) => idom.has(t) && dominates(h, t));
    let body: Set<string> | undefined;
    if (tails.length) {
      body = new Set([h]);
      const work = tails;
      while (work.length) {
        const n = work.pop()!;
        if (body.has(n)) continue;
        body.add(n);
        for (const p of this.preds.get(n) ?? []) if (idom.has(p)) work.push(p);
      }
    }
    this.loops.set(h, body);
    return body;
  }
}

/** Dominators of a graph from `root`: every reachable node's immediate dominator (the root's
 *  is itself), and a constant-time test on the dominator tree's depth-first intervals. */
export interface Dominators {
  idom: Map<string, string>;
  dominates(a: string, b: string): boolean;
}

export function dominators(
  g: { succs: Map<string, Set<string>>; preds: Map<string, Set<string>> },
  root: string,
): Dominators {
  // Postorder by an iterative depth-first walk.
  const po = new Map<string, number>();
  const order: string[] = [];
  const seen = new Set([root]);
  const stack: [string, Iterator<string>][] = [[root, (g.succs.get(root) ?? new Set()).values()]];
  while (stack.length) {
    const top = stack.at(-1)!;
    const next = top[1].next();
    if (next.done) {
      po.set(top[0], order.push(top[0]) - 1);
      stack.pop();
    } else if (!seen.has(next.value)) {
      seen.add(next.value);
      stack.push([next.value, (g.succs.get(next.value) ?? new Set()).values()]);
    }
  }
  const idom = new Map([[root, root]]);
  const intersect = (a: string, b: string): string => {
    while (a !== b) {
      while (po.get(a)! < po.get(b)!) a = idom.get(a)!;
      while (po.get(b)! < po.get(a)!) b = idom.get(b)!;
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (let i = order.length - 2; i >= 0; i--) {
      const n = order[i]!;
      let d: string | undefined;
      for (const p of g.preds.get(n) ?? [])
        if (idom.has(p)) d = d === undefined ? p : intersect(p, d);
      if (d !== undefined && idom.get(n) !== d) (idom.set(n, d), (changed = true));
    }
  }
  // Depth-first intervals of the dominator tree: a dominates b when a's holds b's.
  const kids = new Map<string, string[]>();
  for (const [n, d] of idom) {
    if (n === root) continue;
    let k = kids.get(d);
    if (!k) kids.set(d, (k = []));
    k.push(n);
  }
  const pre = new Map<string, number>();
  const post = new Map<string, number>();
  const walk: [string, number][] = [[root, 0]];
  let clock = 0;
  while (walk.length) {
    const top = walk.at(-1)!;
    if (top[1] === 0) pre.set(top[0], clock++);
    const next = kids.get(top[0])?.[top[1]++];
    if (next !== undefined) walk.push([next, 0]);
    else (post.set(top[0], clock++), walk.pop());
  }
  return {
    idom,
    dominates: (a, b) => pre.get(a)! <= pre.get(b)! && post.get(b)! <= post.get(a)!,
  };
}
