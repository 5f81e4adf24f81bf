//! Visiting the parts of a graph that every pass needs: the jumps of a terminator and every
//! operand, so that passes do not each spell out the terminator kinds.

import type { Graph, Jump, Op, Operand, Term } from "./types.ts";

export function jumpsOf(t: Term): Jump[] {
  switch (t.k) {
    case "jump":
      return [t.to];
    case "branch":
      return [t.then, t.else];
    case "switch":
      return [...t.cases.map((c) => c.to), t.default];
    default:
      return [];
  }
}

/** Blocks and operations of `g`: the steps of a pass that visits each a bounded number of
 *  times (`runtime/work.ts`). */
export function sizeOf(g: Graph): number {
  let n = g.blocks.length;
  for (const b of g.blocks) n += b.ops.length;
  return n;
}

/** How many operations `graphs` hold (terminators not counted). */
export function opsIn(graphs: readonly Graph[]): number {
  let n = 0;
  for (const g of graphs) for (const b of g.blocks) n += b.ops.length;
  return n;
}

/** How many jumps lead to each block; a label (`Graph.labels`) counts one more, for the jumps
 *  of other graphs into it. */
export function predecessorCounts(g: Graph): number[] {
  const preds = g.blocks.map(() => 0);
  for (const b of g.blocks) for (const j of jumpsOf(b.term)) preds[j.block]!++;
  for (const l of g.labels ?? []) preds[l]!++;
  return preds;
}

/** Where a graph may be entered: block 0, then its labels. */
export function rootsOf(g: Graph): number[] {
  return g.labels?.length ? [0, ...g.labels] : [0];
}

/** The operation defining each variable, by number (block parameters have none). */
export function definitions(g: Graph): (Op | undefined)[] {
  const def: (Op | undefined)[] = new Array(g.types.length);
  for (const b of g.blocks) for (const op of b.ops) if (op.dst >= 0) def[op.dst] = op;
  return def;
}

/** Whether each block extends its predecessor's block (an extended basic block): it has that
 *  one predecessor only, and comes after it. Passes that carry facts down such edges walk the
 *  tree they make from every block that does not. */
export function inheritors(g: Graph, preds = predecessorCounts(g)): boolean[] {
  const inherits = g.blocks.map(() => false);
  g.blocks.forEach((b, bi) => {
    for (const j of jumpsOf(b.term))
      if (preds[j.block] === 1 && j.block > bi) inherits[j.block] = true;
  });
  return inherits;
}

/** The blocks reachable from the entry and the labels, each after the blocks that reach it
 *  (loops apart). */
export function reversePostorder(g: Graph): number[] {
  return reversePostorderFrom(rootsOf(g), (b) => successors(g.blocks[b]!.term));
}

/** The nodes reachable from `entries`, each after the nodes that reach it (loops apart): a
 *  depth-first postorder reversed, the search taking successors in the order `succs` gives;
 *  the first entry's nodes, then those the next reaches that are not among them, and so on. */
export function reversePostorderFrom(
  entries: readonly number[],
  succs: (n: number) => number[],
): number[] {
  const order: number[] = [];
  const seen = new Set<number>();
  const enter = (n: number) => {
    seen.add(n);
    return { n, succ: succs(n), next: 0 };
  };
  for (const root of entries) {
    if (seen.has(root)) continue;
    const post: number[] = [];
    const stack = [enter(root)];
    while (stack.length) {
      const top = stack.at(-1)!;
      if (top.next < top.succ.length) {
        const s = top.succ[top.next++]!;
        if (!seen.has(s)) stack.push(enter(s));
      } else {
        post.push(top.n);
        stack.pop();
      }
    }
    for (let i = post.length - 1; i >= 0; i--) order.push(post[i]!);
  }
  return order;
}

export function successors(t: Term): number[] {
  return jumpsOf(t).map((j) => j.block);
}

/** Rewrites every operand used in the graph (not definitions) through `f`, in place (no pass
 *  shares an operand list between two operations or jumps). Returns the steps it took (blocks,
 *  operations and operands visited; `runtime/work.ts`). */
export function mapOperands(g: Graph, f: (o: Operand) => Operand): number {
  let steps = g.blocks.length;
  for (const b of g.blocks) {
    steps += b.ops.length;
    for (const op of b.ops) steps += each(op.args, f);
    const t = b.term;
    switch (t.k) {
      case "jump":
        steps += each(t.to.args, f);
        break;
      case "branch":
        t.cond = f(t.cond);
        steps += each(t.then.args, f) + each(t.else.args, f);
        break;
      case "switch":
        t.on = f(t.on);
        for (const c of t.cases) steps += each(c.to.args, f);
        steps += each(t.default.args, f);
        break;
      case "return":
        if (t.value !== undefined) t.value = f(t.value);
        break;
      case "exit":
        steps += each(t.args, f);
    }
  }
  return steps;
}

function each(xs: Operand[], f: (o: Operand) => Operand): number {
  for (let i = 0; i < xs.length; i++) xs[i] = f(xs[i]!);
  return xs.length;
}

/** Variables replaced by operands, as passes find them: a lookup follows replacements of
 *  replacements to the end, and points every variable it passed at the end (chains as long as
 *  the code, a pointer handed down every block of a straight line, cost their length once). */
export class Substitution {
  private to: (Operand | undefined)[];
  size = 0;
  /** Links followed by lookups (`runtime/work.ts`). */
  steps = 0;
  constructor(g: Graph) {
    this.to = new Array(g.types.length);
  }
  set(v: number, o: Operand): void {
    if (this.to[v] === undefined) this.size++;
    this.to[v] = o;
  }
  has(v: number): boolean {
    return this.to[v] !== undefined;
  }
  readonly resolve = (o: Operand): Operand => {
    let end = o;
    let steps = 1;
    for (let to; typeof end === "number" && (to = this.to[end]) !== undefined; steps++) end = to;
    for (let to; typeof o === "number" && (to = this.to[o]) !== undefined && to !== end; o = to)
      this.to[o] = end;
    this.steps += steps;
    return end;
  };
}

export function sameOperand(a: Operand, b: Operand): boolean {
  return typeof a === "number" || typeof b === "number" ? a === b : a.k === b.k && a.v === b.v;
}

/** The operands `t` reads itself, its jumps' arguments apart: a branch's condition, a switch's
 *  value, a return's value, an exit's state. */
export function termOperands(t: Term): Operand[] {
  if (t.k === "branch") return [t.cond];
  if (t.k === "switch") return [t.on];
  if (t.k === "return") return t.value === undefined ? [] : [t.value];
  if (t.k === "exit") return t.args;
  return [];
}

/** Everything `t` reads: its operands and its jumps' arguments. */
function termUses(t: Term): Operand[] {
  return [...termOperands(t), ...jumpsOf(t).flatMap((j) => j.args)];
}

/** The variables live across a merge point that are not among its arguments, with where: the
 *  specialisers keep only its arguments across it (a key is made of them, and the state after
 *  it holds nothing else), so an interpreter must have none. */
export function liveAcross(g: Graph): { block: number; op: Op; v: number }[] {
  const out: { block: number; op: Op; v: number }[] = [];
  g.blocks.forEach((b, block) =>
    b.ops.forEach((op, i) => {
      if (op.op !== "merge_point") return;
      for (const v of liveAt(g, block, i + 1)) if (!op.args.includes(v)) out.push({ block, op, v });
    }),
  );
  return out;
}

/** Every block's live-in variables, made once per graph. */
function insOf(g: Graph): Set<number>[] {
  let ins = liveIns.get(g);
  if (!ins) liveIns.set(g, (ins = liveInSets(g)));
  return ins;
}
const liveIns = new WeakMap<Graph, Set<number>[]>();

/** The variables live at the start of `block` (its parameters among them). */
export function liveIn(g: Graph, block: number): Set<number> {
  return insOf(g)[block]!;
}

/** The variables live before operation `op` of `block` (the terminator when `op` is past the
 *  last operation): those some path from there reads before it writes them. Made once per
 *  place (the specialisers ask at every copy of a state): not to be changed. */
export function liveAt(g: Graph, block: number, op: number): Set<number> {
  let ats = liveAts.get(g);
  if (!ats) liveAts.set(g, (ats = []));
  const row = (ats[block] ??= []);
  let live = row[op];
  if (live) return live;
  const b = g.blocks[block]!;
  live = liveOut(g, insOf(g), block);
  for (let i = b.ops.length - 1; i >= op; i--) step(live, b.ops[i]!.dst, b.ops[i]!.args);
  return (row[op] = live);
}
const liveAts = new WeakMap<Graph, Set<number>[][]>();

function liveOut(g: Graph, ins: Set<number>[], block: number): Set<number> {
  const b = g.blocks[block]!;
  const live = new Set<number>();
  for (const s of successors(b.term)) {
    const params = g.blocks[s]!.params;
    for (const v of ins[s]!) if (!params.includes(v)) live.add(v);
  }
  for (const o of termUses(b.term)) if (typeof o === "number") live.add(o);
  return live;
}

function step(live: Set<number>, dst: number, args: Operand[]): void {
  if (dst >= 0) live.delete(dst);
  for (const a of args) if (typeof a === "number") live.add(a);
}

/** Live-in sets of every block (parameters included), by iteration to a fixpoint. */
function liveInSets(g: Graph): Set<number>[] {
  const ins = g.blocks.map(() => new Set<number>());
  for (let changed = true; changed;) {
    changed = false;
    for (let bi = g.blocks.length - 1; bi >= 0; bi--) {
      const b = g.blocks[bi]!;
      const live = liveOut(g, ins, bi);
      for (let i = b.ops.length - 1; i >= 0; i--) step(live, b.ops[i]!.dst, b.ops[i]!.args);
      if (live.size !== ins[bi]!.size) {
        ins[bi] = live;
        changed = true;
      }
    }
  }
  return ins;
}
