//! Folds pure operations whose operands are all constants (by the opcode table's meaning) and
//! branches and switches on constants. Residual graphs need it after `prune-params` has turned
//! merge-point parameters that only ever receive one constant into that constant.

import { OPS } from "../ir/ops.ts";
import type { Const, Graph, Operand } from "../ir/types.ts";
import { mapOperands } from "../ir/walk.ts";

export function fold(g: Graph): void {
  const known = new Map<number, Const>();
  const get = (o: Operand): Operand => (typeof o === "number" ? (known.get(o) ?? o) : o);
  for (const b of g.blocks) {
    b.ops = b.ops.filter((op) => {
      const fn = OPS[op.op]!.fold;
      const args = op.args.map(get);
      if (!fn || !args.every((a) => typeof a !== "number" && a.k !== "data")) return true;
      const v = fn(...args.map((a) => (a as Const).v));
      known.set(op.dst, typeof v === "boolean" ? { k: "bool", v } : { k: "int", v });
      return false;
    });
    const t = b.term;
    if (t.k === "branch") {
      const c = get(t.cond);
      if (typeof c !== "number") b.term = { k: "jump", to: c.v ? t.then : t.else };
    } else if (t.k === "switch") {
      const v = get(t.on);
      if (typeof v !== "number") b.term = { k: "jump", to: t.cases.find((c) => c.value === v.v)?.to ?? t.default };
    }
  }
  if (known.size) mapOperands(g, get);
}
