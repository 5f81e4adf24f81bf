// Unit tests of the TL interpreter: every opcode, every error, the example programs, fuel.
// Many cases follow PyPy's rpython/jit/tl/test/test_tl.py.

import { readFileSync } from "node:fs";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { setFuel, VmError } from "../runtime/hints.ts";
import { langs } from "../generator/language.ts";
import {
  ADD,
  BR_COND,
  BR_COND_STK,
  CALL,
  DIV,
  EQ,
  GE,
  GT,
  INVALID,
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
  interpret,
} from "../interpreters/tl.ts";

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

/** Assembles `src` as TL and runs it with argument `arg`. */
function run(src: string, arg = 0): number {
  return interpret(langs.tl.load(src, "test.tl"), arg);
}

/** Runs raw bytecode; operands may be negative (stored as bytes, like PyPy's list2bytecode). */
function runBytes(bytes: number[], arg = 0): number {
  const code = Uint8Array.from(bytes, (b) => b & 255);
  return interpret(code, arg);
}

/** The message of the VmError `f` throws (fails the test if it throws anything else). */
function vmError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(VmError);
    return (e as VmError).message;
  }
  throw new Error("expected a VmError, but nothing was thrown");
}

/** Runs `b op a` for any int32 operands: b is the argument, a is built by `build`. */
function binop(op: number, b: number, a: number): number {
  return runBytes([PUSHARG, ...build(a), op], b);
}

/** Bytecode pushing the int32 `x`, built from its bytes with PUSH, ADD and MUL (mod 2^32). */
function build(x: number): number[] {
  const code = [PUSH, x >> 24];
  for (const shift of [16, 8, 0]) {
    const byte = (x >> shift) & 255;
    // acc * 256 + byte, where PUSH only reaches -128..127: (acc + 1) * 256 + (byte - 256).
    if (byte >= 128) code.push(PUSH, 1, ADD);
    code.push(PUSH, 16, PUSH, 16, MUL, MUL, PUSH, byte >= 128 ? byte - 256 : byte, ADD);
  }
  return code;
}

afterEach(() => setFuel(undefined));

describe("TL opcodes", () => {
  it("PUSH pushes a signed byte; the result is the top", () => {
    expect(runBytes([PUSH, 16])).toBe(16);
    expect(runBytes([PUSH, -128])).toBe(-128);
    expect(run("PUSH 127")).toBe(127);
    expect(run("PUSH -1")).toBe(-1);
  });

  it("NOP does nothing", () => {
    expect(runBytes([PUSH, 5, NOP, NOP])).toBe(5);
    expect(run("NOP\nPUSH 3\nNOP")).toBe(3);
  });

  it("POP drops the top", () => {
    expect(runBytes([PUSH, 16, PUSH, 42, PUSH, 100, POP])).toBe(42);
    expect(run("PUSH 1\nPUSH 2\nPOP")).toBe(1);
  });

  it("SWAP exchanges the two top items", () => {
    expect(runBytes([PUSH, 42, PUSH, 84])).toBe(84);
    expect(runBytes([PUSH, 42, PUSH, 84, SWAP])).toBe(42);
    expect(run("PUSH 42\nPUSH 84\nSWAP\nPOP")).toBe(84);
  });

  it("ROLL r > 1 brings the item r deep to the top", () => {
    const code = [PUSH, 1, PUSH, 2, PUSH, 3, ROLL, 3]; // [1 2 3] -> [2 3 1]
    expect(runBytes(code)).toBe(1);
    expect(runBytes([...code, POP])).toBe(3);
    expect(runBytes([...code, POP, POP])).toBe(2);
    expect(runBytes([PUSH, 9, PUSH, 1, PUSH, 2, ROLL, 2])).toBe(1); // = SWAP
    expect(runBytes([PUSH, 9, PUSH, 1, PUSH, 2, ROLL, 2, POP])).toBe(2);
    expect(run("PUSH 7\nPUSH 1\nPUSH 2\nPUSH 3\nROLL 3\nPOP\nPOP\nPOP")).toBe(7);
  });

  it("ROLL r < -1 sinks the top r deep", () => {
    const code = [PUSH, 1, PUSH, 2, PUSH, 3, ROLL, -3]; // [1 2 3] -> [3 1 2]
    expect(runBytes(code)).toBe(2);
    expect(runBytes([...code, POP])).toBe(1);
    expect(runBytes([...code, POP, POP])).toBe(3);
    expect(run("PUSH 7\nPUSH 1\nPUSH 2\nPUSH 3\nROLL -3\nPOP\nPOP\nPOP")).toBe(7);
  });

  it("ROLL -1, 0 and 1 do nothing, even on an empty stack", () => {
    for (const r of [-1, 0, 1]) {
      expect(runBytes([PUSH, 1, PUSH, 2, ROLL, r])).toBe(2);
      expect(runBytes([ROLL, r, PUSH, 4])).toBe(4);
    }
  });

  it("PICK i copies the item i below the top", () => {
    const code = [PUSH, 9, PUSH, 8, PUSH, 7];
    expect(runBytes([...code, PICK, 0])).toBe(7);
    expect(runBytes([...code, PICK, 1])).toBe(8);
    expect(runBytes([...code, PICK, 2])).toBe(9);
    expect(runBytes([...code, PICK, 2, POP])).toBe(7); // a copy, not a move
    expect(run("PUSH 5\nPICK 0\nADD")).toBe(10);
  });

  it("PUT i pops v and stores it i below the new top", () => {
    const values = [1, 2, 7, -3];
    let code: number[] = [];
    for (let k = 0; k < values.length; k++) code.push(PUSH, 0);
    values.forEach((v, i) => code.push(PUSH, v, PUT, i));
    for (let i = 0; i < values.length; i++) expect(runBytes([...code, PICK, i])).toBe(values[i]);
    code = [PUSH, 1, PUSH, 2, PUSH, 3, PUT, 1, POP]; // [1 2] then 3 stored over 1
    expect(runBytes(code)).toBe(3);
    expect(run("PUSH 1\nPUSH 2\nPUSH 3\nPUT 0")).toBe(3);
    expect(run("PUSH 1\nPUSH 2\nPUSH 3\nPUT 0\nPOP")).toBe(1);
  });

  it("arithmetic: b op a, where a is the top", () => {
    const cases: [number, number, number[]][] = [
      [2, 4, [6, -2, 8, 0]],
      [4, 2, [6, 2, 8, 2]],
      [-4, -2, [-6, -2, 8, 2]],
      [9, -3, [6, 12, -27, -3]],
      [7, 2, [9, 5, 14, 3]],
      [-7, 2, [-5, -9, -14, -3]], // DIV truncates toward zero (PyPy would give -4)
      [7, -2, [5, 9, -14, -3]],
      [0, 9, [9, -9, 0, 0]],
    ];
    for (const [b, a, [sum, diff, prod, quot]] of cases) {
      const code = [PUSH, b, PUSH, a];
      expect(runBytes([...code, ADD])).toBe(sum);
      expect(runBytes([...code, SUB])).toBe(diff);
      expect(runBytes([...code, MUL])).toBe(prod);
      expect(runBytes([...code, DIV])).toBe(quot);
    }
    expect(run("PUSH 100\nPUSH 42\nADD")).toBe(142);
    expect(run("PUSH 100\nPUSH 42\nSUB")).toBe(58);
    expect(run("PUSH 100\nPUSH 42\nMUL")).toBe(4200);
    expect(run("PUSH 100\nPUSH 42\nDIV")).toBe(2);
  });

  it("arithmetic wraps to 32 bits", () => {
    expect(run("PUSHARG\nPUSH 1\nADD", INT_MAX)).toBe(INT_MIN);
    expect(run("PUSHARG\nPUSH 1\nSUB", INT_MIN)).toBe(INT_MAX);
    expect(run("PUSHARG\nPUSHARG\nMUL", 65536)).toBe(0);
    expect(run("PUSHARG\nPUSHARG\nMUL", 46341)).toBe(-2147479015);
    expect(run("PUSHARG\nPUSH -1\nDIV", INT_MIN)).toBe(INT_MIN);
    expect(run("PUSHARG\nPUSH -1\nMUL", INT_MIN)).toBe(INT_MIN);
    expect(run("PUSHARG\nPUSH 7\nDIV", INT_MAX)).toBe(306783378);
  });

  it("arithmetic agrees with int32 semantics on any operands", () => {
    const i32 = fc.integer({ min: INT_MIN, max: INT_MAX });
    fc.assert(
      fc.property(i32, i32, (b, a) => {
        expect(binop(ADD, b, a)).toBe((b + a) | 0);
        expect(binop(SUB, b, a)).toBe((b - a) | 0);
        expect(binop(MUL, b, a)).toBe(Math.imul(b, a));
        if (a !== 0)
          expect(binop(DIV, b, a)).toBe(Number(BigInt.asIntN(32, BigInt(b) / BigInt(a))));
        expect(binop(LT, b, a)).toBe(b < a ? 1 : 0);
      }),
      { numRuns: 200 },
    );
  });

  it("comparisons push 1 or 0", () => {
    const pairs = [
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
      [-1, 0],
      [0, -1],
      [-1, -1],
      [1, -1],
      [-1, 1],
    ];
    const ops: [number, (b: number, a: number) => boolean][] = [
      [EQ, (b, a) => b === a],
      [NE, (b, a) => b !== a],
      [LT, (b, a) => b < a],
      [LE, (b, a) => b <= a],
      [GT, (b, a) => b > a],
      [GE, (b, a) => b >= a],
    ];
    for (const [op, f] of ops) {
      for (const [b, a] of pairs) {
        expect(runBytes([PUSH, b, PUSH, a, op])).toBe(f(b, a) ? 1 : 0);
      }
    }
    expect(run("PUSH 3\nPUSH 5\nLT")).toBe(1);
    expect(run("PUSH 3\nPUSH 5\nGT")).toBe(0);
    expect(run("PUSH 5\nPUSH 5\nLE")).toBe(1);
    expect(run("PUSH 5\nPUSH 5\nGE")).toBe(1);
    expect(run("PUSH 5\nPUSH 5\nEQ")).toBe(1);
    expect(run("PUSH 5\nPUSH 5\nNE")).toBe(0);
    // the comparison is signed over all 32 bits
    expect(run("PUSHARG\nPUSH 0\nLT", INT_MIN)).toBe(1);
    expect(run("PUSHARG\nPUSHARG\nPUSH 1\nADD\nGT", INT_MAX)).toBe(1);
  });

  it("BR_COND jumps forward when the popped value is non-zero", () => {
    expect(runBytes([PUSH, 1, PUSH, 0, BR_COND, 2, PUSH, -1])).toBe(-1);
    expect(runBytes([PUSH, 1, PUSH, 1, BR_COND, 2, PUSH, -1])).toBe(1);
    expect(runBytes([PUSH, 1, PUSH, -1, BR_COND, 2, PUSH, -1])).toBe(1);
    expect(runBytes([PUSH, 7, PUSH, 1, BR_COND, 0])).toBe(7);
  });

  it("BR_COND jumps backwards", () => {
    const code = [PUSH, 0, PUSH, 1, BR_COND, 6, PUSH, -1, PUSH, 3, BR_COND, 4, PUSH, 2];
    expect(runBytes([...code, BR_COND, -10])).toBe(-1);
  });

  it("BR_COND to exactly the end ends the program", () => {
    expect(runBytes([PUSH, 5, PUSH, 1, BR_COND, 2, PUSH, 9])).toBe(5);
    expect(run("PUSH 5\nPUSH 1\nBR_COND end\nPUSH 9\nend:")).toBe(5);
  });

  it("BR_COND_STK pops the offset, then the condition; relative to the next instruction", () => {
    // [c, off]: off 2 skips PUSH 9 and lands on the NOP.
    expect(runBytes([PUSH, 5, PUSH, 1, PUSH, 2, BR_COND_STK, PUSH, 9, NOP])).toBe(5);
    expect(runBytes([PUSH, 5, PUSH, 0, PUSH, 2, BR_COND_STK, PUSH, 9, NOP])).toBe(9);
    expect(runBytes([PUSH, 5, PUSH, -3, PUSH, 2, BR_COND_STK, PUSH, 9, NOP])).toBe(5);
    // to exactly the end
    expect(runBytes([PUSH, 5, PUSH, 1, PUSH, 2, BR_COND_STK, PUSH, 9])).toBe(5);
    // backwards, a countdown: n = 2; loop (at 2): n = n - 1; if n != 0: goto loop
    const down = [PUSH, 2, PUSH, 1, SUB, PICK, 0, PUSH, -8, BR_COND_STK, PUSH, 42];
    expect(runBytes(down)).toBe(42);
    expect(runBytes([...down, POP])).toBe(0);
    // an offset off the stack may exceed a byte
    const far = [PUSH, 1, PUSHARG, PUSH, 1, SWAP, BR_COND_STK, ...new Array(300).fill(NOP)];
    far.push(PUSH, 3); // at 307
    expect(runBytes(far, 300)).toBe(3);
    expect(runBytes(far, 302)).toBe(1); // to the very end
  });

  it("CALL runs the target with a fresh stack and argument 0, pushing its result", () => {
    expect(runBytes([CALL, 1, RETURN, PUSH, 2])).toBe(2);
    expect(runBytes([PUSH, 6, CALL, 2, MUL, RETURN, PUSH, 7, RETURN])).toBe(42);
    expect(runBytes([PUSH, 1, CALL, 1, RETURN, PUSHARG, RETURN], 55)).toBe(0);
    // the callee's stack is fresh: POP there underflows though the caller's stack has items
    expect(vmError(() => runBytes([PUSH, 1, CALL, 1, RETURN, POP, PUSH, 3]))).toBe(
      "stack underflow",
    );
    expect(run("PUSH 1\nCALL f\nADD\nRETURN\nf: PUSH 9\nRETURN")).toBe(10);
  });

  it("RETURN returns the top; running off the end too", () => {
    expect(runBytes([PUSH, 7, RETURN, PUSH, 5])).toBe(7);
    expect(runBytes([PUSH, 7, PUSH, 5])).toBe(5);
  });

  it("PUSHARG pushes the argument", () => {
    expect(run("PUSHARG", 123456)).toBe(123456);
    expect(runBytes([PUSHARG, PUSHARG, ADD], -21)).toBe(-42);
    expect(run("PUSHARG", INT_MIN)).toBe(INT_MIN);
  });
});

describe("TL errors", () => {
  it("stack underflow", () => {
    expect(vmError(() => runBytes([]))).toBe("stack underflow");
    expect(vmError(() => runBytes([NOP]))).toBe("stack underflow");
    expect(vmError(() => runBytes([POP]))).toBe("stack underflow");
    expect(vmError(() => runBytes([RETURN]))).toBe("stack underflow");
    expect(vmError(() => runBytes([PUSH, 1, POP, NOP]))).toBe("stack underflow");
    expect(vmError(() => runBytes([PUSH, 1, SWAP]))).toBe("stack underflow");
    for (const op of [ADD, SUB, MUL, DIV, EQ, NE, LT, LE, GT, GE, BR_COND_STK]) {
      expect(vmError(() => runBytes([op]))).toBe("stack underflow");
      expect(vmError(() => runBytes([PUSH, 100, op]))).toBe("stack underflow");
    }
    expect(vmError(() => runBytes([BR_COND, 0]))).toBe("stack underflow");
    expect(vmError(() => runBytes([PUT, 0]))).toBe("stack underflow");
    expect(vmError(() => run("PUSH 1\nBR_COND end\nend:"))).toBe("stack underflow");
  });

  it("stack overflow: a frame holds as many items as the program has bytes", () => {
    expect(runBytes([PUSHARG, PUSHARG, PUSHARG], 4)).toBe(4); // exactly full
    expect(vmError(() => runBytes([PUSHARG, PUSH, 1, BR_COND, -5]))).toBe("stack overflow");
    expect(vmError(() => run("loop: PUSH 1\nPUSH 1\nBR_COND loop"))).toBe("stack overflow");
    expect(vmError(() => run("PUSH 1\nloop: PICK 0\nPUSH 1\nBR_COND loop"))).toBe("stack overflow");
    // Each pass leaves one result of f: the 10th result is pushed onto a full stack (10 bytes).
    const calls = "loop: PUSH 1\nCALL f\nSWAP\nBR_COND loop\nf: PUSH 1\nRETURN";
    expect(vmError(() => run(calls))).toBe("stack overflow");
  });

  it("PICK, PUT and ROLL beyond the stack", () => {
    const msg = "stack index out of range";
    expect(vmError(() => runBytes([PICK, 0]))).toBe(msg);
    expect(vmError(() => runBytes([PUSH, 1, PUSH, 2, PICK, 2]))).toBe(msg);
    expect(vmError(() => runBytes([PUSH, 1, PICK, -1]))).toBe(msg);
    expect(vmError(() => runBytes([PUSH, 1, PUT, 0]))).toBe(msg);
    expect(vmError(() => runBytes([PUSH, 1, PUSH, 2, PUSH, 3, PUT, 2]))).toBe(msg);
    expect(vmError(() => runBytes([PUSH, 1, PUSH, 2, PUT, -1]))).toBe(msg);
    expect(vmError(() => runBytes([PUSH, 1, PUSH, 2, PUSH, 3, ROLL, 4]))).toBe(msg);
    expect(vmError(() => runBytes([PUSH, 1, PUSH, 2, PUSH, 3, ROLL, -4]))).toBe(msg);
    expect(vmError(() => runBytes([ROLL, 2]))).toBe(msg);
    expect(vmError(() => run("PUSH 1\nROLL -2"))).toBe(msg);
  });

  it("division by zero", () => {
    expect(vmError(() => runBytes([PUSH, 1, PUSH, 0, DIV]))).toBe("division by zero");
    expect(vmError(() => run("PUSH 0\nPUSH 0\nDIV"))).toBe("division by zero");
  });

  it("unknown opcode, 0 and 24..255", () => {
    for (const op of [0, 24, 35, 128, 255]) {
      expect(vmError(() => runBytes([PUSH, 1, op]))).toBe("unknown opcode");
    }
    expect(vmError(() => run(".byte 0"))).toBe("unknown opcode");
  });

  it("INVALID", () => {
    expect(vmError(() => runBytes([INVALID]))).toBe("INVALID instruction");
    expect(vmError(() => run("PUSH 1\nINVALID"))).toBe("INVALID instruction");
  });

  it("missing operand for every opcode that takes one", () => {
    for (const op of [PUSH, ROLL, PICK, PUT, BR_COND, CALL]) {
      expect(vmError(() => runBytes([op]))).toBe("missing operand");
      expect(vmError(() => runBytes([PUSH, 1, PUSH, 1, op]))).toBe("missing operand");
    }
    expect(vmError(() => run("PUSH 1\n.byte 2"))).toBe("missing operand");
  });

  it("branch out of range: one beyond the end, or below 0", () => {
    const msg = "branch out of range";
    expect(vmError(() => runBytes([PUSH, 1, BR_COND, 1]))).toBe(msg);
    expect(vmError(() => runBytes([PUSH, 1, BR_COND, -5]))).toBe(msg);
    expect(vmError(() => runBytes([PUSH, 1, PUSH, 1, PUSH, 2, BR_COND_STK]))).toBe(msg);
    expect(vmError(() => runBytes([PUSH, 1, PUSH, -8, BR_COND_STK]))).toBe(msg);
    expect(vmError(() => runBytes([PUSH, 1, PUSHARG, BR_COND_STK], INT_MAX))).toBe(msg);
    expect(vmError(() => runBytes([PUSH, 1, PUSHARG, BR_COND_STK], INT_MIN))).toBe(msg);
    expect(vmError(() => runBytes([CALL, 1]))).toBe(msg);
    expect(vmError(() => runBytes([CALL, -3]))).toBe(msg);
    expect(vmError(() => runBytes([CALL, -2]))).toBe("call depth exceeded"); // 0 is in range
    // not taken: no check
    expect(runBytes([PUSH, 0, BR_COND, 100, PUSH, 4])).toBe(4);
    expect(runBytes([PUSH, 0, PUSH, 100, BR_COND_STK, PUSH, 4])).toBe(4);
  });

  it("CALL to exactly the end: the callee's fresh stack underflows", () => {
    expect(vmError(() => runBytes([PUSH, 1, CALL, 0]))).toBe("stack underflow");
  });

  it("call depth exceeded: the top level is depth 0, depth 1001 is an error", () => {
    // `CALL 1; RETURN` n times, then `PUSH 7`: the frame at 3k calls the one at 3k + 3.
    const chain = (n: number): number[] => [
      ...Array.from({ length: n }, () => [CALL, 1, RETURN]).flat(),
      PUSH,
      7,
    ];
    expect(runBytes(chain(1000))).toBe(7);
    expect(vmError(() => runBytes(chain(1001)))).toBe("call depth exceeded");
    // unbounded recursion
    expect(vmError(() => run("f: CALL f"))).toBe("call depth exceeded");
  });
});

describe("TL programs", () => {
  const load = (name: string): Uint8Array => {
    const path = `interpreters/programs/${name}`;
    return langs.tl.load(readFileSync(path, "utf8"), path);
  };

  it("factorial.tl", () => {
    const code = load("factorial.tl");
    expect(interpret(code, 6)).toBe(720);
    expect(interpret(code, 0)).toBe(1);
    expect(interpret(code, 1)).toBe(1);
    expect(interpret(code, 7)).toBe(5040);
    expect(interpret(code, 12)).toBe(479001600);
    expect(interpret(code, 13)).toBe(1932053504); // 13! wrapped
  });

  it("fibonacci.tl", () => {
    const code = load("fibonacci.tl");
    expect(interpret(code, 10)).toBe(55);
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => interpret(code, n))).toEqual([0, 1, 1, 2, 3, 5, 8]);
    expect(interpret(code, 46)).toBe(1836311903);
    expect(interpret(code, 47)).toBe(-1323752223); // 2971215073 wrapped
  });

  it("loop.tl", () => {
    const code = load("loop.tl");
    expect(interpret(code, 0)).toBe(0);
    expect(interpret(code, 100)).toBe(5050);
    expect(interpret(code, 1000000)).toBe(1784293664); // 500000500000 wrapped
  });

  it("call.tl", () => {
    const code = load("call.tl");
    expect(interpret(code, 5)).toBe(210);
    expect(interpret(code, 0)).toBe(0);
    expect(interpret(code, 1000)).toBe(42000);
  });

  it("brstk.tl", () => {
    const code = load("brstk.tl");
    expect(interpret(code, 0)).toBe(1);
    expect(interpret(code, 10)).toBe(1024);
    expect(interpret(code, 31)).toBe(INT_MIN);
    expect(interpret(code, 32)).toBe(0);
    expect(langs.tl.native(code, [3])).toBe(8);
  });
});

describe("TL fuel", () => {
  it("one step per instruction", () => {
    const code = Uint8Array.from([PUSH, 2, PUSH, 3, ADD]);
    setFuel(3);
    expect(interpret(code, 0)).toBe(5);
    setFuel(2);
    expect(vmError(() => interpret(code, 0))).toBe("step limit exceeded");
  });

  it("stops an infinite loop", () => {
    setFuel(10000);
    expect(vmError(() => run("loop: PUSH 1\nBR_COND loop"))).toBe("step limit exceeded");
    setFuel(undefined);
    expect(run("PUSH 3")).toBe(3);
  });
});
