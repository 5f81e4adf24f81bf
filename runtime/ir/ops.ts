//! The opcode table: the single source of truth for what each operation takes, gives, may do,
//! and (for pure operations) computes. The verifier, printer, parser, L3 interpreter, constant
//! folder, binding-time analysis and instruction selection all read it.
//!
//! Integer semantics are those of the subset's TypeScript expressions under V8, bit for bit:
//! `int_div` is `(a / b) | 0`, so dividing by zero gives 0 and INT_MIN / -1 gives INT_MIN, and
//! shifts take their count modulo 32. No operation can fault.

import type { Type } from "./types.ts";

/** `arr` stands for any array type, `any` for any type; `list` and `map` for any list or map
 *  type, `reference` for `ref` or either, and `elem`, `key`, `value` for the item, key and value type of the operation's first
 *  operand (a list or a map: `containers.ts`). */
export type ArgType =
  Type | "arr" | "any" | "list" | "map" | "reference" | "elem" | "key" | "value";

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
  /** Result type; `imm` means the type named by the immediate, `field` the type of the field
   *  it names, `same` its operand's, `none` no result. */
  ret: Type | "none" | "imm" | "callee" | "field" | "elem" | "value" | "same";
  effect: Effect;
  /** What the immediate holds, if the op has one. */
  imm?: "type" | "callee" | "count" | "class" | "field";
  /** The meaning of a pure operation, as a TypeScript expression over `$0`, `$1`. */
  expr?: string;
  /** The same, as a function. */
  fold?: (...args: any[]) => Scalar;
}

/** A pure operation whose meaning is the TypeScript expression `expr` over `$0`, `$1`: the
 *  generator emits it into specialisers, `fold` is the same expression compiled once. */
function pure(args: ArgType[], ret: Type, expr: string): OpInfo {
  const params = args.map((_, i) => `$${i}`);
  return {
    args,
    ret,
    effect: "pure",
    expr,
    fold: new Function(...params, `return ${expr};`) as OpInfo["fold"],
  };
}
const arith = (expr: string) => pure(["i32", "i32"], "i32", expr);
const cmp = (expr: string) => pure(["i32", "i32"], "bool", expr);

export const OPS: Record<string, OpInfo> = {
  int_add: arith("($0 + $1) | 0"),
  int_sub: arith("($0 - $1) | 0"),
  int_mul: arith("Math.imul($0, $1)"),
  int_div: arith("($0 / $1) | 0"),
  int_mod: arith("($0 % $1) | 0"),
  int_and: arith("$0 & $1"),
  int_or: arith("$0 | $1"),
  int_xor: arith("$0 ^ $1"),
  int_shl: arith("$0 << $1"),
  int_shr: arith("$0 >> $1"),
  /** Logical shift right, reinterpreted as int32 (only shifts of 1..31 come from the subset). */
  int_ushr: arith("($0 >>> $1) | 0"),
  int_neg: pure(["i32"], "i32", "-$0 | 0"),
  int_not: pure(["i32"], "i32", "~$0"),

  int_eq: cmp("$0 === $1"),
  int_ne: cmp("$0 !== $1"),
  int_lt: cmp("$0 < $1"),
  int_le: cmp("$0 <= $1"),
  int_gt: cmp("$0 > $1"),
  int_ge: cmp("$0 >= $1"),
  /** Unsigned less-than: one comparison checks `0 <= a < b` for a non-negative `b`. */
  uint_lt: cmp("$0 >>> 0 < $1 >>> 0"),

  bool_not: pure(["bool"], "bool", "!$0"),
  bool_eq: pure(["bool", "bool"], "bool", "$0 === $1"),
  bool_ne: pure(["bool", "bool"], "bool", "$0 !== $1"),

  /** A zero-filled array of the length given; the immediate names its type. */
  new_array: { args: ["i32"], ret: "imm", effect: "alloc", imm: "type" },
  /** Unchecked: the frontend guards every access with `uint_lt` against `array_len`. */
  array_get: { args: ["arr", "i32"], ret: "i32", effect: "read" },
  /** Stores into a `u8[]` keep the low 8 bits. */
  array_set: { args: ["arr", "i32", "i32"], ret: "none", effect: "write" },
  array_len: { args: ["arr"], ret: "i32", effect: "pure" },

  /** An object of the class the immediate names, every field zero, false or null (the
   *  constructor, a graph of its own, sets them). */
  new_object: { args: [], ret: "ref", effect: "alloc", imm: "class" },
  /** A field (`Class.field`) of a non-null object of that class or a subclass. */
  get_field: { args: ["ref"], ret: "field", effect: "read", imm: "field" },
  set_field: { args: ["ref", "any"], ret: "none", effect: "write", imm: "field" },
  /** The id of a non-null object's class (never changes: `instanceof` is a range check). */
  class_of: { args: ["ref"], ret: "i32", effect: "read" },
  /** Identity of references: objects, lists, maps (null equals only null). */
  ref_eq: pure(["reference", "reference"], "bool", "$0 === $1"),

  // Lists (growable, of the item type their type names) and maps: JavaScript's arrays and
  // Maps, operation for operation, on every input (the frontend checks what the subset's
  // TypeScript checks: an index before `list_get`, emptiness before using `list_pop`'s result).
  /** A list of the given length, every item the filler (a negative length raises `invalid
   *  array length`, as `new_array` does). */
  new_list: { args: ["i32", "any"], ret: "imm", effect: "alloc", imm: "type" },
  /** Unchecked, as `array_get`: the frontend guards the index with `list_len`. */
  list_get: { args: ["list", "i32"], ret: "elem", effect: "read" },
  list_set: { args: ["list", "i32", "elem"], ret: "none", effect: "write" },
  list_len: { args: ["list"], ret: "i32", effect: "read" },
  list_push: { args: ["list", "elem"], ret: "none", effect: "write" },
  /** Removes and gives the last item; on an empty list changes nothing and gives the item
   *  type's zero (JavaScript gives undefined, which the subset must check before use). */
  list_pop: { args: ["list"], ret: "elem", effect: "write" },
  /** `l.splice(i, 0, x)`: an index past the end appends, a negative one counts from the end. */
  list_insert: { args: ["list", "i32", "elem"], ret: "none", effect: "write" },
  /** `l.splice(i, 1)`: removes the item at i (negative: from the end) if there is one. */
  list_remove: { args: ["list", "i32"], ret: "none", effect: "write" },

  new_map: { args: [], ret: "imm", effect: "alloc", imm: "type" },
  /** The value of the key; for a missing key the value type's zero (JavaScript's undefined,
   *  which the subset checks with `map_has`). */
  map_get: { args: ["map", "key"], ret: "value", effect: "read" },
  map_has: { args: ["map", "key"], ret: "bool", effect: "read" },
  map_set: { args: ["map", "key", "value"], ret: "none", effect: "write" },
  /** Removes the key; whether it was there. */
  map_delete: { args: ["map", "key"], ret: "bool", effect: "write" },
  map_size: { args: ["map"], ret: "i32", effect: "read" },

  call: { args: "variadic", ret: "callee", effect: "call", imm: "callee" },

  /** Head of the dispatch loop: the first `imm` arguments are the greens, the rest the reds.
   *  Costs one step of fuel. */
  merge_point: { args: "variadic", ret: "none", effect: "hint", imm: "count" },
  /** Returns its argument (an integer, or a reference to an immutable object: its identity);
   *  the specialiser makes it a compile-time value. */
  promote: { args: ["any"], ret: "same", effect: "hint" },
  /** Costs one step of fuel (residual code's form of a merge point pass). */
  fuel: { args: [], ret: "none", effect: "hint" },

  /** A safepoint of residual code at a loop's head: whether the run's object region is nearly
   *  full and no call under way holds references (machine code; always false elsewhere), so
   *  that the loop's state is collected there (an exit whose values are the live state:
   *  `NativeModule.collect` in `runtime/x64/native.ts`). */
  region_low: { args: [], ret: "bool", effect: "io" },
  io_read: { args: [], ret: "i32", effect: "io" },
  io_write: { args: ["i32"], ret: "none", effect: "io" },
};

export function opInfo(name: string): OpInfo {
  const info = OPS[name];
  if (!info) throw new Error(`unknown operation ${name}`);
  return info;
}
