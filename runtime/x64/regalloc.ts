//! Register allocation: linear scan over lifetime intervals with holes (Poletto & Sarkar's scan,
//! with Wimmer & Franz's active/inactive sets so that two values whose lifetimes interleave can
//! share a register), then the moves that block arguments, calls and the entry need.
//!
//! Each virtual register gets one location for its whole life: a register, or a spill slot.
//! When no register is free for an interval, the cheapest way out is taken: spill it, or evict
//! the intervals holding the register whose summed spill weight (uses weighted by 10^loop depth)
//! is lower. So the values of the hot loop keep their registers. Spilled operands are reached
//! through the scratch registers by the emitter; spill slots are shared by intervals that do not
//! overlap.
//!
//! Hints make most moves disappear: a block parameter prefers the register of the arguments
//! passed to it (and vice versa), a two-address result the register of its left operand, call
//! arguments their argument registers, results rax. Then the loop-carried values of a residual
//! loop stay in place and its back edge moves nothing.
//!
//! Cost: O(intervals × (registers + inactive intervals) × log ranges): at each interval's start
//! the active ones (at most one per register) and the inactive ones (in a lifetime hole there)
//! are looked at, and range lists are met from a binary search (a register's clobbers are as
//! many as the function's calls). Spill slots: first fit over the slots, each holding only the
//! intervals that may still meet a later one. The moves: O(k log k) per parallel move of k.

import { ALLOCATABLE, CALLEE_SAVED, SCRATCH1 } from "./abi.ts";
import { ARG_REGS, Reg } from "./encode.ts";
import { countWork } from "../work.ts";
import {
  firstIntersection,
  lifetimes,
  takeSteps,
  type Interval,
  type Lifetimes,
} from "./intervals.ts";
import {
  isVReg,
  edgesOf,
  type MFunc,
  type MInst,
  type MOperand,
  type MTerm,
  type VReg,
  type Width,
} from "./mir.ts";
import { reg, type Loc, type Move } from "./loc.ts";
import { sequentialise } from "./pmove.ts";

export interface Allocation {
  /** Blocks in emission order. */
  order: number[];
  /** By virtual register: where it lives; undefined for a parameter never read. */
  loc: (Loc | undefined)[];
  /** Spill slots of the frame, and stack slots for the arguments of calls. */
  slots: number;
  outArgs: number;
  /** The callee-saved registers the function uses (its prologue saves them). */
  calleeSaved: Reg[];
  /** Sequentialised moves: the parameters from the argument registers, each call's (and tail
   *  call's) arguments into place (and each label entry's parameters, by its `params`
   *  instruction), and each edge's arguments into its target's parameters. */
  entryMoves: Move[];
  callMoves: Map<MInst | MTerm, Move[]>;
  edgeMoves: Move[][][];
}

/** Where argument `i` of a System V call travels; of an exit's tail call (`tail`), past the
 *  sixth, in the state buffer. */
export function argLoc(i: number, tail = false): Loc {
  if (i < ARG_REGS.length) return reg(ARG_REGS[i]!);
  return tail ? { k: "state", n: i } : { k: "out", n: i - ARG_REGS.length };
}

/** Where parameter `i` of `f` arrives (past the sixth, on the stack or in the state buffer:
 *  `MFunc.stateParams`); of a label's entry (`label`), where an exit's tail call puts it. */
export function paramLoc(f: MFunc, i: number, label?: number): Loc {
  if (i < ARG_REGS.length) return reg(ARG_REGS[i]!);
  return f.stateParams || label !== undefined
    ? { k: "state", n: i }
    : { k: "in", n: i - ARG_REGS.length };
}

/** A preferred register: fixed, or the one another virtual register got. */
type Hint = { reg: Reg } | { vreg: VReg };

export function allocate(f: MFunc): Allocation {
  const lt = lifetimes(f);
  const regs = new Map<VReg, Reg>();
  const spilled = linearScan(lt, hints(f), regs);
  const loc: (Loc | undefined)[] = [];
  for (const [v, r] of regs) loc[v] = reg(r);
  const slots = assignSlots(spilled, loc);
  const calleeSaved = CALLEE_SAVED.filter((r) => [...regs.values()].includes(r));
  const ms = moves(f, lt, loc);
  countWork("regalloc", takeSteps() + regs.size);
  return { order: lt.order, loc, slots, calleeSaved, ...ms };
}

// ---------------------------------------------------------------------------- the scan

/** Assigns registers (into `regs`); returns the intervals that live in memory. */
function linearScan(lt: Lifetimes, hintsOf: Map<VReg, Hint[]>, regs: Map<VReg, Reg>): Interval[] {
  const unhandled = lt.intervals
    .filter((i): i is Interval => i !== undefined)
    .sort((a, b) => a.start - b.start || a.vreg - b.vreg);
  let active: Interval[] = [];
  let inactive: Interval[] = [];
  const spilled: Interval[] = [];
  const regOf = (i: Interval) => regs.get(i.vreg)!;

  let steps = unhandled.length;
  for (const cur of unhandled) {
    const pos = cur.start;
    steps += 1 + active.length + inactive.length;
    const still = [...active, ...inactive].filter((i) => i.end > pos);
    active = still.filter((i) => i.covers(pos));
    inactive = still.filter((i) => !i.covers(pos));

    const r = freeRegister(cur, active, inactive, lt, hintsOf.get(cur.vreg) ?? [], regs);
    if (r !== undefined) {
      regs.set(cur.vreg, r);
      active.push(cur);
      continue;
    }
    // Nothing free for the whole interval: evict the cheapest holders of a register, or spill.
    const choice = cheapestEviction(cur, [...active, ...inactive], lt, regOf);
    if (choice && choice.cost < cur.weight) {
      for (const v of choice.victims) {
        regs.delete(v.vreg);
        spilled.push(v);
      }
      active = active.filter((i) => !choice.victims.includes(i));
      inactive = inactive.filter((i) => !choice.victims.includes(i));
      regs.set(cur.vreg, choice.reg);
      active.push(cur);
    } else {
      spilled.push(cur);
    }
  }
  countWork("regalloc", steps);
  return spilled;
}

/** A register no other interval and no clobber needs during `cur`, the hinted ones first. */
function freeRegister(
  cur: Interval,
  active: Interval[],
  inactive: Interval[],
  lt: Lifetimes,
  hs: Hint[],
  regs: Map<VReg, Reg>,
): Reg | undefined {
  const taken = new Set<Reg>();
  for (const i of active) taken.add(regs.get(i.vreg)!);
  for (const i of inactive)
    if (firstIntersection(i.ranges, cur.ranges) < Infinity) taken.add(regs.get(i.vreg)!);
  const free = (r: Reg) =>
    !taken.has(r) && firstIntersection(lt.fixed.get(r)!, cur.ranges) === Infinity;
  for (const h of hs) {
    const r = "reg" in h ? h.reg : regs.get(h.vreg);
    if (r !== undefined && ALLOCATABLE.includes(r) && free(r)) return r;
  }
  return ALLOCATABLE.find(free);
}

/** The register whose current holders during `cur` weigh least (none if clobbers forbid all). */
function cheapestEviction(
  cur: Interval,
  holders: Interval[],
  lt: Lifetimes,
  regOf: (i: Interval) => Reg,
) {
  let best: { reg: Reg; victims: Interval[]; cost: number } | undefined;
  for (const r of ALLOCATABLE) {
    if (firstIntersection(lt.fixed.get(r)!, cur.ranges) < Infinity) continue;
    const victims = holders.filter(
      (i) => regOf(i) === r && firstIntersection(i.ranges, cur.ranges) < Infinity,
    );
    const cost = victims.reduce((s, i) => s + i.weight, 0);
    if (!best || cost < best.cost) best = { reg: r, victims, cost };
  }
  return best;
}

/** Spill slots, first fit: an interval takes the first slot whose intervals it does not meet. */
function assignSlots(spilled: Interval[], loc: (Loc | undefined)[]): number {
  // Per slot, its intervals that may still meet a later one: in order of start, an interval
  // ending by the current start meets none after it, and is dropped (once).
  const slots: Interval[][] = [];
  let steps = spilled.length;
  for (const cur of spilled.sort((a, b) => a.start - b.start)) {
    for (let k = 0; k < slots.length; k++) {
      const live = slots[k]!.filter((i) => i.end > cur.start);
      steps += 1 + slots[k]!.length;
      slots[k] = live;
    }
    let n = slots.findIndex((s) =>
      s.every((i) => firstIntersection(i.ranges, cur.ranges) === Infinity),
    );
    if (n < 0) n = slots.push([]) - 1;
    slots[n]!.push(cur);
    loc[cur.vreg] = { k: "slot", n };
  }
  countWork("regalloc", steps);
  return slots.length;
}

// ---------------------------------------------------------------------------- hints

function hints(f: MFunc): Map<VReg, Hint[]> {
  const hs = new Map<VReg, Hint[]>();
  const add = (v: MOperand, h: Hint) => {
    if (!isVReg(v)) return;
    let l = hs.get(v);
    if (!l) hs.set(v, (l = []));
    l.push(h);
  };
  const pair = (a: MOperand, b: MOperand) => {
    if (isVReg(a) && isVReg(b)) (add(a, { vreg: b }), add(b, { vreg: a }));
  };
  for (const blk of f.blocks) {
    for (const inst of blk.insts) {
      switch (inst.k) {
        case "params":
          inst.dsts.forEach((d, i) => i < ARG_REGS.length && add(d, { reg: ARG_REGS[i]! }));
          break;
        case "call":
          inst.args.forEach((a, i) => i < ARG_REGS.length && add(a, { reg: ARG_REGS[i]! }));
          if (inst.dst >= 0) add(inst.dst, { reg: Reg.rax });
          break;
        case "mov":
          pair(inst.dst, inst.src);
          break;
        case "alu":
        case "neg":
        case "not":
        case "bnot":
        case "shift":
          pair(inst.dst, inst.a);
          break;
      }
    }
    for (const e of edgesOf(blk.term))
      e.args.forEach((a, i) => pair(a, f.blocks[e.block]!.params[i]!));
    if (blk.term.k === "ret" && blk.term.value !== undefined) add(blk.term.value, { reg: Reg.rax });
    if (blk.term.k === "tailcall") blk.term.args.forEach((a, i) => add(a, { reg: ARG_REGS[i]! }));
  }
  return hs;
}

// ---------------------------------------------------------------------------- moves

function moves(f: MFunc, lt: Lifetimes, loc: (Loc | undefined)[]) {
  const scratch = reg(SCRATCH1);
  const width = (o: MOperand): Width => (isVReg(o) ? f.widths[o]! : o.k === "data" ? 64 : 32);
  const from = (o: MOperand) => (isVReg(o) ? loc[o]! : o);
  const entryMoves: Move[] = [];
  const callMoves = new Map<MInst | MTerm, Move[]>();
  const argMoves = (args: MOperand[], tail = false) =>
    sequentialise(
      args.map((a, i) => ({ dst: argLoc(i, tail), src: from(a), w: width(a) })),
      scratch,
    );
  const edgeMoves: Move[][][] = [];
  let outArgs = 0;
  for (const b of lt.order) {
    const blk = f.blocks[b]!;
    for (const inst of blk.insts) {
      if (inst.k === "params") {
        const ms = inst.dsts.flatMap((d, i) =>
          loc[d] ? [{ dst: loc[d]!, src: paramLoc(f, i, inst.label), w: f.widths[d]! }] : [],
        );
        // (a label's entry's moves are its own)
        if (inst.label === undefined) entryMoves.push(...sequentialise(ms, scratch));
        else callMoves.set(inst, sequentialise(ms, scratch));
      } else if (inst.k === "call") {
        outArgs = Math.max(outArgs, inst.args.length - ARG_REGS.length);
        callMoves.set(inst, argMoves(inst.args));
      }
    }
    if (blk.term.k === "tailcall") callMoves.set(blk.term, argMoves(blk.term.args, true));
    edgeMoves[b] = edgesOf(blk.term).map((e) => {
      const params = f.blocks[e.block]!.params;
      const ms = e.args.flatMap((a, i) => {
        const d = loc[params[i]!];
        return d ? [{ dst: d, src: from(a), w: width(a) }] : [];
      });
      return sequentialise(ms, scratch);
    });
  }
  return { entryMoves, callMoves, edgeMoves, outArgs };
}
