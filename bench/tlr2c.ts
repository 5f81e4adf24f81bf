//! TLR bytecode to C, mechanically: a label `L<a>` and a block of C for every byte address `a`
//! (a jump may land anywhere, even on an operand byte, and the interpreter decodes from there),
//! each block ending in a `goto` to the next address. The accumulator is an `int32_t` with
//! wrapping arithmetic; the registers are a local array with their count, checked on every
//! access as `interpreters/tlr.ts` does, with the same error messages.

import * as tlr from "../interpreters/tlr.ts";
import { byOpcode } from "../interpreters/asm.ts";
import { langs } from "../generator/language.ts";
import { PRELUDE, cMain, comment, wrap } from "./c.ts";

/** Each opcode's name and whether it takes an operand: the interpreter's own
 *  (`interpreters/tlr.ts`, through its descriptor's instruction set). */
const OPS = byOpcode(langs.tlr!.isa!);

/** The C program that runs `code` with the accumulator set to its first argument. */
export function tlrToC(code: Uint8Array): string {
  const len = code.length;
  const out: string[] = [
    PRELUDE,
    "static int32_t run(int32_t a) {",
    "  int32_t regs[256];",
    "  int32_t nregs = 0;",
    "  goto " + (len ? "L0" : "END") + ";",
  ];
  const label = (t: number) => (t >= len ? "END" : `L${t}`);
  for (let a = 0; a < len; a++) out.push(...block(code, a, label).map((s) => "  " + s));
  out.push("END:", '  fail("pc past the end");', "  return 0;", "}", cMain("run(arg)", true));
  return out.join("\n");
}

function block(code: Uint8Array, a: number, label: (t: number) => string): string[] {
  const op = code[a]!;
  const name = OPS[op]?.[0] ?? `.byte ${op}`;
  const has = (OPS[op]?.[1] ?? 0) > 0;
  const head = `L${a}: ${comment(`${a}: ${name}${has && a + 1 < code.length ? " " + code[a + 1] : ""}`)}`;
  if (!OPS[op]?.[0]) return [head, 'fail("unknown opcode");'];
  if (has && a + 1 >= code.length) return [head, 'fail("missing operand");'];
  const n = code[a + 1]!;
  const next = `goto ${label(a + (has ? 2 : 1))};`;
  const checkReg = `if (${n} >= nregs) fail("register index out of range");`;
  switch (op) {
    case tlr.MOV_A_R:
      return [head, checkReg, `regs[${n}] = a;`, next];
    case tlr.MOV_R_A:
      return [head, checkReg, `a = regs[${n}];`, next];
    case tlr.JUMP_IF_A:
      return [head, `if (a != 0) goto ${label(n)};`, next];
    case tlr.SET_A:
      return [head, `a = ${n};`, next];
    case tlr.ADD_R_TO_A:
      return [head, checkReg, `a = ${wrap("a", "+", `regs[${n}]`)};`, next];
    case tlr.RETURN_A:
      return [head, "return a;"];
    case tlr.ALLOCATE: // n fresh zeros
      return [head, `memset(regs, 0, sizeof(int32_t) * ${n});`, `nregs = ${n};`, next];
    default: // NEG_A
      return [head, `a = ${wrap("0", "-", "a")};`, next];
  }
}
