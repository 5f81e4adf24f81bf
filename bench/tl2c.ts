//! TL bytecode to C, mechanically. As in `interpreters/tl.ts`, a call frame has its own value
//! stack (a local `int32_t` array as long as the program, with a stack pointer `sp`) and every
//! check the interpreter makes, with its message. Each call target `t` (and the entry, 0)
//! becomes a C function `f<t>(arg, depth)` holding a copy of the whole program, one label `L<a>`
//! and one block per byte address `a` (a branch may land on any byte), entered at `L<t>`; a
//! `CALL` is a recursive C call. Static branch targets are `goto`s; `BR_COND_STK` takes its
//! offset from the stack, so it jumps through a `switch` over every address.

import * as tl from "../interpreters/tl.ts";
import { byOpcode } from "../interpreters/asm.ts";
import { langs } from "../generator/language.ts";
import { PRELUDE, cMain, comment, wrap } from "./c.ts";

/** Each opcode's name and whether it takes an operand: the interpreter's own
 *  (`interpreters/tl.ts`, through its descriptor's instruction set). */
const OPS = byOpcode(langs.tl!.isa!);
const MAX_DEPTH = 1000;
const COMPARE: Record<number, string> = {
  [tl.EQ]: "==",
  [tl.NE]: "!=",
  [tl.LT]: "<",
  [tl.LE]: "<=",
  [tl.GT]: ">",
  [tl.GE]: ">=",
};

const signed = (b: number) => (b << 24) >> 24;

/** The C program that runs `code` from its first byte with its first argument. */
export function tlToC(code: Uint8Array): string {
  const len = code.length;
  const blocks: string[] = [];
  const targets = new Set([0]);
  for (let a = 0; a < len; a++) blocks.push(...block(code, a, targets).map((s) => "  " + s));
  // Any byte equal to BR_COND_STK may be decoded as one (every address is an instruction's).
  const dispatch = code.includes(tl.BR_COND_STK);
  const body = [
    `  int32_t stack[${Math.max(len, 1)}];`,
    "  int32_t sp = 0;",
    "  int32_t target = 0;",
    "  (void)arg; (void)depth; (void)target;",
    "  goto L%T;",
    ...blocks,
    `L${len}: ${comment("the end of the code returns like RETURN")}`,
    '  if (sp < 1) fail("stack underflow");',
    "  return stack[sp - 1];",
  ];
  if (dispatch) {
    body.push("DISPATCH:", "  switch (target) {");
    for (let a = 0; a <= len; a++) body.push(`  case ${a}: goto L${a};`);
    body.push("  }", "  return 0;");
  }
  const fns = [...targets].sort((x, y) => x - y);
  const out = [PRELUDE];
  for (const t of fns) out.push(`static int32_t f${t}(int32_t arg, int32_t depth);`);
  for (const t of fns)
    out.push(
      `static int32_t f${t}(int32_t arg, int32_t depth) {`,
      ...body.map((s) => s.replace("%T", String(t))),
      "}",
    );
  out.push(cMain("f0(arg, 0)", true));
  return out.join("\n");
}

/** The C for the instruction at byte address `a`; call targets it names are added to `targets`. */
function block(code: Uint8Array, a: number, targets: Set<number>): string[] {
  const len = code.length;
  const op = code[a]!;
  const name = OPS[op]?.[0] || `.byte ${op}`;
  const has = OPS[op]?.[1] ?? false;
  const head = `L${a}: ${comment(`${a}: ${name}${has && a + 1 < len ? " " + signed(code[a + 1]!) : ""}`)}`;
  if (!OPS[op]?.[0]) return [head, 'fail("unknown opcode");'];
  if (has && a + 1 >= len) return [head, 'fail("missing operand");'];
  const v = has ? signed(code[a + 1]!) : 0;
  const nextPc = a + (has ? 2 : 1);
  const next = `goto L${nextPc};`;
  // The interpreter's `target(code, next, off)`: in 0..len, or "branch out of range".
  const jump = (off: number) =>
    off < -nextPc || off > len - nextPc ? 'fail("branch out of range");' : `goto L${nextPc + off};`;
  const underflow = (n: number) => `if (sp < ${n}) fail("stack underflow");`;
  const overflow = `if (sp >= ${len}) fail("stack overflow");`;
  const binary = (expr: string) => [head, underflow(2), "sp--;", `stack[sp - 1] = ${expr};`, next];
  switch (op) {
    case tl.NOP:
      return [head, next];
    case tl.PUSH:
      return [head, overflow, `stack[sp++] = ${v};`, next];
    case tl.POP:
      return [head, underflow(1), "sp--;", next];
    case tl.SWAP:
      return [
        head,
        underflow(2),
        "{ int32_t t = stack[sp - 1]; stack[sp - 1] = stack[sp - 2]; stack[sp - 2] = t; }",
        next,
      ];
    case tl.ROLL:
      if (v > 1)
        return [
          head,
          `{ int32_t i = sp - ${v}; if (i < 0) fail("stack index out of range");`,
          "  int32_t x = stack[i]; for (int32_t j = i; j < sp - 1; j++) stack[j] = stack[j + 1]; stack[sp - 1] = x; }",
          next,
        ];
      if (v < -1)
        return [
          head,
          `{ int32_t i = sp + (${v}); if (i < 0) fail("stack index out of range");`,
          "  int32_t x = stack[sp - 1]; for (int32_t j = sp - 1; j > i; j--) stack[j] = stack[j - 1]; stack[i] = x; }",
          next,
        ];
      return [head, next];
    case tl.PICK:
      return [
        head,
        `{ int32_t n = sp - (${v}) - 1; if (n < 0 || n >= sp) fail("stack index out of range");`,
        `  ${overflow} stack[sp] = stack[n]; sp++; }`,
        next,
      ];
    case tl.PUT:
      return [
        head,
        underflow(1),
        "sp--;",
        `{ int32_t n = sp - (${v}) - 1; if (n < 0 || n >= sp) fail("stack index out of range"); stack[n] = stack[sp]; }`,
        next,
      ];
    case tl.ADD:
      return binary(wrap("stack[sp - 1]", "+", "stack[sp]"));
    case tl.SUB:
      return binary(wrap("stack[sp - 1]", "-", "stack[sp]"));
    case tl.MUL:
      return binary(wrap("stack[sp - 1]", "*", "stack[sp]"));
    case tl.DIV: // truncates; INT_MIN / -1 wraps to INT_MIN
      return [
        head,
        underflow(2),
        "sp--;",
        'if (stack[sp] == 0) fail("division by zero");',
        `stack[sp - 1] = stack[sp] == -1 ? ${wrap("0", "-", "stack[sp - 1]")} : stack[sp - 1] / stack[sp];`,
        next,
      ];
    case tl.EQ:
    case tl.NE:
    case tl.LT:
    case tl.LE:
    case tl.GT:
    case tl.GE:
      return binary(`stack[sp - 1] ${COMPARE[op]} stack[sp]`);
    case tl.BR_COND:
      return [head, underflow(1), "sp--;", `if (stack[sp] != 0) { ${jump(v)} }`, next];
    case tl.BR_COND_STK:
      return [
        head,
        underflow(2),
        "sp -= 2;",
        "if (stack[sp] != 0) {",
        "  int32_t off = stack[sp + 1];",
        `  if (off < -${nextPc} || off > ${len - nextPc}) fail("branch out of range");`,
        `  target = ${nextPc} + off;`,
        "  goto DISPATCH;",
        "}",
        next,
      ];
    case tl.CALL: {
      // the target is checked first, then the depth; the callee gets argument 0
      const start = nextPc + v;
      if (v < -nextPc || v > len - nextPc) return [head, 'fail("branch out of range");'];
      targets.add(start);
      return [
        head,
        `if (depth >= ${MAX_DEPTH}) fail("call depth exceeded");`,
        `{ int32_t r = f${start}(0, depth + 1); ${overflow} stack[sp++] = r; }`,
        next,
      ];
    }
    case tl.RETURN:
      return [head, underflow(1), "return stack[sp - 1];"];
    case tl.PUSHARG:
      return [head, overflow, "stack[sp++] = arg;", next];
    default: // INVALID
      return [head, 'fail("INVALID instruction");'];
  }
}
