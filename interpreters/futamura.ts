//! The languages of this folder, as futamura reads them: for each interpreter, its source, the
//! entry function, how a program file becomes bytecode (its loader) and how a program is run
//! (an integer argument and a printed result, or bytes in and out). Any folder holding
//! interpreters may have such a file (`futamura.ts`, exporting `languages` and optionally
//! `generated`); without one, an interpreter's program files are their bytes (see
//! `generator/language.ts`).

import { assemble, type Isa } from "./asm.ts";
import { LoadError } from "../runtime/hints.ts";
import type { Descriptor } from "../generator/language.ts";

// The opcode numbers repeat those of the interpreters (which, being in the subset, cannot
// export them); test/asm.test.ts checks them against the interpreter sources.

const TLR_ISA: Isa = {
  opcodes: {
    MOV_A_R: [1, true],
    MOV_R_A: [2, true],
    JUMP_IF_A: [3, true],
    SET_A: [4, true],
    ADD_R_TO_A: [5, true],
    RETURN_A: [6, false],
    ALLOCATE: [7, true],
    NEG_A: [8, false],
  },
  min: 0, // unsigned operands
  max: 255,
  labels: "absolute", // JUMP_IF_A takes an absolute address
};

const TL_ISA: Isa = {
  opcodes: {
    NOP: [1, false],
    PUSH: [2, true],
    POP: [3, false],
    SWAP: [4, false],
    ROLL: [5, true],
    PICK: [6, true],
    PUT: [7, true],
    ADD: [8, false],
    SUB: [9, false],
    MUL: [10, false],
    DIV: [11, false],
    EQ: [12, false],
    NE: [13, false],
    LT: [14, false],
    LE: [15, false],
    GT: [16, false],
    GE: [17, false],
    BR_COND: [18, true],
    BR_COND_STK: [19, false],
    CALL: [20, true],
    RETURN: [21, false],
    PUSHARG: [22, false],
    INVALID: [23, false],
  },
  min: -128, // signed operands
  max: 127,
  labels: "relative", // branch offsets count from the byte after the operand
};

export const languages: Record<string, Descriptor> = {
  tlr: {
    source: "./tlr.ts",
    entry: "interpret",
    ext: ".tlr",
    convention: "int",
    load: (text, file) => assemble(text, file, TLR_ISA),
  },
  tl: {
    source: "./tl.ts",
    entry: "interpret",
    ext: ".tl",
    convention: "int",
    load: (text, file) => assemble(text, file, TL_ISA),
  },
  bf: {
    source: "./bf.ts",
    entry: "run",
    ext: ".b",
    convention: "bytes",
    load: (text, file) => loadBrainfuck(text, file),
  },
};

/** This repository's build products live at its root, not beside the interpreters. */
export const generated = "../generated";

/** A Brainfuck program is its bytes (the text read as latin1); brackets that do not pair up
 *  are a load error at the offending bracket, `file:line:col: unmatched '['`. */
function loadBrainfuck(text: string, file: string): Uint8Array {
  const code = Uint8Array.from(text, (ch) => ch.charCodeAt(0) & 255);
  const open: number[] = []; // positions of the '[' not yet closed
  for (let i = 0; i < code.length; i++) {
    if (code[i] === 0x5b) open.push(i);
    else if (code[i] === 0x5d && open.pop() === undefined)
      throw bracketError(code, i, file, "unmatched ']'");
  }
  if (open.length) throw bracketError(code, open[0]!, file, "unmatched '['");
  return code;
}

function bracketError(code: Uint8Array, at: number, file: string, message: string): LoadError {
  let line = 1;
  let col = 1;
  for (let i = 0; i < at; i++) {
    if (code[i] === 10) (line++, (col = 1));
    else col++;
  }
  return new LoadError(`${file}:${line}:${col}: ${message}`);
}
