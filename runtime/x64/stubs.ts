//! The runtime routines every compiled module starts with: the entry trampoline and the exits.
//!
//! `tramp(state)` is the one function JS calls. It saves the callee-saved registers and its rsp
//! in the state buffer, sets the stack limit, loads the entry's arguments into the argument
//! registers and calls the entry graph. Whatever depth compiled code has reached, a raise, an
//! exit, exhausted fuel or stack leave through `unwind`: restore that rsp, pop the registers,
//! return a status to JS. So no exception ever crosses machine code, and nested compiled calls
//! unwind at once.
//!
//! Code lives in chunks of executable memory (`native.ts`): each chunk starts with its own copy
//! of these routines (the trampoline only in the module's first), and the continuations placed
//! after them in the chunk reach them by rel32 (`stubsAt`). The routines only use r15 and the
//! state buffer, so any chunk's copy serves.
//!
//! `alloc4`/`alloc1` allocate a zero-filled array of `edi` items from the arena's heap (bump
//! allocation; the memory may be reused, hence the filling), or raise "invalid array length"
//! for a negative length, or leave with `arenaFull`. They follow the System V convention and
//! touch only caller-saved registers. `object` allocates a zero-filled object of `edi` bytes of
//! class `esi` from the object region and gives its reference (an offset, `objects.ts`), or
//! leaves with `objectsFull`; `list` a list of `edi` items, each `esi`, its buffer right after
//! its header (room for at least 4), or raises "invalid array length" for a negative length, or
//! leaves with `objectsFull`. `push` (list `edi`, item `esi`) stores in the buffer while it has
//! room and otherwise tail-calls the JavaScript operation (`region.ts`), which grows it; `pop`
//! (list `edi`) gives the last item and shortens the list, or 0 for an empty list, as the
//! JavaScript operation does (a buffer never shrinks). `heapFailed` is where a container operation done in JavaScript
//! that could not be done (the region full) sends the run.

import {
  ARRAY_HEADER,
  LIST_BYTES,
  LIST_CAPACITY,
  LIST_ITEMS,
  LIST_LENGTH,
  HeapOp,
  S,
  STATE,
  Status,
} from "./abi.ts";
import { ARG_REGS, Asm, Cond, Label, Reg } from "./encode.ts";

/** Callee-saved registers, as the trampoline saves them (16-byte aligned with one slot more). */
const SAVED: readonly Reg[] = [Reg.rbx, Reg.rbp, Reg.r12, Reg.r13, Reg.r14, Reg.r15];

export interface Stubs {
  /** Offset of `tramp` in the code, if there is one. */
  tramp: number | undefined;
  unwind: Label;
  /** Where a failed `resolve` sends the run: back to JS with `Status.failed`. */
  failed: Label;
  /** Where an exit site goes before it is resolved (with the site's number in r10d). */
  exitThunk: Label;
  /** Where a resolved exit goes when the rest of its graph ran in JS (a fallback): it returns
   *  the result JS left in the state buffer to the exited graph's caller. */
  fellBack: Label;
  raise: Label;
  fuelOut: Label;
  stackOut: Label;
  /** Where a failed `io_read` (-2) or `io_write` (non-zero) sends the run. */
  ioFailed: Label;
  /** Where an exit that leaves the run goes once JS has kept its state (tiers). */
  left: Label;
  alloc: Record<1 | 4, Label>;
  object: Label;
  list: Label;
  push: Label;
  pop: Label;
  heapFailed: Label;
}

/** The routines `s` (emitted at the start of a chunk) as seen from code that will be placed
 *  `at` bytes into the chunk: labels already bound, before that code's start. */
export function stubsAt(s: Stubs, at: number): Stubs {
  const l = (x: Label) => Label.at(x.pos - at);
  return {
    tramp: undefined,
    unwind: l(s.unwind),
    failed: l(s.failed),
    exitThunk: l(s.exitThunk),
    fellBack: l(s.fellBack),
    raise: l(s.raise),
    fuelOut: l(s.fuelOut),
    stackOut: l(s.stackOut),
    ioFailed: l(s.ioFailed),
    left: l(s.left),
    alloc: { 1: l(s.alloc[1]), 4: l(s.alloc[4]) },
    object: l(s.object),
    list: l(s.list),
    push: l(s.push),
    pop: l(s.pop),
    heapFailed: l(s.heapFailed),
  };
}

/** Emits the runtime routines (with the trampoline or not); messages are indexes of the
 *  module's message table. */
export function emitStubs(
  a: Asm,
  messages: { stepLimit: number; badLength: number },
  mark: (at: number, what: string) => void,
  trampoline: boolean,
): Stubs {
  const unwind = a.label();
  const raise = a.label();
  const tramp = trampoline ? emitTrampoline(a, unwind, mark) : undefined;

  const failed = a.label();
  mark(a.size, "resolving a continuation failed");
  a.bind(failed);
  a.movRI(32, Reg.rax, Status.failed);
  a.jmp(unwind);

  mark(a.size, "unwind: back to JS with the status in eax");
  a.bind(unwind);
  a.movRM(64, Reg.rsp, { base: STATE, disp: S.savedRsp });
  a.addRI(64, Reg.rsp, 8);
  for (const r of [...SAVED].reverse()) a.pop(r);
  a.ret();

  const exitThunk = a.label();
  mark(a.size, "exit thunk: JS resolves the site in r10d, then on to where it leads");
  a.bind(exitThunk);
  emitExitThunk(a);

  const fellBack = a.label();
  mark(a.size, "fell back: the exited graph's result, computed in JS");
  a.bind(fellBack);
  a.movRM(64, Reg.rax, { base: STATE, disp: S.result });
  a.ret();

  mark(a.size, "raise: the message index is in the payload");
  a.bind(raise);
  a.movRI(32, Reg.rax, Status.raised);
  a.jmp(unwind);

  // Exits that raise a runtime message, or unwind with a status of their own.
  const stub = (what: string, body: () => void) => {
    const l = a.label();
    mark(a.size, what);
    a.bind(l);
    body();
    return l;
  };
  const raising = (what: string, message: number) =>
    stub(what, () => (a.movMI(32, { base: STATE, disp: S.payload }, message), a.jmp(raise)));
  const unwinding = (what: string, status: number) =>
    stub(what, () => (a.movRI(32, Reg.rax, status), a.jmp(unwind)));
  const fuelOut = raising("fuel exhausted", messages.stepLimit);
  const stackOut = unwinding("native stack exhausted", Status.stackOverflow);
  const ioFailed = unwinding("an I/O callback failed", Status.ioFailed);
  const left = unwinding("an exit left the run", Status.left);
  const badLength = raising("invalid array length", messages.badLength);
  const full = unwinding("arena exhausted", Status.arenaFull);
  const objectsFull = unwinding("object region exhausted", Status.objectsFull);

  const alloc = { 4: a.label(), 1: a.label() };
  for (const elem of [4, 1] as const) {
    mark(a.size, `alloc${elem}: a zero-filled array of edi items of ${elem} byte(s)`);
    a.bind(alloc[elem]);
    allocRoutine(a, elem, badLength, full);
  }
  // (a routine: its label, bound where its code starts, marked for listings)
  const routine = (what: string, body: () => void): Label => {
    const at = a.label();
    mark(a.size, what);
    a.bind(at);
    body();
    return at;
  };
  const object = routine("object: a zero-filled object of edi bytes of class esi", () =>
    objectRoutine(a, objectsFull),
  );
  const list = routine("list: a list of edi items, each esi", () =>
    listRoutine(a, badLength, objectsFull),
  );
  const push = routine("push: item esi onto list edi", () => pushRoutine(a));
  const pop = routine("pop: the last item of list edi", () => popRoutine(a));
  const heapFailed = routine("a container operation failed: out of the object region", () =>
    a.jmp(objectsFull),
  );
  return {
    tramp,
    unwind,
    failed,
    exitThunk,
    fellBack,
    raise,
    fuelOut,
    stackOut,
    ioFailed,
    left,
    alloc,
    object,
    list,
    push,
    pop,
    heapFailed,
  };
}

/** Entered by a jump (after the exiting graph popped its frame) or a call (more than six
 *  arguments), so rsp is 8 mod 16 either way, with the continuation's arguments in place. It
 *  keeps the register arguments in the state buffer (where JS reads them for a fallback) while
 *  it calls `resolve(site, value)`, then restores them and jumps where JS said. */
function emitExitThunk(a: Asm): void {
  ARG_REGS.forEach((r, i) => a.movMR(64, { base: STATE, disp: S.args + 8 * i }, r));
  a.movMR(64, { base: STATE, disp: S.exitRsp }, Reg.rsp);
  a.movMR(32, { base: STATE, disp: S.site }, Reg.r10);
  a.subRI(64, Reg.rsp, 8);
  a.movRR(32, Reg.rdi, Reg.r10);
  a.movRM(32, Reg.rsi, { base: STATE, disp: S.value });
  a.callM({ base: STATE, disp: S.resolve });
  a.addRI(64, Reg.rsp, 8);
  ARG_REGS.forEach((r, i) => a.movRM(64, r, { base: STATE, disp: S.args + 8 * i }));
  a.jmpM({ base: STATE, disp: S.target });
}

/** `tramp(state)`: saves the callee-saved registers and rsp, calls the entry; its offset. */
function emitTrampoline(a: Asm, unwind: Label, mark: (at: number, what: string) => void): number {
  const at = a.size;
  mark(a.size, "entry trampoline");
  for (const r of SAVED) a.push(r);
  a.subRI(64, Reg.rsp, 8);
  a.movRR(64, STATE, Reg.rdi);
  a.movMR(64, { base: STATE, disp: S.savedRsp }, Reg.rsp);
  a.movRR(64, Reg.rax, Reg.rsp);
  a.subRM(64, Reg.rax, { base: STATE, disp: S.stackBudget });
  // Not below the floor (a run inside another's callback: the outer run's limit).
  a.movRM(64, Reg.rcx, { base: STATE, disp: S.stackFloor });
  a.cmpRR(64, Reg.rax, Reg.rcx);
  a.cmov(Cond.b, 64, Reg.rax, Reg.rcx);
  a.movMR(64, { base: STATE, disp: S.stackLimit }, Reg.rax);
  ARG_REGS.forEach((r, i) => a.movRM(64, r, { base: STATE, disp: S.args + 8 * i }));
  a.callM({ base: STATE, disp: S.entry });
  a.movMR(64, { base: STATE, disp: S.result }, Reg.rax);
  a.movRI(32, Reg.rax, Status.returned);
  a.jmp(unwind);
  return at;
}

function allocRoutine(a: Asm, elem: 1 | 4, badLength: Label, full: Label): void {
  a.testRR(32, Reg.rdi, Reg.rdi).jcc(Cond.s, badLength);
  a.movRR(32, Reg.rsi, Reg.rdi); // the length
  // rcx = size in qwords: (length * elem + header + 7) / 8, in 64 bits (no overflow).
  a.movRR(32, Reg.rcx, Reg.rdi);
  if (elem === 4) a.shlRI(64, Reg.rcx, 2);
  a.addRI(64, Reg.rcx, ARRAY_HEADER + 7);
  a.shrRI(64, Reg.rcx, 3);
  a.movRM(64, Reg.rdx, { base: STATE, disp: S.bump });
  a.lea(Reg.rax, { base: Reg.rdx, index: Reg.rcx, scale: 8 });
  a.cmpRM(64, Reg.rax, { base: STATE, disp: S.arenaEnd });
  a.jcc(Cond.a, full);
  a.movMR(64, { base: STATE, disp: S.bump }, Reg.rax);
  // rep stosq: rcx qwords of rax (0) from rdi.
  a.movRR(64, Reg.rdi, Reg.rdx);
  a.xorRR(32, Reg.rax, Reg.rax);
  a.emit(0xf3, 0x48, 0xab);
  a.movMR(32, { base: Reg.rdx }, Reg.rsi);
  a.movRR(64, Reg.rax, Reg.rdx);
  a.ret();
}

/** Takes `size` bytes (a register, a multiple of 8) of the object region: their offset in rdx
 *  (rax clobbered), or on to `full`. */
function bumpObjects(a: Asm, size: Reg, full: Label): void {
  a.movRM(32, Reg.rdx, { base: STATE, disp: S.objBump });
  a.lea(Reg.rax, { base: Reg.rdx, index: size, scale: 1 });
  a.cmpRM(32, Reg.rax, { base: STATE, disp: S.objEnd });
  a.jcc(Cond.a, full);
  a.movMR(32, { base: STATE, disp: S.objBump }, Reg.rax);
}

function objectRoutine(a: Asm, full: Label): void {
  bumpObjects(a, Reg.rdi, full);
  // rep stosq: edi / 8 qwords of rax (0) from r15 + rdx.
  a.movRR(32, Reg.rcx, Reg.rdi);
  a.shrRI(64, Reg.rcx, 3);
  a.lea(Reg.rdi, { base: STATE, index: Reg.rdx, scale: 1 });
  a.xorRR(32, Reg.rax, Reg.rax);
  a.emit(0xf3, 0x48, 0xab);
  a.movMR(32, { base: STATE, index: Reg.rdx, scale: 1 }, Reg.rsi);
  a.movRR(32, Reg.rax, Reg.rdx);
  a.ret();
}

function listRoutine(a: Asm, badLength: Label, full: Label): void {
  a.testRR(32, Reg.rdi, Reg.rdi).jcc(Cond.s, badLength);
  // r8 = the capacity (at least 4); rcx = the bytes: header and buffer, padded to 8.
  a.movRI(32, Reg.r8, 4);
  a.cmpRR(32, Reg.rdi, Reg.r8);
  a.cmov(Cond.g, 32, Reg.r8, Reg.rdi);
  a.lea(Reg.rcx, { base: Reg.r8, index: Reg.r8, scale: 2 }); // (3 · capacity, to be 4 · it)
  a.addRR(64, Reg.rcx, Reg.r8);
  a.addRI(64, Reg.rcx, LIST_BYTES + 7);
  a.andRI(64, Reg.rcx, -8);
  bumpObjects(a, Reg.rcx, full);
  a.movMR(32, { base: STATE, index: Reg.rdx, scale: 1, disp: LIST_LENGTH }, Reg.rdi);
  a.movMR(32, { base: STATE, index: Reg.rdx, scale: 1, disp: LIST_CAPACITY }, Reg.r8);
  a.lea(Reg.rax, { base: Reg.rdx, disp: LIST_BYTES });
  a.movMR(32, { base: STATE, index: Reg.rdx, scale: 1, disp: LIST_ITEMS }, Reg.rax);
  // The buffer: rep stosd, capacity dwords of the filler (past the length too: what a later
  // push would overwrite anyway).
  a.movRR(32, Reg.rcx, Reg.r8);
  a.movRR(32, Reg.rax, Reg.rsi);
  a.lea(Reg.rdi, { base: STATE, index: Reg.rdx, scale: 1, disp: LIST_BYTES });
  a.emit(0xf3, 0xab);
  a.movRR(32, Reg.rax, Reg.rdx);
  a.ret();
}

/** `push`: while the buffer has room, item `esi` stored at the list's length, the length one
 *  more; else `heap(list_push, list, item)`, entered by a jump so that it returns to the caller
 *  (which tests `S.heapFail` after it). */
function pushRoutine(a: Asm): void {
  const list = { base: STATE, index: Reg.rdi, scale: 1 as const };
  const grow = a.label();
  a.movRM(32, Reg.rax, { ...list, disp: LIST_LENGTH });
  a.cmpRM(32, Reg.rax, { ...list, disp: LIST_CAPACITY });
  a.jcc(Cond.ae, grow);
  a.movRM(32, Reg.rcx, { ...list, disp: LIST_ITEMS });
  a.lea(Reg.rcx, { base: Reg.rcx, index: Reg.rax, scale: 4 });
  a.movMR(32, { base: STATE, index: Reg.rcx, scale: 1 }, Reg.rsi);
  a.addRI(32, Reg.rax, 1);
  a.movMR(32, { ...list, disp: LIST_LENGTH }, Reg.rax);
  a.xorRR(32, Reg.rax, Reg.rax);
  a.ret();
  a.bind(grow);
  a.movRR(32, Reg.rdx, Reg.rsi);
  a.movRR(32, Reg.rsi, Reg.rdi);
  a.movRI(32, Reg.rdi, HeapOp.list_push);
  a.jmpM({ base: STATE, disp: S.heapOp });
}

/** `pop`: 0 for an empty list; else the length one less and the item there. */
function popRoutine(a: Asm): void {
  const list = { base: STATE, index: Reg.rdi, scale: 1 as const };
  const empty = a.label();
  a.movRM(32, Reg.rcx, { ...list, disp: LIST_LENGTH });
  a.subRI(32, Reg.rcx, 1);
  a.jcc(Cond.s, empty);
  a.movMR(32, { ...list, disp: LIST_LENGTH }, Reg.rcx);
  a.movRM(32, Reg.rax, { ...list, disp: LIST_ITEMS });
  a.lea(Reg.rax, { base: Reg.rax, index: Reg.rcx, scale: 4 });
  a.movRM(32, Reg.rax, { base: STATE, index: Reg.rax, scale: 1 });
  a.ret();
  a.bind(empty);
  a.xorRR(32, Reg.rax, Reg.rax);
  a.ret();
}
