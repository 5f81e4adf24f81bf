//! The abstract interpreter: partial evaluation of an interpreter's low-level graphs with
//! respect to its compile-time constants (the first Futamura projection).
//!
//! It walks the interpreter's graphs operation by operation on abstract values (`value.ts`); the
//! shared engine (`engine.ts`) gives every operation its meaning: operations on constants fold,
//! operations on run-time values are emitted into residual graphs, arrays of constant length stay
//! virtual until they escape, a red branch becomes a residual branch with a path per side, the
//! merge point keys the state by its greens and closes residual loops, calls to the portal
//! become residual calls to specialised graphs. It is the reference the generated specialisers
//! (`generated/<lang>.ts`) are checked against: they run the same engine, with the walk replaced
//! by compiled code, and must give byte-identical residual graphs.
//!
//! Pipeline:  graphs + constants ──walk paths──▶ residual blocks ──cleanup passes──▶ residual module

import type { Module, Operand } from "../ir/types.ts";
import { Engine, type Compiled, type Frame, type Path, type Target } from "./engine.ts";
import {
  InlineTooLong,
  MAX_INLINE_RETRIES,
  SpecialisationLimit,
  defaultPolicy,
  type Policy,
} from "./policy.ts";
import type { SpecStats } from "./stats.ts";
import { NULL_REF, konst, type AVal } from "./value.ts";

export interface Specialised {
  module: Module;
  stats: SpecStats;
  /** The engine, which specialises promotion continuations on demand. */
  engine: Engine;
}

/** Specialises `entry` of `m` for `args` (an abstract value per parameter). With `compiled`
 *  (a generated specialiser's graphs) frames run compiled code where they can. */
export function specialise(
  m: Module,
  entry: string,
  args: AVal[] | ((e: Engine) => AVal[]),
  policy: Policy = defaultPolicy,
  compiled: Record<string, Compiled> = {},
): Specialised {
  const t0 = performance.now();
  const noInline: string[] = [];
  let e = new Engine(m, policy, walk, compiled);
  try {
    // (a portal call too long to inline: the whole program again, with that call residual)
    for (let retries = 0; ; retries++) {
      try {
        const module = e.run(entry, typeof args === "function" ? args(e) : args);
        return { module, stats: e.stats, engine: e };
      } catch (err) {
        if (!(err instanceof InlineTooLong) || retries >= MAX_INLINE_RETRIES) throw err;
        noInline.push(err.key);
        e = new Engine(m, policy, walk, compiled);
        for (const k of noInline) e.noInline.add(k);
      }
    }
  } catch (err) {
    // What was done before giving up is part of the run's record (`--stats`).
    if (err instanceof SpecialisationLimit) {
      e.stats.specialiseMs = Math.round((performance.now() - t0) * 1000) / 1000;
      err.stats = e.stats;
    }
    throw err;
  }
}

function value(e: Engine, f: Frame, o: Operand): AVal {
  if (typeof o === "number") return e.slot(f, o);
  if (o.k === "data") throw new Error("data constants do not occur in interpreter graphs");
  return o.k === "null" ? NULL_REF : o.k === "obj" ? e.constant(o.v) : konst(o.v);
}

// A function of its own, not a closure in `walk`: tsx (which runs the project) keeps functions'
// names, and naming a closure made per block costs the walk as much as the rest of it.
function target(e: Engine, f: Frame, j: { block: number; args: Operand[] }): Target {
  return [j.block, j.args.map((o) => value(e, f, o))];
}

/** Runs a generic frame through its current block; false when the path ended. */
export function walk(e: Engine, p: Path, f: Frame): boolean {
  const block = f.g.blocks[f.block]!;
  while (f.op < block.ops.length) {
    e.tick(1);
    const op = block.ops[f.op++]!;
    if (op.pos) e.line = op.pos.line;
    if (op.op === "merge_point") {
      if (!e.mergePoint(p, f, op.args, op.imm as number)) return false;
      if (p.frames.at(-1) !== f) return true; // (an inlined call outlined: its caller goes on)
      continue;
    }
    const args = op.args.map((o) => value(e, f, o));
    if (op.op === "promote") {
      if (!e.promoteTo(p, args[0]!, op.dst)) return false;
      continue;
    }
    if (op.op === "call") {
      e.call(p, op.imm as string, args, op.dst);
      return true;
    }
    const r = e.op(p, op.op, args, op.dst >= 0 ? f.g.types[op.dst] : undefined, op.imm);
    if (op.dst >= 0) e.assign(p.frames, op.dst, r!);
  }
  const t = block.term;
  if (block.termPos) e.line = block.termPos.line;
  switch (t.k) {
    case "jump":
      return e.jump(f, ...target(e, f, t.to));
    case "branch":
      return e.branch(p, f, value(e, f, t.cond), target(e, f, t.then), target(e, f, t.else));
    case "switch":
      return e.switch(
        p,
        f,
        value(e, f, t.on),
        t.cases.map((c) => [c.value, ...target(e, f, c.to)]),
        target(e, f, t.default),
      );
    case "return":
      return e.ret(p, f, t.value === undefined ? undefined : value(e, f, t.value));
    case "raise":
      return e.raise(p, t.msg);
    case "exit":
      throw new Error("an exit in an interpreter graph");
  }
}
