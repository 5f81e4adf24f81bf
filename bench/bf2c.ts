//! Brainfuck to C, mechanically (the classic bf2c, without merging runs of `+` or `>`): one C
//! statement per command, a label after every bracket and a `goto` to its partner's. The tape is
//! 30,000 `uint8_t` cells (8-bit wrapping), the pointer is checked at every move with the
//! messages of `interpreters/bf.ts`, and `,` leaves the cell as it was at the end of input.

import { PRELUDE, cMain, comment } from "./c.ts";

const TAPE_SIZE = 30000;

/** The C program that runs the Brainfuck program `code` (whose brackets pair up). */
export function bfToC(code: Uint8Array): string {
  const partner = new Map<number, number>();
  const open: number[] = [];
  code.forEach((c, a) => {
    if (c === 0x5b) open.push(a);
    else if (c === 0x5d) {
      const b = open.pop();
      if (b === undefined) throw new Error("unmatched ']'");
      partner.set(a, b).set(b, a);
    }
  });
  if (open.length) throw new Error("unmatched '['");
  const out = [
    PRELUDE,
    `static uint8_t tape[${TAPE_SIZE}];`,
    "static void run(void) {",
    "  int32_t p = 0;",
  ];
  for (let a = 0; a < code.length; a++) {
    const s = command(code[a]!, a, partner);
    if (s) out.push(`  ${s} ${comment(`${a}: ${String.fromCharCode(code[a]!)}`)}`);
  }
  out.push("}", cMain("run()", false));
  return out.join("\n");
}

/** The C for the command byte `c` at address `a`; nothing for a comment byte. */
function command(c: number, a: number, partner: Map<number, number>): string {
  switch (c) {
    case 0x2b: // +
      return "tape[p]++;";
    case 0x2d: // -
      return "tape[p]--;";
    case 0x3e: // >
      return `if (p >= ${TAPE_SIZE - 1}) fail("pointer moved right of the tape"); p++;`;
    case 0x3c: // <
      return 'if (p <= 0) fail("pointer moved left of the tape"); p--;';
    case 0x2e: // .
      return "putchar(tape[p]);";
    case 0x2c: // ,
      return "{ int c = getchar(); if (c != EOF) tape[p] = (uint8_t)c; }";
    case 0x5b: // [: past the partner when the cell is 0
      return `if (tape[p] == 0) goto A${partner.get(a)}; A${a}:;`;
    case 0x5d: // ]: back past the partner when it is not
      return `if (tape[p] != 0) goto A${partner.get(a)}; A${a}:;`;
    default:
      return "";
  }
}
