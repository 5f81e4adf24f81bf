//! The classes of an interpreter's module, as the frontend lowers them (docs/SUBSET.md): a class
//! has typed fields, set in its constructor (`readonly` ones only there), methods, and at most
//! one superclass; an `abstract` class has no instances. Each becomes a `ClassDecl` of the
//! module (its fields with the inherited ones first, ids in preorder so that `instanceof` is a
//! range check), its constructor a graph `<Class>$new` taking the new object first and its
//! methods graphs `<Class>$<method>` taking the receiver first.

import {
  Node,
  type ClassDeclaration,
  type ConstructorDeclaration,
  type MethodDeclaration,
} from "ts-morph";
import type { ClassDecl, Field, Type } from "../../runtime/ir/types.ts";

export interface ClassInfo {
  decl: ClassDeclaration;
  ir: ClassDecl;
  parent?: ClassInfo;
  children: ClassInfo[];
  methods: Map<string, MethodDeclaration>;
  ctor?: ConstructorDeclaration;
}

/** The graph of a class's constructor, and of one of its methods. */
export const ctorGraph = (cls: string): string => `${cls}$new`;
export const methodGraph = (cls: string, method: string): string => `${cls}$${method}`;

/** Scans the module's class declarations (each reported outside the subset where it is), in
 *  source order; `typeOf` gives a field's IR type from its annotation. */
export function scanClasses(
  decls: ClassDeclaration[],
  typeOf: (node: Node, text: string | undefined) => Type,
  report: (node: Node, message: string) => void,
): Map<string, ClassInfo> {
  const byName = new Map<string, ClassInfo>();
  for (const decl of decls) {
    const name = decl.getName();
    if (!name) {
      report(decl, "a class needs a name");
      continue;
    }
    const info: ClassInfo = {
      decl,
      ir: { name, id: 0, last: 0, abstract: decl.isAbstract(), fields: [] },
      children: [],
      methods: new Map(),
    };
    byName.set(name, info);
  }
  for (const info of byName.values()) scanMembers(info, byName, typeOf, report);
  // Ids in preorder from the roots, in source order; fields inherited first.
  let next = 0;
  const number = (c: ClassInfo, inherited: Field[]) => {
    c.ir.id = next++;
    c.ir.fields = [...inherited, ...c.ir.fields];
    for (const child of c.children) number(child, c.ir.fields);
    c.ir.last = next - 1;
  };
  for (const c of byName.values()) if (!c.parent) number(c, []);
  return byName;
}

function scanMembers(
  info: ClassInfo,
  byName: Map<string, ClassInfo>,
  typeOf: (node: Node, text: string | undefined) => Type,
  report: (node: Node, message: string) => void,
): void {
  const { decl } = info;
  const ext = decl.getExtends();
  if (ext) {
    const parent = byName.get(ext.getExpression().getText());
    if (!parent || ext.getTypeArguments().length)
      report(ext, `a class extends another class of this module`);
    else {
      info.parent = parent;
      info.ir.parent = parent.ir.name;
      parent.children.push(info);
    }
  }
  if (decl.getImplements().length) report(decl, "implements is not in the subset");
  if (decl.getTypeParameters().length) report(decl, "generic classes are not in the subset");
  for (const member of decl.getMembers()) {
    if (Node.isPropertyDeclaration(member)) {
      if (member.isStatic()) report(member, "static fields are not in the subset");
      if (member.getInitializer())
        report(member, "set a field in the constructor, not where it is declared");
      if (member.hasQuestionToken()) report(member, "optional fields are not in the subset");
      const type = typeOf(member, member.getTypeNode()?.getText());
      info.ir.fields.push({ name: member.getName(), type, readonly: member.isReadonly() });
    } else if (Node.isConstructorDeclaration(member)) {
      if (member.getParameters().some((p) => p.getScope() || p.isReadonly()))
        report(member, "declare fields as fields, not as constructor parameters");
      if (member.getBody()) info.ctor = member;
    } else if (Node.isMethodDeclaration(member)) {
      if (member.isStatic()) report(member, "static methods are not in the subset");
      else if (member.isAsync() || member.isGenerator())
        report(member, "async methods and generators are not in the subset");
      else if (member.getBody() || member.isAbstract()) info.methods.set(member.getName(), member);
    } else report(member, `${member.getKindName()} in a class is not in the subset`);
  }
}

/** The method `name` as the class `c` has it: its own, or the nearest ancestor's. */
export function methodOf(
  c: ClassInfo,
  name: string,
): { owner: ClassInfo; m: MethodDeclaration } | undefined {
  for (let at: ClassInfo | undefined = c; at; at = at.parent) {
    const m = at.methods.get(name);
    if (m) return { owner: at, m };
  }
  return undefined;
}

/** The constructor `new c(...)` runs: its own, or the nearest ancestor's. */
export function ctorOf(c: ClassInfo): ClassInfo | undefined {
  for (let at: ClassInfo | undefined = c; at; at = at.parent) if (at.ctor) return at;
  return undefined;
}

/** The concrete classes at or below `c` (what an object whose static class is `c` can be). */
export function concreteBelow(c: ClassInfo): ClassInfo[] {
  const out: ClassInfo[] = [];
  const walk = (x: ClassInfo) => {
    if (!x.ir.abstract) out.push(x);
    x.children.forEach(walk);
  };
  walk(c);
  return out;
}
