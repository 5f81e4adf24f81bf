//! The opcode table: the single source of truth for what each operation takes, gives, may do,
//! and (for pure operations) computes. The verifier, printer, parser, L3 interpreter, constant
//! folder, binding-time analysis and instruction selection all read it.
//!
//! Integer semantics are those of the subset's TypeScript expressions under V8, bit for bit:
//! `int_div` is `(a / b) | 0`, so dividing by zero gives 0 and INT_MIN / -1 gives INT_MIN, and
//! shifts take their count modulo 32. No operation can fault.

import type { Type } from "./types.ts";

/** `arr` stands for any array type. */
export type ArgType = Type | "arr";

/** What an operation may do besides computing its result:
 *  - pure: nothing (foldable when its arguments are constants, removable when unused)
 *  - alloc: allocates (removable when unused)
 *  - read: reads memory
 *  - write: writes memory
 *  - call: anything a callee may do
 *  - io: input or output
 *  - hint: a marker for the specialiser; no run-time effect beyond fuel */
export type Effect = "pure" | "alloc" | "read" | "write" | "call" | "io" | "hint";

export type Scalar = number | boolean;

export interface OpInfo {
  /** Argument types; `variadic` ops take any number of arguments of any type. */
  args: ArgType[] | "variadic";
  /** Result type; `imm` means the type named by the immediate, `none` no result. */
  ret: Type | "none" | "imm" | "callee";
  effect: Effect;
  /** What the immediate holds, if the op has one. */
  imm?: "type" | "callee" | "count";
  /** The meaning of a pure operation. */
  fold?: (...args: any[]) => Scalar;
}

const i2 = ["i32", "i32"] as ArgType[];
const arith = (fold: (a: number, b: number) => number): OpInfo => ({
  args: i2,
  ret: "i32",
  effect: "pure",
  fold,
});
const cmp = (fold: (a: number, b: number) => boolean): OpInfo => ({
  args: i2,
  ret: "bool",
  effect: "pure",
  fold,
});

export const OPS: Record<string, OpInfo> = {
  int_add: arith((a, b) => (a + b) | 0),
  int_sub: arith((a, b) => (a - b) | 0),
  int_mul: arith((a, b) => Math.imul(a, b)),
  int_div: arith((a, b) => (a / b) | 0),
  int_mod: arith((a, b) => (a % b) | 0),
  int_and: arith((a, b) => a & b),
  int_or: arith((a, b) => a | b),
  int_xor: arith((a, b) => a ^ b),
  int_shl: arith((a, b) => a << b),
  int_shr: arith((a, b) => a >> b),
  /** Logical shift right, reinterpreted as int32 (only shifts of 1..31 come from the subset). */
  int_ushr: arith((a, b) => (a >>> b) | 0),
  int_neg: { args: ["i32"], ret: "i32", effect: "pure", fold: (a: number) => -a | 0 },
  int_not: { args: ["i32"], ret: "i32", effect: "pure", fold: (a: number) => ~a },

  int_eq: cmp((a, b) => a === b),
  int_ne: cmp((a, b) => a !== b),
  int_lt: cmp((a, b) => a < b),
  int_le: cmp((a, b) => a <= b),
  int_gt: cmp((a, b) => a > b),
  int_ge: cmp((a, b) => a >= b),
  /** Unsigned less-than: one comparison checks `0 <= a < b` for a non-negative `b`. */
  uint_lt: cmp((a, b) => a >>> 0 < b >>> 0),

  bool_not: { args: ["bool"], ret: "bool", effect: "pure", fold: (a: boolean) => !a },
  bool_eq: { args: ["bool", "bool"], ret: "bool", effect: "pure", fold: (a, b) => a === b },
  bool_ne: { args: ["bool", "bool"], ret: "bool", effect: "pure", fold: (a, b) => a !== b },

  /** A zero-filled array of the length given; the immediate names its type. */
  new_array: { args: ["i32"], ret: "imm", effect: "alloc", imm: "type" },
  /** Unchecked: the frontend guards every access with `uint_lt` against `array_len`. */
  array_get: { args: ["arr", "i32"], ret: "i32", effect: "read" },
  /** Stores into a `u8[]` keep the low 8 bits. */
  array_set: { args: ["arr", "i32", "i32"], ret: "none", effect: "write" },
  array_len: { args: ["arr"], ret: "i32", effect: "pure" },

  call: { args: "variadic", ret: "callee", effect: "call", imm: "callee" },

  /** Head of the dispatch loop: the first `imm` arguments are the greens, the rest the reds.
   *  Costs one step of fuel. */
  merge_point: { args: "variadic", ret: "none", effect: "hint", imm: "count" },
  /** Returns its argument; the specialiser makes it a compile-time value. */
  promote: { args: ["i32"], ret: "i32", effect: "hint" },
  /** Costs one step of fuel (residual code's form of a merge point pass). */
  fuel: { args: [], ret: "none", effect: "hint" },

  io_read: { args: [], ret: "i32", effect: "io" },
  io_write: { args: ["i32"], ret: "none", effect: "io" },
};

export function opInfo(name: string): OpInfo {
  const info = OPS[name];
  if (!info) throw new Error(`unknown operation ${name}`);
  return info;
}
