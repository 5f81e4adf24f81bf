//! Store-to-load forwarding and dead-store elimination inside each block. A load from an array
//! element just stored (same array operand, same index operand) is the stored value (for a
//! `u8[]`, its low 8 bits); a store overwritten by a later store to the same element, with no
//! load or call in between, is dropped. So Brainfuck's `+++` on one cell becomes one load, three
//! additions and one store. Conservative about aliasing: a store forgets every other element of
//! every array (two operands may name one array), except other constant indexes of its own.
//!
//! Cost: each operation of a block scans what is known there, which holds at most one entry
//! per load since the last store and per constant index stored: linear in the graph times the
//! constant indexes of one array a block stores to (bounded by the virtuals' length in
//! residual code, where a longer array is indexed by run-time values).

import type { Graph, Op, Operand } from "../ir/types.ts";
import { Substitution, mapOperands, sameOperand } from "../ir/walk.ts";
import { countWork } from "../work.ts";

interface Known {
  arr: Operand;
  index: Operand;
  value: Operand;
  /** The store that wrote it, while no load or call could have seen it. */
  store?: Op;
}

export function forward(g: Graph): void {
  const subst = new Substitution(g);
  const resolve = subst.resolve;
  const isU8 = (a: Operand) => (typeof a === "number" ? g.types[a] === "u8[]" : false);
  let steps = g.blocks.length;
  for (const b of g.blocks) {
    let known: Known[] = [];
    const dead = new Set<Op>();
    const extra = new Map<Op, Op>(); // a load replaced by `int_and value, 255`
    const find = (arr: Operand, index: Operand) =>
      known.find((k) => sameOperand(k.arr, arr) && sameOperand(k.index, index));
    for (const op of b.ops) {
      steps += 1 + known.length;
      op.args = op.args.map(resolve);
      if (op.op === "array_get") {
        const [arr, index] = op.args as [Operand, Operand];
        const k = find(arr, index);
        if (k && typeof arr === "number") {
          if (isU8(arr))
            extra.set(op, { op: "int_and", dst: op.dst, args: [k.value, { k: "int", v: 255 }] });
          else (subst.set(op.dst, k.value), dead.add(op));
          continue;
        }
        for (const e of known) delete e.store; // a real load may read any pending store
        known.push({ arr, index, value: op.dst });
      } else if (op.op === "array_set") {
        const [arr, index, value] = op.args as [Operand, Operand, Operand];
        const previous = find(arr, index);
        if (previous?.store) dead.add(previous.store);
        const constIndex = typeof index !== "number";
        known = known.filter(
          (k) =>
            sameOperand(k.arr, arr) &&
            constIndex &&
            typeof k.index !== "number" &&
            !sameOperand(k.index, index),
        );
        known.push({ arr, index, value, store: op });
      } else if (op.op === "call") {
        known = [];
      }
    }
    b.ops = b.ops.filter((op) => !dead.has(op)).map((op) => extra.get(op) ?? op);
  }
  if (subst.size) steps += mapOperands(g, resolve);
  countWork("forward", steps + subst.steps);
}
