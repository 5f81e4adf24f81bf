//! A residual module as machine code, and running it: the x86-64 counterpart of `L3`.
//!
//! Compiling: instruction selection, register allocation (checked by `check.ts` on request),
//! emission of every graph after the runtime stubs into one executable CodeBlock. Running: a
//! reset arena per run (state buffer, data constants, heap; see `abi.ts`, `data.ts`,
//! `arena.ts`), the entry's arguments written into it (arrays copied into the heap), fuel and the
//! callbacks installed, one call of the trampoline, then the status turned into an L3 `Status`.
//!
//! Promotions (with `continuation`): a promotion exit calls back into JS, which specialises the
//! continuation for the value seen (once per exit and value), compiles it into a code block of
//! its own and hands its address back; the exiting graph tail-calls it. Calls from there to the
//! module's graphs go to their absolute addresses.

import { STEP_LIMIT, getFuel, setFuel } from "../hints.ts";
import type { Graph, Module } from "../ir/types.ts";
import type { Status as RunStatus } from "../l3.ts";
import { ARRAY_HEADER, S, STATE_BYTES, Status } from "./abi.ts";
import { withArena } from "./arena.ts";
import { callbacks, stackBudget, withResolver } from "./callbacks.ts";
import { checkAllocation } from "./check.ts";
import { DataLayout, arrayImage } from "./data.ts";
import { emitFunc, type Context } from "./emit.ts";
import { ARG_REGS, Asm, type Label } from "./encode.ts";
import { selectGraph, selectModule, type SelectOptions } from "./isel.ts";
import { CodeBlock, type DataBlock } from "./memory.ts";
import type { MFunc, Origin } from "./mir.ts";
import { allocate, type Allocation } from "./regalloc.ts";
import { emitStubs, type Stubs } from "./stubs.ts";

/** What the entry takes and gives, as L3 has it. */
export type Value = number | boolean | Int32Array | Uint8Array;

/** A listing annotation: from code offset `at` on, the code comes from `origin` of `f`. */
export interface Mark {
  at: number;
  f: MFunc | undefined;
  origin: Origin | string;
}

/** One code block: the module's, or a continuation's. */
export interface Compiled {
  code: CodeBlock;
  stubs: Stubs;
  marks: Mark[];
}

export interface CompileOptions {
  /** Run the allocation checker on every graph; throw on the first problem. */
  check?: boolean;
  /** Heap bytes of each run's arena (DEFAULT_HEAP_BYTES). */
  heapBytes?: number;
  /** Makes the continuation of promotion exit `status` for `value` (the specialiser's); without
   *  it, an exit leaves to JS with its state (L3's `exit` status). */
  continuation?: (status: number, value: number) => Graph[];
}

/** Heap bytes per run: arrays live while their frame does (see `emit.ts`), so this bounds the
 *  arrays live at once (TL: a stack per call level). Untouched pages cost nothing, but V8 counts
 *  a view's whole size as external memory and much more than this makes it collect garbage. */
export const DEFAULT_HEAP_BYTES = 16 << 20;

const BAD_LENGTH = "invalid array length";

export class NativeModule {
  /** Every code block, the module's first. */
  readonly blocks: Compiled[] = [];
  readonly funcs: MFunc[] = [];
  readonly allocations: Allocation[] = [];
  /** Raise messages by index: the runtime's first, then the graphs' (continuations add). */
  readonly messages: string[] = [STEP_LIMIT, BAD_LENGTH];
  private select: SelectOptions;
  private layout: DataLayout;
  /** Absolute address of every compiled graph. */
  private entries = new Map<string, bigint>();
  /** Continuation addresses by `status:value`, and how many. */
  private resolved = new Map<string, bigint>();
  /** Why resolving a continuation failed, rethrown by `run`. */
  private failure: unknown;
  private tramp: (state: bigint) => number;

  constructor(
    private m: Module,
    private opts: CompileOptions = {},
  ) {
    this.select = { continuations: opts.continuation !== undefined };
    this.layout = new DataLayout(m.data, opts.heapBytes ?? DEFAULT_HEAP_BYTES);
    const main = this.compile(selectModule(m, this.messages, this.select).funcs, true);
    this.tramp = main.code.fn("i32", ["ptr"], main.stubs.tramp) as (state: bigint) => number;
  }

  /** The module's code block. */
  get code(): CodeBlock {
    return this.blocks[0]!.code;
  }

  /** Continuations compiled so far. */
  get continuations(): number {
    return this.resolved.size;
  }

  /** Allocates registers for `funcs` and emits them, after the stubs, into a new code block. */
  private compile(funcs: MFunc[], trampoline: boolean): Compiled {
    const allocations = funcs.map((f) => allocate(f));
    if (this.opts.check) funcs.forEach((f, i) => this.check(f, allocations[i]!));
    const a = new Asm();
    const marks: Mark[] = [];
    const mark = (at: number, f: MFunc | undefined, origin: Origin | string) =>
      marks.push({ at, f, origin });
    const stubs = emitStubs(
      a,
      { stepLimit: 0, badLength: 1 },
      (at, what) => mark(at, undefined, what),
      trampoline,
    );
    const labels = new Map<string, Label>(funcs.map((f) => [f.name, a.label()]));
    const ctx: Context = {
      graph: (name) => {
        const target = labels.get(name) ?? this.entries.get(name);
        if (target === undefined) throw new Error(`x64: call to unknown graph @${name}`);
        return target;
      },
      dataOffset: (i) => this.layout.offsets[i]!,
      stubs,
      mark,
    };
    const offsets = funcs.map((f, i) => {
      mark(a.size, undefined, "padding");
      a.align(16);
      const at = a.size;
      a.bind(labels.get(f.name)!);
      emitFunc(a, f, allocations[i]!, ctx);
      return at;
    });
    const compiled = { code: new CodeBlock(a.bytes()), stubs, marks };
    funcs.forEach((f, i) => this.entries.set(f.name, compiled.code.address + BigInt(offsets[i]!)));
    this.blocks.push(compiled);
    this.funcs.push(...funcs);
    this.allocations.push(...allocations);
    return compiled;
  }

  private check(f: MFunc, a: Allocation): void {
    const errors = checkAllocation(f, a);
    if (errors.length) throw new Error(`x64: bad allocation of @${f.name}:\n${errors.join("\n")}`);
  }

  /** Runs graph `name` with `args` (at most six), as `L3.run` does. */
  run(name: string, args: Value[]): RunStatus {
    const f = this.funcs.find((g) => g.name === name);
    const entry = this.entries.get(name);
    if (!f || entry === undefined) throw new Error(`no graph @${name}`);
    if (args.length > ARG_REGS.length)
      throw new Error(`x64: the entry @${name} takes more than ${ARG_REGS.length} arguments`);
    const layout = this.layout;
    return withArena(layout.size, (arena) => {
      layout.write(arena);
      const state = arena.i64(0, STATE_BYTES / 8);
      const field = (offset: number, v: bigint) => (state[offset / 8] = v);
      let heap = layout.heapStart;
      args.forEach((v, i) => {
        if (typeof v === "number") field(S.args + 8 * i, BigInt(v >>> 0));
        else if (typeof v === "boolean") field(S.args + 8 * i, v ? 1n : 0n);
        else {
          const image = arrayImage(v, v instanceof Int32Array ? 4 : 1);
          if (heap + image.length > layout.heapEnd)
            throw new Error("x64: the arena cannot hold the arguments");
          arena.u8(heap, image.length).set(image);
          field(S.args + 8 * i, arena.addr(heap));
          heap += image.length;
        }
      });
      field(S.bump, arena.addr(heap));
      field(S.arenaEnd, arena.addr(layout.heapEnd));
      field(S.stackBudget, BigInt(stackBudget()));
      const cb = callbacks();
      field(S.ioRead, cb.read);
      field(S.ioWrite, cb.write);
      field(S.resolve, cb.resolve);
      field(S.entry, entry);
      const fuel = getFuel();
      field(S.fuel, fuel >= 0 ? BigInt(fuel) : 1n << 62n);

      this.failure = undefined;
      const status = withResolver(
        (s, v) => field(S.target, this.resolve(s, v, arena)),
        () => this.tramp(arena.address),
      );
      if (fuel >= 0) setFuel(Number(state[S.fuel / 8]));
      return this.outcome(status, f, arena);
    });
  }

  /** The address of the continuation for `status` and `value`, compiled the first time; on any
   *  error, the stub that ends the run with `Status.failed` (the error is kept for `run`). */
  private resolve(status: number, value: number, arena: DataBlock): bigint {
    const key = `${status}:${value}`;
    try {
      let at = this.resolved.get(key);
      if (at === undefined) {
        // The continuation, then any portal graphs its specialisation made.
        const gs = this.opts.continuation!(status, value);
        this.layout.extend(this.m.data, arena);
        this.compile(
          gs.map((g) => selectGraph(g, this.m, this.messages, this.select)),
          false,
        );
        this.resolved.set(key, (at = this.entries.get(gs[0]!.name)!));
      }
      return at;
    } catch (e) {
      this.failure = e;
      return this.code.address + BigInt(this.blocks[0]!.stubs.failed.pos);
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
        const count = arena.i32(S.count, 1)[0]!;
        const values = Array.from(state.subarray(S.args / 8, S.args / 8 + count), (v) =>
          Number(BigInt.asIntN(32, v)),
        );
        return { k: "exit", status: payload, state: values };
      }
      case Status.arenaFull:
        throw new Error(
          `x64: the arena's heap of ${this.layout.heapEnd - this.layout.heapStart} bytes is exhausted`,
        );
      case Status.stackOverflow:
        throw new Error("x64: native stack exhausted (recursion too deep)");
      case Status.failed:
        throw this.failure;
      default:
        throw new Error(`x64: unknown status ${status}`);
    }
  }

  free(): void {
    for (const b of this.blocks) b.code.free();
  }
}

function resultValue(raw: bigint, f: MFunc, arena: DataBlock): Value | undefined {
  const t = f.graph.ret;
  if (t === "void") return undefined;
  if (t === "bool") return (raw & 1n) === 1n;
  if (t === "i32") return Number(BigInt.asIntN(32, raw));
  // An array: copied out of the arena before it goes.
  const at = Number(raw - arena.address);
  const n = arena.i32(at, 1)[0]!;
  return t === "u8[]"
    ? arena.u8(at + ARRAY_HEADER, n).slice()
    : arena.i32(at + ARRAY_HEADER, n).slice();
}
