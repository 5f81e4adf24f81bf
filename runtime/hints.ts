//! Hints an interpreter author adds to a plain TypeScript interpreter.
//!
//! Natively they do (almost) nothing: the interpreter runs as ordinary code. The frontend
//! recognises them by name and turns them into IR: `mergePoint` becomes a `merge_point`
//! operation naming the greens and reds, `promote` a `promote` operation. The driver also
//! carries the fuel budget, so every backend charges steps at exactly the same places.

/** The error an interpreter throws for a fault of the program it runs. Its message is what
 *  every backend must reproduce exactly. */
export class VmError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "VmError";
  }
}

/** The error a language's loader (its assembler, its parser: ordinary TypeScript beside the
 *  interpreter) throws for a program text it cannot load; the message names the place,
 *  `file:line: message`. The command line reports it as a load error (exit 2). */
export class LoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LoadError";
  }
}

/** The message of the fuel error, shared by every backend. */
export const STEP_LIMIT = "step limit exceeded";

/** Steps left, or -1 when no budget is set (then a step costs one comparison). */
let fuel = -1;

/** Sets the step budget for the next run; `undefined` removes it. */
export function setFuel(steps: number | undefined): void {
  fuel = steps === undefined ? -1 : steps;
}

/** Steps left, or -1 without a budget: compiled code takes the budget on entry and hands
 *  back what is left, so one budget spans every backend of a run. */
export function getFuel(): number {
  return fuel;
}

/** Charges one step; false once the budget is spent. */
export function spend(): boolean {
  return fuel < 0 || fuel-- !== 0;
}

/** Charges one step; the error once the budget is spent. */
export function step(): void {
  if (!spend()) throw new VmError(STEP_LIMIT);
}

export interface DriverSpec {
  /** Variables known at compile time at the merge point: the bytecode, the pc. */
  greens: string[];
  /** Variables that exist only at run time: accumulators, registers, the tape. */
  reds: string[];
  /** Green arrays whose contents never change (the bytecode): reads from them fold. */
  immutable?: string[];
  /** Reds holding the interpreter's frame, an object (PyPy's virtualizables): where compiled
   *  code is entered, its fields and the lists it holds are read into virtuals, and written
   *  back into the same objects where the code leaves or they escape. The contract is PyPy's:
   *  while compiled code runs, the frame and its lists are reached only through this red. */
  virtualizables?: string[];
}

/** In the spirit of PyPy's JitDriver: declares the greens and reds of one dispatch loop. */
export class JitDriver {
  constructor(readonly spec: DriverSpec) {}

  /** Marks the head of the dispatch loop. Pass every green and red by name:
   *  `driver.mergePoint({ code, pc, a, regs })`. Each pass costs one step of fuel. */
  mergePoint(_vars: Record<string, unknown>): void {
    step();
  }
}

/** Turns a run-time value into a compile-time one: compiled code switches on it. An integer,
 *  or an object of an immutable class (its identity: its fields are then constants). */
export function promote<T extends number | object>(x: T): T {
  return x;
}

/** Byte-oriented input and output for interpreters that do I/O (Brainfuck). The runner
 *  installs the channel; compiled code calls the same channel. */
export interface Io {
  read(): number;
  write(byte: number): void;
}

let io: Io = {
  read: () => -1,
  write: () => {},
};

export function setIo(channel: Io): void {
  io = channel;
}

/** Reads one byte, or -1 at end of input. */
export function readByte(): number {
  return io.read();
}

/** Writes the low 8 bits of `byte`. */
export function writeByte(byte: number): void {
  io.write(byte & 255);
}
