//! The abstract values of specialisation: what the specialiser knows about each value of the
//! interpreter while it runs the interpreter's graphs at compile time.
//!
//! - `c`: a compile-time constant integer or boolean (green);
//! - `r`: a run-time value, held in a residual variable or constant operand (red);
//! - `a`: a compile-time-known immutable array (the bytecode): reads at constant indexes fold;
//! - `v`: a virtual array: an allocation not done yet, whose items are abstract scalars;
//! - `o`: a virtual object: an allocation not done yet, its class and its fields' abstract
//!   values;
//! - `l`: a virtual list: an allocation not done yet, its items' abstract values (PyPy's
//!   virtual lists: a frame's stack of boxed values costs nothing while it does not escape).
//!
//! Virtual objects and lists nest: a field or an item may be another virtual (a frame holding a
//! stack holding boxes), and two may share one (aliasing is kept: it is one allocation). Forcing
//! one forces what it holds. Typed arrays are one level: their items are scalars, and one
//! stored into a field is made real first.

import type { ListType, Operand, Type } from "../ir/types.ts";
import { NULL } from "../ir/types.ts";

/** `len`: for a run-time array, its length when it is known at compile time (a forced virtual,
 *  an allocation of a constant length), so that bounds checks fold. `cls`: for a run-time
 *  object, its class's id when it is known (a promoted class: PyPy's known class of a box),
 *  so that class tests fold and a merge point keeps it. */
export type Scalar =
  { k: "c"; v: number | boolean } | { k: "r"; o: Operand; type: Type; len?: number; cls?: number };

/** `items` are its first items; the rest, up to `length`, are the constant 0 (never written:
 *  the unused end of a stack costs nothing at merge points, nor a tape's). */
export interface Virtual {
  type: "i32[]" | "u8[]";
  length: number;
  items: Scalar[];
}

/** `forced`: the residual variable of the object once it is allocated (on the path that holds
 *  it: a copied state copies its virtuals). `home`: for a virtualizable (the interpreter's
 *  frame, unpacked where compiled code is entered: `Engine.enter`), the real object it stands
 *  for, which forcing writes back into instead of allocating (one identity). */
export interface VirtualObject {
  /** The class's name and id (`ClassDecl`). */
  cls: string;
  id: number;
  fields: Field[];
  forced?: number;
  home?: Home;
  /** Whether it has changed since it was unpacked (a clean one writes nothing back). */
  homeDirty?: boolean;
}

/** A virtual list: its type and items (its length is theirs); `forced` and `home` as an
 *  object's, with the real list's length when it was unpacked (`homeLength`: what forcing
 *  pushes or pops to). */
export interface VirtualList {
  type: ListType;
  items: Field[];
  forced?: number;
  home?: Home;
  homeLength?: number;
  homeDirty?: boolean;
}

/** The run-time reference a virtualizable's virtual stands for. */
export type Home = Scalar & { k: "r" };

/** What a virtual object's field or a virtual list's item holds: a scalar, or a virtual. */
export type Field = Scalar | { k: "o"; obj: VirtualObject } | { k: "l"; obj: VirtualList };

/** A virtual object or list: what nests (`Field`). */
export type Nested = Field & { k: "o" | "l" };

export type AVal =
  | Field
  | { k: "a"; arr: Int32Array | Uint8Array; type: "i32[]" | "u8[]" }
  | { k: "v"; obj: Virtual };

/** What a virtual object or list holds: its fields, its items. */
export function contents(a: Nested): Field[] {
  return a.k === "o" ? a.obj.fields : a.obj.items;
}

/** A nested virtual as what it now is: the run-time reference it was forced into, or itself. */
export function settledField(a: Field): Field {
  if (a.k === "o" || a.k === "l") {
    const forced = a.obj.forced;
    // (an object's class stays known)
    if (forced !== undefined)
      return a.k === "o"
        ? { k: "r", o: forced, type: "ref", cls: a.obj.id }
        : { k: "r", o: forced, type: a.obj.type };
  }
  return a;
}

export const konst = (v: number | boolean): AVal & Scalar => ({ k: "c", v });

/** The null reference: a red held in a constant operand. */
export const NULL_REF: Scalar = { k: "r", o: NULL, type: "ref" };

/** A module's constant object, list or map (`Module.objects`): a red held in a constant
 *  operand, whose contents are compile-time (constants never change: `residual.ts` folds their
 *  reads). */
export function constantObject(i: number, type: Type): Scalar {
  return { k: "r", o: { k: "obj", v: i }, type };
}

/** The index of the constant object `a` is, if it is one. */
export function constantIndex(a: AVal): number | undefined {
  return a.k === "r" && typeof a.o !== "number" && a.o.k === "obj" ? a.o.v : undefined;
}

/** Whether `a` is null (of any reference type). */
export const isNull = (a: AVal): boolean =>
  a.k === "r" && typeof a.o !== "number" && a.o.k === "null";

/** Whether `a` is a constant reference: null or a module's constant object. */
export const isConstantReference = (a: AVal): boolean =>
  isNull(a) || constantIndex(a) !== undefined;

/** The constant 0 (abstract values are never changed, so one serves). */
export const ZERO = konst(0);

/** Item `i` of a virtual (in range). */
export function item(obj: Virtual, i: number): Scalar {
  return obj.items[i] ?? ZERO;
}

/** Item `k` of a virtual array, object or list as it now is (a forced one settled); the
 *  constant 0 past its items, or for a value that holds none. */
export function itemAt(a: AVal, k: number): Field {
  if (a.k === "v") return item(a.obj, k);
  return a.k === "o" || a.k === "l" ? settledField(contents(a)[k] ?? ZERO) : ZERO;
}

/** Every item of a virtual. */
export function allItems(obj: Virtual): Scalar[] {
  const out = obj.items.slice();
  while (out.length < obj.length) out.push(ZERO);
  return out;
}
