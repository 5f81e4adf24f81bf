//! The languages of this folder, as futamura reads them: for each interpreter, its source, the
//! entry function, how a program file becomes bytecode (its loader) and how a program is run
//! (an integer argument and a printed result, or bytes in and out). Any folder holding
//! interpreters may have such a file (`futamura.ts`, exporting `languages`); without one, an interpreter's program files are their bytes (see
//! `generator/language.ts`).

import { assemble, instructionSet, type Isa } from "./asm.ts";
import * as tl from "./tl.ts";
import * as tlc from "./tlc.ts";
import { assembleTlc } from "./tlc-assembler.ts";
import * as tlr from "./tlr.ts";
import { LoadError } from "../runtime/hints.ts";
import type { Descriptor } from "../generator/language.ts";

/** The instruction sets, from the interpreters' own opcode constants: here only which opcodes
 *  take an operand and how operands read. */
const TLR_ISA: Isa = instructionSet(
  tlr,
  ["MOV_A_R", "MOV_R_A", "JUMP_IF_A", "SET_A", "ADD_R_TO_A", "ALLOCATE"],
  { min: 0, max: 255, labels: "absolute" }, // unsigned operands; JUMP_IF_A's is an address
);

const TL_ISA: Isa = instructionSet(
  tl,
  ["PUSH", "ROLL", "PICK", "PUT", "BR_COND", "CALL"],
  { min: -128, max: 127, labels: "relative" }, // signed; offsets from the byte after the operand
);

const TLC_ISA: Isa = instructionSet(
  { ...tl, ...tlc }, // TL's instructions and its own
  ["PUSH", "ROLL", "PICK", "PUT", "BR_COND", "CALL", "BR", "PUSHARGN", "NEW", "GETATTR", "SETATTR"],
  { min: -128, max: 127, labels: "relative" }, // as TL's
  ["SEND"], // a name and an argument count
);

export const languages: Record<string, Descriptor> = {
  tlr: {
    source: "./tlr.ts",
    entry: "interpret",
    ext: ".tlr",
    convention: "int",
    isa: TLR_ISA,
    load: (text, file) => assemble(text, file, TLR_ISA),
  },
  tl: {
    source: "./tl.ts",
    entry: "interpret",
    ext: ".tl",
    convention: "int",
    isa: TL_ISA,
    load: (text, file) => assemble(text, file, TL_ISA),
  },
  tlc: {
    source: "./tlc.ts",
    entry: "interpret",
    constants: "readPool",
    ext: ".tlc",
    convention: "int",
    isa: TLC_ISA,
    load: (text, file) => assembleTlc(text, file, TLC_ISA),
  },
  bf: {
    source: "./bf.ts",
    entry: "run",
    ext: ".b",
    convention: "bytes",
    load: (text, file) => loadBrainfuck(text, file),
  },
};

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
