//! The subset's types as the frontend reads them, from a written annotation or from TypeScript's
//! own type of an expression, into IR types (docs/SUBSET.md): `number` is `i32`, `boolean`
//! `bool`, the typed arrays `i32[]`/`u8[]`, a class of the module (or null) `ref`, `T[]` and
//! `readonly T[]` a `list<T>`, `Map<K, V>` and `ReadonlyMap<K, V>` a `map<K,V>` (keys are
//! integers or objects). A list or map may also be null (`T[] | null`).

import type { Type as TsType } from "ts-morph";
import { isReference, listOf, mapOf } from "../../runtime/ir/containers.ts";
import type { Type } from "../../runtime/ir/types.ts";

/** What a type annotation says, beside its IR type: whether it is a read-only container
 *  (`readonly T[]`, `ReadonlyMap`), what the constant objects' fields must be. */
export interface Annotated {
  type: Type;
  readonly: boolean;
  /** The annotations of its items (a list's), or its keys' and values' (a map's). */
  parts: Annotated[];
  /** The class it names, for `ref`. */
  cls?: string;
}

const SCALARS: Record<string, Type> = {
  number: "i32",
  boolean: "bool",
  Int32Array: "i32[]",
  Uint8Array: "u8[]",
  void: "void",
};

/** The IR type a type annotation names, or undefined outside the subset. */
export function annotationType(
  text: string,
  classes: { has(name: string): boolean },
): Type | undefined {
  return annotated(text, classes)?.type;
}

/** A type annotation, read (a small parser of TypeScript's type syntax, as far as the subset
 *  goes), or undefined outside the subset. */
export function annotated(
  text: string,
  classes: { has(name: string): boolean },
): Annotated | undefined {
  const toks = text.match(/[A-Za-z_$][\w$]*|[<>,|()[\]]/g) ?? [];
  let i = 0;
  const eat = (t: string) => (toks[i] === t ? (i++, true) : false);
  const union = (): Annotated | undefined => {
    const parts = [postfix()];
    while (eat("|")) parts.push(postfix());
    const nulls = parts.filter((p) => p === NULL_PART).length;
    const rest = parts.filter((p) => p !== NULL_PART);
    if (rest.length !== 1 || nulls > 1) return undefined;
    const [only] = rest;
    return only && (nulls === 0 || isReference(only.type)) ? only : undefined;
  };
  const postfix = (): Annotated | undefined => {
    const ro = eat("readonly");
    let t = primary();
    while (t && eat("[")) {
      if (!eat("]") || t.type === "void") return undefined;
      t = { type: listOf(t.type), readonly: ro, parts: [t] };
    }
    return ro && !t?.readonly ? undefined : t;
  };
  const primary = (): Annotated | undefined => {
    if (eat("(")) {
      const t = union();
      return eat(")") ? t : undefined;
    }
    const name = toks[i++];
    if (name === undefined) return undefined;
    if (name === "null") return NULL_PART;
    const args: (Annotated | undefined)[] = [];
    if (eat("<")) {
      do args.push(union());
      while (eat(","));
      if (!eat(">") || args.some((a) => !a || a.type === "void")) return undefined;
    }
    const [a, b] = args as Annotated[];
    if ((name === "Array" || name === "ReadonlyArray") && args.length === 1)
      return { type: listOf(a!.type), readonly: name === "ReadonlyArray", parts: [a!] };
    if ((name === "Map" || name === "ReadonlyMap") && args.length === 2)
      return a!.type === "i32" || a!.type === "ref"
        ? { type: mapOf(a!.type, b!.type), readonly: name === "ReadonlyMap", parts: [a!, b!] }
        : undefined;
    if (args.length) return undefined;
    const scalar = SCALARS[name];
    if (scalar)
      return { type: scalar, readonly: scalar !== "i32[]" && scalar !== "u8[]", parts: [] };
    return classes.has(name) ? { type: "ref", readonly: false, parts: [], cls: name } : undefined;
  };
  const t = union();
  return i === toks.length && t !== NULL_PART ? t : undefined;
}
const NULL_PART: Annotated = { type: "ref", readonly: true, parts: [] };

/** The IR type of TypeScript's type of an expression (null and undefined left out: the caller
 *  asks `mayBeUndefined` where it matters), or undefined outside the subset. */
export function irType(t: TsType, classes: { has(name: string): boolean }): Type | undefined {
  if (t.isUnion()) {
    const parts = t.getUnionTypes().filter((u) => !u.isNull() && !u.isUndefined());
    if (parts.every((u) => u.isBooleanLiteral())) return "bool";
    if (parts.every((u) => u.isNumberLiteral())) return "i32";
    if (parts.length !== 1) return undefined;
    return irType(parts[0]!, classes);
  }
  if (t.isNumber() || t.isNumberLiteral()) return "i32";
  if (t.isBoolean() || t.isBooleanLiteral()) return "bool";
  if (t.isNull()) return "ref";
  const name = t.getSymbol()?.getName() ?? "";
  if (t.isArray() || t.isReadonlyArray()) {
    const elem = t.getArrayElementType() ?? t.getTypeArguments()[0];
    const e = elem && irType(elem, classes);
    return e && e !== "void" ? listOf(e) : undefined;
  }
  if (name === "Map" || name === "ReadonlyMap") {
    const [k, v] = t.getTypeArguments().map((a) => irType(a, classes));
    return (k === "i32" || k === "ref") && v && v !== "void" ? mapOf(k, v) : undefined;
  }
  if (name === "Int32Array") return "i32[]";
  if (name === "Uint8Array") return "u8[]";
  // (`this` in a class is a type parameter whose symbol is the class)
  if ((t.isClass() || t.isObject() || t.isTypeParameter()) && classes.has(name)) return "ref";
  return undefined;
}

/** Whether TypeScript says a value may be undefined here (a `pop()` or `get()` not checked). */
export function mayBeUndefined(t: TsType): boolean {
  return t.isUndefined() || (t.isUnion() && t.getUnionTypes().some((u) => u.isUndefined()));
}
