//! Lists and maps as the frontend lowers them (docs/SUBSET.md): a `T[]` is a growable list and a
//! `Map<K, V>` a map, each operation one of the IR's high-level list and map operations (PyPy's
//! oopspec: the specialisers see `list_push`, not the code of a growable array). TypeScript's
//! strict types are the subset's: `pop()` and `get()` may give undefined, so their value
//! carries whether it is there (`present`, from the length before the pop, from `map_has`),
//! which `=== undefined`, `!== undefined` and `??` read; an index is checked against the length
//! as an array's is.

import { Node, SyntaxKind, type Expression } from "ts-morph";
import { elemOf, isList, isMap, keyOf, valueOf, zeroOf } from "../../runtime/ir/containers.ts";
import type { ListType, MapType, Operand, Pos, Type } from "../../runtime/ir/types.ts";
import { int } from "../../runtime/ir/types.ts";

/** What the frontend knows of a value: its operand, its kind (its IR type, but an integer is
 *  `int`, or `intish` before its `| 0`), and for what may be undefined (a `pop()`, a `get()`)
 *  whether it is there. */
export interface Val {
  o: Operand;
  kind: Kind;
  present?: Operand;
}
export type Kind = "int" | "intish" | Exclude<Type, "i32" | "void">;

/** The kind of a value of IR type `t`. */
export const kindOf = (t: Type): Kind => (t === "i32" ? "int" : (t as Kind));

/** What lowering a container operation needs of the function's lowering (`lower.ts`). */
export interface Lowerer {
  expr(e: Expression): Val;
  int(e: Expression): Operand;
  valueOfType(e: Expression, type: Type): Operand;
  emit(op: string, args: Operand[], type: Type | undefined, node: Node, imm?: string): number;
  report(node: Node, message: string): void;
  /** Checks `index` against `length` (raising the subset's index error). */
  checkIndex(index: Operand, length: Operand, node: Node): void;
  pos(node: Node): Pos;
}

const NOTHING: Val = { o: int(0), kind: "int" };

/** `list.m(args)` or `map.m(args)`: its value (undefined for a statement's `push`/`set`). */
export function containerCall(
  l: Lowerer,
  recv: Val,
  name: string,
  args: Expression[],
  e: Node,
  statement: boolean,
): Val | undefined {
  if (isList(recv.kind)) return listCall(l, recv.o, recv.kind, name, args, e, statement);
  if (isMap(recv.kind)) return mapCall(l, recv.o, recv.kind, name, args, e, statement);
  l.report(e, `'${name}' on ${recv.kind} is not in the subset`);
  return NOTHING;
}

function arity(l: Lowerer, args: Expression[], n: number, e: Node, what: string): boolean {
  if (args.length === n) return true;
  l.report(e, `${what} takes ${n} argument${n === 1 ? "" : "s"}`);
  return false;
}

function listCall(
  l: Lowerer,
  list: Operand,
  type: ListType,
  name: string,
  args: Expression[],
  e: Node,
  statement: boolean,
): Val | undefined {
  const elem = elemOf(type);
  switch (name) {
    case "push": {
      if (!arity(l, args, 1, e, "push")) return NOTHING;
      l.emit("list_push", [list, l.valueOfType(args[0]!, elem)], undefined, e);
      // (its value is the new length)
      return statement ? undefined : { o: l.emit("list_len", [list], "i32", e), kind: "int" };
    }
    case "pop": {
      if (!arity(l, args, 0, e, "pop")) return NOTHING;
      const n = l.emit("list_len", [list], "i32", e);
      const present = l.emit("int_gt", [n, int(0)], "bool", e);
      return { o: l.emit("list_pop", [list], elem, e), kind: kindOf(elem), present };
    }
    case "splice":
      return splice(l, list, elem, args, e, statement);
  }
  l.report(e, `'${name}' on a list is not in the subset (push, pop, splice, length, [i])`);
  return NOTHING;
}

/** `l.splice(i, 0, x)` inserts, `l.splice(i, 1)` removes (statements: their value is a list). */
function splice(
  l: Lowerer,
  list: Operand,
  elem: Type,
  args: Expression[],
  e: Node,
  statement: boolean,
): Val | undefined {
  const count = args[1] && Node.isNumericLiteral(args[1]) ? args[1].getLiteralValue() : -1;
  const insert = args.length === 3 && count === 0;
  const remove = args.length === 2 && count === 1;
  if (!statement || !(insert || remove)) {
    l.report(e, "splice is l.splice(i, 0, x) or l.splice(i, 1), as a statement");
    return statement ? undefined : NOTHING;
  }
  const index = l.int(args[0]!);
  if (count === 0)
    l.emit("list_insert", [list, index, l.valueOfType(args[2]!, elem)], undefined, e);
  else l.emit("list_remove", [list, index], undefined, e);
  return undefined;
}

function mapCall(
  l: Lowerer,
  map: Operand,
  type: MapType,
  name: string,
  args: Expression[],
  e: Node,
  statement: boolean,
): Val | undefined {
  const key = () => l.valueOfType(args[0]!, keyOf(type));
  const value = valueOf(type);
  switch (name) {
    case "get": {
      if (!arity(l, args, 1, e, "get")) return NOTHING;
      const k = key();
      const present = l.emit("map_has", [map, k], "bool", e);
      return { o: l.emit("map_get", [map, k], value, e), kind: kindOf(value), present };
    }
    case "has":
      if (!arity(l, args, 1, e, "has")) return NOTHING;
      return { o: l.emit("map_has", [map, key()], "bool", e), kind: "bool" };
    case "delete":
      if (!arity(l, args, 1, e, "delete")) return NOTHING;
      return { o: l.emit("map_delete", [map, key()], "bool", e), kind: "bool" };
    case "set": {
      if (!arity(l, args, 2, e, "set")) return NOTHING;
      const k = key();
      l.emit("map_set", [map, k, l.valueOfType(args[1]!, value)], undefined, e);
      if (!statement) l.report(e, "set is a statement (its value, the map, is not in the subset)");
      return statement ? undefined : NOTHING;
    }
  }
  l.report(e, `'${name}' on a map is not in the subset (get, set, has, delete, size)`);
  return NOTHING;
}

/** `list.length`, `map.size`. */
export function containerProperty(l: Lowerer, recv: Val, name: string, e: Node): Val {
  if (isList(recv.kind) && name === "length")
    return { o: l.emit("list_len", [recv.o], "i32", e), kind: "int" };
  if (isMap(recv.kind) && name === "size")
    return { o: l.emit("map_size", [recv.o], "i32", e), kind: "int" };
  l.report(e, `'${name}' of ${recv.kind} is not in the subset`);
  return NOTHING;
}

/** `list[i]`, checked. */
export function listGet(l: Lowerer, list: Val, index: Operand, e: Node): Val {
  const elem = elemOf(list.kind as ListType);
  l.checkIndex(index, l.emit("list_len", [list.o], "i32", e), e);
  return { o: l.emit("list_get", [list.o, index], elem, e), kind: kindOf(elem) };
}

/** `list[i] = v`, checked (`v` evaluated after the check, as JavaScript evaluates the target's
 *  parts first; `old` gives it the item first for a compound assignment). */
export function listSet(
  l: Lowerer,
  list: Val,
  index: Operand,
  value: (old: () => Operand) => Operand,
  e: Node,
): void {
  const elem = elemOf(list.kind as ListType);
  l.checkIndex(index, l.emit("list_len", [list.o], "i32", e), e);
  const v = value(() => l.emit("list_get", [list.o, index], elem, e));
  l.emit("list_set", [list.o, index, v], undefined, e);
}

/** A new list or map where a value of `type` is wanted: `[]`, `[a, b]`, `new Map()`,
 *  `new Array<T>(n).fill(x)`; undefined when `e` is none of these. */
export function newContainer(l: Lowerer, e: Expression, type: Type | undefined): Val | undefined {
  if (Node.isArrayLiteralExpression(e)) {
    if (!isList(type)) {
      l.report(e, "write the list's type out (const xs: T[] = [])");
      return NOTHING;
    }
    const list = l.emit("new_list", [int(0), zeroOf(elemOf(type))], type, e, type);
    for (const item of e.getElements()) {
      if (Node.isSpreadElement(item)) l.report(item, "spread is not in the subset");
      else l.emit("list_push", [list, l.valueOfType(item, elemOf(type))], undefined, item);
    }
    return { o: list, kind: type };
  }
  if (Node.isNewExpression(e) && e.getExpression().getText() === "Map") {
    if (e.getArguments().length) l.report(e, "a map starts empty: new Map()");
    if (!isMap(type)) {
      l.report(e, "write the map's type out (new Map<K, V>())");
      return NOTHING;
    }
    return { o: l.emit("new_map", [], type, e, type), kind: type };
  }
  if (Node.isCallExpression(e)) return filledArray(l, e, type);
  return undefined;
}

/** `new Array<T>(n).fill(x)`: n items, each x (a negative n is an error, as in JavaScript). */
function filledArray(
  l: Lowerer,
  e: import("ts-morph").CallExpression,
  type: Type | undefined,
): Val | undefined {
  const callee = e.getExpression();
  if (!Node.isPropertyAccessExpression(callee) || callee.getName() !== "fill") return undefined;
  const made = callee.getExpression();
  if (!Node.isNewExpression(made) || made.getExpression().getText() !== "Array") return undefined;
  if (!isList(type) || made.getArguments().length !== 1 || e.getArguments().length !== 1) {
    l.report(e, "a list of n items is new Array<T>(n).fill(x), its type written out");
    return NOTHING;
  }
  const n = l.int(made.getArguments()[0] as Expression);
  const fill = l.valueOfType(e.getArguments()[0] as Expression, elemOf(type));
  return { o: l.emit("new_list", [n, fill], type, e, type), kind: type };
}

/** Whether `e` is `undefined` (only compared with, never a value of the subset). */
export const isUndefined = (e: Node): boolean =>
  Node.isIdentifier(e) && e.getText() === "undefined";

/** `a ?? b` where a may be undefined: its value if there, else b (lowered by the caller as a
 *  conditional on `present`). */
export const NULLISH = SyntaxKind.QuestionQuestionToken;
