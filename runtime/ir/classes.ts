//! The classes of a module, as the stages look them up: a class by name, a field by its
//! operation's immediate (`Cons.car`: the class the program named and the field's name; its
//! index is the same in every subclass, inherited fields coming first).

import type { ClassDecl, Field, Module } from "./types.ts";

export interface FieldRef {
  cls: ClassDecl;
  /** The field's index in the object (in `cls` and every subclass). */
  index: number;
  field: Field;
}

/** The class named `name`, if the module has it. */
export function classNamed(m: Module, name: unknown): ClassDecl | undefined {
  return m.classes?.find((c) => c.name === name);
}

/** The field an operation's immediate names (`Class.field`), if there is one. */
export function fieldOf(m: Module, imm: unknown): FieldRef | undefined {
  if (typeof imm !== "string") return undefined;
  const dot = imm.indexOf(".");
  const cls = classNamed(m, imm.slice(0, dot));
  const index = cls ? cls.fields.findIndex((f) => f.name === imm.slice(dot + 1)) : -1;
  return cls && index >= 0 ? { cls, index, field: cls.fields[index]! } : undefined;
}
