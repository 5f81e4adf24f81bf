//! Lowers one function of the subset to a flow graph.
//!
//! SSA is built the simple way: every block takes as parameters all local variables in lexical
//! scope where it starts, and every jump passes their current values (maximal SSA);
//! `pruneParams` then removes the parameters that merge nothing. Expressions carry an asm.js-style
//! kind: `intish` (a sum or difference not yet coerced with `| 0`) may feed only coercions,
//! further sums and bitwise operations, which is what makes wrapping IR arithmetic agree with
//! V8's doubles bit for bit.

import {
  Node,
  SyntaxKind,
  type ConstructorDeclaration,
  type Expression,
  type FunctionDeclaration,
  type MethodDeclaration,
  type Statement,
} from "ts-morph";
import { GraphBuilder } from "../../runtime/ir/build.ts";
import type { Graph, Operand, Pos, Type } from "../../runtime/ir/types.ts";
import { NULL, bool, int } from "../../runtime/ir/types.ts";
import {
  concreteBelow,
  ctorGraph,
  ctorOf,
  methodGraph,
  methodOf,
  type ClassInfo,
} from "./classes.ts";
import type { ModuleScope } from "./index.ts";
import { annotationType, irType, mayBeUndefined } from "./types.ts";
import { mutableField } from "./constants.ts";
import {
  NULLISH,
  containerCall,
  containerProperty,
  isUndefined,
  kindOf,
  listGet,
  listSet,
  newContainer,
  type Lowerer,
  type Val,
} from "./containers.ts";
import { isList, isMap, isReference } from "../../runtime/ir/containers.ts";

/** What becomes a graph: a function, or a method or constructor of a class (`self`). */
export type FunctionLike = FunctionDeclaration | MethodDeclaration | ConstructorDeclaration;
interface Slot {
  name: string;
  type: Type;
}
interface Loop {
  brk: number;
  cont: number | undefined;
}

/** The error raised by the bounds check the frontend puts before every array access. */
export const INDEX_ERROR = "index out of range";

const COMPARE: Partial<Record<SyntaxKind, string>> = {
  [SyntaxKind.EqualsEqualsEqualsToken]: "int_eq",
  [SyntaxKind.ExclamationEqualsEqualsToken]: "int_ne",
  [SyntaxKind.LessThanToken]: "int_lt",
  [SyntaxKind.LessThanEqualsToken]: "int_le",
  [SyntaxKind.GreaterThanToken]: "int_gt",
  [SyntaxKind.GreaterThanEqualsToken]: "int_ge",
};
const BITWISE: Partial<Record<SyntaxKind, string>> = {
  [SyntaxKind.AmpersandToken]: "int_and",
  [SyntaxKind.BarToken]: "int_or",
  [SyntaxKind.CaretToken]: "int_xor",
  [SyntaxKind.LessThanLessThanToken]: "int_shl",
  [SyntaxKind.GreaterThanGreaterThanToken]: "int_shr",
};
const COMPOUND: Partial<Record<SyntaxKind, SyntaxKind>> = {
  [SyntaxKind.AmpersandEqualsToken]: SyntaxKind.AmpersandToken,
  [SyntaxKind.BarEqualsToken]: SyntaxKind.BarToken,
  [SyntaxKind.CaretEqualsToken]: SyntaxKind.CaretToken,
  [SyntaxKind.LessThanLessThanEqualsToken]: SyntaxKind.LessThanLessThanToken,
  [SyntaxKind.GreaterThanGreaterThanEqualsToken]: SyntaxKind.GreaterThanGreaterThanToken,
};

export function lowerFunction(
  scope: ModuleScope,
  fn: FunctionLike,
  name: string,
  self?: ClassInfo,
): { graph: Graph; calls: string[] } {
  const l = new Lowering(scope, fn, name, self);
  l.run();
  return { graph: l.graph, calls: l.calls };
}

class Lowering implements Lowerer {
  readonly b: GraphBuilder;
  graph!: Graph;
  readonly calls: string[] = [];
  private slots: Slot[] = [];
  /** For a variable that may hold undefined (`const x = l.pop()`), the slot of whether it is
   *  there (TypeScript's narrowing says where it may not be: `identifier`). */
  private presence = new Map<number, number>();
  private slotOf = new Map<Node, number>(); // declaration node -> slot
  private inScope: number[] = []; // slots in lexical scope, in order
  private blockScope = new Map<number, number[]>(); // block -> the slots it takes
  private env = new Map<number, Operand>(); // slot -> current value
  private cur = 0;
  private loops: Loop[] = [];
  private oob: number | undefined;
  private ret: Type;
  /** The slot of `this` in a method or constructor. */
  private thisSlot: number | undefined;

  constructor(
    private scope: ModuleScope,
    private fn: FunctionLike,
    private name: string,
    private self?: ClassInfo,
  ) {
    this.ret = Node.isConstructorDeclaration(fn)
      ? "void"
      : this.typeOfAnnotation(fn, fn.getReturnTypeNode()?.getText(), true);
    this.b = new GraphBuilder(name, this.ret);
  }

  run(): void {
    const entry = this.b.newBlock();
    this.blockScope.set(entry, []);
    if (this.self) {
      this.thisSlot = this.declare(this.self.decl, "this", "ref");
      this.env.set(this.thisSlot, this.b.addParam(entry, "ref", "this"));
    }
    for (const p of this.fn.getParameters()) {
      const type = this.typeOfAnnotation(p, p.getTypeNode()?.getText(), false);
      if (p.getInitializer() || p.isRestParameter() || p.hasQuestionToken())
        this.report(p, "default, optional and rest parameters are not in the subset");
      const slot = this.declare(p, p.getName(), type);
      this.env.set(slot, this.b.addParam(entry, type, p.getName()));
    }
    this.cur = entry;
    const body = this.fn.getBody();
    if (!body || !Node.isBlock(body)) this.report(this.fn, "a function needs a body");
    else this.statements(body.getStatements());
    if (this.b.isOpen(this.cur)) {
      if (this.ret === "void") this.b.terminate(this.cur, { k: "return" });
      else {
        this.report(
          (Node.isConstructorDeclaration(this.fn) ? undefined : this.fn.getNameNode()) ?? this.fn,
          `function '${this.name}' can end without returning a value`,
        );
        this.b.terminate(this.cur, { k: "raise", msg: "missing return" });
      }
    }
    this.graph = this.b.finish();
  }

  // --- helpers ---

  report(node: Node, message: string): void {
    this.scope.report(node, message);
  }

  pos(node: Node): Pos {
    const { line, column } = this.scope.sf.getLineAndColumnAtPos(node.getStart());
    return { line, col: column };
  }

  private typeOfAnnotation(node: Node, text: string | undefined, isReturn: boolean): Type {
    const t = text === undefined ? undefined : annotationType(text, this.scope.classes);
    if (t === "void" && !isReturn) this.report(node, "void is only a return type");
    if (t === undefined) {
      this.report(
        node,
        text === undefined
          ? "write the type out (number, boolean, Int32Array, Uint8Array)"
          : `type '${text}' is not in the subset`,
      );
      return isReturn ? "i32" : "i32";
    }
    return t;
  }

  /** The IR type of an expression's static type, or undefined outside the subset. */
  private staticType(node: Node): Type | undefined {
    return irType(node.getType(), this.scope.classes);
  }

  /** The class of an expression's static type (without null), if it is one of the module's. */
  private classOfType(node: Node): ClassInfo | undefined {
    const t = node.getType().getNonNullableType();
    // (`this` in a class is a type parameter whose symbol is the class)
    if (!t.isClass() && !t.isObject() && !t.isTypeParameter()) return undefined;
    return this.scope.classes.get(t.getSymbol()?.getName() ?? "");
  }

  private declare(node: Node, name: string, type: Type): number {
    const slot = this.slots.length;
    this.slots.push({ name, type });
    this.slotOf.set(node, slot);
    this.inScope.push(slot);
    return slot;
  }

  /** A new block taking the variables in scope now. */
  private block(): number {
    const blk = this.b.newBlock();
    this.blockScope.set(blk, [...this.inScope]);
    return blk;
  }

  private jump(target: number): void {
    if (!this.b.isOpen(this.cur)) return;
    const args = this.blockScope.get(target)!.map((s) => this.env.get(s)!);
    this.b.terminate(this.cur, { k: "jump", to: { block: target, args } });
  }

  private start(blk: number): void {
    this.cur = blk;
    this.env = new Map();
    for (const s of this.blockScope.get(blk)!)
      this.env.set(s, this.b.addParam(blk, this.slots[s]!.type, this.slots[s]!.name));
  }

  private branch(cond: Operand, then: number, els: number, node: Node): void {
    const args = (t: number) => this.blockScope.get(t)!.map((s) => this.env.get(s)!);
    this.b.terminate(
      this.cur,
      {
        k: "branch",
        cond,
        then: { block: then, args: args(then) },
        else: { block: els, args: args(els) },
      },
      this.pos(node),
    );
  }

  emit(
    op: string,
    args: Operand[],
    type: Type | undefined,
    node: Node,
    imm?: string | number,
  ): number {
    return this.b.emit(this.cur, op, args, type, imm, this.pos(node));
  }

  /** After a return, break or throw: later statements land in a block nothing reaches. */
  private ensureOpen(): void {
    if (!this.b.isOpen(this.cur)) this.start(this.block());
  }

  // --- statements ---

  private statements(list: Statement[]): void {
    const depth = this.inScope.length;
    for (const s of list) this.statement(s);
    this.inScope.length = depth;
  }

  private statement(s: Statement): void {
    this.ensureOpen();
    if (Node.isBlock(s)) return this.statements(s.getStatements());
    if (Node.isEmptyStatement(s)) return;
    if (Node.isVariableStatement(s)) return this.variables(s);
    if (Node.isExpressionStatement(s)) return this.expressionStatement(s.getExpression());
    if (Node.isIfStatement(s)) return this.ifStatement(s);
    if (Node.isWhileStatement(s))
      return this.loop(s, undefined, s.getExpression(), s.getStatement(), undefined);
    if (Node.isDoStatement(s)) return this.doWhile(s);
    if (Node.isForStatement(s)) return this.forStatement(s);
    if (Node.isSwitchStatement(s)) return this.switchStatement(s);
    if (Node.isReturnStatement(s)) return this.returnStatement(s);
    if (Node.isThrowStatement(s)) return this.throwStatement(s);
    if (Node.isBreakStatement(s) || Node.isContinueStatement(s)) return this.jumpStatement(s);
    this.report(s, `${s.getKindName()} is not in the subset`);
  }

  private variables(
    s: import("ts-morph").VariableStatement | import("ts-morph").VariableDeclarationList,
  ): void {
    const list = Node.isVariableStatement(s) ? s.getDeclarationList() : s;
    if (list.getDeclarationKind() === "var") this.report(list, "use let or const, not var");
    for (const d of list.getDeclarations()) {
      const init = d.getInitializer();
      if (!Node.isIdentifier(d.getNameNode())) {
        this.report(d, "destructuring is not in the subset");
        continue;
      }
      const annotated = d.getTypeNode()?.getText();
      const type =
        annotated !== undefined
          ? this.typeOfAnnotation(d, annotated, false)
          : (this.staticType(d) ?? this.badType(d));
      if (!init) {
        this.report(d, "a variable needs an initial value");
        continue;
      }
      const v = this.value(init, type);
      const slot = this.declare(d, d.getName(), type);
      this.setSlot(slot, v.o);
      if (v.present !== undefined) {
        const p = this.declare(d.getNameNode(), `${d.getName()}$present`, "bool");
        this.presence.set(slot, p);
        this.env.set(p, v.present);
      }
    }
  }

  private badType(node: Node): Type {
    this.report(node, `type '${node.getType().getText()}' is not in the subset`);
    return "i32";
  }

  private setSlot(slot: number, v: Operand): void {
    if (typeof v === "number" && this.b.g.names[v] === undefined)
      this.b.g.names[v] = this.slots[slot]!.name;
    this.env.set(slot, v);
  }

  private ifStatement(s: import("ts-morph").IfStatement): void {
    const then = this.block();
    const els = this.block();
    const after = this.block();
    this.branch(this.condition(s.getExpression()), then, els, s);
    this.start(then);
    this.statement(s.getThenStatement());
    this.jump(after);
    this.start(els);
    const e = s.getElseStatement();
    if (e) this.statement(e);
    this.jump(after);
    this.start(after);
  }

  /** `while`, and `for` once its initialiser is done. */
  private loop(
    s: Node,
    _: undefined,
    cond: Expression | undefined,
    body: Statement,
    update: Expression | undefined,
  ): void {
    const head = this.block();
    const bodyBlk = this.block();
    const exit = this.block();
    const next = update ? this.block() : head;
    this.jump(head);
    this.start(head);
    if (cond) this.branch(this.condition(cond), bodyBlk, exit, s);
    else this.jump(bodyBlk);
    this.start(bodyBlk);
    this.loops.push({ brk: exit, cont: next });
    this.statement(body);
    this.loops.pop();
    this.jump(next);
    if (update) {
      this.start(next);
      this.expressionStatement(update);
      this.jump(head);
    }
    this.start(exit);
  }

  private doWhile(s: import("ts-morph").DoStatement): void {
    const bodyBlk = this.block();
    const test = this.block();
    const exit = this.block();
    this.jump(bodyBlk);
    this.start(bodyBlk);
    this.loops.push({ brk: exit, cont: test });
    this.statement(s.getStatement());
    this.loops.pop();
    this.jump(test);
    this.start(test);
    this.branch(this.condition(s.getExpression()), bodyBlk, exit, s);
    this.start(exit);
  }

  private forStatement(s: import("ts-morph").ForStatement): void {
    const depth = this.inScope.length;
    const init = s.getInitializer();
    if (init && Node.isVariableDeclarationList(init)) this.variables(init);
    else if (init) this.expressionStatement(init);
    this.loop(s, undefined, s.getCondition(), s.getStatement(), s.getIncrementor());
    this.inScope.length = depth;
  }

  private switchStatement(s: import("ts-morph").SwitchStatement): void {
    const on = this.int(s.getExpression());
    const depth = this.inScope.length;
    const exit = this.block();
    const clauses = s.getCaseBlock().getClauses();
    const bodies = clauses.map(() => this.block());
    const cases: { value: number; to: { block: number; args: Operand[] } }[] = [];
    let dflt = exit;
    const args = (t: number) => this.blockScope.get(t)!.map((sl) => this.env.get(sl)!);
    clauses.forEach((c, i) => {
      if (Node.isDefaultClause(c)) return (dflt = bodies[i]!);
      const e = c.getExpression();
      const value = this.caseValue(e);
      if (value === undefined) return this.report(e, "a case label must be an integer constant");
      if (cases.some((k) => k.value === value)) return this.report(e, `duplicate case ${value}`);
      cases.push({ value, to: { block: bodies[i]!, args: args(bodies[i]!) } });
    });
    this.b.terminate(
      this.cur,
      { k: "switch", on, cases, default: { block: dflt, args: args(dflt) } },
      this.pos(s),
    );
    this.loops.push({ brk: exit, cont: this.loops.at(-1)?.cont });
    clauses.forEach((c, i) => {
      this.inScope.length = depth;
      this.start(bodies[i]!);
      for (const st of c.getStatements()) this.statement(st);
      if (i + 1 < clauses.length) {
        this.inScope.length = depth;
        this.jump(bodies[i + 1]!);
      }
    });
    this.loops.pop();
    this.inScope.length = depth;
    this.jump(exit);
    this.start(exit);
  }

  private caseValue(e: Expression): number | undefined {
    if (Node.isIdentifier(e)) return this.scope.consts.get(e.getText());
    return constInt(e);
  }

  private jumpStatement(
    s: import("ts-morph").BreakStatement | import("ts-morph").ContinueStatement,
  ): void {
    if (s.getLabel()) return this.report(s, "labelled break and continue are not in the subset");
    const loop = this.loops.at(-1);
    const target = loop && (Node.isBreakStatement(s) ? loop.brk : loop.cont);
    if (target === undefined)
      return this.report(s, `${Node.isBreakStatement(s) ? "break" : "continue"} outside a loop`);
    this.jump(target);
  }

  private returnStatement(s: import("ts-morph").ReturnStatement): void {
    const e = s.getExpression();
    if (this.ret === "void") {
      if (e) this.report(e, "a void function returns no value");
      this.b.terminate(this.cur, { k: "return" }, this.pos(s));
    } else if (!e) {
      this.report(s, "return needs a value");
      this.b.terminate(this.cur, { k: "raise", msg: "missing return" });
    } else {
      const value = this.valueOfType(e, this.ret); // may end the current block (bounds checks)
      this.b.terminate(this.cur, { k: "return", value }, this.pos(s));
    }
  }

  private throwStatement(s: import("ts-morph").ThrowStatement): void {
    const e = s.getExpression();
    const args =
      Node.isNewExpression(e) && e.getExpression().getText() === "VmError" ? e.getArguments() : [];
    const arg = args[0];
    if (
      !arg ||
      !(Node.isStringLiteral(arg) || Node.isNoSubstitutionTemplateLiteral(arg)) ||
      args.length !== 1
    )
      return this.report(e, 'throw only new VmError("a literal message")');
    this.b.terminate(this.cur, { k: "raise", msg: arg.getLiteralValue() }, this.pos(s));
  }

  private expressionStatement(e: Expression): void {
    if (Node.isParenthesizedExpression(e)) return this.expressionStatement(e.getExpression());
    if (Node.isBinaryExpression(e)) {
      const op = e.getOperatorToken().getKind();
      if (op === SyntaxKind.EqualsToken) return this.assign(e.getLeft(), () => e.getRight(), e);
      const bin = COMPOUND[op];
      if (bin !== undefined) return this.assign(e.getLeft(), () => e.getRight(), e, bin);
      if (op === SyntaxKind.PlusEqualsToken || op === SyntaxKind.MinusEqualsToken)
        return this.report(
          e,
          `'${e.getOperatorToken().getText()}' is not int32-safe: write x = (x ${e.getOperatorToken().getText()[0]} y) | 0`,
        );
    }
    if (Node.isPostfixUnaryExpression(e) || Node.isPrefixUnaryExpression(e)) {
      const op = e.getOperatorToken();
      if (op === SyntaxKind.PlusPlusToken || op === SyntaxKind.MinusMinusToken)
        return this.report(
          e,
          `'${op === SyntaxKind.PlusPlusToken ? "++" : "--"}' is not int32-safe: write x = (x + 1) | 0`,
        );
    }
    if (Node.isCallExpression(e)) return void this.call(e, true);
    this.report(e, "this expression statement is not in the subset");
  }

  private assign(
    target: Expression,
    rhs: () => Expression,
    node: Node,
    compound?: SyntaxKind,
  ): void {
    if (Node.isIdentifier(target)) {
      const slot = this.slotOfIdentifier(target);
      if (slot === undefined)
        return this.report(target, `'${target.getText()}' is not a local variable`);
      const type = this.slots[slot]!.type;
      const present = this.presence.get(slot);
      if (compound === undefined && present !== undefined) {
        const v = this.value(rhs(), type);
        this.env.set(present, v.present ?? bool(true));
        return this.setSlot(slot, v.o);
      }
      const v =
        compound === undefined
          ? this.valueOfType(rhs(), type)
          : this.bitwise(
              compound,
              { o: this.env.get(slot)!, kind: "int" },
              this.intish(rhs()),
              node,
            );
      return this.setSlot(slot, v);
    }
    if (Node.isElementAccessExpression(target)) {
      const list = this.expr(target.getExpression());
      if (isList(list.kind)) {
        const index = this.int(target.getArgumentExpressionOrThrow());
        const elem = list.kind.slice(5, -1) as Type;
        return listSet(
          this,
          list,
          index,
          (old) =>
            compound === undefined
              ? this.valueOfType(rhs(), elem)
              : this.bitwise(compound, { o: old(), kind: "int" }, this.intish(rhs()), node),
          node,
        );
      }
      const arr = this.asArray(list, target.getExpression());
      const index = this.int(target.getArgumentExpressionOrThrow());
      this.boundsCheck(arr, index, target);
      const old =
        compound === undefined ? undefined : this.emit("array_get", [arr.o, index], "i32", target);
      const v =
        compound === undefined
          ? this.intish(rhs()).o
          : this.bitwise(compound, { o: old!, kind: "int" }, this.intish(rhs()), node);
      this.emit("array_set", [arr.o, index, v], undefined, node);
      return;
    }
    if (Node.isPropertyAccessExpression(target) && this.classOfType(target.getExpression())) {
      const { obj, imm, type, readonly } = this.field(target);
      if (readonly && !Node.isConstructorDeclaration(this.fn))
        this.report(target, `'${target.getName()}' is readonly: set only in the constructor`);
      const v =
        compound === undefined
          ? this.valueOfType(rhs(), type)
          : this.bitwise(
              compound,
              { o: this.emit("get_field", [obj], "i32", target, imm), kind: "int" },
              this.intish(rhs()),
              node,
            );
      this.emit("set_field", [obj, v], undefined, node, imm);
      return;
    }
    this.report(target, "only local variables, array elements and fields can be assigned");
  }

  // --- expressions ---

  private slotOfIdentifier(id: Node): number | undefined {
    const decl = id.getSymbol()?.getDeclarations()[0];
    return decl && this.slotOf.get(decl);
  }

  /** The object and field a property access names (`obj.f`: `Class.f` of its static class). */
  private field(e: import("ts-morph").PropertyAccessExpression): {
    obj: Operand;
    imm: string;
    type: Type;
    readonly: boolean;
  } {
    const cls = this.classOfType(e.getExpression())!;
    const obj = this.expr(e.getExpression());
    if (e.getExpression().getType().isNullable())
      this.report(e, "check the reference for null first");
    const f = cls.ir.fields.find((x) => x.name === e.getName());
    if (!f)
      this.report(e, `'${e.getName()}' is not a field of ${cls.ir.name} (methods are called)`);
    return {
      obj: obj.o,
      imm: `${cls.ir.name}.${e.getName()}`,
      type: f?.type ?? "i32",
      readonly: f?.readonly ?? false,
    };
  }

  valueOfType(e: Expression, type: Type): Operand {
    const v = this.value(e, type);
    if (v.present !== undefined) this.report(e, "check for undefined first");
    return v.o;
  }

  /** `e`'s value where a `type` is wanted (a new list or map takes it as its type); it may be
   *  undefined (`present`). */
  private value(e: Expression, type: Type): Val {
    const v = (type !== "i32" && newContainer(this, e, type)) || this.expr(e);
    if (type === "i32") {
      if (v.kind === "intish")
        this.report(e, "coerce with | 0: a sum or difference may leave the 32-bit range");
      else if (v.kind !== "int") this.report(e, `expected an integer, found ${v.kind}`);
      return v;
    }
    const isNull = typeof v.o !== "number" && v.o.k === "null";
    if (v.kind !== type && !(isNull && isReference(type)))
      this.report(e, `expected ${type}, found ${v.kind}`);
    return v;
  }

  int(e: Expression): Operand {
    return this.valueOfType(e, "i32");
  }

  private intish(e: Expression): Val {
    const v = this.expr(e);
    if (v.kind !== "int" && v.kind !== "intish")
      this.report(e, `expected an integer, found ${v.kind}`);
    return v;
  }

  private asArray(v: Val, e: Expression): Val {
    if (v.kind !== "i32[]" && v.kind !== "u8[]")
      this.report(e, `expected an array, found ${v.kind}`);
    return v;
  }

  /** A condition: a boolean, or an integer meaning "not zero" as in JavaScript. */
  private condition(e: Expression): Operand {
    const v = this.expr(e);
    if (v.kind === "int") return this.emit("int_ne", [v.o, int(0)], "bool", e);
    if (isReference(v.kind)) {
      const isNull = this.emit("ref_eq", [v.o, NULL], "bool", e);
      return this.emit("bool_not", [isNull], "bool", e);
    }
    if (v.kind !== "bool") this.report(e, `expected a condition, found ${v.kind}`);
    return v.o;
  }

  expr(e: Expression): Val {
    if (Node.isParenthesizedExpression(e)) return this.expr(e.getExpression());
    if (Node.isNumericLiteral(e)) {
      const v = constInt(e);
      if (v === undefined) this.report(e, "only 32-bit integer literals are in the subset");
      return { o: int(v ?? 0), kind: "int" };
    }
    if (e.getKind() === SyntaxKind.TrueKeyword || e.getKind() === SyntaxKind.FalseKeyword)
      return { o: bool(e.getKind() === SyntaxKind.TrueKeyword), kind: "bool" };
    if (e.getKind() === SyntaxKind.NullKeyword) return { o: NULL, kind: "ref" };
    if (e.getKind() === SyntaxKind.ThisKeyword) {
      if (this.thisSlot === undefined) this.report(e, "'this' outside a class");
      return { o: this.env.get(this.thisSlot ?? -1) ?? NULL, kind: "ref" };
    }
    if (Node.isIdentifier(e)) return this.identifier(e);
    if (Node.isBinaryExpression(e)) return this.binary(e);
    if (Node.isPrefixUnaryExpression(e)) return this.unary(e);
    if (Node.isConditionalExpression(e)) return this.conditional(e);
    if (Node.isCallExpression(e)) return this.call(e, false) ?? { o: int(0), kind: "int" };
    if (
      Node.isArrayLiteralExpression(e) ||
      (Node.isNewExpression(e) && e.getExpression().getText() === "Map")
    )
      return newContainer(this, e, this.staticType(e))!;
    if (Node.isNewExpression(e)) return this.newArray(e);
    if (Node.isElementAccessExpression(e)) {
      const recv = this.expr(e.getExpression());
      if (isList(recv.kind))
        return listGet(this, recv, this.int(e.getArgumentExpressionOrThrow()), e);
      const arr = this.asArray(recv, e.getExpression());
      const index = this.int(e.getArgumentExpressionOrThrow());
      this.boundsCheck(arr, index, e);
      return { o: this.emit("array_get", [arr.o, index], "i32", e), kind: "int" };
    }
    if (Node.isPropertyAccessExpression(e) && this.classOfType(e.getExpression())) {
      const { obj, imm, type } = this.field(e);
      return { o: this.emit("get_field", [obj], type, e, imm), kind: kindOf(type) };
    }
    if (
      Node.isPropertyAccessExpression(e) &&
      (e.getName() === "length" || e.getName() === "size")
    ) {
      const recv = this.expr(e.getExpression());
      if (isList(recv.kind) || isMap(recv.kind))
        return containerProperty(this, recv, e.getName(), e);
      const arr = this.asArray(recv, e.getExpression());
      return { o: this.emit("array_len", [arr.o], "i32", e), kind: "int" };
    }
    if (Node.isAsExpression(e) || Node.isNonNullExpression(e) || Node.isTypeAssertion(e))
      this.report(e, "type assertions are not in the subset");
    else this.report(e, `${describe(e)} is not in the subset`);
    return { o: int(0), kind: "int" };
  }

  private identifier(e: import("ts-morph").Identifier): Val {
    const slot = this.slotOfIdentifier(e);
    if (slot !== undefined) {
      const o = this.env.get(slot);
      if (o === undefined) {
        this.report(e, `'${e.getText()}' is used where it may not be defined`);
        return { o: int(0), kind: "int" };
      }
      const present = this.presence.get(slot);
      const val: Val = { o, kind: kindOf(this.slots[slot]!.type) };
      return present !== undefined && mayBeUndefined(e.getType())
        ? { ...val, present: this.env.get(present)! }
        : val;
    }
    const c = this.scope.consts.get(e.getText());
    if (c !== undefined) return { o: int(c), kind: "int" };
    const obj = this.scope.objects.get(e.getText());
    if (obj !== undefined) return { o: { k: "obj", v: obj }, kind: "ref" };
    if (e.getText() === "undefined") this.report(e, "undefined is not in the subset");
    else this.report(e, `'${e.getText()}' is not a local variable or an integer constant`);
    return { o: int(0), kind: "int" };
  }

  private binary(e: import("ts-morph").BinaryExpression): Val {
    const op = e.getOperatorToken().getKind();
    const left = e.getLeft();
    const right = e.getRight();
    if (op === SyntaxKind.BarToken && isZero(right)) return this.coerce(left, e);
    if (op === SyntaxKind.PlusToken || op === SyntaxKind.MinusToken) {
      const a = this.intish(left);
      const b = this.intish(right);
      return {
        o: this.emit(op === SyntaxKind.PlusToken ? "int_add" : "int_sub", [a.o, b.o], "i32", e),
        kind: "intish",
      };
    }
    const bit = BITWISE[op];
    if (bit) return { o: this.bitwise(op, this.intish(left), this.intish(right), e), kind: "int" };
    if (op === SyntaxKind.GreaterThanGreaterThanGreaterThanToken) {
      const shift = constInt(right);
      if (shift === undefined || shift < 1 || shift > 31)
        this.report(
          right,
          ">>> needs a constant shift of 1 to 31 (its result must fit in 32 signed bits)",
        );
      return {
        o: this.emit("int_ushr", [this.intish(left).o, int(shift ?? 1)], "i32", e),
        kind: "int",
      };
    }
    if (op === SyntaxKind.InstanceOfKeyword) return this.instanceOf(e);
    if (op === NULLISH) return this.nullish(e);
    const cmp = COMPARE[op];
    if ((cmp === "int_eq" || cmp === "int_ne") && (isUndefined(left) || isUndefined(right)))
      return this.isThere(isUndefined(left) ? right : left, cmp === "int_ne", e);
    if (cmp) {
      const a = this.expr(left);
      const b = this.expr(right);
      if (isReference(a.kind) && isReference(b.kind) && (cmp === "int_eq" || cmp === "int_ne")) {
        const same = this.emit("ref_eq", [a.o, b.o], "bool", e);
        return {
          o: cmp === "int_eq" ? same : this.emit("bool_not", [same], "bool", e),
          kind: "bool",
        };
      }
      if (a.kind === "bool" && b.kind === "bool" && (cmp === "int_eq" || cmp === "int_ne"))
        return {
          o: this.emit(cmp === "int_eq" ? "bool_eq" : "bool_ne", [a.o, b.o], "bool", e),
          kind: "bool",
        };
      if (a.kind !== "int" || b.kind !== "int")
        this.report(
          e,
          `comparison needs two integers (coerced with | 0) or two booleans with === / !==`,
        );
      return { o: this.emit(cmp, [a.o, b.o], "bool", e), kind: "bool" };
    }
    if (op === SyntaxKind.AmpersandAmpersandToken || op === SyntaxKind.BarBarToken)
      return this.logical(e, op === SyntaxKind.AmpersandAmpersandToken);
    if (op === SyntaxKind.EqualsEqualsToken || op === SyntaxKind.ExclamationEqualsToken)
      this.report(e.getOperatorToken(), "use === and !==");
    else if (op === SyntaxKind.SlashToken || op === SyntaxKind.PercentToken)
      this.report(
        e,
        `write (a ${e.getOperatorToken().getText()} b) | 0: only the truncated integer result is in the subset`,
      );
    else if (op === SyntaxKind.AsteriskToken)
      this.report(e, "write Math.imul(a, b): a product may lose precision");
    else
      this.report(
        e.getOperatorToken(),
        `operator '${e.getOperatorToken().getText()}' is not in the subset`,
      );
    return { o: int(0), kind: "int" };
  }

  /** `x === undefined` (or `!==`, `there`) for a value that may be undefined. */
  private isThere(x: Expression, there: boolean, e: Node): Val {
    const v = this.expr(x);
    if (v.present === undefined) {
      this.report(
        e,
        "only a value that may be undefined (a pop(), a get()) is compared with undefined",
      );
      return { o: bool(there), kind: "bool" };
    }
    return { o: there ? v.present : this.emit("bool_not", [v.present], "bool", e), kind: "bool" };
  }

  /** `a ?? b`: a where it is there, else b. */
  private nullish(e: import("ts-morph").BinaryExpression): Val {
    const a = this.expr(e.getLeft());
    if (a.present === undefined) {
      this.report(e, "?? takes a value that may be undefined (a pop(), a get())");
      return a;
    }
    const type: Type = a.kind === "int" ? "i32" : (a.kind as Type);
    const there = this.block();
    const els = this.block();
    const join = this.block();
    const result = this.b.addParam(join, type);
    this.branch(a.present, there, els, e);
    this.start(there);
    this.jumpWith(join, a.o);
    this.start(els);
    this.jumpWith(join, this.valueOfType(e.getRight(), type));
    this.startWithExtra(join, result);
    return { o: result, kind: kindOf(type) };
  }

  /** `x instanceof C`: not null, and its class's id in C's range (one unsigned comparison). */
  private instanceOf(e: import("ts-morph").BinaryExpression): Val {
    const cls = this.scope.classes.get(e.getRight().getText());
    const v = this.expr(e.getLeft());
    if (!cls || v.kind !== "ref") {
      this.report(e, "instanceof takes an object and a class of this module");
      return { o: bool(false), kind: "bool" };
    }
    const isNull = this.emit("ref_eq", [v.o, NULL], "bool", e);
    const test = this.block();
    const join = this.block();
    const result = this.b.addParam(join, "bool");
    const toJoin = [...this.blockScope.get(join)!.map((s) => this.env.get(s)!), bool(false)];
    const toTest = this.blockScope.get(test)!.map((s) => this.env.get(s)!);
    this.b.terminate(
      this.cur,
      {
        k: "branch",
        cond: isNull,
        then: { block: join, args: toJoin },
        else: { block: test, args: toTest },
      },
      this.pos(e),
    );
    this.start(test);
    const k = this.emit("class_of", [v.o], "i32", e);
    const from = this.emit("int_sub", [k, int(cls.ir.id)], "i32", e);
    const r = this.emit("uint_lt", [from, int(cls.ir.last - cls.ir.id + 1)], "bool", e);
    this.jumpWith(join, r);
    this.startWithExtra(join, result);
    return { o: result, kind: "bool" };
  }

  /** `x | 0`: makes an intish value an int; `(a / b) | 0` and `(a % b) | 0` are the integer division. */
  private coerce(inner: Expression, e: Node): Val {
    while (Node.isParenthesizedExpression(inner)) inner = inner.getExpression();
    if (Node.isBinaryExpression(inner)) {
      const op = inner.getOperatorToken().getKind();
      if (op === SyntaxKind.SlashToken || op === SyntaxKind.PercentToken) {
        const a = this.int(inner.getLeft());
        const b = this.int(inner.getRight());
        return {
          o: this.emit(op === SyntaxKind.SlashToken ? "int_div" : "int_mod", [a, b], "i32", e),
          kind: "int",
        };
      }
    }
    return { o: this.intish(inner).o, kind: "int" };
  }

  private bitwise(op: SyntaxKind, a: Val, b: Val, node: Node): Operand {
    return this.emit(BITWISE[op]!, [a.o, b.o], "i32", node);
  }

  private unary(e: import("ts-morph").PrefixUnaryExpression): Val {
    const op = e.getOperatorToken();
    const operand = e.getOperand();
    if (op === SyntaxKind.MinusToken) {
      const c = constInt(e);
      if (c !== undefined) return { o: int(c), kind: "int" };
      return { o: this.emit("int_neg", [this.intish(operand).o], "i32", e), kind: "intish" };
    }
    if (op === SyntaxKind.TildeToken)
      return { o: this.emit("int_not", [this.intish(operand).o], "i32", e), kind: "int" };
    if (op === SyntaxKind.ExclamationToken) {
      const v = this.expr(operand);
      if (v.kind === "int")
        return { o: this.emit("int_eq", [v.o, int(0)], "bool", e), kind: "bool" };
      if (v.kind !== "bool") this.report(e, `! needs a boolean or an integer`);
      return { o: this.emit("bool_not", [v.o], "bool", e), kind: "bool" };
    }
    this.report(e, `operator '${e.getText()[0]}' is not in the subset`);
    return { o: int(0), kind: "int" };
  }

  /** `a && b`, `a || b` on conditions, as control flow (the right side may not run). */
  private logical(e: import("ts-morph").BinaryExpression, and: boolean): Val {
    const left = this.condition(e.getLeft());
    const right = this.block();
    const join = this.block();
    const result = this.b.addParam(join, "bool");
    const args = this.blockScope.get(join)!.map((s) => this.env.get(s)!);
    const short = { block: join, args: [...args, bool(!and)] };
    const toRight = {
      block: right,
      args: this.blockScope.get(right)!.map((s) => this.env.get(s)!),
    };
    this.b.terminate(
      this.cur,
      { k: "branch", cond: left, then: and ? toRight : short, else: and ? short : toRight },
      this.pos(e),
    );
    this.start(right);
    const r = this.condition(e.getRight());
    this.b.terminate(this.cur, {
      k: "jump",
      to: { block: join, args: [...this.blockScope.get(join)!.map((s) => this.env.get(s)!), r] },
    });
    this.startWithExtra(join, result);
    return { o: result, kind: "bool" };
  }

  private conditional(e: import("ts-morph").ConditionalExpression): Val {
    const cond = this.condition(e.getCondition());
    const then = this.block();
    const els = this.block();
    const join = this.block();
    this.branch(cond, then, els, e);
    this.start(then);
    const a = this.expr(e.getWhenTrue());
    const type: Type = a.kind === "intish" || a.kind === "int" ? "i32" : a.kind;
    if (a.kind === "intish") this.report(e.getWhenTrue(), "coerce with | 0");
    const result = this.b.addParam(join, type);
    this.jumpWith(join, a.o);
    this.start(els);
    const b = this.valueOfType(e.getWhenFalse(), type);
    this.jumpWith(join, b);
    this.startWithExtra(join, result);
    return { o: result, kind: kindOf(type) };
  }

  /** Jumps to a join block whose last parameter is an expression's value. */
  private jumpWith(target: number, v: Operand): void {
    const args = [...this.blockScope.get(target)!.map((s) => this.env.get(s)!), v];
    this.b.terminate(this.cur, { k: "jump", to: { block: target, args } });
  }

  /** Starts a join block whose extra (last) parameter was added before its scope parameters. */
  private startWithExtra(blk: number, extra: number): void {
    const b = this.b.g.blocks[blk]!;
    b.params = b.params.filter((p) => p !== extra);
    this.start(blk);
    b.params = [...b.params, extra];
  }

  private newArray(e: import("ts-morph").NewExpression): Val {
    const name = e.getExpression().getText();
    const cls = this.scope.classes.get(name);
    if (cls) return this.newObject(cls, e);
    const type: Type | undefined =
      name === "Int32Array" ? "i32[]" : name === "Uint8Array" ? "u8[]" : undefined;
    const args = e.getArguments();
    if (!type || args.length !== 1) {
      this.report(
        e,
        name === "VmError"
          ? "a VmError can only be thrown"
          : `new ${name}(...) is not in the subset (new Int32Array(n), new Uint8Array(n))`,
      );
      return { o: int(0), kind: "int" };
    }
    return {
      o: this.emit("new_array", [this.int(args[0] as Expression)], type, e, type),
      kind: kindOf(type),
    };
  }

  /** `new C(args)`: the object, then the constructor it runs (its own or inherited). */
  private newObject(cls: ClassInfo, e: import("ts-morph").NewExpression): Val {
    if (cls.ir.abstract) this.report(e, `${cls.ir.name} is abstract`);
    const obj = this.emit("new_object", [], "ref", e, cls.ir.name);
    const args = e.getArguments() as Expression[];
    const ctor = ctorOf(cls);
    if (!ctor) {
      if (args.length) this.report(e, `${cls.ir.name} has no constructor taking arguments`);
    } else this.callGraph(ctorGraph(ctor.ir.name), ctor.ctor!, [obj], args, e, true);
    return { o: obj, kind: "ref" };
  }

  /** A call of the graph `name` lowered from `decl`, with `first` (a receiver) before the
   *  arguments; its result, if any. */
  private callGraph(
    name: string,
    decl: FunctionLike,
    first: Operand[],
    args: Expression[],
    e: Node,
    statement: boolean,
    evaluated?: Operand[],
  ): Val | undefined {
    const params = decl.getParameters();
    if (params.length !== args.length) this.report(e, `${name} takes ${params.length} arguments`);
    const ops =
      evaluated ??
      params.map((p, i) => (args[i] ? this.valueOfType(args[i]!, this.paramType(p)) : int(0)));
    const ret = Node.isConstructorDeclaration(decl)
      ? "void"
      : (annotationType(decl.getReturnTypeNode()?.getText() ?? "", this.scope.classes) ?? "i32");
    if (!this.calls.includes(name)) this.calls.push(name);
    const dst = this.emit("call", [...first, ...ops], ret === "void" ? undefined : ret, e, name);
    if (ret === "void") return statement ? undefined : this.voidValue(e);
    return { o: dst, kind: kindOf(ret) };
  }

  private paramType(p: import("ts-morph").ParameterDeclaration): Type {
    return annotationType(p.getTypeNode()?.getText() ?? "", this.scope.classes) ?? "i32";
  }

  /** `recv.m(args)`: a direct call where every class the receiver can be has the same `m`; else
   *  a switch on the receiver's class, a call per implementation (PyPy's dispatch on the
   *  class, which the specialiser folds once the class is known). */
  private methodCall(
    recv: Expression,
    cls: ClassInfo,
    name: string,
    args: Expression[],
    e: Node,
    statement: boolean,
  ): Val | undefined {
    const declared = methodOf(cls, name);
    const obj = this.expr(recv).o;
    if (recv.getType().isNullable()) this.report(e, "check the reference for null first");
    if (!declared) {
      this.report(e, `${cls.ir.name} has no method '${name}'`);
      return statement ? undefined : { o: int(0), kind: "int" };
    }
    const ops = declared.m
      .getParameters()
      .map((p, i) => (args[i] ? this.valueOfType(args[i]!, this.paramType(p)) : int(0)));
    const owners = new Map<ClassInfo, number[]>();
    for (const c of concreteBelow(cls)) {
      const impl = methodOf(c, name);
      if (!impl?.m.getBody()) {
        this.report(e, `${c.ir.name} has no body for '${name}'`);
        continue;
      }
      owners.set(impl.owner, [...(owners.get(impl.owner) ?? []), c.ir.id]);
    }
    const call = (owner: ClassInfo) =>
      this.callGraph(
        methodGraph(owner.ir.name, name),
        methodOf(owner, name)!.m,
        [obj],
        args,
        e,
        true,
        ops,
      );
    if (owners.size <= 1) {
      const [owner] = owners.keys();
      const r = owner ? call(owner) : undefined;
      return statement || r ? r : this.voidValue(e);
    }
    const ret =
      annotationType(declared.m.getReturnTypeNode()?.getText() ?? "", this.scope.classes) ?? "i32";
    // The class decides the method: promoted (PyPy's guard_class), so that a specialiser makes
    // the code of a class when it sees an object of it, not of every class the switch names.
    const k = this.emit("promote", [this.emit("class_of", [obj], "i32", e)], "i32", e);
    const join = this.block();
    const result = ret === "void" ? undefined : this.b.addParam(join, ret);
    const targets = [...owners.keys()].map(() => this.block());
    const argsOf = (t: number) => this.blockScope.get(t)!.map((s) => this.env.get(s)!);
    const unreachable = this.b.newBlock();
    this.blockScope.set(unreachable, []);
    this.b.terminate(unreachable, { k: "raise", msg: `no method ${name}` });
    const cases = [...owners.values()].flatMap((ids, i) =>
      ids.map((value) => ({ value, to: { block: targets[i]!, args: argsOf(targets[i]!) } })),
    );
    this.b.terminate(
      this.cur,
      { k: "switch", on: k, cases, default: { block: unreachable, args: [] } },
      this.pos(e),
    );
    [...owners.keys()].forEach((owner, i) => {
      this.start(targets[i]!);
      const r = call(owner);
      if (result === undefined) this.jump(join);
      else this.jumpWith(join, r!.o);
    });
    if (result === undefined) {
      this.start(join);
      return statement ? undefined : this.voidValue(e);
    }
    this.startWithExtra(join, result);
    return { o: result, kind: kindOf(ret) };
  }

  private call(e: import("ts-morph").CallExpression, statement: boolean): Val | undefined {
    const callee = e.getExpression();
    const args = e.getArguments() as Expression[];
    const text = callee.getText();
    const arity = (n: number) =>
      args.length === n ||
      (this.report(e, `${text} takes ${n} argument${n === 1 ? "" : "s"}`), false);
    if (text === "Math.imul" && arity(2))
      return {
        o: this.emit("int_mul", [this.intish(args[0]!).o, this.intish(args[1]!).o], "i32", e),
        kind: "int",
      };
    if (Node.isIdentifier(callee) && this.scope.hints.has(text)) {
      if (text === "promote" && arity(1)) return this.promote(args[0]!, e);
      if (text === "readByte" && arity(0))
        return { o: this.emit("io_read", [], "i32", e), kind: "int" };
      if (text === "writeByte" && arity(1)) {
        this.emit("io_write", [this.intish(args[0]!).o], undefined, e);
        return statement ? undefined : this.voidValue(e);
      }
    }
    if (
      Node.isPropertyAccessExpression(callee) &&
      callee.getExpression().getText() === this.scope.driverName &&
      callee.getName() === "mergePoint"
    ) {
      this.mergePoint(e, args);
      return statement ? undefined : this.voidValue(e);
    }
    if (callee.getKind() === SyntaxKind.SuperKeyword) {
      const parent = this.self?.parent && ctorOf(this.self.parent);
      if (!parent || !Node.isConstructorDeclaration(this.fn)) {
        if (!this.self?.parent || !Node.isConstructorDeclaration(this.fn))
          this.report(e, "super(...) is called in the constructor of a subclass");
        return statement ? undefined : this.voidValue(e);
      }
      return this.callGraph(
        ctorGraph(parent.ir.name),
        parent.ctor!,
        [this.env.get(this.thisSlot!)!],
        args,
        e,
        statement,
      );
    }
    if (Node.isPropertyAccessExpression(callee)) {
      const cls = this.classOfType(callee.getExpression());
      if (cls)
        return this.methodCall(callee.getExpression(), cls, callee.getName(), args, e, statement);
      const made = newContainer(this, e, this.staticType(e));
      if (made) return made;
      const t = this.staticType(callee.getExpression());
      if (isList(t) || isMap(t)) {
        const recv = this.expr(callee.getExpression());
        if (
          mayBeUndefined(callee.getExpression().getType()) ||
          callee.getExpression().getType().isNullable()
        )
          this.report(e, "check the reference for null first");
        return containerCall(this, recv, callee.getName(), args, e, statement);
      }
    }
    const fn = Node.isIdentifier(callee) ? this.scope.funcs.get(text) : undefined;
    if (!fn || this.slotOfIdentifier(callee) !== undefined) {
      this.report(
        e,
        `call to ${text} is not in the subset (only functions of this module and the hints)`,
      );
      return { o: int(0), kind: "int" };
    }
    return this.callGraph(text, fn, [], args, e, statement);
  }

  /** `promote(x)`: an integer, or an object of a class that never changes (its identity becomes
   *  a compile-time value, and with it its fields: PyPy's promote of a class object). */
  private promote(arg: Expression, e: Node): Val {
    const v = this.expr(arg);
    if (v.kind === "ref") {
      const cls = this.classOfType(arg);
      const mutable = cls ? mutableField(cls, this.scope.classes) : "its class is not known";
      if (arg.getType().isNullable()) this.report(e, "check the reference for null first");
      if (mutable) this.report(e, `promote takes an integer or an immutable object: ${mutable}`);
      return { o: this.emit("promote", [v.o], "ref", e), kind: "ref" };
    }
    if (v.kind !== "int") this.report(e, `promote takes an integer or an immutable object`);
    return { o: this.emit("promote", [v.o], "i32", e), kind: "int" };
  }

  private voidValue(e: Node): Val {
    this.report(e, "a call without a value used as a value");
    return { o: int(0), kind: "int" };
  }

  private mergePoint(e: Node, args: Expression[]): void {
    const driver = this.scope.driver!;
    const obj = args[0];
    if (args.length !== 1 || !obj || !Node.isObjectLiteralExpression(obj))
      return this.report(e, "mergePoint takes { ...greens, ...reds }");
    const given = new Map<string, () => Operand>();
    for (const p of obj.getProperties()) {
      if (Node.isShorthandPropertyAssignment(p)) given.set(p.getName(), () => this.shorthand(p));
      else if (Node.isPropertyAssignment(p))
        given.set(p.getName(), () => this.expr(p.getInitializerOrThrow()).o);
      else this.report(p, "expected name or name: value");
    }
    const names = [...driver.greens, ...driver.reds];
    for (const n of given.keys())
      if (!names.includes(n)) this.report(obj, `'${n}' is neither a green nor a red of the driver`);
    const ops = names.map((n) => {
      const v = given.get(n);
      if (!v) {
        this.report(obj, `mergePoint must name '${n}'`);
        return int(0);
      }
      return v();
    });
    this.emit("merge_point", ops, undefined, e, driver.greens.length);
  }

  /** The variable a shorthand property `{ pc }` names (its own symbol is the property's). */
  private shorthand(p: import("ts-morph").ShorthandPropertyAssignment): Operand {
    const decl = p.getValueSymbol()?.getDeclarations()[0];
    const slot = decl && this.slotOf.get(decl);
    const o = slot === undefined ? undefined : this.env.get(slot);
    if (o === undefined) this.report(p, `'${p.getName()}' is not a local variable`);
    return o ?? int(0);
  }

  private boundsCheck(arr: Val, index: Operand, node: Node): void {
    this.checkIndex(index, this.emit("array_len", [arr.o], "i32", node), node);
  }

  checkIndex(index: Operand, length: Operand, node: Node): void {
    const ok = this.emit("uint_lt", [index, length], "bool", node);
    const cont = this.block();
    if (this.oob === undefined) {
      this.oob = this.b.newBlock();
      this.blockScope.set(this.oob, []);
      this.b.terminate(this.oob, { k: "raise", msg: INDEX_ERROR });
    }
    this.branch(ok, cont, this.oob, node);
    this.start(cont);
  }
}

function isZero(e: Expression): boolean {
  return Node.isNumericLiteral(e) && e.getLiteralValue() === 0;
}

function describe(e: Node): string {
  if (
    Node.isStringLiteral(e) ||
    Node.isTemplateExpression(e) ||
    Node.isNoSubstitutionTemplateLiteral(e)
  )
    return "a string";
  if (Node.isArrowFunction(e) || Node.isFunctionExpression(e)) return "a closure";
  if (Node.isObjectLiteralExpression(e)) return "an object literal";
  if (Node.isArrayLiteralExpression(e)) return "an array literal";
  if (Node.isPropertyAccessExpression(e)) return `'${e.getText()}'`;
  return e.getKindName();
}

/** A 32-bit integer literal, possibly negated. */
export function constInt(n: Node): number | undefined {
  if (Node.isParenthesizedExpression(n)) return constInt(n.getExpression());
  if (Node.isNumericLiteral(n)) {
    const v = n.getLiteralValue();
    return Number.isInteger(v) && v <= 0x7fffffff ? v : undefined;
  }
  if (Node.isPrefixUnaryExpression(n) && n.getOperatorToken() === SyntaxKind.MinusToken) {
    const operand = n.getOperand();
    const v = Node.isNumericLiteral(operand) ? operand.getLiteralValue() : undefined;
    return v !== undefined && Number.isInteger(v) && v <= 0x80000000 ? -v | 0 : undefined;
  }
  return undefined;
}
