//! Brainfuck, as Urban Müller defined it: eight commands over a tape of 30,000 byte cells.
//!
//! `+ -` add and subtract one, wrapping (255 + 1 is 0, 0 - 1 is 255); `< >` move the pointer;
//! `.` writes the current cell, `,` reads a byte into it (at the end of input the cell keeps its
//! value); `[` skips past its `]` when the cell is 0, `]` goes back to its `[` when it is not.
//! Every other byte is a comment. Moving the pointer off either end of the tape is an error, as
//! is a program whose brackets do not pair up.

import { JitDriver, VmError, readByte, writeByte } from "../runtime/hints.ts";

const PLUS = 43; // '+'
const COMMA = 44; // ','
const MINUS = 45; // '-'
const DOT = 46; // '.'
const LEFT = 60; // '<'
const RIGHT = 62; // '>'
const OPEN = 91; // '['
const CLOSE = 93; // ']'

/** Cells on the tape; the pointer starts at the first. */
const TAPE_SIZE = 30000;

// The bracket table is computed from the code alone, before the loop runs, so it is as much a
// compile-time value as the code itself: green.
const driver = new JitDriver({
  greens: ["code", "pc", "targets"],
  reds: ["tape", "ptr"],
  immutable: ["code"],
});

/** Runs the Brainfuck program `code`; its output goes through `writeByte`. Returns 0. */
export function run(code: Uint8Array): number {
  const targets = matchBrackets(code);
  const tape = new Uint8Array(TAPE_SIZE);
  let ptr = 0;
  let pc = 0;
  while (pc < code.length) {
    driver.mergePoint({ code, pc, targets, tape, ptr });
    switch (code[pc]) {
      case PLUS:
        tape[ptr] = (tape[ptr] + 1) | 0; // the store keeps the low 8 bits: 255 + 1 is 0
        break;
      case MINUS:
        tape[ptr] = (tape[ptr] - 1) | 0; // 0 - 1 is 255
        break;
      case RIGHT:
        if (ptr >= ((tape.length - 1) | 0)) throw new VmError("pointer moved right of the tape");
        ptr = (ptr + 1) | 0;
        break;
      case LEFT:
        if (ptr <= 0) throw new VmError("pointer moved left of the tape");
        ptr = (ptr - 1) | 0;
        break;
      case DOT:
        writeByte(tape[ptr]);
        break;
      case COMMA: {
        const b = readByte();
        if (b >= 0) tape[ptr] = b; // at the end of input (-1) the cell is left as it was
        break;
      }
      case OPEN:
        if (tape[ptr] === 0) pc = targets[pc]; // to the matching ']', then past it
        break;
      case CLOSE:
        if (tape[ptr] !== 0) pc = targets[pc]; // to the matching '[', then past it
        break;
      default:
        break; // a comment
    }
    pc = (pc + 1) | 0;
  }
  return 0;
}

/** For each bracket of `code`, the position of its partner (0 elsewhere). Brackets that do not
 *  pair up are an error. */
function matchBrackets(code: Uint8Array): Int32Array {
  const targets = new Int32Array(code.length);
  const open = new Int32Array(code.length); // positions of the '[' not yet closed
  let depth = 0;
  for (let pc = 0; pc < code.length; pc = (pc + 1) | 0) {
    const c = code[pc];
    if (c === OPEN) {
      open[depth] = pc;
      depth = (depth + 1) | 0;
    } else if (c === CLOSE) {
      if (depth === 0) throw new VmError("unbalanced brackets: unmatched ']'");
      depth = (depth - 1) | 0;
      const partner = open[depth];
      targets[partner] = pc;
      targets[pc] = partner;
    }
  }
  if (depth !== 0) throw new VmError("unbalanced brackets: unmatched '['");
  return targets;
}
