//! Instruction selection: a residual module (the graphs `specialise()` returns) to the machine
//! representation of `mir.ts`, one operation of the opcode table at a time.
//!
//! The choices made here, and why:
//! - Constants become immediates wherever x86 takes one (the right operand of ALU operations,
//!   compares, shifts, stores, array indexes); commutative operations and compares move a
//!   constant left operand to the right (a compare swaps its condition). Operations on constants
//!   alone are folded by the opcode table's own `fold`, so the meaning cannot drift.
//! - A branch on a compare defined in its block and used nowhere else becomes one `br` (cmp +
//!   jcc): the compare's boolean is never materialised. `bool_not` on the way inverts it. This is
//!   what the residual loops spend their time on.
//! - `new_array`, `io_read` and `io_write` are calls to runtime routines, so the allocator sees
//!   their clobbers like any call's; `merge_point` costs fuel as in L3.
//! - The entry block gets a `params` instruction; if a jump targets block 0, a fresh entry block
//!   is added in front of it so that block 0 keeps ordinary parameters.
//! - With `continuations`, `exit status(v, state...)` stays in machine code as an exit site: a
//!   tail call of wherever the site leads with the state (so the caller gets that code's result
//!   as this graph's, and a loop through exits does not grow the stack; values past the sixth
//!   go in the state buffer, where the graphs exits lead to take them), after putting `v`
//!   where a promotion's dispatch reads it. Where the site leads is found, and patched in, the
//!   first time it is taken (`native.ts`). Without, an exit leaves to JS with its state.
//!
//! Cost: linear in the graph (uses counted once, each operation selected once, a branch's test
//! looked up in its own block); raise messages are interned by a search of the module's list,
//! which holds the interpreter's distinct messages (a constant of the interpreter).

import { fieldOf, classNamed } from "../ir/classes.ts";
import { OPS } from "../ir/ops.ts";
import { printOp } from "../ir/print.ts";
import type { Block, Const, Graph, Jump, Module, Op, Operand, Term, Type } from "../ir/types.ts";
import { jumpsOf, liveAt, sizeOf, termOperands } from "../ir/walk.ts";
import { isReference } from "../ir/containers.ts";
import { countWork } from "../work.ts";
import {
  HeapOp,
  LIST_ITEMS,
  LIST_LENGTH,
  MAX_STATE_ARGS,
  OBJECT_HEADER,
  S,
  objectBytes,
} from "./abi.ts";
import { CONSTANTS } from "./data.ts";
import type { RootTypes } from "./roots.ts";
import { Cond, swapOperands, invert } from "./encode.ts";
import {
  imm,
  isVReg,
  type AluOp,
  type Edge,
  type MBlock,
  type MFunc,
  type MInst,
  type MModule,
  type MOperand,
  type MTerm,
  type Origin,
  type ShiftOp,
  type VReg,
  type Width,
} from "./mir.ts";

const COMPARE: Record<string, Cond> = {
  int_eq: Cond.e,
  int_ne: Cond.ne,
  int_lt: Cond.l,
  int_le: Cond.le,
  int_gt: Cond.g,
  int_ge: Cond.ge,
  uint_lt: Cond.b,
  ref_eq: Cond.e,
  bool_eq: Cond.e,
  bool_ne: Cond.ne,
};
const ALU: Record<string, AluOp> = {
  int_add: "add",
  int_sub: "sub",
  int_mul: "mul",
  int_and: "and",
  int_or: "or",
  int_xor: "xor",
};
const COMMUTATIVE = new Set<AluOp>(["add", "mul", "and", "or", "xor"]);
const SHIFT: Record<string, ShiftOp> = { int_shl: "shl", int_shr: "sar", int_ushr: "shr" };
const UNARY: Record<string, "neg" | "not" | "bnot"> = {
  int_neg: "neg",
  int_not: "not",
  bool_not: "bnot",
};
const DIV: Record<string, "div" | "mod"> = { int_div: "div", int_mod: "mod" };

function widthOf(t: Type): Width {
  return t === "i32[]" || t === "u8[]" ? 64 : 32;
}

export interface SelectOptions {
  /** Exits go on in continuations found and patched in while the code runs (see above). */
  continuations: boolean;
  /** The graphs some call calls (the others take their parameters past the sixth in the state
   *  buffer: `MFunc.stateParams`). */
  callable: ReadonlySet<string>;
  /** The numbers of the types the calls keep on the root stack (`roots.ts`), the module's. */
  rootTypes: RootTypes;
}

/** Adds to `to` the graphs the calls of `graphs` call. */
export function addCallees(graphs: readonly Graph[], to: Set<string>): void {
  for (const g of graphs)
    for (const b of g.blocks)
      for (const op of b.ops) if (op.op === "call") to.add(op.imm as string);
}

/** Selects every graph of `m`. Raise messages are indexes into `messages`, which grows. */
export function selectModule(m: Module, messages: string[], opts: SelectOptions): MModule {
  const funcs = m.graphs.map((g) => selectGraph(g, m, messages, opts));
  const data = m.data.map((d) => ({
    elem: d.type === "u8[]" ? (1 as const) : (4 as const),
    values: d.values,
  }));
  return { funcs, data, messages };
}

/** Selects one graph of `m` (a continuation made after the others). */
export function selectGraph(g: Graph, m: Module, messages: string[], opts: SelectOptions): MFunc {
  const message = (msg: string) => {
    const i = messages.indexOf(msg);
    return i >= 0 ? i : messages.push(msg) - 1;
  };
  return new Selector(g, m, message, opts).func();
}

/** A `br` in the making: the compare (or boolean test) a branch tests. */
interface Test {
  cond: Cond;
  a: Operand;
  b: Operand;
  /** Operations of the block the branch absorbed. */
  fused: Set<Op>;
}

class Selector {
  private widths: Width[];
  private uses: number[];
  private out: MInst[] = [];
  private origins: (Origin | undefined)[] = [];
  private origin: Origin | undefined;
  /** Where the operation being selected is (its block's index, its own). */
  private blockIndex = 0;
  private opIndex = 0;
  private sites: number[] = [];
  private siteTypes: Type[] = [];

  constructor(
    private g: Graph,
    private m: Module,
    private message: (msg: string) => number,
    private opts: SelectOptions,
  ) {
    this.widths = g.types.map(widthOf);
    this.uses = countUses(g);
  }

  func(): MFunc {
    const g = this.g;
    // Each operation is counted and selected once, a branch's test looks within its block.
    countWork("isel", 3 * sizeOf(g));
    const reentered = g.blocks.some((b) => jumpsOf(b.term).some((j) => j.block === 0));
    const blocks = g.blocks.map((b, i) => this.block(b, i === 0 && !reentered));
    let entry = 0;
    if (reentered) {
      // A fresh entry block receives the parameters and jumps to block 0 with them.
      const fresh = g.blocks[0]!.params.map((p) => this.temp(this.widths[p]!));
      entry = blocks.length;
      blocks.push({
        params: [],
        insts: [{ k: "params", dsts: fresh }],
        term: { k: "jmp", to: { block: 0, args: fresh } },
        origins: [undefined, undefined],
      });
    }
    // Each label's entry: its parameters received, then a jump to its block.
    const labels = (g.labels ?? []).map((l, label) => {
      const fresh = g.blocks[l]!.params.map((p) => this.temp(this.widths[p]!));
      blocks.push({
        params: [],
        insts: [{ k: "params", dsts: fresh, label }],
        term: { k: "jmp", to: { block: l, args: fresh } },
        origins: [undefined, undefined],
      });
      return blocks.length - 1;
    });
    return {
      name: g.name,
      graph: g,
      blocks,
      entry,
      labels,
      widths: this.widths,
      ret: g.ret === "void" ? "void" : widthOf(g.ret),
      sites: this.sites,
      siteTypes: this.siteTypes,
      stateParams: !this.opts.callable.has(g.name),
    };
  }

  private block(b: Block, isEntry: boolean): MBlock {
    this.out = [];
    this.origins = [];
    this.origin = undefined;
    if (isEntry) this.emit({ k: "params", dsts: b.params });
    const test = b.term.k === "branch" ? this.test(b, b.term.cond) : undefined;
    this.blockIndex = this.g.blocks.indexOf(b);
    for (let j = 0; j < b.ops.length; j++) {
      const op = b.ops[j]!;
      if (test?.fused.has(op)) continue;
      this.origin = op;
      this.opIndex = j;
      this.op(op);
    }
    this.origin = b.term;
    const term = this.term(b.term, test);
    this.origins.push(b.term);
    return { params: isEntry ? [] : b.params, insts: this.out, term, origins: this.origins };
  }

  private emit(i: MInst): void {
    this.out.push(i);
    this.origins.push(this.origin);
  }

  private temp(w: Width): VReg {
    return this.widths.push(w) - 1;
  }

  /** An operand as a machine operand (bools as 0/1, null as 0; a constant object is its
   *  reference for the run, loaded from the constant table). */
  private operand(o: Operand): MOperand {
    if (isVReg(o)) return o;
    if (o.k === "null") return imm(0);
    if (o.k === "obj") {
      const t = this.temp(32);
      this.emit({ k: "ldo", dst: t, disp: CONSTANTS + 4 * o.v });
      return t;
    }
    return o.k === "data" ? { k: "data", v: o.v } : imm(o.k === "bool" ? (o.v ? 1 : 0) : o.v);
  }

  /** An operand in a register: constants are moved into a fresh one. */
  private reg(o: Operand, w: Width = 32): VReg {
    if (typeof o === "number") return o;
    const t = this.temp(o.k === "data" ? 64 : w);
    this.emit({ k: "mov", dst: t, src: this.operand(o) });
    return t;
  }

  private op(op: Op): void {
    const info = OPS[op.op];
    if (info?.fold && op.args.every((a) => !isVReg(a))) {
      const v = info.fold(...op.args.map((a) => (a as Const).v));
      return this.emit({
        k: "mov",
        dst: op.dst,
        src: imm(typeof v === "boolean" ? (v ? 1 : 0) : v),
      });
    }
    const [a, b, c] = op.args as [Operand, Operand, Operand];
    const dst = op.dst;
    if (op.op in ALU) return this.alu(ALU[op.op]!, dst, a, b);
    if (op.op in COMPARE)
      return this.emit({ k: "set", dst, ...this.compare(COMPARE[op.op]!, a, b) });
    if (op.op in SHIFT) {
      const count = isVReg(b) ? b : imm(this.constValue(b) & 31);
      return this.emit({ k: "shift", op: SHIFT[op.op]!, dst, a: this.reg(a), b: count });
    }
    if (op.op in UNARY) return this.emit({ k: UNARY[op.op]!, dst, a: this.reg(a) });
    if (op.op in DIV)
      return this.emit({ k: "div", op: DIV[op.op]!, dst, a: this.reg(a), b: this.operand(b) });
    switch (op.op) {
      case "new_array":
        return this.emit({
          k: "call",
          callee: { k: "alloc", elem: op.imm === "u8[]" ? 1 : 4 },
          dst,
          args: [this.operand(a)],
        });
      case "array_get":
        return this.emit({
          k: "load",
          elem: this.elem(a),
          dst,
          arr: this.operand(a),
          idx: this.operand(b),
        });
      case "array_set":
        return this.emit({
          k: "store",
          elem: this.elem(a),
          arr: this.operand(a),
          idx: this.operand(b),
          val: this.operand(c),
        });
      case "array_len":
        if (!isVReg(a) && a.k === "data")
          return this.emit({ k: "mov", dst, src: imm(this.m.data[a.v]!.values.length) });
        return this.emit({ k: "len", dst, arr: this.reg(a, 64) });
      case "call": {
        const kept = this.referencesKept(op);
        if (kept.refs.length) this.emit({ k: "roots_push", ...kept });
        this.emit({
          k: "call",
          callee: { k: "graph", name: op.imm as string },
          dst,
          args: op.args.map((x) => this.operand(x)),
        });
        if (kept.refs.length) this.emit({ k: "roots_pop", refs: kept.refs });
        return;
      }
      case "merge_point":
      case "fuel":
        return this.emit({ k: "fuel" });
      case "promote":
        return this.emit({ k: "mov", dst, src: this.operand(a) });
      case "io_read":
        return this.emit({ k: "call", callee: { k: "io_read" }, dst, args: [] });
      case "region_low": {
        const [bump, low] = [this.temp(32), this.temp(32)];
        this.emit({ k: "ldo", dst: bump, disp: S.objBump });
        this.emit({ k: "ldo", dst: low, disp: S.objLow });
        return this.emit({ k: "set", cond: Cond.ae, dst, a: bump, b: low });
      }
      case "new_object": {
        const cls = classNamed(this.m, op.imm)!;
        const bytes = objectBytes(cls);
        return this.emit({
          k: "call",
          callee: { k: "new_object", cls: cls.id, bytes },
          dst,
          args: [imm(bytes), imm(cls.id)],
        });
      }
      case "get_field":
        return this.emit({ k: "ldo", dst, ref: this.reg(a), disp: this.fieldDisp(op) });
      case "set_field":
        return this.emit({
          k: "sto",
          ref: this.reg(a),
          disp: this.fieldDisp(op),
          val: this.operand(b),
        });
      case "class_of":
        return this.emit({ k: "ldo", dst, ref: this.reg(a), disp: 0 });
      case "list_len":
        return this.emit({ k: "ldo", dst, ref: this.reg(a), disp: LIST_LENGTH });
      case "list_get":
      case "list_set": {
        const items = this.temp(32);
        this.emit({ k: "ldo", dst: items, ref: this.reg(a), disp: LIST_ITEMS });
        if (op.op === "list_get")
          return this.emit({ k: "ldo", dst, ref: items, idx: this.operand(b), disp: 0 });
        return this.emit({
          k: "sto",
          ref: items,
          idx: this.operand(b),
          disp: 0,
          val: this.operand(c),
        });
      }
      case "new_list":
        return this.emit({
          k: "call",
          callee: { k: "new_list" },
          dst,
          args: [this.operand(a), this.operand(b)],
        });
      case "list_push":
      case "list_pop":
        return this.emit({
          k: "call",
          callee: { k: op.op },
          dst,
          args: op.args.map((x) => this.operand(x)),
        });
      case "list_insert":
      case "list_remove":
      case "new_map":
      case "map_get":
      case "map_has":
      case "map_set":
      case "map_delete":
      case "map_size":
        return this.emit({
          k: "call",
          callee: { k: "heap" },
          dst,
          args: [imm(HeapOp[op.op]), ...op.args.map((x) => this.operand(x))],
        });
      case "io_write":
        return this.emit({
          k: "call",
          callee: { k: "io_write" },
          dst: -1,
          args: [this.operand(a)],
        });
      default:
        throw new Error(`x64: no instruction selection for ${printOp(this.g, op)}`);
    }
  }

  /** The references other than call `op`'s result live after it, which the caller keeps on
   *  the root stack while the callee runs (`roots.ts`), and their types' numbers. */
  private referencesKept(op: Op): { refs: VReg[]; types: number[] } {
    const refs: VReg[] = [];
    const types: number[] = [];
    for (const v of liveAt(this.g, this.blockIndex, this.opIndex + 1)) {
      const t = this.g.types[v]!;
      if (v === op.dst || !isReference(t)) continue;
      const r = this.operand(v);
      if (!isVReg(r)) continue;
      refs.push(r);
      types.push(this.opts.rootTypes.idOf(t));
    }
    return { refs, types };
  }

  /** A constant as an int32 (references: null 0, constant object k as k + 1, which only
   *  equality compares). */
  private constValue(o: Operand): number {
    const c = o as Const;
    if (c.k === "null") return 0;
    if (c.k === "obj") return c.v + 1;
    return typeof c.v === "boolean" ? (c.v ? 1 : 0) : c.v;
  }

  /** An operand's type. */
  private typeOf(o: Operand): Type {
    if (isVReg(o)) return this.g.types[o]!;
    if (o.k === "obj") {
      const d = this.m.objects![o.v]!;
      return d.k === "object" ? "ref" : d.type;
    }
    return o.k === "int" ? "i32" : o.k === "bool" ? "bool" : o.k === "null" ? "ref" : "i32[]";
  }

  /** Where the field an operation names lies in its object. */
  private fieldDisp(op: Op): number {
    return OBJECT_HEADER + 4 * fieldOf(this.m, op.imm)!.index;
  }

  private elem(arr: Operand): 1 | 4 {
    const t = isVReg(arr) ? this.g.types[arr] : this.m.data[arr.v as number]!.type;
    return t === "u8[]" ? 1 : 4;
  }

  private alu(op: AluOp, dst: VReg, a: Operand, b: Operand): void {
    if (!isVReg(a) && isVReg(b) && COMMUTATIVE.has(op)) [a, b] = [b, a];
    this.emit({ k: "alu", op, dst, a: this.reg(a), b: this.operand(b) });
  }

  /** A compare's operands with any constant on the right (swapping the condition). */
  private compare(cond: Cond, a: Operand, b: Operand): { cond: Cond; a: VReg; b: MOperand } {
    if (!isVReg(a) && isVReg(b)) return { cond: swapOperands(cond), a: b, b: this.operand(a) };
    return { cond, a: this.reg(a), b: this.operand(b) };
  }

  /** What a branch on `c` tests: through `bool_not`s to a compare of the block that nothing
   *  else uses, or the boolean itself against 0. */
  private test(b: Block, c: Operand): Test {
    const defs = new Map(b.ops.filter((op) => op.dst >= 0).map((op) => [op.dst, op]));
    const fused = new Set<Op>();
    let negate = false;
    for (;;) {
      const def = isVReg(c) && this.uses[c] === 1 ? defs.get(c) : undefined;
      if (def?.op === "bool_not") {
        fused.add(def);
        c = def.args[0]!;
        negate = !negate;
        continue;
      }
      if (def && def.op in COMPARE) {
        fused.add(def);
        const cond = COMPARE[def.op]!;
        return { cond: negate ? invert(cond) : cond, a: def.args[0]!, b: def.args[1]!, fused };
      }
      return { cond: negate ? Cond.e : Cond.ne, a: c, b: { k: "int", v: 0 }, fused };
    }
  }

  private term(t: Term, test: Test | undefined): MTerm {
    switch (t.k) {
      case "jump":
        return { k: "jmp", to: this.edge(t.to) };
      case "branch": {
        const { cond, a, b } = test!;
        if (!isVReg(a) && !isVReg(b))
          return {
            k: "jmp",
            to: this.edge(holds(cond, this.constValue(a), this.constValue(b)) ? t.then : t.else),
          };
        return {
          k: "br",
          ...this.compare(cond, a, b),
          then: this.edge(t.then),
          else: this.edge(t.else),
        };
      }
      case "switch": {
        if (!isVReg(t.on)) {
          const v = this.constValue(t.on);
          return { k: "jmp", to: this.edge(t.cases.find((c) => c.value === v)?.to ?? t.default) };
        }
        return {
          k: "switch",
          on: t.on,
          cases: t.cases.map((c) => ({ value: c.value, to: this.edge(c.to) })),
          default: this.edge(t.default),
        };
      }
      case "return":
        return t.value === undefined ? { k: "ret" } : { k: "ret", value: this.operand(t.value) };
      case "raise":
        return { k: "raise", msg: this.message(t.msg) };
      case "exit":
        if (this.opts.continuations) return this.continuation(t.status, t.args);
        if (t.args.length > MAX_STATE_ARGS)
          throw new Error(`x64: an exit with more than ${MAX_STATE_ARGS} values`);
        return { k: "exit", status: t.status, args: t.args.map((a) => this.operand(a)) };
    }
  }

  /** `exit status(v, state...)` as an exit site: the value set, then a tail call. */
  private continuation(status: number, [v, ...state]: Operand[]): MTerm {
    const site = this.sites.push(status) - 1;
    this.siteTypes.push(this.typeOf(v!));
    // Set even when it is the constant 0 that the exits of region edges pass: a
    // promotion's value may be 0 too, once the clean-up passes found it constant (a red at a
    // merge point that only ever receives one value).
    this.emit({ k: "setvalue", v: this.operand(v!) });
    // (past the sixth, the values go in the state buffer: every graph an exit goes on in takes
    // them there, `MFunc.stateParams`)
    if (state.length > MAX_STATE_ARGS)
      throw new Error(`x64: an exit with more than ${MAX_STATE_ARGS} values`);
    return { k: "tailcall", site, args: state.map((a) => this.operand(a)) };
  }

  private edge(j: Jump): Edge {
    return { block: j.block, args: j.args.map((a) => this.operand(a)) };
  }
}

/** Whether `a cond b` holds for two int32 constants (a fused compare of constants). */
function holds(cond: Cond, a: number, b: number): boolean {
  const ua = a >>> 0;
  const ub = b >>> 0;
  switch (cond) {
    case Cond.e:
      return a === b;
    case Cond.ne:
      return a !== b;
    case Cond.l:
      return a < b;
    case Cond.le:
      return a <= b;
    case Cond.g:
      return a > b;
    case Cond.ge:
      return a >= b;
    case Cond.b:
      return ua < ub;
    case Cond.ae:
      return ua >= ub;
    case Cond.be:
      return ua <= ub;
    case Cond.a:
      return ua > ub;
    default:
      throw new Error(`x64: unexpected condition ${cond}`);
  }
}

/** How many times each variable is read (operations and terminators). */
function countUses(g: Graph): number[] {
  const n = new Array<number>(g.types.length).fill(0);
  const use = (o: Operand) => {
    if (isVReg(o)) n[o]!++;
  };
  for (const b of g.blocks) {
    for (const op of b.ops) op.args.forEach(use);
    for (const j of jumpsOf(b.term)) j.args.forEach(use);
    termOperands(b.term).forEach(use);
  }
  return n;
}
