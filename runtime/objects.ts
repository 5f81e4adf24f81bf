//! A module's constant objects (`Module.objects`) as L3 holds them, both ways: made once per
//! list of them (`constantsOf`), so that every module sharing the list (an interpreter's graphs,
//! the residual modules made from them) holds the same objects; and an object of a run made a
//! constant (`constantOf`: a promoted object, which never changes, and what it holds), the same
//! object it was (one identity).

import { elemOf, isList, isMap, keyOf, valueOf } from "./ir/containers.ts";
import { classNamed } from "./ir/classes.ts";
import {
  NULL,
  bool,
  int,
  type Const,
  type Module,
  type ObjectData,
  type Type,
} from "./ir/types.ts";
import type { L3Object, Reg } from "./l3.ts";

/** The objects of each list of constants, by index, and each object's index. */
const made = new WeakMap<ObjectData[], Reg[]>();
const indexes = new WeakMap<ObjectData[], Map<Reg, number>>();

/** A module's constant objects as L3 holds them (every one allocated first, then filled, so
 *  that they may refer to each other). Typed arrays among their contents are the module's data
 *  (`dataOf`). */
export function constantsOf(m: Module, dataOf?: (i: number) => Int32Array | Uint8Array): Reg[] {
  const ds = (m.objects ??= []);
  let objs = made.get(ds);
  if (objs) return objs;
  objs = ds.map((d): Reg =>
    d.k === "object"
      ? { cls: classNamed(m, d.cls)!.id, fields: [] }
      : d.k === "list"
        ? []
        : new Map(),
  );
  made.set(ds, objs);
  const data =
    dataOf ??
    ((i: number) => {
      const d = m.data[i]!;
      return d.type === "u8[]" ? Uint8Array.from(d.values) : Int32Array.from(d.values);
    });
  const value = (c: Const): Reg =>
    c.k === "obj" ? objs[c.v]! : c.k === "data" ? data(c.v) : c.k === "null" ? null : c.v;
  ds.forEach((d, i) => {
    const it = objs[i]!;
    if (d.k === "object") (it as L3Object).fields.push(...d.fields.map(value));
    else if (d.k === "list") (it as Reg[]).push(...d.items.map(value));
    else for (const [k, v] of d.entries) (it as Map<Reg, Reg>).set(value(k), value(v));
  });
  return objs;
}

/** Gives module `to` a list of constants of its own that starts with `from`'s, holding the same
 *  objects (a residual module, which promoted objects are added to). */
export function shareConstants(from: Module, to: Module): void {
  const objs = constantsOf(from).slice();
  to.objects = [...from.objects!];
  made.set(to.objects, objs);
}

/** `value`, an object, list or map of a run that never changes (a promoted object: the frontend
 *  allows only immutable ones), as a constant of `m`: what it holds appended to `m.objects`, each
 *  object once, as the very objects L3 holds (one identity). `type` is its IR type. */
export function constantOf(m: Module, value: Reg, type: Type): Const {
  const objs = constantsOf(m);
  const list = m.objects!;
  let index = indexes.get(list);
  if (!index) indexes.set(list, (index = new Map(objs.map((o, i) => [o, i]))));
  const at = index;
  const toConst = (v: Reg | undefined, t: Type): Const => {
    if (typeof v === "number") return int(v);
    if (typeof v === "boolean") return bool(v);
    if (v === null || v === undefined) return NULL;
    if (ArrayBuffer.isView(v)) throw new Error("a typed array is not a constant object");
    let i = at.get(v);
    if (i !== undefined) return { k: "obj", v: i };
    i = list.length;
    at.set(v, i);
    objs.push(v);
    list.push(undefined as unknown as ObjectData); // (filled below: what it holds may be it)
    list[i] = dataOf(m, v, t, toConst);
    return { k: "obj", v: i };
  };
  return toConst(value, type);
}

function dataOf(
  m: Module,
  v: Reg,
  type: Type,
  toConst: (v: Reg | undefined, type: Type) => Const,
): ObjectData {
  if (Array.isArray(v) && isList(type))
    return { k: "list", type, items: v.map((x) => toConst(x, elemOf(type))) };
  if (v instanceof Map && isMap(type))
    return {
      k: "map",
      type,
      entries: [...v].map(([k, x]) => [toConst(k, keyOf(type)), toConst(x, valueOf(type))]),
    };
  const o = v as L3Object;
  const cls = m.classes!.find((c) => c.id === o.cls)!;
  return {
    k: "object",
    cls: cls.name,
    fields: o.fields.map((f, j) => toConst(f, cls.fields[j]!.type)),
  };
}
