//! What `futamura view`'s page shows, as data: gathered from one run (`gather.ts`), written into
//! the page as JSON and read by its script (`script.js`). Residual code and machine code are
//! tied to the program by position (the merge point's green position: a TL pc, a Brainfuck
//! offset) and to the interpreter by source line, as the residual operations carry them.

import type { LoggedEvent } from "../../runtime/events.ts";

export interface ViewData {
  title: string;
  run: RunSummary;
  /** The program, a line per instruction (`instructions`: a language with an instruction set)
   *  or a character per byte (`bytes`: Brainfuck, whose positions are source offsets). */
  listing: { kind: "instructions" | "bytes"; lines: ListingLine[] };
  /** What went where, by position (the key: the position's number). */
  positions: Record<string, PositionCounts>;
  /** The interpreter's source, a line each, with each line's binding time: `g` every operation
   *  on it green (done by the specialiser), `r` every one red (left in the residual code), `m`
   *  both, `""` none. */
  source: { file: string; lines: string[]; bt: ("g" | "r" | "m" | "")[] };
  /** The residual graphs as they were made, in blocks of residual lines (indices into
   *  `rlines`). */
  graphs: { name: string; blocks: { head: string; lines: number[] }[] }[];
  /** Residual lines, an operation or terminator each: text, position (-1: none: made by a
   *  clean-up pass, or a block shared by all positions), interpreter line (0: none), and
   *  the block it is in (an index counting every graph's blocks in order). */
  rlines: [text: string, position: number, line: number, block: number][];
  /** Machine code, a run of instructions per function of a compilation: where it starts, and
   *  each instruction's offset from there, size, Intel-syntax text and residual line (-1:
   *  the runtime's own code, a prologue). */
  code: { graph: string; address: string; instrs: [number, number, string, number][] }[];
  /** The JIT's events (`runtime/events.ts`), at most `MAX_EVENTS`; `eventsLeft` not kept. */
  events: LoggedEvent[];
  eventsLeft: number;
  /** The run's `--stats`. */
  stats: Record<string, unknown>;
}

export interface RunSummary {
  lang: string;
  program: string;
  args: number[];
  backend: string;
  value?: number;
  error?: string;
  /** What the program wrote (latin1), at most `MAX_OUTPUT` bytes; `outputBytes` in all. */
  output: string;
  outputBytes: number;
}

export interface ListingLine {
  position: number;
  text: string;
}

/** Where code and time went at one position. */
export interface PositionCounts {
  /** Residual operations and terminators made at it. */
  ops: number;
  /** Bytes of machine code made from them. */
  bytes: number;
  /** Hot states the first tier offered there (each about a threshold of its passes). */
  hot: number;
  /** Entries compiled for hot states there. */
  compiles: number;
  /** Milliseconds in compiled code entered at graphs compiled there (`leave` events). */
  ms: number;
}

export const MAX_EVENTS = 50_000;
export const MAX_OUTPUT = 64 << 10;
