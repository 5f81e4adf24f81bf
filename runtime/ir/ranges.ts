//! The values each block parameter can have, as an arc of the 32-bit circle (`arcs.ts`): the
//! shortest arc covering what every jump to its block passes it, given the comparisons of
//! `x + c` with constants on the way to the jump. In SSA form that arc holds wherever the
//! parameter is defined, so a pass deciding comparisons (`cse`) starts from it at blocks with
//! several predecessors, where facts along single edges stop: a loop that re-checks the bound
//! its back edge was checked against.
//!
//! Loops make it a fixpoint. Rounds over the blocks in reverse postorder grow each arc from
//! empty until nothing grows; an arc that has grown `WIDEN` times becomes the whole circle (a
//! pointer moving by one would otherwise take a round per value). Where that happened,
//! narrowing rounds give each parameter what reaches it given the arcs found (a loop's pointer:
//! what enters and what its checked back edge passes), kept while they are a fixpoint still.
//!
//! Cost: linear in the graph: the passings (one per `i32` argument of each jump) are found once
//! (reading `x + c` through `arcs.ts`'s memo), then each round is a step per passing; rounds are
//! at most 64 upwards (then nothing is known) and 4 downwards, each parameter's arc grows at most
//! `WIDEN` times before it is the whole circle.

import {
  type Arc,
  type LinearMemo,
  CIRCLE,
  complement,
  cover,
  holds,
  linear,
  narrow,
  mod,
  shift,
  within,
} from "./arcs.ts";
import type { Graph, Op, Operand } from "./types.ts";
import { countWork } from "../work.ts";
import { inheritors, jumpsOf, predecessorCounts, reversePostorder, rootsOf } from "./walk.ts";

const WIDEN = 3;
const ROUNDS = 64;
const NARROW = 4;
const TOP: Arc = { lo: 0, len: CIRCLE };

/** A branch condition as `x + c` in the arc `holds` (undefined: no such comparison), with
 *  variables read through `resolve` (a pass's substitutions so far). */
export function comparison(
  cond: Operand,
  def: (v: number) => Op | undefined,
  resolve: (o: Operand) => Operand = (o) => o,
  memo?: LinearMemo,
): { x: number; c: number; holds: Arc } | undefined {
  const cmp = typeof cond === "number" ? def(cond) : undefined;
  if (!cmp || cmp.args.length !== 2) return undefined;
  const v = resolve(cmp.args[0]!);
  const k = resolve(cmp.args[1]!);
  if (typeof v !== "number" || typeof k !== "object" || k.k !== "int") return undefined;
  const h = holds(cmp.op, k.v);
  if (!h) return undefined;
  const { x, c } = linear(v, (n) => def(resolve(n) as number), memo);
  return { x: resolve(x) as number, c, holds: h };
}

/** The arc of `x` on the side of a branch on `test` that is `taken` (undefined: no fact). */
export function sideArc(
  test: ReturnType<typeof comparison>,
  taken: boolean,
): [x: number, arc: Arc] | undefined {
  const arc = test && (taken ? test.holds : complement(test.holds));
  return test && arc && [test.x, shift(arc, -test.c)];
}

/** What a jump passes a parameter: the arc of `x` (the whole circle when `x` is -1, a
 *  constant or a variable that is no parameter), met with what the comparisons on the way to
 *  the jump say of `x`, then shifted by `c`. */
interface Passing {
  to: number;
  x: number;
  c: number;
  fact: Arc | undefined;
}

/** The arcs of the `i32` block parameters that are not the whole circle (`preds` and
 *  `inherits`: the graph's, when the caller has them already). */
export function paramArcs(
  g: Graph,
  def: (v: number) => Op | undefined,
  preds = predecessorCounts(g),
  inherits = inheritors(g, preds),
): Map<number, Arc> {
  // Most graphs a JIT makes are small continuations without one (the entry's are unknown).
  if (!g.blocks.some((b, bi) => bi > 0 && b.params.some((p) => g.types[p] === "i32")))
    return new Map();
  const steps = passings(g, def, inherits);
  const params = (b: number) => g.blocks[b]!.params;
  // Work (`runtime/work.ts`): finding the passings, then a step per passing per round.
  let work = g.blocks.length + steps.length;
  // Arcs by variable in arrays, not maps: a residual graph has tens of thousands of parameters.
  const n = g.types.length;

  /** One round over every jump reached, in reverse postorder: what each passes goes to
   *  `pass`, given the arc `read` says each parameter has (undefined: none yet); `jumped`
   *  sees each jump's target once its arguments are passed. */
  const round = (
    read: (p: number) => Arc | undefined,
    pass: (p: number, arc: Arc) => void,
    jumped?: (block: number) => void,
  ) => {
    work += steps.length;
    for (const s of steps) {
      if (typeof s === "number") {
        jumped?.(s);
        continue;
      }
      const a = s.x < 0 ? TOP : read(s.x);
      if (a) pass(s.to, shift(s.fact ? narrow(a, s.fact) : a, s.c));
    }
  };

  // Upwards, to a fixpoint.
  const arcs: (Arc | undefined)[] = new Array(n);
  const roots = rootsOf(g);
  for (const r of roots) for (const p of params(r)) arcs[p] = TOP;
  const grown = new Uint8Array(n);
  let changed = true;
  let widened = false;
  const grow = (p: number, arc: Arc) => {
    const old = arcs[p];
    const now = old ? cover(old, arc) : arc;
    if (old && now.lo === old.lo && now.len === old.len) return;
    const wide = ++grown[p]! > WIDEN;
    arcs[p] = wide ? TOP : now;
    widened ||= wide;
    changed = true;
  };
  for (let r = 0; changed; r++) {
    if (r === ROUNDS) return (countWork("ranges", work), new Map()); // not settled: nothing is known
    changed = false;
    round((p) => arcs[p], grow);
  }

  // Downwards, where widening lost something: what reaches each parameter given the arcs so
  // far (the new arc of a parameter once every jump to its block has been seen in the round),
  // kept while still a fixpoint.
  let best = arcs;
  for (let r = 0; widened && r < NARROW; r++) {
    const next: (Arc | undefined)[] = new Array(n);
    for (const r of roots) for (const p of params(r)) next[p] = TOP;
    const seen = new Uint32Array(g.blocks.length);
    const done = new Uint8Array(n);
    round(
      (p) => (done[p] ? next[p] : best[p]),
      (p, arc) => {
        const old = next[p];
        next[p] = old ? cover(old, arc) : arc;
      },
      (b) => {
        if (++seen[b]! === preds[b]) for (const p of params(b)) done[p] = 1;
      },
    );
    let same = true;
    work += n;
    for (let p = 0; same && p < n; p++) {
      const a = next[p];
      const b = best[p];
      if (a) same = b !== undefined && b.lo === a.lo && b.len === a.len;
    }
    if (same) break;
    let fixpoint = true;
    round(
      (p) => next[p],
      (p, arc) => {
        const now = next[p];
        if (!now || !within(arc, now)) fixpoint = false;
      },
    );
    if (!fixpoint) break;
    best = next;
  }
  countWork("ranges", work + n);
  const out = new Map<number, Arc>();
  for (let p = 0; p < n; p++) {
    const a = best[p];
    if (a && a.len !== CIRCLE) out.set(p, a);
  }
  return out;
}

/** Every jump of the blocks reached, in reverse postorder (each extended block depth-first):
 *  what it passes each `i32` parameter, then its target's number. The facts are the
 *  comparisons on the way down the tree of single-predecessor edges: they do not change from
 *  round to round, so they are gathered once. */
function passings(
  g: Graph,
  def: (v: number) => Op | undefined,
  inherits: boolean[],
): (Passing | number)[] {
  const isParam = new Uint8Array(g.types.length);
  for (const b of g.blocks) for (const p of b.params) isParam[p] = 1;
  // For each variable, what the comparisons on the way say of it, met (a stack: the last
  // entry holds here).
  const facts: (Arc[] | undefined)[] = new Array(g.types.length);
  const assume = (fact: [number, Arc] | undefined) => {
    if (!fact) return;
    const list = (facts[fact[0]] ??= []);
    const last = list.at(-1);
    list.push(last ? narrow(last, fact[1]) : fact[1]);
  };
  const forget = (fact: [number, Arc] | undefined) => {
    if (fact) facts[fact[0]]!.pop();
  };
  const steps: (Passing | number)[] = [];
  type Step = { visit: number; fact?: [number, Arc] } | { forget: [number, Arc] };
  const memo: LinearMemo = new Map();
  for (const root of reversePostorder(g)) {
    if (inherits[root]) continue;
    const work: Step[] = [{ visit: root }];
    while (work.length) {
      const s = work.pop()!;
      if ("forget" in s) {
        forget(s.forget);
        continue;
      }
      const bi = s.visit;
      assume(s.fact);
      if (s.fact) work.push({ forget: s.fact });
      const t = g.blocks[bi]!.term;
      const test = t.k === "branch" ? comparison(t.cond, def, undefined, memo) : undefined;
      for (const j of jumpsOf(t)) {
        const fact =
          t.k === "branch" && t.then.block !== t.else.block
            ? sideArc(test, j === t.then)
            : undefined;
        if (inherits[j.block]) work.push(fact ? { visit: j.block, fact } : { visit: j.block });
        assume(fact);
        const params = g.blocks[j.block]!.params;
        for (let k = 0; k < j.args.length; k++) {
          const a = j.args[k]!;
          const to = params[k]!;
          if (g.types[to] !== "i32") continue;
          if (typeof a !== "number") {
            if (a.k === "int") steps.push({ to, x: -1, c: 0, fact: { lo: mod(a.v), len: 1 } });
            continue;
          }
          const { x, c } = linear(a, def, memo);
          steps.push({ to, x: isParam[x] ? x : -1, c, fact: facts[x]?.at(-1) });
        }
        forget(fact);
        steps.push(j.block);
      }
    }
  }
  return steps;
}
