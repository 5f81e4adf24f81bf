//! A residual module as machine code, and running it: the x86-64 counterpart of `L3`.
//!
//! Compiling: instruction selection, register allocation (checked by `check.ts` on request),
//! emission of every graph after the runtime stubs into one executable CodeBlock. Running: a
//! fresh arena per run (state buffer, data constants, heap; see `abi.ts`), the entry's arguments
//! written into it (arrays copied into the heap), fuel and the I/O callbacks installed, one call
//! of the trampoline, then the status turned into an L3 `Status`. The arena is freed after.

import { createRequire } from "node:module";
import { STEP_LIMIT, getFuel, readByte, setFuel, writeByte } from "../hints.ts";
import type { Module } from "../ir/types.ts";
import type { Status as RunStatus } from "../l3.ts";
import { ARRAY_HEADER, MAX_STATE_ARGS, S, STATE_BYTES, Status } from "./abi.ts";
import { checkAllocation } from "./check.ts";
import { emitFunc, type Context } from "./emit.ts";
import { ARG_REGS, Asm, type Label } from "./encode.ts";
import { selectModule } from "./isel.ts";
import { CodeBlock, DataBlock } from "./memory.ts";
import type { MFunc, Origin } from "./mir.ts";
import { allocate, type Allocation } from "./regalloc.ts";
import { emitStubs } from "./stubs.ts";

/** What the entry takes and gives, as L3 has it. */
export type Value = number | boolean | Int32Array | Uint8Array;

/** A listing annotation: from code offset `at` on, the code comes from `origin` of `f`. */
export interface Mark {
  at: number;
  f: MFunc | undefined;
  origin: Origin | string;
}

export interface CompileOptions {
  /** Run the allocation checker on every graph; throw on the first problem. */
  check?: boolean;
}

/** Heap bytes per run. Untouched pages cost nothing (mmap commits on first touch). */
export const DEFAULT_HEAP_BYTES = 64 << 20;

const BAD_LENGTH = "invalid array length";

export class NativeModule {
  readonly code: CodeBlock;
  readonly funcs: MFunc[];
  readonly allocations: Allocation[];
  readonly marks: Mark[] = [];
  readonly messages: string[];
  private offsets = new Map<string, number>();
  /** The data constants as laid out after the state buffer. */
  private dataImage: Uint8Array;
  private tramp: (state: bigint) => number;

  constructor(m: Module, opts: CompileOptions = {}) {
    const mm = selectModule(m, [STEP_LIMIT, BAD_LENGTH]);
    this.funcs = mm.funcs;
    this.messages = mm.messages;
    this.allocations = mm.funcs.map((f) => allocate(f));
    if (opts.check) {
      this.funcs.forEach((f, i) => {
        const errors = checkAllocation(f, this.allocations[i]!);
        if (errors.length) throw new Error(`x64: bad allocation of @${f.name}:\n${errors.join("\n")}`);
      });
    }
    const { image, offsets: dataOffsets } = layoutData(mm.data);
    this.dataImage = image;

    const a = new Asm();
    const mark = (at: number, f: MFunc | undefined, origin: Origin | string) => this.marks.push({ at, f, origin });
    const stubs = emitStubs(a, { stepLimit: 0, badLength: 1 }, (at, what) => mark(at, undefined, what));
    const labels = new Map<string, Label>(this.funcs.map((f) => [f.name, a.label()]));
    const ctx: Context = {
      graph: (name) => {
        const l = labels.get(name);
        if (!l) throw new Error(`x64: call to unknown graph @${name}`);
        return l;
      },
      dataOffset: (i) => dataOffsets[i]!,
      stubs,
      mark,
    };
    this.funcs.forEach((f, i) => {
      a.align(16);
      this.offsets.set(f.name, a.size);
      a.bind(labels.get(f.name)!);
      emitFunc(a, f, this.allocations[i]!, ctx);
    });
    this.code = new CodeBlock(a.bytes());
    this.tramp = this.code.fn("i32", ["ptr"], stubs.tramp) as (state: bigint) => number;
  }

  /** Runs graph `name` with `args` (at most six), as `L3.run` does. */
  run(name: string, args: Value[], heapBytes = DEFAULT_HEAP_BYTES): RunStatus {
    const f = this.funcs.find((g) => g.name === name);
    const at = this.offsets.get(name);
    if (!f || at === undefined) throw new Error(`no graph @${name}`);
    if (args.length > Math.min(ARG_REGS.length, MAX_STATE_ARGS)) throw new Error(`x64: the entry @${name} takes more than ${ARG_REGS.length} arguments`);
    const arena = new DataBlock(STATE_BYTES + this.dataImage.length + heapBytes);
    try {
      arena.u8().set(this.dataImage, STATE_BYTES);
      const state = arena.i64(0, STATE_BYTES / 8);
      const field = (offset: number, v: bigint) => (state[offset / 8] = v);
      let heap = STATE_BYTES + this.dataImage.length;
      args.forEach((v, i) => {
        if (typeof v === "number") field(S.args + 8 * i, BigInt(v >>> 0));
        else if (typeof v === "boolean") field(S.args + 8 * i, v ? 1n : 0n);
        else {
          field(S.args + 8 * i, arena.addr(heap));
          heap += copyIn(arena, heap, v);
        }
      });
      field(S.bump, arena.addr(heap));
      field(S.arenaEnd, arena.addr(arena.size));
      field(S.stackBudget, BigInt(stackBudget()));
      const io = callbacks();
      field(S.ioRead, io.read);
      field(S.ioWrite, io.write);
      field(S.entry, this.code.address + BigInt(at));
      const fuel = getFuel();
      field(S.fuel, fuel >= 0 ? BigInt(fuel) : 1n << 62n);

      const status = this.tramp(arena.address);
      if (fuel >= 0) setFuel(Number(state[S.fuel / 8]));
      return this.outcome(status, f, arena);
    } finally {
      arena.free();
    }
  }

  private outcome(status: number, f: MFunc, arena: DataBlock): RunStatus {
    const state = arena.i64(0, STATE_BYTES / 8);
    const payload = arena.i32(S.payload, 1)[0]!;
    switch (status) {
      case Status.returned:
        return { k: "return", value: resultValue(state[S.result / 8]!, f, arena) };
      case Status.raised:
        return { k: "raise", msg: this.messages[payload]! };
      case Status.exited: {
        const values = Array.from(state.subarray(S.args / 8, S.args / 8 + MAX_STATE_ARGS), (v) => Number(BigInt.asIntN(32, v)));
        return { k: "exit", status: payload, state: values };
      }
      case Status.arenaFull:
        throw new Error(`x64: the arena's ${arena.size} bytes are exhausted`);
      case Status.stackOverflow:
        throw new Error("x64: native stack exhausted (recursion too deep)");
      default:
        throw new Error(`x64: unknown status ${status}`);
    }
  }

  free(): void {
    this.code.free();
  }
}

/** Lays the data constants out as arrays (header, items, padded to 8 bytes); their offsets
 *  are from the arena's start. */
function layoutData(data: { elem: 1 | 4; values: number[] }[]): { image: Uint8Array; offsets: number[] } {
  const offsets: number[] = [];
  let size = 0;
  for (const d of data) {
    offsets.push(STATE_BYTES + size);
    size += arrayBytes(d.values.length, d.elem);
  }
  const image = new Uint8Array(size);
  const view = new DataView(image.buffer);
  data.forEach((d, i) => {
    const at = offsets[i]! - STATE_BYTES;
    view.setInt32(at, d.values.length, true);
    d.values.forEach((v, k) => {
      if (d.elem === 4) view.setInt32(at + ARRAY_HEADER + 4 * k, v, true);
      else view.setUint8(at + ARRAY_HEADER + k, v & 255);
    });
  });
  return { image, offsets };
}

function arrayBytes(length: number, elem: 1 | 4): number {
  return Math.ceil((ARRAY_HEADER + length * elem) / 8) * 8;
}

/** Copies a typed array into the arena at `at`; the bytes it takes. */
function copyIn(arena: DataBlock, at: number, v: Int32Array | Uint8Array): number {
  const elem = v instanceof Int32Array ? 4 : 1;
  const bytes = arrayBytes(v.length, elem);
  if (at + bytes > arena.size) throw new Error("x64: the arena cannot hold the arguments");
  arena.i32(at, 1)[0] = v.length;
  arena.u8(at + ARRAY_HEADER, v.byteLength).set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  return bytes;
}

function resultValue(raw: bigint, f: MFunc, arena: DataBlock): Value | undefined {
  const t = f.graph.ret;
  if (t === "void") return undefined;
  if (t === "bool") return (raw & 1n) === 1n;
  if (t === "i32") return Number(BigInt.asIntN(32, raw));
  // An array: copied out of the arena before it goes.
  const at = Number(raw - arena.address);
  const n = arena.i32(at, 1)[0]!;
  return t === "u8[]" ? arena.u8(at + ARRAY_HEADER, n).slice() : arena.i32(at + ARRAY_HEADER, n).slice();
}

// ------------------------------------------------------------------------ process-wide

type Koffi = typeof import("koffi");
let koffiModule: Koffi | undefined;
const koffi = (): Koffi => (koffiModule ??= createRequire(import.meta.url)("koffi") as Koffi);

let io: { read: bigint; write: bigint } | undefined;

/** The JS callbacks for `io_read`/`io_write`, registered once per process (koffi has a fixed
 *  number of slots) and calling whatever channel `setIo` installed. */
function callbacks(): { read: bigint; write: bigint } {
  if (io) return io;
  const k = koffi();
  const readProto = k.proto("int32_t futamura_x64_read(void)");
  const writeProto = k.proto("void futamura_x64_write(int32_t byte)");
  const read = k.register(() => readByte(), k.pointer(readProto));
  const write = k.register((b: number) => writeByte(b), k.pointer(writeProto));
  io = { read: BigInt(k.address(read)), write: BigInt(k.address(write)) };
  return io;
}

/** Compiled code runs on koffi's stack for synchronous calls (JS callbacks need that); it may
 *  use all of it but a margin for koffi's own frames and the callbacks' relay. */
function stackBudget(): number {
  const size = (koffi().config() as { sync_stack_size: number }).sync_stack_size;
  return size - (256 << 10);
}
