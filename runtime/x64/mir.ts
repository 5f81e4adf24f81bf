//! The machine-level representation between instruction selection and emission: x86-64
//! operations over virtual registers, still in SSA form with block parameters. Each operation
//! is close to one x86 instruction (or a short fixed sequence: a guarded division, a call), so
//! the register allocator sees every constraint it must honour (fixed registers, clobbers,
//! two-address operands) and the emitter needs no further decisions but how to reach spilled
//! values. Plain data, like the IR.
//!
//! Widths: i32 and bool values live in 32-bit registers (bools as 0/1), arrays as 64-bit
//! pointers into the arena, references to objects, lists and maps as 32-bit offsets into it.

import { CLOBBERED_BY_CALL } from "./abi.ts";
import { Reg, type Cond } from "./encode.ts";
import type { Graph, Op, Term, Type } from "../ir/types.ts";

export type VReg = number;
export type Width = 32 | 64;

/** A constant operand: an int32 immediate (bools are 0/1), or the address of data constant `v`. */
export type MConst = { k: "imm"; v: number } | { k: "data"; v: number };
/** An operand: a virtual register or a constant. */
export type MOperand = VReg | MConst;

export const imm = (v: number): MConst => ({ k: "imm", v: v | 0 });
/** Whether an operand (machine or IR) is a register rather than a constant. */
export const isVReg = <C>(o: number | C): o is number => typeof o === "number";

export type AluOp = "add" | "sub" | "and" | "or" | "xor" | "mul";
export type ShiftOp = "shl" | "sar" | "shr";

/** What a call-like operation calls: another compiled graph, or a runtime routine. */
export type Callee =
  | { k: "graph"; name: string }
  | { k: "alloc"; elem: 1 | 4 }
  | { k: "io_read" }
  | { k: "io_write" }
  /** A zero-filled object of `bytes` bytes with class id `cls` (the object allocator stub). */
  | { k: "new_object"; cls: number; bytes: number }
  /** A list of its first argument's length, every item its second (the list allocator stub). */
  | { k: "new_list" }
  /** `push` and `pop` of a list (stubs: in machine code while the buffer has room, `push`
   *  through the JavaScript operation when it must grow; the run stops if that failed). */
  | { k: "list_push" }
  | { k: "list_pop" }
  /** A container operation done in JavaScript (`objects.ts`): its first argument is the
   *  operation's number; the run stops if it could not be done. */
  | { k: "heap" };

export type MInst =
  /** Defines the graph's parameters from the System V argument registers and stack; with
   *  `label`, the parameters of that label's entry (`MFunc.labels`), from where an exit's tail
   *  call puts them (registers, then the state buffer). */
  | { k: "params"; dsts: VReg[]; label?: number }
  | { k: "mov"; dst: VReg; src: MOperand }
  /** dst = a op b (two-address on x86: `mov dst, a; op dst, b`). */
  | { k: "alu"; op: AluOp; dst: VReg; a: VReg; b: MOperand }
  | { k: "neg" | "not" | "bnot"; dst: VReg; a: VReg }
  /** A variable count goes through cl; x86 masks 32-bit shift counts to 5 bits, as JS does. */
  | { k: "shift"; op: ShiftOp; dst: VReg; a: VReg; b: MOperand }
  /** Guarded: a zero divisor gives 0, INT_MIN / -1 gives INT_MIN, % -1 gives 0; idiv never faults. */
  | { k: "div"; op: "div" | "mod"; dst: VReg; a: VReg; b: MOperand }
  /** dst = (a cond b) ? 1 : 0 */
  | { k: "set"; cond: Cond; dst: VReg; a: VReg; b: MOperand }
  /** Array items: `elem` bytes each (u8 loads zero-extend, u8 stores keep the low 8 bits). */
  | { k: "load"; elem: 1 | 4; dst: VReg; arr: MOperand; idx: MOperand }
  | { k: "store"; elem: 1 | 4; arr: MOperand; idx: MOperand; val: MOperand }
  | { k: "len"; dst: VReg; arr: VReg }
  /** 4 bytes of the object region: `[r15 + ref + 4·idx + disp]` (no `ref`: `[r15 + disp]`,
   *  the constant table). References, ints and bools alike. */
  | { k: "ldo"; dst: VReg; ref?: VReg; idx?: MOperand; disp: number }
  | { k: "sto"; ref: VReg; idx?: MOperand; disp: number; val: MOperand }
  /** System V call: arguments in rdi, rsi, ... then the stack; result in rax; caller-saved
   *  registers clobbered. `dst` is -1 without a result. */
  | { k: "call"; callee: Callee; dst: VReg; args: MOperand[] }
  /** Around a call whose caller keeps references live across it (`roots.ts`): `refs` pushed
   *  onto the root stack with their types' numbers (a full stack leaves as a stack overflow),
   *  then after the call loaded back into the same registers (a new definition of each) and
   *  popped. */
  | { k: "roots_push"; refs: VReg[]; types: number[] }
  | { k: "roots_pop"; refs: VReg[] }
  /** One step of fuel; leaves through the fuel stub when the budget is spent. */
  | { k: "fuel" }
  /** Adds one to the program's counter `n` and gives its new value. */
  /** Puts an exit's value (a promoted one) where the exit's dispatch reads it. */
  | { k: "setvalue"; v: MOperand };

/** A control transfer passing `args` to the target block's parameters. */
export interface Edge {
  block: number;
  args: MOperand[];
}

export type MTerm =
  | { k: "jmp"; to: Edge }
  /** A fused compare and branch: `cmp a, b; jcc then; else`. */
  | { k: "br"; cond: Cond; a: VReg; b: MOperand; then: Edge; else: Edge }
  | { k: "switch"; on: VReg; cases: { value: number; to: Edge }[]; default: Edge }
  | { k: "ret"; value?: MOperand }
  /** `msg` indexes the module's message table. */
  | { k: "raise"; msg: number }
  | { k: "exit"; status: number; args: MOperand[] }
  /** Goes on where exit site `site` of the function leads, which returns to this function's
   *  caller (at most six arguments, all in registers). */
  | { k: "tailcall"; site: number; args: MOperand[] };

/** Where a machine operation comes from, for listings: a residual operation or terminator. */
export type Origin = Op | Term;

export interface MBlock {
  params: VReg[];
  insts: MInst[];
  term: MTerm;
  /** Parallel to `insts`, then the terminator's. */
  origins: (Origin | undefined)[];
}

export interface MFunc {
  name: string;
  /** The residual graph it was selected from (for listings). */
  graph: Graph;
  blocks: MBlock[];
  /** The entry block (it starts with the `params` instruction). */
  entry: number;
  /** Per label of the graph (`Graph.labels`), the block that enters it: a `params` instruction
   *  of that label, then a jump to the label's block. Emitted with the function's prologue:
   *  `@name#i` is an entry of its own, which exits jump into. */
  labels: number[];
  /** Width of each virtual register. */
  widths: Width[];
  /** Width of the result, or none. */
  ret: Width | "void";
  /** The exit status of each exit site (`tailcall` and calls of `exit`), by site number. */
  sites: number[];
  /** The type of each exit site's value (a promotion's: a reference is an object's identity). */
  siteTypes: Type[];
  /** Whether its parameters past the sixth come in the state buffer's argument slots, not on
   *  the stack: a graph that exit sites go on in (a continuation, an entry) and no call calls,
   *  so that an exit with more than six values is a tail call too (a loop through exits does
   *  not grow the stack, whatever its state). */
  stateParams: boolean;
}

export interface MModule {
  funcs: MFunc[];
  /** Data constants: element size and values, copied into the arena. */
  data: { elem: 1 | 4; values: number[] }[];
  /** Messages of `raise`, indexed by the payload. */
  messages: string[];
}

/** The jumps of a terminator, in order. */
export function edgesOf(t: MTerm): Edge[] {
  switch (t.k) {
    case "jmp":
      return [t.to];
    case "br":
      return [t.then, t.else];
    case "switch":
      return [...t.cases.map((c) => c.to), t.default];
    default:
      return [];
  }
}

/** The virtual registers an operation reads, and whether each must stay intact until the
 *  result is written ("late": x86's two-address forms write dst before the last read). */
export function usesOf(i: MInst): { v: VReg; late: boolean }[] {
  const u: { v: VReg; late: boolean }[] = [];
  const add = (o: MOperand, late = false) => {
    if (isVReg(o)) u.push({ v: o, late });
  };
  switch (i.k) {
    case "params":
    case "fuel":
      break;
    case "mov":
      add(i.src);
      break;
    case "alu":
      add(i.a);
      // `mov dst, a; op dst, b` must not overwrite b before reading it; commutative
      // operations swap instead, and `imul dst, a, imm` and `lea` are three-address.
      add(i.b, i.op === "sub");
      break;
    case "neg":
    case "not":
    case "bnot":
      add(i.a);
      break;
    case "shift":
    case "div":
      add(i.a);
      add(i.b);
      break;
    case "set":
      add(i.a);
      add(i.b);
      break;
    case "load":
      add(i.arr);
      add(i.idx);
      break;
    case "store":
      add(i.arr);
      add(i.idx);
      add(i.val);
      break;
    case "len":
      add(i.arr);
      break;
    case "ldo":
      if (i.ref !== undefined) add(i.ref);
      if (i.idx !== undefined) add(i.idx);
      break;
    case "sto":
      add(i.ref);
      if (i.idx !== undefined) add(i.idx);
      add(i.val);
      break;
    case "call":
      i.args.forEach((a) => add(a));
      break;
    case "roots_push":
      i.refs.forEach((r) => add(r));
      break;
    case "roots_pop":
      break;
    case "setvalue":
      add(i.v);
      break;
  }
  return u;
}

/** The virtual registers an operation writes. */
export function defsOf(i: MInst): VReg[] {
  switch (i.k) {
    case "params":
      return i.dsts;
    case "store":
    case "sto":
    case "fuel":
    case "setvalue":
    case "roots_push":
      return [];
    case "roots_pop":
      return i.refs;
    case "call":
      return i.dst >= 0 ? [i.dst] : [];
    default:
      return [i.dst];
  }
}

/** The virtual registers a terminator reads (edge arguments included). */
export function termUses(t: MTerm): VReg[] {
  const vs: MOperand[] = [];
  switch (t.k) {
    case "br":
      vs.push(t.a, t.b);
      break;
    case "switch":
      vs.push(t.on);
      break;
    case "ret":
      if (t.value !== undefined) vs.push(t.value);
      break;
    case "exit":
    case "tailcall":
      vs.push(...t.args);
      break;
  }
  for (const e of edgesOf(t)) vs.push(...e.args);
  return vs.filter(isVReg);
}

/** The allocatable registers an operation's machine code overwrites besides its result.
 *  `early`: they are written before the operands are read for the last time, so no operand
 *  may live in them (a division loads eax first); otherwise the operands are read first (a
 *  call's arguments are moved into place, then the call clobbers). */
export function clobbersOf(i: MInst): { regs: readonly Reg[]; early: boolean } | undefined {
  switch (i.k) {
    case "call":
      return { regs: CLOBBERED_BY_CALL, early: false };
    case "div":
      return { regs: [Reg.rax, Reg.rdx], early: true };
    case "shift":
      return isVReg(i.b) ? { regs: [Reg.rcx], early: true } : undefined;
    default:
      return undefined;
  }
}
