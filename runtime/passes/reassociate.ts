//! Reassociates chains of constant additions, which Brainfuck's `+++` and `---` leave behind:
//! `(x + c1) + c2` becomes `x + (c1 + c2)`, and in a byte cell `((w & 255) + c) & 255` becomes
//! `(w + c) & 255` (equal modulo 256), and likewise before a store into a `u8[]`. The mask is
//! dropped only when the masked value has no other use, so no other value changes.
//! `x - c` is first written `x + (-c)`.
//!
//! Cost: linear in the graph: a combination follows one definition per step and each step
//! leaves the sum reading an operand defined earlier (a chain is walked once per sum reading it,
//! and a sum's inner sums were combined before it: one step each).

import type { Graph, Op, Operand } from "../ir/types.ts";
import { jumpsOf, sizeOf, termOperands } from "../ir/walk.ts";
import { countWork } from "../work.ts";

export function reassociate(g: Graph): void {
  let steps = 2 * sizeOf(g);
  const def = new Map<number, Op>();
  const uses = new Map<number, number>();
  const count = (o: Operand, n: number) =>
    typeof o === "number" && uses.set(o, (uses.get(o) ?? 0) + n);
  for (const b of g.blocks) {
    for (const op of b.ops) {
      if (op.dst >= 0) def.set(op.dst, op);
      op.args.forEach((a) => count(a, 1));
    }
    termOperands(b.term).forEach((a) => count(a, 1));
    for (const j of jumpsOf(b.term)) j.args.forEach((a) => count(a, 1));
  }
  const constant = (o: Operand | undefined): number | undefined =>
    o !== undefined && typeof o !== "number" && o.k === "int" ? o.v : undefined;
  const only = (o: Operand, name: string): Op | undefined => {
    if (typeof o !== "number" || uses.get(o) !== 1) return undefined;
    const d = def.get(o);
    return d?.op === name ? d : undefined;
  };
  // A value whose last use goes away is dead: what it used loses a use too (dce removes it).
  const release = (o: Operand): void => {
    steps++;
    count(o, -1);
    if (typeof o === "number" && uses.get(o) === 0) def.get(o)?.args.forEach(release);
  };
  const rewrite = (op: Op, args: Operand[]) => {
    op.args.forEach(release);
    args.forEach((a) => count(a, 1));
    op.args = args;
  };
  /** `(x + c1) + c2` → `x + (c1 + c2)`, repeatedly. The inner sum stays for its other uses (x
   *  is available wherever it is): so a pointer moved right and back left is the pointer again. */
  const combine = (op: Op) => {
    for (; ; steps++) {
      const c = constant(op.args[1]);
      const a = op.args[0]!;
      const d = c === undefined || typeof a !== "number" ? undefined : def.get(a);
      const inner = d?.op === "int_add" ? d : undefined;
      const c1 = constant(inner?.args[1]);
      if (!inner || c1 === undefined) return;
      rewrite(op, [inner.args[0]!, { k: "int", v: (c1 + c!) | 0 }]);
    }
  };
  for (const b of g.blocks)
    for (const op of b.ops) {
      const [x, y] = op.args;
      if (op.op === "int_sub" && constant(y) !== undefined) {
        op.op = "int_add";
        rewrite(op, [x!, { k: "int", v: -constant(y)! | 0 }]);
      }
      if (op.op === "int_add" && constant(x) !== undefined && constant(y) === undefined)
        rewrite(op, [y!, x!]);
      if (op.op === "int_add") combine(op);
      // A masked byte (`& 255`, or a store into a `u8[]`) does not see the inner mask.
      const byte =
        op.op === "int_and" && constant(y) === 255
          ? x
          : op.op === "array_set" && typeof x === "number" && g.types[x] === "u8[]"
            ? op.args[2]
            : undefined;
      if (byte !== undefined) {
        const add = only(byte, "int_add");
        const mask =
          add && constant(add.args[1]) !== undefined ? only(add.args[0]!, "int_and") : undefined;
        if (add && mask && constant(mask.args[1]) === 255) {
          rewrite(add, [mask.args[0]!, add.args[1]!]);
          combine(add);
        }
      }
    }
  countWork("reassociate", steps);
}
