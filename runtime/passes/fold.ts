//! Folds pure operations whose operands are all constants (by the opcode table's meaning),
//! applies the algebraic identities x+0, x-0, x*1, x|0, x^0, x<<0, x>>0 and x&-1, and turns
//! branches and switches on constants into jumps. Residual graphs need it after `prune-params`
//! has turned merge-point parameters that only ever receive one constant into that constant.
//!
//! Cost: linear in the graph (one visit of each operation, then one of each operand).

import { OPS } from "../ir/ops.ts";
import type { Const, Graph, Operand } from "../ir/types.ts";
import { mapOperands, sizeOf } from "../ir/walk.ts";
import { countWork } from "../work.ts";

/** For each operation, the constant that leaves the other operand unchanged, and on which side. */
const IDENTITY: Record<string, { right: number; left?: number }> = {
  int_add: { right: 0, left: 0 },
  int_sub: { right: 0 },
  int_mul: { right: 1, left: 1 },
  int_or: { right: 0, left: 0 },
  int_xor: { right: 0, left: 0 },
  int_and: { right: -1, left: -1 },
  int_shl: { right: 0 },
  int_shr: { right: 0 },
};

export function fold(g: Graph): void {
  // By variable (an array: residual graphs have tens of thousands).
  const known: (Operand | undefined)[] = new Array(g.types.length);
  let folded = false;
  const get = (o: Operand): Operand => (typeof o === "number" ? (known[o] ?? o) : o);
  const set = (v: number, o: Operand) => ((known[v] = o), (folded = true));
  const isInt = (o: Operand, v: number | undefined) =>
    typeof o !== "number" && o.k === "int" && o.v === v;
  for (const b of g.blocks) {
    b.ops = b.ops.filter((op) => {
      const fn = OPS[op.op]!.fold;
      const args = op.args.map(get);
      if (!fn) return true;
      if (args.every((a) => typeof a !== "number" && a.k !== "data")) {
        const v = fn(...args.map((a) => (a as Const).v));
        set(op.dst, typeof v === "boolean" ? { k: "bool", v } : { k: "int", v });
        return false;
      }
      const id = IDENTITY[op.op];
      if (id && isInt(args[1]!, id.right)) return (set(op.dst, args[0]!), false);
      if (id && isInt(args[0]!, id.left)) return (set(op.dst, args[1]!), false);
      return true;
    });
    const t = b.term;
    if (t.k === "branch") {
      const c = get(t.cond);
      if (typeof c !== "number") b.term = { k: "jump", to: c.v ? t.then : t.else };
    } else if (t.k === "switch") {
      const v = get(t.on);
      if (typeof v !== "number")
        b.term = { k: "jump", to: t.cases.find((c) => c.value === v.v)?.to ?? t.default };
    }
  }
  let steps = sizeOf(g);
  if (folded) steps += mapOperands(g, get);
  countWork("fold", steps);
}
