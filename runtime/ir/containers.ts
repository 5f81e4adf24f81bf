//! Lists and maps as the IR types them (PyPy's lists and dicts, kept high-level: the
//! specialisers see `list_push`, not the code of a growable array). `list<T>` holds `T`s;
//! `map<K,V>` maps `K`s (`i32` or `ref`: integer names, object identities) to `V`s. Their
//! operations (`ops.ts`) name their operands' and results' types relative to the container's:
//! `elem` for a list's items, `key` and `value` for a map's.

import type { Const, ListType, MapType, Type } from "./types.ts";
import { NULL, bool, int } from "./types.ts";

export const listOf = (elem: Type): ListType => `list<${elem}>`;
export const mapOf = (key: Type, value: Type): MapType => `map<${key},${value}>`;

export const isList = (t: string | undefined): t is ListType => !!t?.startsWith("list<");
export const isMap = (t: string | undefined): t is MapType => !!t?.startsWith("map<");

/** Whether a value of type `t` is a reference to something with an identity (an object, a
 *  list, a map: what `null` and constant objects stand among). */
export const isReference = (t: string | undefined): boolean => t === "ref" || isList(t) || isMap(t);

/** The type of a list's items. */
export function elemOf(t: ListType): Type {
  return t.slice(5, -1) as Type;
}

/** A map's key and value types (the key is `i32` or `ref`, so the first comma splits). */
export function keyOf(t: MapType): Type {
  return t.slice(4, t.indexOf(",")) as Type;
}
export function valueOf(t: MapType): Type {
  return t.slice(t.indexOf(",") + 1, -1) as Type;
}

/** Whether `t` is a type of the IR: a scalar, an array, `ref`, or a list or map of such. */
export function isType(t: string): t is Type {
  if (SIMPLE.has(t)) return true;
  if (t.startsWith("list<") && t.endsWith(">")) return isValueType(t.slice(5, -1));
  if (t.startsWith("map<") && t.endsWith(">")) {
    const comma = t.indexOf(",");
    const key = t.slice(4, comma);
    return comma > 0 && (key === "i32" || key === "ref") && isValueType(t.slice(comma + 1, -1));
  }
  return false;
}
const SIMPLE = new Set(["i32", "bool", "i32[]", "u8[]", "ref", "void"]);
const isValueType = (t: string) => t !== "void" && isType(t);

/** What a new list's items, a missing map entry, a new object's field of type `t` are: zero,
 *  false, or null (no list or map is made for one: the subset's containers start empty). */
export function zeroOf(t: Type): Const {
  return t === "i32" ? int(0) : t === "bool" ? bool(false) : NULL;
}

/** Whether a module has objects, lists or maps anywhere (the x86-64 backend gives its runs an
 *  object region: `x64/objects.ts`). */
export function usesObjects(m: {
  classes?: unknown[];
  objects?: unknown[];
  graphs: { types: Type[] }[];
}): boolean {
  return (
    !!m.classes?.length || !!m.objects?.length || m.graphs.some((g) => g.types.some(isReference))
  );
}
