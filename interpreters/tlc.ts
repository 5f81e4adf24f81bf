//! TLC, the "Toy Language with Cons Cells" of PyPy's rpython/jit/tl/tlc.py: TL's stack machine
//! whose values are objects. Integers, nil and cons cells, and instances of classes described
//! in the program's constant pool, each a class with virtual methods for arithmetic,
//! comparison, car and cdr; a frame holds its arguments and a stack of objects; NEW, GETATTR,
//! SETATTR and SEND go through the pool's classes, whose attribute and method tables are maps
//! from names (integers: the assembler interns them) to slots and method addresses; CALL and
//! SEND run a frame of their own (recursion).
//!
//! Written as its RPython author would write it, in the subset's TypeScript. Deliberate
//! differences from PyPy: integers wrap to 32 bits; DIV on integers truncates toward zero
//! (PyPy floors) and dividing by zero is an error; PRINT writes what it prints to the output
//! (PyPy prints only untranslated), DUMP is not there; a frame's stack holds at most MAX_STACK
//! items and calls nest at most MAX_DEPTH deep; every fault is a VmError named after PyPy's
//! exception (TypeError, IndexError, KeyError, ZeroDivisionError). A program is its constant
//! pool then its code (PyPy's serialize_program, in `tlc.language.ts`'s format).

import { JitDriver, VmError, promote, writeByte } from "../runtime/hints.ts";
// TL's instructions, as PyPy's TLC imports TL's tlopcode: the binary operators pop a, then b,
// and push b op a; DIV on a list is its item a (PyPy's _nth); BR_COND, BR_COND_STK and CALL
// take a truth as TL takes an integer (a frame's result is pushed only if it has one).
import {
  ADD,
  BR_COND,
  BR_COND_STK,
  CALL,
  DIV,
  EQ,
  GE,
  GT,
  LE,
  LT,
  MUL,
  NE,
  NOP,
  PICK,
  POP,
  PUSH,
  PUSHARG,
  PUT,
  RETURN,
  ROLL,
  SUB,
  SWAP,
} from "./tl.ts";

export const NIL = 24; // push nil
export const CONS = 25; // pop car, pop cdr, push a cons cell
export const CAR = 26;
export const CDR = 27;
export const BR = 28; // off: jump to (address after the operand) + off
export const PUSHARGN = 29; // n: push the frame's argument n
export const NEW = 30; // c: push a new instance of the pool's class c
export const GETATTR = 31; // name: pop an instance, push its attribute
export const SETATTR = 32; // name: pop v, pop an instance, set its attribute to v
export const SEND = 33; // name n: pop n arguments and a receiver, run its method, push the result
export const PRINT = 34; // pop a value, write it and a newline

const MAX_DEPTH = 1000;
const MAX_STACK = 65536;

// The pool is green and immutable: made from the program by `readPool` before the run (the
// descriptor's `constants`), a specialiser reads its classes and their tables as constants.
// The frame is virtualizable (PyPy's tlc.py and PyPy's own frames): where compiled code is
// entered its stack is read into a virtual list, and written back where the code leaves.
const driver = new JitDriver({
  greens: ["code", "pc", "pool"],
  reds: ["frame", "depth"],
  immutable: ["code", "pool"],
  virtualizables: ["frame"],
});

// --- the values ---

abstract class Obj {
  t(): boolean {
    throw new VmError("TypeError");
  }
  intO(): number {
    throw new VmError("TypeError");
  }
  add(_other: Obj): Obj {
    throw new VmError("TypeError");
  }
  sub(_other: Obj): Obj {
    throw new VmError("TypeError");
  }
  mul(_other: Obj): Obj {
    throw new VmError("TypeError");
  }
  div(_other: Obj): Obj {
    throw new VmError("TypeError");
  }
  eq(_other: Obj): boolean {
    throw new VmError("TypeError");
  }
  lt(_other: Obj): boolean {
    throw new VmError("TypeError");
  }
  car(): Obj {
    throw new VmError("TypeError");
  }
  cdr(): Obj {
    throw new VmError("TypeError");
  }
  getattr(_name: number): Obj {
    throw new VmError("TypeError");
  }
  setattr(_name: number, _value: Obj): void {
    throw new VmError("TypeError");
  }
  /** Where the method `name` starts. */
  send(_name: number): number {
    throw new VmError("TypeError");
  }
  abstract print(): void;
}

class IntObj extends Obj {
  readonly value: number;
  constructor(value: number) {
    super();
    this.value = value;
  }
  t(): boolean {
    return this.value !== 0;
  }
  intO(): number {
    return this.value;
  }
  add(other: Obj): Obj {
    return new IntObj((this.value + other.intO()) | 0);
  }
  sub(other: Obj): Obj {
    return new IntObj((this.value - other.intO()) | 0);
  }
  mul(other: Obj): Obj {
    return new IntObj(Math.imul(this.value, other.intO()));
  }
  div(other: Obj): Obj {
    const d = other.intO();
    if (d === 0) throw new VmError("ZeroDivisionError");
    return new IntObj((this.value / d) | 0);
  }
  eq(other: Obj): boolean {
    return other instanceof IntObj && this.value === other.value;
  }
  lt(other: Obj): boolean {
    return this.value < other.intO();
  }
  print(): void {
    writeInt(this.value);
  }
}

abstract class LispObj extends Obj {
  div(other: Obj): Obj {
    const n = other.intO();
    if (n < 0) throw new VmError("IndexError");
    return nth(this, n);
  }
  add(other: Obj): Obj {
    if (other instanceof LispObj) return concat(this, other);
    throw new VmError("TypeError");
  }
}

class NilObj extends LispObj {
  t(): boolean {
    return false;
  }
  eq(other: Obj): boolean {
    return this === other;
  }
  print(): void {
    writeText(NIL_TEXT);
  }
}

class ConsObj extends LispObj {
  readonly head: Obj;
  readonly tail: Obj;
  constructor(head: Obj, tail: Obj) {
    super();
    this.head = head;
    this.tail = tail;
  }
  t(): boolean {
    return true;
  }
  eq(other: Obj): boolean {
    return other instanceof ConsObj && this.head.eq(other.head) && this.tail.eq(other.tail);
  }
  car(): Obj {
    return this.head;
  }
  cdr(): Obj {
    return this.tail;
  }
  print(): void {
    writeText(CONS_TEXT);
  }
}

const nil = new NilObj();
const zero = new IntObj(0);

/** `list + other` (PyPy's _concat): a copy of list's cells ending in other. Recursive. */
function concat(list: LispObj, other: LispObj): LispObj {
  if (list instanceof ConsObj) {
    const rest = list.tail;
    if (rest instanceof LispObj) return new ConsObj(list.head, concat(rest, other));
    throw new VmError("TypeError");
  }
  return other;
}

/** Item n of a list (PyPy's _nth). Recursive. */
function nth(list: Obj, n: number): Obj {
  if (list instanceof ConsObj) {
    if (n === 0) return list.head;
    return nth(list.tail, (n - 1) | 0);
  }
  if (list instanceof NilObj) throw new VmError("IndexError");
  throw new VmError("TypeError");
}

/** A class of the constant pool: its attributes' slots and its methods' addresses, by name. */
export class Class {
  readonly attributes: ReadonlyMap<number, number>;
  readonly methods: ReadonlyMap<number, number>;
  constructor(attributes: ReadonlyMap<number, number>, methods: ReadonlyMap<number, number>) {
    this.attributes = attributes;
    this.methods = methods;
  }
}

class InstanceObj extends Obj {
  readonly cls: Class;
  readonly values: Obj[];
  constructor(cls: Class) {
    super();
    this.cls = cls;
    this.values = new Array<Obj>(cls.attributes.size).fill(nil);
  }
  t(): boolean {
    return true;
  }
  eq(other: Obj): boolean {
    return this === other;
  }
  // The class is promoted (its identity becomes a compile-time value, and with it its tables,
  // which never change): a specialiser then looks the name up at compile time.
  getattr(name: number): Obj {
    const i = promote(this.cls).attributes.get(name);
    if (i === undefined) throw new VmError("KeyError");
    return this.values[i];
  }
  setattr(name: number, value: Obj): void {
    const i = promote(this.cls).attributes.get(name);
    if (i === undefined) throw new VmError("KeyError");
    this.values[i] = value;
  }
  send(name: number): number {
    const pc = promote(this.cls).methods.get(name);
    if (pc === undefined) throw new VmError("KeyError");
    return pc;
  }
  print(): void {
    writeText(OBJECT_TEXT);
  }
}

/** The program's constant pool: its classes, by index, and where its code starts. */
export class Pool {
  readonly classes: readonly Class[];
  readonly start: number;
  constructor(classes: readonly Class[], start: number) {
    this.classes = classes;
    this.start = start;
  }
}

class Frame {
  readonly args: Obj[];
  readonly stack: Obj[];
  constructor(args: Obj[]) {
    this.args = args;
    this.stack = [];
  }
}

// --- the interpreter ---

/** Runs the program `code` (its pool, then its code; `pool` is what `readPool` made of it)
 *  with the integer argument `arg`. */
export function interpret(code: Uint8Array, pool: Pool, arg: number): number {
  const args: Obj[] = [new IntObj(arg)];
  const result = interpEval(code, pool.start, args, pool, 0);
  if (result === null) throw new VmError("no result");
  return result.intO();
}

/** Runs a frame from `pc` until RETURN or the end of the code: the top of its stack, or null
 *  when it is empty. */
function interpEval(
  code: Uint8Array,
  pc: number,
  args: Obj[],
  pool: Pool,
  depth: number,
): Obj | null {
  const frame = new Frame(args);
  while (pc < code.length) {
    driver.mergePoint({ code, pc, frame, pool, depth });
    const opcode = code[pc];
    pc = (pc + 1) | 0;
    const stack = frame.stack;
    switch (opcode) {
      case NOP:
        break;
      case NIL:
        push(stack, nil);
        break;
      case CONS: {
        const car = pop(stack);
        const cdr = pop(stack);
        push(stack, new ConsObj(car, cdr));
        break;
      }
      case CAR:
        push(stack, pop(stack).car());
        break;
      case CDR:
        push(stack, pop(stack).cdr());
        break;
      case PUSH:
        push(stack, new IntObj(operand(code, pc)));
        pc = (pc + 1) | 0;
        break;
      case POP:
        pop(stack);
        break;
      case SWAP: {
        const a = pop(stack);
        const b = pop(stack);
        push(stack, a);
        push(stack, b);
        break;
      }
      case ROLL:
        roll(stack, operand(code, pc));
        pc = (pc + 1) | 0;
        break;
      case PICK:
        push(stack, stack[fromTop(stack, operand(code, pc))]);
        pc = (pc + 1) | 0;
        break;
      case PUT: {
        const v = pop(stack);
        stack[fromTop(stack, operand(code, pc))] = v;
        pc = (pc + 1) | 0;
        break;
      }
      case ADD: {
        const a = pop(stack);
        push(stack, pop(stack).add(a));
        break;
      }
      case SUB: {
        const a = pop(stack);
        push(stack, pop(stack).sub(a));
        break;
      }
      case MUL: {
        const a = pop(stack);
        push(stack, pop(stack).mul(a));
        break;
      }
      case DIV: {
        const a = pop(stack);
        push(stack, pop(stack).div(a));
        break;
      }
      case EQ: {
        const a = pop(stack);
        push(stack, truth(pop(stack).eq(a)));
        break;
      }
      case NE: {
        const a = pop(stack);
        push(stack, truth(!pop(stack).eq(a)));
        break;
      }
      case LT: {
        const a = pop(stack);
        push(stack, truth(pop(stack).lt(a)));
        break;
      }
      case LE: {
        const a = pop(stack);
        const b = pop(stack);
        push(stack, truth(!a.lt(b)));
        break;
      }
      case GT: {
        const a = pop(stack);
        const b = pop(stack);
        push(stack, truth(a.lt(b)));
        break;
      }
      case GE: {
        const a = pop(stack);
        push(stack, truth(!pop(stack).lt(a)));
        break;
      }
      case BR: {
        const off = operand(code, pc);
        pc = target(code, (pc + 1) | 0, off);
        break;
      }
      case BR_COND: {
        const off = operand(code, pc);
        pc = (pc + 1) | 0;
        if (pop(stack).t()) pc = target(code, pc, off);
        break;
      }
      case BR_COND_STK: {
        const off = pop(stack).intO();
        // The offset is data, but the pc must stay green: promote it (as PyPy's TL does).
        if (pop(stack).t()) pc = target(code, pc, promote(off));
        break;
      }
      case CALL: {
        const off = operand(code, pc);
        pc = (pc + 1) | 0;
        if (depth >= MAX_DEPTH) throw new VmError("call depth exceeded");
        const callArgs: Obj[] = [zero];
        const res = interpEval(code, target(code, pc, off), callArgs, pool, (depth + 1) | 0);
        if (res !== null) push(stack, res);
        break;
      }
      case RETURN:
        return top(stack);
      case PUSHARG:
        push(stack, argument(frame, 0));
        break;
      case PUSHARGN:
        push(stack, argument(frame, operand(code, pc)));
        pc = (pc + 1) | 0;
        break;
      case NEW: {
        const c = operand(code, pc);
        pc = (pc + 1) | 0;
        if (c < 0 || c >= pool.classes.length) throw new VmError("IndexError");
        push(stack, new InstanceObj(pool.classes[c]));
        break;
      }
      case GETATTR: {
        const name = operand(code, pc);
        pc = (pc + 1) | 0;
        push(stack, pop(stack).getattr(name));
        break;
      }
      case SETATTR: {
        const name = operand(code, pc);
        pc = (pc + 1) | 0;
        const a = pop(stack);
        pop(stack).setattr(name, a);
        break;
      }
      case SEND: {
        const name = operand(code, pc);
        const n = (operand(code, (pc + 1) | 0) + 1) | 0; // the receiver too
        pc = (pc + 2) | 0;
        if (n < 1) throw new VmError("IndexError");
        const methArgs: Obj[] = new Array<Obj>(n).fill(nil);
        for (let i = (n - 1) | 0; i >= 0; i = (i - 1) | 0) methArgs[i] = pop(stack);
        // Where the method starts depends on the receiver's class, a run-time value; the
        // callee's pc must be green: promote it (a case per method seen at this SEND).
        const methPc = promote(methArgs[0].send(name));
        if (depth >= MAX_DEPTH) throw new VmError("call depth exceeded");
        const res = interpEval(code, methPc, methArgs, pool, (depth + 1) | 0);
        if (res !== null) push(stack, res);
        break;
      }
      case PRINT:
        pop(stack).print();
        writeByte(10);
        break;
      default:
        throw new VmError("unknown opcode");
    }
  }
  return top(frame.stack);
}

function push(stack: Obj[], v: Obj): void {
  if (stack.length >= MAX_STACK) throw new VmError("stack overflow");
  stack.push(v);
}

function pop(stack: Obj[]): Obj {
  const v = stack.pop();
  if (v === undefined) throw new VmError("IndexError");
  return v;
}

/** The top of a frame's stack, or null for an empty one. */
function top(stack: Obj[]): Obj | null {
  if (stack.length === 0) return null;
  return stack[(stack.length - 1) | 0];
}

/** The index of `stack[-1 - n]`, as Python indexes (a negative index counts from the end). */
function fromTop(stack: Obj[], n: number): number {
  let i = (-1 - n) | 0;
  if (i < 0) i = (i + stack.length) | 0;
  if (i < 0 || i >= stack.length) throw new VmError("IndexError");
  return i;
}

/** ROLL r: r > 1 brings the item r deep to the top; r < -1 sinks the top -r deep. */
function roll(stack: Obj[], r: number): void {
  if (r < -1) {
    const i = (stack.length + r) | 0;
    if (i < 0) throw new VmError("IndexError");
    const v = pop(stack);
    stack.splice(i, 0, v);
  } else if (r > 1) {
    const i = (stack.length - r) | 0;
    if (i < 0) throw new VmError("IndexError");
    const v = stack[i];
    stack.splice(i, 1);
    stack.push(v);
  }
}

function argument(frame: Frame, n: number): Obj {
  if (n < 0 || n >= frame.args.length) throw new VmError("IndexError");
  return frame.args[n];
}

function truth(c: boolean): Obj {
  if (c) return new IntObj(1);
  return new IntObj(0);
}

/** The operand byte at `pc`, sign-extended (PyPy's char2int); it must exist. */
function operand(code: Uint8Array, pc: number): number {
  if (pc >= code.length) throw new VmError("missing operand");
  return (code[pc] << 24) >> 24;
}

/** The branch target `next + off`: within the code, its end included. */
function target(code: Uint8Array, next: number, off: number): number {
  if (off < (-next | 0) || off > ((code.length - next) | 0))
    throw new VmError("branch out of range");
  return (next + off) | 0;
}

// --- the program's constant pool (PyPy's serialize_program) ---
//
//   classes: u8, then per class: attributes u8, their names (u8 each); methods u8, per method
//   its name (u8) and its address in the code (u16, little-endian); then the code, whose
//   addresses count from its first byte.

/** The pool at the start of a program (the descriptor's `constants`: made before the run). */
export function readPool(code: Uint8Array): Pool {
  const start = codeStart(code);
  const classes: Class[] = [];
  let at = 1;
  const count = byte(code, 0);
  for (let c = 0; c < count; c = (c + 1) | 0) {
    const attributes = new Map<number, number>();
    const nattrs = byte(code, at);
    at = (at + 1) | 0;
    for (let i = 0; i < nattrs; i = (i + 1) | 0) {
      const name = byte(code, at);
      if (!attributes.has(name)) attributes.set(name, attributes.size);
      at = (at + 1) | 0;
    }
    const methods = new Map<number, number>();
    const nmethods = byte(code, at);
    at = (at + 1) | 0;
    for (let i = 0; i < nmethods; i = (i + 1) | 0) {
      const address = byte(code, (at + 1) | 0) | (byte(code, (at + 2) | 0) << 8);
      methods.set(byte(code, at), (start + address) | 0);
      at = (at + 3) | 0;
    }
    classes.push(new Class(attributes, methods));
  }
  return new Pool(classes, start);
}

/** Where the code starts: after the pool. */
function codeStart(code: Uint8Array): number {
  let at = 1;
  const count = byte(code, 0);
  for (let c = 0; c < count; c = (c + 1) | 0) {
    at = (at + 1 + byte(code, at)) | 0;
    at = (at + 1 + Math.imul(3, byte(code, at))) | 0;
  }
  return at;
}

function byte(code: Uint8Array, at: number): number {
  if (at < 0 || at >= code.length) throw new VmError("bad constant pool");
  return code[at];
}

// --- PRINT ---

const NIL_TEXT = 0;
const CONS_TEXT = 1;
const OBJECT_TEXT = 2;

/** Writes an integer in decimal. */
function writeInt(v: number): void {
  if (v < 0) writeByte(45);
  writeDigits(v);
}

/** The digits of |v|, the most significant first, without negating INT_MIN. Recursive, as
 *  RPython would have it not looked inside: compiled code calls it (a loop on a run-time
 *  value here would be unrolled into the code that prints, without end). */
function writeDigits(v: number): void {
  const rest = (v / 10) | 0;
  if (rest !== 0) writeDigits(rest);
  let d = (v % 10) | 0;
  if (d < 0) d = -d | 0;
  writeByte((48 + d) | 0);
}

/** Writes `nil`, `<ConsObj>` or `<Object>` (what PyPy's to_string gives). */
function writeText(which: number): void {
  if (which === NIL_TEXT) {
    writeByte(110);
    writeByte(105);
    writeByte(108);
  } else {
    writeByte(60);
    const cons = which === CONS_TEXT;
    if (cons) {
      writeByte(67);
      writeByte(111);
      writeByte(110);
      writeByte(115);
    }
    writeByte(79);
    writeByte(98);
    writeByte(106);
    if (!cons) {
      writeByte(101);
      writeByte(99);
      writeByte(116);
    }
    writeByte(62);
  }
}
