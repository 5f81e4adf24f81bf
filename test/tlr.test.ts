// Unit tests of the TLR interpreter: every opcode, every error, the example program, fuel.

import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { setFuel, VmError } from "../runtime/hints.ts";
import { langs } from "../generator/language.ts";
import { interpret } from "../interpreters/tlr.ts";

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

/** Assembles `src` as TLR and runs it with argument `arg`. */
function run(src: string, arg = 0): number {
  return interpret(langs.tlr.load(src, "test.tlr"), arg);
}

/** Runs raw bytecode. */
function runBytes(bytes: number[], arg = 0): number {
  return interpret(Uint8Array.from(bytes), arg);
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

afterEach(() => setFuel(undefined));

describe("TLR opcodes", () => {
  it("RETURN_A returns the accumulator, which starts as the argument", () => {
    expect(run("RETURN_A", 17)).toBe(17);
    expect(run("RETURN_A", -5)).toBe(-5);
    expect(runBytes([6], INT_MIN)).toBe(INT_MIN);
  });

  it("SET_A loads an unsigned byte", () => {
    expect(run("SET_A 42\nRETURN_A", 9)).toBe(42);
    expect(runBytes([4, 255, 6])).toBe(255);
    expect(runBytes([4, 0, 6], 9)).toBe(0);
  });

  it("ALLOCATE makes zeroed registers; MOV_A_R and MOV_R_A move through them", () => {
    expect(run("ALLOCATE 2\nMOV_A_R 1\nSET_A 3\nMOV_R_A 1\nRETURN_A", 77)).toBe(77);
    expect(runBytes([7, 2, 1, 1, 4, 3, 2, 1, 6], 77)).toBe(77);
    expect(run("ALLOCATE 1\nMOV_R_A 0\nRETURN_A", 5)).toBe(0);
    expect(runBytes([7, 255, 2, 254, 6], 5)).toBe(0); // register 254 of 255
  });

  it("ALLOCATE replaces the registers with fresh zeros", () => {
    expect(run("ALLOCATE 1\nMOV_A_R 0\nALLOCATE 1\nMOV_R_A 0\nRETURN_A", 5)).toBe(0);
  });

  it("ADD_R_TO_A adds a register, wrapping to 32 bits", () => {
    expect(run("ALLOCATE 1\nMOV_A_R 0\nADD_R_TO_A 0\nRETURN_A", 21)).toBe(42);
    expect(runBytes([7, 1, 1, 0, 5, 0, 6], -8)).toBe(-16);
    expect(run("ALLOCATE 1\nMOV_A_R 0\nADD_R_TO_A 0\nRETURN_A", INT_MAX)).toBe(-2);
    expect(run("ALLOCATE 1\nMOV_A_R 0\nADD_R_TO_A 0\nRETURN_A", INT_MIN)).toBe(0);
  });

  it("NEG_A negates, wrapping -INT_MIN to INT_MIN", () => {
    expect(run("NEG_A\nRETURN_A", 5)).toBe(-5);
    expect(runBytes([8, 6], -7)).toBe(7);
    expect(run("NEG_A\nRETURN_A", INT_MAX)).toBe(-INT_MAX);
    expect(run("NEG_A\nRETURN_A", INT_MIN)).toBe(INT_MIN);
    expect(Object.is(run("NEG_A\nRETURN_A", 0), 0)).toBe(true); // not -0
  });

  it("JUMP_IF_A jumps to an absolute address when a != 0, else falls through", () => {
    const src = "JUMP_IF_A yes\nSET_A 1\nRETURN_A\nyes: SET_A 2\nRETURN_A";
    expect(run(src, 0)).toBe(1);
    expect(run(src, 9)).toBe(2);
    expect(run(src, -1)).toBe(2);
    expect(runBytes([3, 5, 4, 1, 6, 4, 2, 6], 3)).toBe(2);
    // backwards: a = 3 counts down to 0 through the loop at 4 (NEG_A; ADD 1; NEG_A).
    const down =
      "ALLOCATE 1\nSET_A 1\nMOV_A_R 0\nSET_A 3\nloop: NEG_A\nADD_R_TO_A 0\nNEG_A\nJUMP_IF_A loop\nRETURN_A";
    expect(run(down)).toBe(0);
  });
});

describe("TLR errors", () => {
  it("register index out of range, also before any ALLOCATE", () => {
    expect(vmError(() => run("MOV_A_R 0\nRETURN_A"))).toBe("register index out of range");
    expect(vmError(() => run("MOV_R_A 0\nRETURN_A"))).toBe("register index out of range");
    expect(vmError(() => run("ADD_R_TO_A 0\nRETURN_A"))).toBe("register index out of range");
    expect(vmError(() => runBytes([7, 2, 1, 2, 6]))).toBe("register index out of range");
    expect(vmError(() => runBytes([7, 2, 2, 2, 6]))).toBe("register index out of range");
    expect(vmError(() => runBytes([7, 2, 5, 255, 6]))).toBe("register index out of range");
    expect(vmError(() => runBytes([7, 0, 2, 0, 6]))).toBe("register index out of range");
  });

  it("unknown opcode, 0 and 9..255", () => {
    for (const op of [0, 9, 23, 128, 255]) {
      expect(vmError(() => runBytes([op, 6]))).toBe("unknown opcode");
    }
    expect(vmError(() => run("SET_A 1\n.byte 9"))).toBe("unknown opcode");
  });

  it("missing operand for every opcode that takes one", () => {
    for (const op of [1, 2, 3, 4, 5, 7]) {
      expect(vmError(() => runBytes([op]))).toBe("missing operand");
      expect(vmError(() => runBytes([8, op]))).toBe("missing operand");
    }
    expect(vmError(() => run("NEG_A\n.byte 4"))).toBe("missing operand");
  });

  it("pc past the end: running off the end or jumping beyond it", () => {
    expect(vmError(() => runBytes([]))).toBe("pc past the end");
    expect(vmError(() => run("SET_A 1"))).toBe("pc past the end");
    expect(vmError(() => runBytes([3, 2], 1))).toBe("pc past the end"); // to the length
    expect(vmError(() => runBytes([3, 200, 6], 1))).toBe("pc past the end");
    expect(runBytes([3, 200, 6], 0)).toBe(0); // not taken
  });
});

describe("TLR programs", () => {
  const path = "interpreters/programs/square.tlr";
  const square = langs.tlr.load(readFileSync(path, "utf8"), path);

  it("square.tlr is PyPy's SQUARE byte for byte", () => {
    expect(Array.from(square)).toEqual([
      7, 3, 1, 0, 1, 1, 4, 0, 1, 2, 4, 1, 8, 5, 0, 1, 0, 2, 2, 5, 1, 1, 2, 2, 0, 3, 10, 2, 2, 6,
    ]);
  });

  it("square.tlr squares", () => {
    expect(interpret(square, 7)).toBe(49);
    expect(interpret(square, 1)).toBe(1);
    expect(interpret(square, 1000)).toBe(1000000);
    expect(interpret(square, 65536)).toBe(0); // 2^32 wraps
    expect(langs.tlr.native(square, [12])).toBe(144);
  });
});

describe("TLR fuel", () => {
  it("one step per instruction", () => {
    const code = langs.tlr.load("SET_A 1\nNEG_A\nRETURN_A", "f.tlr");
    setFuel(3);
    expect(interpret(code, 0)).toBe(-1);
    setFuel(2);
    expect(vmError(() => interpret(code, 0))).toBe("step limit exceeded");
  });

  it("stops an infinite loop", () => {
    setFuel(10000);
    expect(vmError(() => run("SET_A 1\nloop: JUMP_IF_A loop"))).toBe("step limit exceeded");
    setFuel(undefined);
    expect(run("RETURN_A", 3)).toBe(3);
  });
});
