//! The allocation checker (after regalloc2's checker.rs): validates an allocation against the
//! machine representation it was computed for, independently of how it was computed.
//!
//! It runs the function symbolically over locations instead of values: the state says, for each
//! register and stack slot, which values it may hold (a set of virtual registers and constants).
//! A write of `v` to location L makes L hold exactly {v} and removes `v` everywhere else (in a
//! loop, the old copies hold last trip's value); a move copies a set; a clobber empties a
//! location. At a join, the states of the predecessors meet (intersect), to a fixpoint. Then
//! every read must find its value where the allocation says it is: at every operation, at every
//! call after its argument moves, at every edge after its parallel move (each parameter's
//! location must hold its argument), at the entry after the parameter moves. What it catches:
//! two live values in one register, a value in a register a call or division destroys, a late
//! operand overwritten by the result, a parallel move sequenced wrongly, a missing move.

import { CLOBBERED_BY_CALL, SCRATCH1, SCRATCH2 } from "./abi.ts";
import { REG64 } from "./encode.ts";
import { argLoc, paramLoc, type Allocation } from "./regalloc.ts";
import { isLoc, locKey, type Loc, type Move } from "./loc.ts";
import {
  clobbersOf,
  defsOf,
  edgesOf,
  isVReg,
  termUses,
  usesOf,
  type MFunc,
  type MInst,
  type MOperand,
  type VReg,
} from "./mir.ts";

/** Location → the values it may hold. */
type State = Map<string, Set<string>>;

/** How the state names a value: `v3`, a constant `#5`, a data address `$d0`; and `arg2` for
 *  what the caller passed. */
const valueName = (o: MOperand): string =>
  isVReg(o) ? `v${o}` : o.k === "data" ? `$d${o.v}` : `#${o.v}`;

function locName(l: Loc): string {
  return l.k === "reg" ? REG64[l.n] : locKey(l);
}

/** The problems found; empty when the allocation is right. */
export function checkAllocation(f: MFunc, a: Allocation): string[] {
  return new Checker(f, a).run();
}

class Checker {
  private errors: string[] = [];
  private where = "";

  constructor(
    private f: MFunc,
    private a: Allocation,
  ) {}

  run(): string[] {
    const states = new Map<number, State>();
    // The entry and each label's entry, with the arguments where they arrive.
    const roots = [this.f.entry, ...this.f.labels];
    for (const root of roots) {
      const entry: State = new Map();
      const params = this.f.blocks[root]!.insts.find((i) => i.k === "params");
      params?.dsts.forEach((_, i) =>
        entry.set(locKey(paramLoc(this.f, i, params.label)), new Set([`arg${i}`])),
      );
      states.set(root, entry);
    }
    const work = [...roots];
    const visits = new Map<number, number>();
    while (work.length) {
      const b = work.shift()!;
      visits.set(b, (visits.get(b) ?? 0) + 1);
      if (visits.get(b)! > 10_000) throw new Error("checker: no fixpoint");
      for (const [target, out] of this.block(b, clone(states.get(b)!))) {
        const old = states.get(target);
        const met = old ? meet(old, out) : out;
        if (!old || !equal(old, met)) {
          states.set(target, met);
          if (!work.includes(target)) work.push(target);
        }
      }
    }
    return [...new Set(this.errors)];
  }

  /** Runs block `b` from state `s`; the states its edges carry to each target. */
  private block(b: number, s: State): [number, State][] {
    const blk = this.f.blocks[b]!;
    blk.insts.forEach((inst, j) => {
      this.where = `@${this.f.name} b${b}#${j} ${inst.k}`;
      this.inst(inst, s);
    });
    this.where = `@${this.f.name} b${b} ${blk.term.k}`;
    const t = blk.term;
    for (const v of termUses(t)) this.expect(s, this.locOf(v), valueName(v));
    if (t.k === "tailcall") {
      simulate(s, this.a.callMoves.get(t) ?? []);
      t.args.forEach((arg, i) => this.expect(s, argLoc(i, true), valueName(arg)));
    }
    return edgesOf(t).map((e, j) => {
      const out = clone(s);
      this.where = `@${this.f.name} b${b} edge ${j} to b${e.block}`;
      simulate(out, this.a.edgeMoves[b]![j]!);
      this.arrive(out, this.f.blocks[e.block]!.params, e.args.map(valueName));
      return [e.block, out];
    });
  }

  private inst(inst: MInst, s: State): void {
    const c = clobbersOf(inst);
    if (c?.early) c.regs.forEach((r) => s.set(locKey({ k: "reg", n: r }), new Set()));
    const uses = usesOf(inst);
    for (const u of uses) if (!u.late) this.expect(s, this.locOf(u.v), valueName(u.v));
    if (inst.k === "params") {
      simulate(s, inst.label === undefined ? this.a.entryMoves : this.a.callMoves.get(inst)!);
      this.arrive(
        s,
        inst.dsts,
        inst.dsts.map((_, i) => `arg${i}`),
      );
      return;
    }
    if (inst.k === "call") {
      simulate(s, this.a.callMoves.get(inst) ?? []);
      inst.args.forEach((arg, i) => this.expect(s, argLoc(i), valueName(arg)));
      CLOBBERED_BY_CALL.forEach((r) => s.set(locKey({ k: "reg", n: r }), new Set()));
    }
    for (const d of defsOf(inst)) {
      const l = this.locOf(d);
      if (l) define(s, d, l);
    }
    for (const u of uses) if (u.late) this.expect(s, this.locOf(u.v), valueName(u.v));
    for (const r of [SCRATCH1, SCRATCH2]) s.set(locKey({ k: "reg", n: r }), new Set());
  }

  /** After a parallel move into `params`: each must hold its value; then they are defined. */
  private arrive(s: State, params: VReg[], values: string[]): void {
    params.forEach((p, i) => {
      const l = this.a.loc[p];
      if (l) this.expect(s, l, values[i]!);
    });
    params.forEach((p) => {
      const l = this.a.loc[p];
      if (l) define(s, p, l);
    });
  }

  private locOf(v: VReg): Loc | undefined {
    const l = this.a.loc[v];
    if (!l) this.errors.push(`${this.where}: v${v} has no location`);
    return l;
  }

  private expect(s: State, l: Loc | undefined, value: string): void {
    if (l && !s.get(locKey(l))?.has(value)) this.fail(s, l, value);
  }

  private fail(s: State, l: Loc, value: string): void {
    const held = [...(s.get(locKey(l)) ?? [])].join(", ");
    this.errors.push(`${this.where}: ${value} expected in ${locName(l)}, which holds {${held}}`);
  }
}

function define(s: State, v: VReg, l: Loc): void {
  const name = `v${v}`;
  for (const set of s.values()) set.delete(name);
  s.set(locKey(l), new Set([name]));
}

/** Performs a sequence of moves on the state. */
function simulate(s: State, moves: readonly Move[]): void {
  for (const m of moves)
    s.set(
      locKey(m.dst),
      isLoc(m.src) ? new Set(s.get(locKey(m.src)) ?? []) : new Set([valueName(m.src)]),
    );
}

function clone(s: State): State {
  return new Map([...s].map(([k, v]) => [k, new Set(v)]));
}

function meet(a: State, b: State): State {
  const out: State = new Map();
  for (const [k, va] of a) {
    const vb = b.get(k);
    if (vb) out.set(k, new Set([...va].filter((x) => vb.has(x))));
  }
  return out;
}

function equal(a: State, b: State): boolean {
  if (a.size !== b.size) return false;
  for (const [k, va] of a) {
    const vb = b.get(k);
    if (!vb || vb.size !== va.size || [...va].some((x) => !vb.has(x))) return false;
  }
  return true;
}
