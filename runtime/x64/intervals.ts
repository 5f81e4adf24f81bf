//! Lifetime intervals for linear-scan register allocation (Wimmer & Franz, "Linear Scan Register
//! Allocation on SSA Form", 2010): blocks in a linear order, every operation numbered, and for
//! each virtual register the positions where it is live, as a list of ranges with holes.
//!
//! Numbering: the block's start and each operation (terminator included) get an index `i`, and
//! four positions: `4i` where operands are read, `4i+1` where a call or a division clobbers
//! registers, `4i+2` where the result is written. A value read by operation `i` is live up to
//! `4i+1`, or up to `4i+3` for a "late" read that must survive the write of the result. Block
//! parameters are written at `4i+2` of their block's start. Liveness comes from the usual
//! backward dataflow over the blocks (exact in loops), then intervals are built block by block
//! from the end, as in Wimmer's BuildIntervals.
//!
//! Cost: liveness is O(rounds × (blocks + the sizes of the live sets passed along edges)); in
//! reverse layout order a round carries liveness through every forward edge, so the rounds are
//! bounded by how many back edges a value's liveness must cross (loop connectedness + 2, Kam and
//! Ullman), linear on the test's nested loops. Intervals: a step per operation and per live-out
//! value of each block, adding in front is a push (built last range first), and
//! `firstIntersection` and `covers` start from a binary search.

import { ALLOCATABLE } from "./abi.ts";
import type { Reg } from "./encode.ts";
import { countWork } from "../work.ts";
import { layout } from "./layout.ts";
import { clobbersOf, defsOf, edgesOf, termUses, usesOf, type MFunc, type VReg } from "./mir.ts";

/** A half-open range of positions [from, to). */
export type Range = [number, number];

const usePos = (i: number) => 4 * i;
const clobberPos = (i: number) => 4 * i + 1;
const defPos = (i: number) => 4 * i + 2;

/** Steps taken by interval operations since the last `takeSteps()` (a local counter: they run
 *  too often for a call of `countWork` each; the allocator adds them to its own). */
let steps = 0;

/** The steps counted by interval operations since last asked. */
export function takeSteps(): number {
  const n = steps;
  steps = 0;
  return n;
}

/** The first position both range lists cover, or Infinity. Each list is entered at its first
 *  range ending after the other's start (a binary search: a register's clobbers are a list as
 *  long as the function's calls, met with every interval). */
export function firstIntersection(a: readonly Range[], b: readonly Range[]): number {
  if (!a.length || !b.length) return Infinity;
  let i = endingAfter(a, b[0]![0]);
  let j = i < a.length ? endingAfter(b, a[i]![0]) : 0;
  steps++;
  while (i < a.length && j < b.length) {
    steps++;
    const [af, at] = a[i]!;
    const [bf, bt] = b[j]!;
    const from = Math.max(af, bf);
    if (from < Math.min(at, bt)) return from;
    if (at <= bt) i++;
    else j++;
  }
  return Infinity;
}

/** The index of the first range of `rs` that ends after `pos` (`rs.length` if none). */
function endingAfter(rs: readonly Range[], pos: number): number {
  let lo = 0;
  let hi = rs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rs[mid]![1] <= pos) lo = mid + 1;
    else hi = mid;
    steps++;
  }
  return lo;
}

export class Interval {
  /** Ascending and disjoint. */
  ranges: Range[] = [];
  /** Sum over reads and writes of 10^loop depth: what spilling it would cost. */
  weight = 0;
  constructor(readonly vreg: VReg) {}

  get start(): number {
    return this.ranges[0]![0];
  }

  get end(): number {
    return this.ranges.at(-1)![1];
  }

  covers(pos: number): boolean {
    const r = this.ranges[endingAfter(this.ranges, pos)];
    return r !== undefined && r[0] <= pos;
  }

  /** Adds [from, to), which starts no later than every range already there. While the
   *  intervals are built (from the end backwards) `ranges` is kept last range first, so that
   *  adding in front is a push, not an `unshift` (`finish` turns it round). */
  add(from: number, to: number): void {
    const rs = this.ranges;
    steps++;
    let merged: Range = [from, to];
    while (rs.length && rs.at(-1)![0] <= merged[1])
      ((merged = [merged[0], Math.max(merged[1], rs.pop()![1])]), steps++);
    rs.push(merged);
  }

  /** The value is written at `pos`: the first range starts there. */
  defineAt(pos: number): void {
    if (this.ranges.length) this.ranges.at(-1)![0] = pos;
    else this.ranges.push([pos, pos + 1]);
  }

  /** Puts the ranges built backwards in order. */
  finish(): void {
    this.ranges.reverse();
  }
}

export interface Lifetimes {
  /** Blocks in allocation and emission order (`layout.ts`). */
  order: number[];
  /** By virtual register; undefined for one never defined, or a parameter never read. */
  intervals: (Interval | undefined)[];
  /** Positions where each register is taken by a clobber. */
  fixed: Map<Reg, Range[]>;
}

export function lifetimes(f: MFunc): Lifetimes {
  const { order, depth } = layout(f);
  const blockIndex = numbering(f, order);
  const reads = countReads(f);
  const liveOut = liveness(f, order);
  const intervals: (Interval | undefined)[] = [];
  const get = (v: VReg) => (intervals[v] ??= new Interval(v));
  const fixed = new Map<Reg, Range[]>(ALLOCATABLE.map((r) => [r, []]));

  for (let k = order.length - 1; k >= 0; k--) {
    const b = order[k]!;
    const blk = f.blocks[b]!;
    const start = blockIndex[b]!;
    const from = usePos(start);
    const termIndex = start + 1 + blk.insts.length;
    const live = new Set(liveOut[b]);
    steps += 1 + blk.insts.length;
    for (const v of live) get(v).add(from, usePos(termIndex + 1));
    const weight = 10 ** Math.min(depth[b]!, 6);
    const read = (v: VReg, i: number, late = false) => {
      get(v).add(from, late ? defPos(i) + 1 : clobberPos(i));
      get(v).weight += weight;
      live.add(v);
    };
    const write = (v: VReg, i: number) => {
      get(v).defineAt(defPos(i));
      get(v).weight += weight;
      live.delete(v);
    };
    for (const v of termUses(blk.term)) read(v, termIndex);
    for (let j = blk.insts.length - 1; j >= 0; j--) {
      const inst = blk.insts[j]!;
      const i = start + 1 + j;
      for (const v of defsOf(inst)) if (inst.k !== "params" || reads[v]! > 0) write(v, i);
      const c = clobbersOf(inst);
      if (c)
        for (const r of c.regs)
          fixed.get(r)?.push([c.early ? usePos(i) : clobberPos(i), defPos(i)]);
      for (const u of usesOf(inst)) read(u.v, i, u.late);
    }
    for (const p of blk.params) if (reads[p]! > 0) write(p, start);
  }
  for (const i of intervals) i?.finish();
  for (const rs of fixed.values()) rs.sort((x, y) => x[0] - y[0]);
  countWork("intervals", takeSteps() + 2 * order.length);
  return { order, intervals, fixed };
}

/** The index of each block's start: its operations follow, then its terminator. */
function numbering(f: MFunc, order: number[]): number[] {
  const index: number[] = [];
  let next = 0;
  for (const b of order) {
    index[b] = next;
    next += f.blocks[b]!.insts.length + 2;
  }
  return index;
}

/** The live-out set of each block: iterate live-in = reads ∪ (live-out − writes) to a fixpoint. */
function liveness(f: MFunc, order: number[]): Set<VReg>[] {
  let work = 0;
  const gen: Set<VReg>[] = [];
  const kill: Set<VReg>[] = [];
  for (const b of order) {
    const blk = f.blocks[b]!;
    const g = new Set<VReg>();
    const k = new Set<VReg>(blk.params);
    work += 1 + blk.insts.length;
    for (const inst of blk.insts) {
      for (const u of usesOf(inst)) if (!k.has(u.v)) g.add(u.v);
      for (const d of defsOf(inst)) k.add(d);
    }
    for (const v of termUses(blk.term)) if (!k.has(v)) g.add(v);
    gen[b] = g;
    kill[b] = k;
  }
  const liveIn: Set<VReg>[] = [];
  const liveOut: Set<VReg>[] = [];
  for (const b of order) ((liveIn[b] = new Set(gen[b])), (liveOut[b] = new Set()));
  for (let changed = true; changed;) {
    changed = false;
    for (let k = order.length - 1; k >= 0; k--) {
      const b = order[k]!;
      const out = liveOut[b]!;
      for (const e of edgesOf(f.blocks[b]!.term)) {
        work += liveIn[e.block]!.size;
        for (const v of liveIn[e.block]!) out.add(v);
      }
      const inn = liveIn[b]!;
      work += 1 + out.size;
      for (const v of out) {
        if (!kill[b]!.has(v) && !inn.has(v)) {
          inn.add(v);
          changed = true;
        }
      }
    }
  }
  countWork("liveness", work);
  return liveOut;
}

function countReads(f: MFunc): number[] {
  const n = new Array<number>(f.widths.length).fill(0);
  for (const b of f.blocks) {
    for (const inst of b.insts) for (const u of usesOf(inst)) n[u.v]!++;
    for (const v of termUses(b.term)) n[v]!++;
  }
  return n;
}
