//! TL bytecode to C, mechanically. As in `interpreters/tl.ts`, a call frame has its own value
//! stack (a local `int32_t` array as long as the program, with a stack pointer `sp`) and every
//! check the interpreter makes, with its message. Each call target `t` (and the entry, 0)
//! becomes a C function `f<t>(arg, depth)` holding a copy of the whole program, one label `L<a>`
//! and one block per byte address `a` (a branch may land on any byte), entered at `L<t>`; a
//! `CALL` is a recursive C call. Static branch targets are `goto`s; `BR_COND_STK` takes its
//! offset from the stack, so it jumps through a `switch` over every address.

import { PRELUDE, cMain, comment, wrap } from "./c.ts";

const NAMES = [
  "",
  "NOP",
  "PUSH",
  "POP",
  "SWAP",
  "ROLL",
  "PICK",
  "PUT",
  "ADD",
  "SUB",
  "MUL",
  "DIV",
  "EQ",
  "NE",
  "LT",
  "LE",
  "GT",
  "GE",
  "BR_COND",
  "BR_COND_STK",
  "CALL",
  "RETURN",
  "PUSHARG",
  "INVALID",
];
const HAS_OPERAND = new Set([2, 5, 6, 7, 18, 20]);
const MAX_DEPTH = 1000;
const COMPARE: Record<number, string> = {
  12: "==",
  13: "!=",
  14: "<",
  15: "<=",
  16: ">",
  17: ">=",
};

const signed = (b: number) => (b << 24) >> 24;

/** The C program that runs `code` from its first byte with its first argument. */
export function tlToC(code: Uint8Array): string {
  const len = code.length;
  const blocks: string[] = [];
  const targets = new Set([0]);
  for (let a = 0; a < len; a++) blocks.push(...block(code, a, targets).map((s) => "  " + s));
  // Any byte 19 may be decoded as BR_COND_STK (every address is an instruction's).
  const dispatch = code.includes(19);
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
  const name = NAMES[op] || `.byte ${op}`;
  const has = HAS_OPERAND.has(op);
  const head = `L${a}: ${comment(`${a}: ${name}${has && a + 1 < len ? " " + signed(code[a + 1]!) : ""}`)}`;
  if (!NAMES[op]) return [head, 'fail("unknown opcode");'];
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
    case 1: // NOP
      return [head, next];
    case 2: // PUSH
      return [head, overflow, `stack[sp++] = ${v};`, next];
    case 3: // POP
      return [head, underflow(1), "sp--;", next];
    case 4: // SWAP
      return [
        head,
        underflow(2),
        "{ int32_t t = stack[sp - 1]; stack[sp - 1] = stack[sp - 2]; stack[sp - 2] = t; }",
        next,
      ];
    case 5: // ROLL
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
    case 6: // PICK
      return [
        head,
        `{ int32_t n = sp - (${v}) - 1; if (n < 0 || n >= sp) fail("stack index out of range");`,
        `  ${overflow} stack[sp] = stack[n]; sp++; }`,
        next,
      ];
    case 7: // PUT
      return [
        head,
        underflow(1),
        "sp--;",
        `{ int32_t n = sp - (${v}) - 1; if (n < 0 || n >= sp) fail("stack index out of range"); stack[n] = stack[sp]; }`,
        next,
      ];
    case 8:
      return binary(wrap("stack[sp - 1]", "+", "stack[sp]"));
    case 9:
      return binary(wrap("stack[sp - 1]", "-", "stack[sp]"));
    case 10:
      return binary(wrap("stack[sp - 1]", "*", "stack[sp]"));
    case 11: // DIV: truncates; INT_MIN / -1 wraps to INT_MIN
      return [
        head,
        underflow(2),
        "sp--;",
        'if (stack[sp] == 0) fail("division by zero");',
        `stack[sp - 1] = stack[sp] == -1 ? ${wrap("0", "-", "stack[sp - 1]")} : stack[sp - 1] / stack[sp];`,
        next,
      ];
    case 12:
    case 13:
    case 14:
    case 15:
    case 16:
    case 17:
      return binary(`stack[sp - 1] ${COMPARE[op]} stack[sp]`);
    case 18: // BR_COND
      return [head, underflow(1), "sp--;", `if (stack[sp] != 0) { ${jump(v)} }`, next];
    case 19: // BR_COND_STK
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
    case 20: {
      // CALL: the target is checked first, then the depth; the callee gets argument 0
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
    case 21: // RETURN
      return [head, underflow(1), "return stack[sp - 1];"];
    case 22: // PUSHARG
      return [head, overflow, "stack[sp++] = arg;", next];
    default: // 23, INVALID
      return [head, 'fail("INVALID instruction");'];
  }
}
