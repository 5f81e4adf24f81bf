//! TLR, the "toy language with registers" of PyPy's rpython/jit/tl/tlr.py.
//!
//! One accumulator `a` (it starts as the argument), a bank of registers and a pc over the
//! bytecode. Operands are one unsigned byte. Unlike PyPy, arithmetic wraps to 32 bits, and an
//! unknown opcode, a missing operand, a bad register or running off the end is an error rather
//! than something the host happens to do.

import { JitDriver, VmError } from "../runtime/hints.ts";

export const MOV_A_R = 1; // n: regs[n] = a
export const MOV_R_A = 2; // n: a = regs[n]
export const JUMP_IF_A = 3; // t: if a != 0, pc = t (an absolute byte offset)
export const SET_A = 4; // n: a = n
export const ADD_R_TO_A = 5; // n: a = a + regs[n]
export const RETURN_A = 6; // return a
export const ALLOCATE = 7; // n: regs = n fresh zeros
export const NEG_A = 8; // a = -a

const driver = new JitDriver({
  greens: ["code", "pc"],
  reds: ["a", "regs"],
  immutable: ["code"],
});

/** Runs `code` with the accumulator set to `a`; the result is `a` at RETURN_A. */
export function interpret(code: Uint8Array, a: number): number {
  let regs = new Int32Array(0); // no registers until the program ALLOCATEs some
  let pc = 0;
  while (pc < code.length) {
    driver.mergePoint({ code, pc, a, regs });
    const opcode = code[pc];
    pc = (pc + 1) | 0;
    switch (opcode) {
      case MOV_A_R: {
        const n = operand(code, pc);
        pc = (pc + 1) | 0;
        if (n >= regs.length) throw new VmError("register index out of range");
        regs[n] = a;
        break;
      }
      case MOV_R_A: {
        const n = operand(code, pc);
        pc = (pc + 1) | 0;
        if (n >= regs.length) throw new VmError("register index out of range");
        a = regs[n];
        break;
      }
      case JUMP_IF_A: {
        const target = operand(code, pc);
        pc = (pc + 1) | 0;
        // A target at or past the end is caught by the loop condition: "pc past the end".
        if (a !== 0) pc = target;
        break;
      }
      case SET_A:
        a = operand(code, pc);
        pc = (pc + 1) | 0;
        break;
      case ADD_R_TO_A: {
        const n = operand(code, pc);
        pc = (pc + 1) | 0;
        if (n >= regs.length) throw new VmError("register index out of range");
        a = (a + regs[n]) | 0;
        break;
      }
      case RETURN_A:
        return a;
      case ALLOCATE:
        regs = new Int32Array(operand(code, pc));
        pc = (pc + 1) | 0;
        break;
      case NEG_A:
        a = -a | 0; // -INT_MIN wraps to INT_MIN
        break;
      default:
        throw new VmError("unknown opcode"); // PyPy skips these; we refuse them
    }
  }
  throw new VmError("pc past the end");
}

/** The operand byte at `pc` (0..255), which must exist. */
function operand(code: Uint8Array, pc: number): number {
  if (pc >= code.length) throw new VmError("missing operand");
  return code[pc];
}
