//! The conventions every stage of the x86-64 backend shares: which registers hold what, how
//! the state buffer at the start of the arena is laid out, and the statuses compiled code
//! leaves with.
//!
//! One memory block per run (the arena, a DataBlock) holds, in order: the state buffer (what the
//! entry trampoline and the JS side exchange), the program's data constants (the bytecode), and
//! the heap the residual code allocates arrays from. `r15` points at its start for the whole
//! run, so a data constant or a state field is one `[r15 + disp32]` away and the code embeds no
//! absolute address: it is position independent, and only the arena changes from run to run.

import type { ClassDecl } from "../ir/types.ts";
import { Reg } from "./encode.ts";

/** Holds the arena's address in all compiled code (callee-saved, so calls out to JS keep it). */
export const STATE = Reg.r15;
/** Never allocated: instruction selection and the parallel moves use them for a moment. */
export const SCRATCH1 = Reg.r11;
export const SCRATCH2 = Reg.r10;

/** Caller-saved allocatable registers, in order of preference. */
export const CALLER_SAVED: readonly Reg[] = [
  Reg.rax,
  Reg.rcx,
  Reg.rdx,
  Reg.rsi,
  Reg.rdi,
  Reg.r8,
  Reg.r9,
];
/** Callee-saved allocatable registers (rbx, rbp, r12-r14; r15 is STATE). */
export const CALLEE_SAVED: readonly Reg[] = [Reg.rbx, Reg.rbp, Reg.r12, Reg.r13, Reg.r14];
/** Every register the allocator may hand out. */
export const ALLOCATABLE: readonly Reg[] = [...CALLER_SAVED, ...CALLEE_SAVED];
/** What a call may overwrite: the caller-saved allocatable registers and the scratches. */
export const CLOBBERED_BY_CALL: readonly Reg[] = [...CALLER_SAVED, SCRATCH1, SCRATCH2];

// ------------------------------------------------------------------------- state buffer

/** Byte offsets of the state buffer's fields (each 8 bytes unless said otherwise). */
export const S = {
  /** rsp of the entry trampoline: raise, exit and fuel exhaustion return through it. */
  savedRsp: 0,
  /** Compiled code raises a stack overflow when rsp goes below this. */
  stackLimit: 8,
  /** How much of the native stack compiled code may use, set by the runtime. */
  stackBudget: 16,
  /** The next free byte of the heap, and the end of the arena. */
  bump: 24,
  arenaEnd: 32,
  /** Steps left (int64); unused when the residual code has no `fuel` operations. */
  fuel: 40,
  /** Addresses of the JS callbacks for `io_read` and `io_write`. */
  ioRead: 48,
  ioWrite: 56,
  /** The address of the graph the trampoline calls. */
  entry: 64,
  /** The entry graph's result. */
  result: 72,
  /** A raise's message index, or an exit's status (4 bytes); an exit's number of values (4). */
  payload: 80,
  count: 84,
  /** The address of the JS callback that finds where an exit site leads, and where it puts
   *  that address (see `native.ts`). */
  resolve: 88,
  target: 96,
  /** The exit site being resolved (4 bytes) and the exit's value (4 bytes: a promoted value,
   *  which a promotion's dispatch compares). */
  site: 104,
  value: 108,
  /** rsp at the exit thunk (the bottom of the run's stack there: the exit may leave the run). */
  exitRsp: 112,
  /** The lowest stack limit allowed: a run inside a callback of another (tiers) shares the
   *  stack with it, so its limit is the outer run's, not its own rsp less the budget (0: none). */
  stackFloor: 120,
  /** The entry's arguments on the way in, an exit's state on the way out, and an exit's values
   *  past the sixth on the way to where it goes on (8 bytes each). */
  args: 128,
  /** The address of the JS callback for container operations (`objects.ts`), and what the
   *  last one left: 0, or `HEAP_FULL` (4 bytes). */
  heapOp: 640,
  heapFail: 648,
  /** The object region's next free byte and its end, as offsets from the arena's start
   *  (4 bytes each): objects, lists and maps are bump-allocated there and never freed. */
  objBump: 656,
  objEnd: 660,
  /** Where the region counts as nearly full: a safepoint past it collects (`region_low`). */
  objLow: 664,
  /** The root stack's top and end (`roots.ts`), offsets from the arena's start (4 bytes
   *  each): the references callers keep across the calls under way. */
  rootTop: 668,
  rootEnd: 672,
} as const;

/** Entry arguments and exit values the state buffer has room for. */
export const MAX_STATE_ARGS = 64;
/** The state buffer's size; data constants start here. */
export const STATE_BYTES = 1024;

/** An array in the arena: a 4-byte length, 4 bytes of padding, then the items. */
export const ARRAY_HEADER = 8;

// ------------------------------------------------------------------------- objects

// Objects, lists and maps live in the arena's object region; a reference is the offset of one
// from the arena's start (32 bits, position independent: `[r15 + ref + disp]`), null is 0.
// Every value they hold takes 4 bytes (an i32, a bool as 0/1, a reference).
/** An object: its class id, then its fields in the class's order. */
export const OBJECT_HEADER = 4;
/** The bytes an object of `cls` takes (header, fields, padded to 8: the allocator fills qwords). */
export function objectBytes(cls: ClassDecl): number {
  return Math.ceil((OBJECT_HEADER + 4 * cls.fields.length) / 8) * 8;
}

/** A list: its length, its capacity, the offset of its items (a buffer of its own). */
export const LIST_LENGTH = 0;
export const LIST_CAPACITY = 4;
export const LIST_ITEMS = 8;
export const LIST_BYTES = 16;
/** A map: the index of its table (JavaScript's side of the run, `objects.ts`). */
export const MAP_TABLE = 0;
export const MAP_BYTES = 8;
/** What `S.heapFail` says after a container operation that could not be done. */
export const HEAP_FULL = 1;

// ------------------------------------------------------------------------- statuses

/** How a run of compiled code ended (the trampoline's return value). */
export const Status = {
  returned: 0,
  /** An interpreter error: the message's index is in the payload. */
  raised: 1,
  /** An `exit` terminator: the status is in the payload, the state in the args area. */
  exited: 2,
  /** Not an interpreter error: the limits of the native run. */
  arenaFull: 3,
  stackOverflow: 4,
  /** Finding a continuation failed in JS; the run rethrows its error. */
  failed: 5,
  /** An I/O callback failed (the reader of the output went away, the disk is full); the run
   *  rethrows the failure the callback kept. */
  ioFailed: 6,
  /** An exit left the run (tiers: the first tier goes on from its state, which JS kept). */
  left: 7,
  /** The object region is full (what is live fills it between safepoints). */
  objectsFull: 8,
} as const;

/** The container operations compiled code asks JavaScript to do (`objects.ts`), by number:
 *  the first argument of the `S.heapOp` callback. */
export const HeapOp = {
  list_push: 1,
  list_pop: 2,
  list_insert: 3,
  list_remove: 4,
  new_map: 5,
  map_get: 6,
  map_has: 7,
  map_set: 8,
  map_delete: 9,
  map_size: 10,
} as const;
