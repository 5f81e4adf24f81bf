//! Store-to-load forwarding and dead-store elimination inside each block. A load from an array
//! element just stored (same array operand, same index operand) is the stored value (for a
//! `u8[]`, its low 8 bits); a store overwritten by a later store to the same element, with no
//! load or call in between, is dropped. So Brainfuck's `+++` on one cell becomes one load, three
//! additions and one store. Conservative about aliasing: a store forgets every other element of
//! every array (two operands may name one array), except other constant indexes of its own.
//!
//! Cost: linear in the graph. What is known is a table by array and index operand, with the
//! constant indexes of each array apart (a store keeps its own array's, and forgets the rest:
//! each entry is forgotten at most once after it is made); a load makes every pending store
//! seen at once, by counting loads (a store is pending while the count is the one it was made
//! at). It was a list scanned at every operation: quadratic in a block storing to many constant
//! indexes (a straight line of Brainfuck's `>+` on a tape whose pointer is known).

import type { Graph, Op, Operand } from "../ir/types.ts";
import { Substitution, mapOperands } from "../ir/walk.ts";
import { countWork } from "../work.ts";

interface Known {
  value: Operand;
  /** The store that wrote it, while no load or call could have seen it (`loads` unchanged). */
  store?: Op;
  loads: number;
}

/** What is known of one array operand's elements: by constant index, and by variable. */
interface ArrayFacts {
  constant: Map<number, Known>;
  variable: Map<number, Known>;
}

const key = (o: Operand): string => (typeof o === "number" ? `v${o}` : `${o.k}${o.v}`);

export function forward(g: Graph): void {
  const subst = new Substitution(g);
  const resolve = subst.resolve;
  const isU8 = (a: Operand) => (typeof a === "number" ? g.types[a] === "u8[]" : false);
  let steps = g.blocks.length;
  for (const b of g.blocks) {
    let known = new Map<string, ArrayFacts>();
    let loads = 0;
    const dead = new Set<Op>();
    const extra = new Map<Op, Op>(); // a load replaced by `int_and value, 255`
    const facts = (arr: Operand) => {
      let f = known.get(key(arr));
      if (!f) known.set(key(arr), (f = { constant: new Map(), variable: new Map() }));
      return f;
    };
    const find = (arr: Operand, index: Operand): Known | undefined => {
      const f = known.get(key(arr));
      if (!f) return undefined;
      return typeof index === "number"
        ? f.variable.get(index)
        : index.k === "int"
          ? f.constant.get(index.v)
          : undefined;
    };
    const record = (arr: Operand, index: Operand, k: Known) => {
      const f = facts(arr);
      if (typeof index === "number") f.variable.set(index, k);
      else if (index.k === "int") f.constant.set(index.v, k);
    };
    for (const op of b.ops) {
      steps++;
      op.args = op.args.map(resolve);
      if (op.op === "array_get") {
        const [arr, index] = op.args as [Operand, Operand];
        const k = find(arr, index);
        if (k && typeof arr === "number") {
          if (isU8(arr))
            extra.set(op, {
              op: "int_and",
              dst: op.dst,
              args: [k.value, { k: "int", v: 255 }],
              ...where(op),
            });
          else (subst.set(op.dst, k.value), dead.add(op));
          continue;
        }
        loads++; // a real load may read any pending store
        record(arr, index, { value: op.dst, loads });
      } else if (op.op === "array_set") {
        const [arr, index, value] = op.args as [Operand, Operand, Operand];
        const previous = find(arr, index);
        if (previous?.store && previous.loads === loads) dead.add(previous.store);
        // Only the other constant indexes of this array stay known (their entries are kept;
        // every other is dropped once).
        const own = typeof index !== "number" ? known.get(key(arr)) : undefined;
        steps += known.size;
        known = new Map();
        if (own) known.set(key(arr), { constant: own.constant, variable: new Map() });
        record(arr, index, { value, store: op, loads });
      } else if (op.op === "call") {
        known = new Map();
      }
    }
    b.ops = b.ops.filter((op) => !dead.has(op)).map((op) => extra.get(op) ?? op);
  }
  if (subst.size) steps += mapOperands(g, resolve);
  countWork("forward", steps + subst.steps);
}

/** The source line and program position of `op`, for an operation made in its place. */
function where(op: Op): Pick<Op, "pos" | "at"> {
  return { ...(op.pos ? { pos: op.pos } : {}), ...(op.at !== undefined ? { at: op.at } : {}) };
}
