//! TL, the "toy language" stack machine of PyPy's rpython/jit/tl/tl.py and tlopcode.py.
//!
//! A pc and a value stack per call frame. Operands are one signed byte. Binary operators pop
//! `a` (the top), then `b`, and push `b op a`. Deliberate differences from PyPy: integers wrap
//! to 32 bits; DIV truncates toward zero (PyPy floors); a frame's stack holds at most as many
//! items as the program has bytes; calls nest at most MAX_DEPTH deep; every fault is a VmError.

import { JitDriver, VmError, promote } from "../runtime/hints.ts";

export const NOP = 1;
export const PUSH = 2; // v: push v
export const POP = 3;
export const SWAP = 4;
export const ROLL = 5; // r: r > 1 brings the item r deep to the top, r < -1 sinks the top -r deep
export const PICK = 6; // i: push a copy of the item i below the top (PICK 0 = DUP)
export const PUT = 7; // i: pop v, then store v i below the new top
export const ADD = 8;
export const SUB = 9;
export const MUL = 10;
export const DIV = 11;
export const EQ = 12;
export const NE = 13;
export const LT = 14;
export const LE = 15;
export const GT = 16;
export const GE = 17;
export const BR_COND = 18; // off: pop c; if c != 0, jump to (address after the operand) + off
export const BR_COND_STK = 19; // pop off, pop c; if c != 0, jump to (address after this) + off
export const CALL = 20; // off: run the code at (address after the operand) + off, push its result
export const RETURN = 21; // the frame's result is pop()
export const PUSHARG = 22; // push the frame's argument
export const INVALID = 23; // always an error

/** The top level runs at depth 0; a call to depth MAX_DEPTH + 1 is an error. */
const MAX_DEPTH = 1000;

// `sp` is green on purpose: with the stack depth known at compile time, a specialiser can keep
// the stack slots in virtual registers.
const driver = new JitDriver({
  greens: ["code", "pc", "sp"],
  reds: ["stack", "arg", "depth"],
  immutable: ["code"],
});

/** Runs `code` from its first byte with argument `arg`; the result is what it returns. */
export function interpret(code: Uint8Array, arg: number): number {
  return execute(code, 0, arg, 0);
}

/** One call frame: runs from `pc` with a fresh stack until RETURN or the end of the code. */
function execute(code: Uint8Array, pc: number, arg: number, depth: number): number {
  const stack = new Int32Array(code.length);
  let sp = 0; // number of items on the stack; the top is stack[sp - 1]
  while (pc < code.length) {
    driver.mergePoint({ code, pc, sp, stack, arg, depth });
    const opcode = code[pc];
    pc = (pc + 1) | 0;
    switch (opcode) {
      case NOP:
        break;
      case PUSH: {
        const v = operand(code, pc);
        pc = (pc + 1) | 0;
        if (sp >= stack.length) throw new VmError("stack overflow");
        stack[sp] = v;
        sp = (sp + 1) | 0;
        break;
      }
      case POP:
        if (sp < 1) throw new VmError("stack underflow");
        sp = (sp - 1) | 0;
        break;
      case SWAP: {
        if (sp < 2) throw new VmError("stack underflow");
        const top = stack[(sp - 1) | 0];
        stack[(sp - 1) | 0] = stack[(sp - 2) | 0];
        stack[(sp - 2) | 0] = top;
        break;
      }
      case ROLL: {
        const r = operand(code, pc);
        pc = (pc + 1) | 0;
        if (r > 1) {
          // [.. x y z] ROLL 3 = [.. y z x]: the item at i moves up, the ones above it down.
          const i = (sp - r) | 0;
          if (i < 0) throw new VmError("stack index out of range");
          const v = stack[i];
          for (let j = i; j < ((sp - 1) | 0); j = (j + 1) | 0) stack[j] = stack[(j + 1) | 0];
          stack[(sp - 1) | 0] = v;
        } else if (r < -1) {
          // [.. x y z] ROLL -3 = [.. z x y]: the top moves down to i, the ones below it up.
          const i = (sp + r) | 0;
          if (i < 0) throw new VmError("stack index out of range");
          const v = stack[(sp - 1) | 0];
          for (let j = (sp - 1) | 0; j > i; j = (j - 1) | 0) stack[j] = stack[(j - 1) | 0];
          stack[i] = v;
        }
        break; // ROLL -1, 0 and 1 do nothing, as in PyPy
      }
      case PICK: {
        const i = operand(code, pc);
        pc = (pc + 1) | 0;
        const n = (sp - i - 1) | 0;
        if (n < 0 || n >= sp) throw new VmError("stack index out of range");
        if (sp >= stack.length) throw new VmError("stack overflow");
        stack[sp] = stack[n];
        sp = (sp + 1) | 0;
        break;
      }
      case PUT: {
        const i = operand(code, pc);
        pc = (pc + 1) | 0;
        if (sp < 1) throw new VmError("stack underflow");
        sp = (sp - 1) | 0;
        const n = (sp - i - 1) | 0;
        if (n < 0 || n >= sp) throw new VmError("stack index out of range");
        stack[n] = stack[sp];
        break;
      }
      // Binary operators: after `sp - 1`, stack[sp] is a (the old top), stack[top] is b and
      // receives b op a.
      case ADD: {
        if (sp < 2) throw new VmError("stack underflow");
        sp = (sp - 1) | 0;
        const top = (sp - 1) | 0;
        stack[top] = (stack[top] + stack[sp]) | 0;
        break;
      }
      case SUB: {
        if (sp < 2) throw new VmError("stack underflow");
        sp = (sp - 1) | 0;
        const top = (sp - 1) | 0;
        stack[top] = (stack[top] - stack[sp]) | 0;
        break;
      }
      case MUL: {
        if (sp < 2) throw new VmError("stack underflow");
        sp = (sp - 1) | 0;
        const top = (sp - 1) | 0;
        stack[top] = Math.imul(stack[top], stack[sp]);
        break;
      }
      case DIV: {
        if (sp < 2) throw new VmError("stack underflow");
        sp = (sp - 1) | 0;
        const top = (sp - 1) | 0;
        if (stack[sp] === 0) throw new VmError("division by zero");
        stack[top] = (stack[top] / stack[sp]) | 0; // truncates; INT_MIN / -1 wraps to INT_MIN
        break;
      }
      case EQ: {
        if (sp < 2) throw new VmError("stack underflow");
        sp = (sp - 1) | 0;
        const top = (sp - 1) | 0;
        stack[top] = bit(stack[top] === stack[sp]);
        break;
      }
      case NE: {
        if (sp < 2) throw new VmError("stack underflow");
        sp = (sp - 1) | 0;
        const top = (sp - 1) | 0;
        stack[top] = bit(stack[top] !== stack[sp]);
        break;
      }
      case LT: {
        if (sp < 2) throw new VmError("stack underflow");
        sp = (sp - 1) | 0;
        const top = (sp - 1) | 0;
        stack[top] = bit(stack[top] < stack[sp]);
        break;
      }
      case LE: {
        if (sp < 2) throw new VmError("stack underflow");
        sp = (sp - 1) | 0;
        const top = (sp - 1) | 0;
        stack[top] = bit(stack[top] <= stack[sp]);
        break;
      }
      case GT: {
        if (sp < 2) throw new VmError("stack underflow");
        sp = (sp - 1) | 0;
        const top = (sp - 1) | 0;
        stack[top] = bit(stack[top] > stack[sp]);
        break;
      }
      case GE: {
        if (sp < 2) throw new VmError("stack underflow");
        sp = (sp - 1) | 0;
        const top = (sp - 1) | 0;
        stack[top] = bit(stack[top] >= stack[sp]);
        break;
      }
      case BR_COND: {
        // The operand is decoded before the stack is touched, taken or not.
        const off = operand(code, pc);
        pc = (pc + 1) | 0;
        if (sp < 1) throw new VmError("stack underflow");
        sp = (sp - 1) | 0;
        if (stack[sp] !== 0) pc = target(code, pc, off);
        break;
      }
      case BR_COND_STK: {
        if (sp < 2) throw new VmError("stack underflow");
        sp = (sp - 2) | 0;
        // The offset is data, but the pc must stay green: promote it (PyPy's TL does the same).
        if (stack[sp] !== 0) pc = target(code, pc, promote(stack[(sp + 1) | 0]));
        break;
      }
      case CALL: {
        const off = operand(code, pc);
        pc = (pc + 1) | 0;
        const start = target(code, pc, off);
        if (depth >= MAX_DEPTH) throw new VmError("call depth exceeded");
        // The callee gets a fresh stack and argument 0. Starting at the very end, it returns
        // the pop of an empty stack: "stack underflow".
        const result = execute(code, start, 0, (depth + 1) | 0);
        if (sp >= stack.length) throw new VmError("stack overflow");
        stack[sp] = result;
        sp = (sp + 1) | 0;
        break;
      }
      case RETURN:
        if (sp < 1) throw new VmError("stack underflow");
        return stack[(sp - 1) | 0];
      case PUSHARG:
        if (sp >= stack.length) throw new VmError("stack overflow");
        stack[sp] = arg;
        sp = (sp + 1) | 0;
        break;
      case INVALID:
        throw new VmError("INVALID instruction");
      default:
        throw new VmError("unknown opcode");
    }
  }
  // Running off the end returns like RETURN.
  if (sp < 1) throw new VmError("stack underflow");
  return stack[(sp - 1) | 0];
}

/** The operand byte at `pc`, sign-extended to -128..127; it must exist. */
function operand(code: Uint8Array, pc: number): number {
  if (pc >= code.length) throw new VmError("missing operand");
  return (code[pc] << 24) >> 24;
}

/** The branch target `next + off`, where `next` is the address after the branch. The end of
 *  the code (which ends the frame) is a valid target; anything outside 0..length is not. The
 *  comparisons avoid computing `next + off`, which could wrap for an offset off the stack. */
function target(code: Uint8Array, next: number, off: number): number {
  if (off < (-next | 0) || off > ((code.length - next) | 0)) {
    throw new VmError("branch out of range");
  }
  return (next + off) | 0;
}

/** A comparison's result as the integer TL pushes: 1 or 0. */
function bit(c: boolean): number {
  if (c) return 1;
  return 0;
}
