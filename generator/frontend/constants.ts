//! Module-level constant objects (`const nil = new Nil()`, PyPy's prebuilt instances): made
//! once, before anything runs, and never changed. The frontend makes them at build time by
//! running their constructors' graphs on L3, and the module carries what they hold as data
//! (`Module.objects`): every backend starts from the same objects, and the specialisers read
//! their fields as compile-time constants.
//!
//! Being constants, they must not change: a constant's class, and every class whose objects it
//! may hold, has only `readonly` fields, and its lists and maps are `readonly T[]` and
//! `ReadonlyMap` (TypeScript then rejects any write). A constructor's arguments are constants:
//! integers, booleans, null, constant objects declared before.

import { Node, type Expression, type NewExpression } from "ts-morph";
import { isList, isMap } from "../../runtime/ir/containers.ts";
import { GraphBuilder } from "../../runtime/ir/build.ts";
import type { ClassDecl, Const, Graph, Module, ObjectData } from "../../runtime/ir/types.ts";
import { NULL, bool, int } from "../../runtime/ir/types.ts";
import { Heap } from "../../runtime/heap.ts";
import { L3 } from "../../runtime/l3.ts";
import { constantOf } from "../../runtime/objects.ts";
import { concreteBelow, ctorGraph, ctorOf, type ClassInfo } from "./classes.ts";
import { annotated } from "./types.ts";

/** A module-level `const name = new C(args)`, as scanned. */
export interface ConstantDecl {
  name: string;
  init: NewExpression;
}

/** What making the constants needs of the frontend. */
export interface ConstantScope {
  classes: Map<string, ClassInfo>;
  consts: Map<string, number>;
  /** The constant objects made so far, by name (their index in `Module.objects`). */
  objects: Map<string, number>;
  report(node: Node, message: string): void;
}

/** Makes the module's constant objects in declaration order (`lower`: the graphs of the named
 *  constructors and what they call). */
export function makeConstants(
  decls: ConstantDecl[],
  scope: ConstantScope,
  classDecls: ClassDecl[],
  lower: (roots: string[]) => Graph[],
): ObjectData[] {
  const out: ObjectData[] = [];
  for (const d of decls) {
    const cls = scope.classes.get(d.init.getExpression().getText());
    if (!cls) {
      scope.report(d.init, "a module-level object is new C(...) of a class of this module");
      continue;
    }
    if (cls.ir.abstract) {
      scope.report(d.init, `${cls.ir.name} is abstract`);
      continue;
    }
    const mutable = mutableField(cls, scope.classes);
    if (mutable) {
      scope.report(d.init, `a module-level object is a constant: ${mutable}`);
      continue;
    }
    const args = (d.init.getArguments() as Expression[]).map((a) => constArgument(a, scope));
    if (args.some((a) => a === undefined)) continue;
    const made = construct(cls, args as Const[], out, classDecls, lower);
    if (typeof made === "string") scope.report(d.init, `making ${d.name}: ${made}`);
    else {
      scope.objects.set(d.name, made.length);
      // (the new object first, named: the first tier's heap takes the first tier's own)
      const [first, ...rest] = made.objects;
      out.push({ ...(first as ObjectData & { k: "object" }), name: d.name }, ...rest);
    }
  }
  return out;
}

/** A constructor's argument: a constant, or undefined (reported). */
function constArgument(e: Expression, scope: ConstantScope): Const | undefined {
  if (Node.isNumericLiteral(e) || Node.isPrefixUnaryExpression(e)) {
    const v = Number(e.getText());
    if (Number.isInteger(v) && v === (v | 0)) return int(v);
  } else if (Node.isTrueLiteral(e) || Node.isFalseLiteral(e)) return bool(Node.isTrueLiteral(e));
  else if (Node.isNullLiteral(e)) return NULL;
  else if (Node.isIdentifier(e)) {
    const c = scope.consts.get(e.getText());
    if (c !== undefined) return int(c);
    const o = scope.objects.get(e.getText());
    if (o !== undefined) return { k: "obj", v: o };
  }
  scope.report(
    e,
    "a constant object's arguments are integers, booleans, null or constant objects declared before",
  );
  return undefined;
}

/** Runs `new cls(args)` on L3; the new object and every object it made, as data appended to
 *  `before` (the object itself first, at index `length`), or why it failed. */
function construct(
  cls: ClassInfo,
  args: Const[],
  before: ObjectData[],
  classDecls: ClassDecl[],
  lower: (roots: string[]) => Graph[],
): { length: number; objects: ObjectData[] } | string {
  const wrapper = new GraphBuilder("$constant", "ref");
  const b0 = wrapper.newBlock();
  const obj = wrapper.emit(b0, "new_object", [], "ref", cls.ir.name);
  const ctor = ctorOf(cls);
  const roots = ctor ? [ctorGraph(ctor.ir.name)] : [];
  if (ctor) wrapper.emit(b0, "call", [obj, ...args], undefined, roots[0]);
  wrapper.terminate(b0, { k: "return", value: obj });
  // (a list of its own, so that L3 makes the earlier constants afresh for this run)
  const objects = before.slice();
  const m: Module = {
    graphs: [wrapper.finish(), ...lower(roots)],
    data: [],
    classes: classDecls,
    objects,
  };
  const s = new L3(m).evaluate("$constant", []);
  if (s.k === "raise") return s.msg;
  try {
    constantOf(m, s.value ?? null, "ref", Heap.of(m));
  } catch (e) {
    return (e as Error).message;
  }
  return { length: before.length, objects: objects.slice(before.length) };
}

/** A field that could change in a constant of `cls` (described), if there is one: in it, or in
 *  any class of the objects it may hold. */
export function mutableField(cls: ClassInfo, classes: Map<string, ClassInfo>): string | undefined {
  const seen = new Set<ClassInfo>();
  const visit = (c: ClassInfo): string | undefined => {
    if (seen.has(c)) return undefined;
    seen.add(c);
    for (let at: ClassInfo | undefined = c; at; at = at.parent)
      for (const p of at.decl.getProperties()) {
        if (!p.isReadonly()) return `'${at.ir.name}.${p.getName()}' is not readonly`;
        const a = annotated(p.getTypeNode()?.getText() ?? "", classes);
        const why = a && immutable(a, `${at.ir.name}.${p.getName()}`);
        if (why) return why;
      }
    for (const sub of concreteBelow(c))
      if (sub !== c) {
        const why = visit(sub);
        if (why) return why;
      }
    return undefined;
  };
  const immutable = (
    a: ReturnType<typeof annotated> & object,
    where: string,
  ): string | undefined => {
    if ((isList(a.type) || isMap(a.type)) && !a.readonly)
      return `'${where}' is a list or map that may change (readonly T[], ReadonlyMap)`;
    if (a.type === "i32[]" || a.type === "u8[]")
      return `'${where}' is a typed array (it may change)`;
    if (a.cls) return visit(classes.get(a.cls)!);
    for (const part of a.parts) {
      const why = immutable(part, where);
      if (why) return why;
    }
    return undefined;
  };
  return visit(cls);
}
