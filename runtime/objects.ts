//! A module's constant objects (`Module.objects`) as a heap holds them (`heap.ts`), both ways:
//! made once per list of them (`constantsOf`), so that every module sharing the list (an interpreter's graphs,
//! the residual modules made from them) holds the same objects; and an object of a run made a
//! constant (`constantOf`: a promoted object, which never changes, and what it holds), the same
//! object it was (one identity).

import { elemOf, isList, isMap, keyOf, valueOf } from "./ir/containers.ts";
import type { Heap, HeapObject } from "./heap.ts";
import {
  NULL,
  bool,
  int,
  type Const,
  type Module,
  type ObjectData,
  type Type,
} from "./ir/types.ts";
import type { Reg } from "./l3.ts";

/** Each list of constants' index of each object, per heap. */
const indexes = new WeakMap<Heap, WeakMap<ObjectData[], Map<unknown, number>>>();

/** The module's data constant `i` as a fresh typed array. */
const dataArray = (m: Module) => (i: number) => {
  const d = m.data[i]!;
  return d.type === "u8[]" ? Uint8Array.from(d.values) : Int32Array.from(d.values);
};

/** A module's constant objects as `heap` holds them (`Heap.constantsOf`), typed arrays among
 *  their contents from the module's data (`dataOf`). */
export function constantsOf(
  m: Module,
  heap: Heap,
  dataOf: (i: number) => Int32Array | Uint8Array = dataArray(m),
): Reg[] {
  return heap.constantsOf(m, dataOf) as Reg[];
}

/** Gives module `to` a list of constants of its own that starts with `from`'s, holding the same
 *  objects (a residual module, which promoted objects are added to). */
export function shareConstants(from: Module, to: Module, heap: Heap): void {
  const objs = constantsOf(from, heap).slice();
  to.objects = [...from.objects!];
  heap.remember(to.objects, objs);
}

/** `value`, an object, list or map of a run that never changes (a promoted object: the frontend
 *  allows only immutable ones), as a constant of `m`: what it holds appended to `m.objects`, each
 *  object once, as the very objects L3 holds (one identity). `type` is its IR type. */
export function constantOf(m: Module, value: Reg, type: Type, heap: Heap): Const {
  const objs = constantsOf(m, heap);
  const list = m.objects!;
  let lists = indexes.get(heap);
  if (!lists) indexes.set(heap, (lists = new WeakMap()));
  let index = lists.get(list);
  if (!index) lists.set(list, (index = new Map(objs.map((o, i) => [o, i]))));
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
    list[i] = dataOf(m, v, t, heap, toConst);
    return { k: "obj", v: i };
  };
  return toConst(value, type);
}

function dataOf(
  m: Module,
  v: Reg,
  type: Type,
  heap: Heap,
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
  const o = v as HeapObject;
  const cls = m.classes!.find((c) => c.id === heap.classOf(o))!;
  return {
    k: "object",
    cls: cls.name,
    fields: heap.fieldsOf(o).map((f, j) => toConst(f as Reg, cls.fields[j]!.type)),
  };
}
