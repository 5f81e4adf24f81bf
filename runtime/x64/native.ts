//! A residual module as machine code, and running it: the x86-64 counterpart of `L3`.
//!
//! Compiling: instruction selection, register allocation (checked by `check.ts` on request),
//! emission of every graph after the runtime stubs into one executable CodeBlock, a _chunk_.
//! With continuations to come, the chunk has room for them: each is placed after the code
//! before it and reaches the chunk's stubs by rel32 (a chunk of its own per continuation cost a
//! copy of the stubs, most of a small continuation's code, and a mapping of a page or more:
//! mandelbrot's JIT made 5,000). A continuation that does not fit starts a new chunk. Running: a
//! reset arena per run (state buffer, data constants, heap; see `abi.ts`, `data.ts`,
//! `arena.ts`), the entry's arguments written into it (arrays copied into the heap), fuel and the
//! callbacks installed, one call of the trampoline, then the status turned into an L3 `Status`.
//!
//! Exits (with `continuation`): each `exit` is a site that jumps through a cell of its own,
//! first pointing at a thunk that calls back into JS with the site's number and the exit's
//! value. JS finds where the exit goes on (`continuation`: the specialiser makes the graph the
//! first time, for a promotion once per value), compiles what is new into the chunk, and
//! patches the cell (cells are on the module's data pages, writable and never
//! executable: W^X holds and a patch is a store): to the graph, or for a promotion to a
//! dispatch on the values seen so far whose default is the thunk again (PyPy's flexswitch).
//! So the next time through, the exit is a jump. Calls from new code
//! to earlier graphs go to their absolute addresses. Where JS ran the rest of the exited graph
//! itself (a fallback to the interpreter), the thunk goes on at a stub returning its result.
//! A safepoint's exit (`region_low` at a loop's back edge or a graph's first merge point) is
//! never patched: each time, JS collects the object region (`collect`) with the exit's values
//! and the references the frames below keep across their calls (the root stack, `roots.ts`)
//! as roots, and goes on.

import { STEP_LIMIT, getFuel, setFuel } from "../hints.ts";
import { logEvent, logging } from "../events.ts";
import type { Heap } from "../heap.ts";
import { isReference, usesObjects } from "../ir/containers.ts";
import type { Graph, Module, Type } from "../ir/types.ts";
import { constantsOf } from "../objects.ts";
import type { Status as RunStatus } from "../l3.ts";
import { ARRAY_HEADER, MAX_STATE_ARGS, S, SCRATCH1, STATE, STATE_BYTES, Status } from "./abi.ts";
import { withArena } from "./arena.ts";
import { callbacks, stackBudget, takeIoFailure, withResolver } from "./callbacks.ts";
import { checkAllocation } from "./check.ts";
import { DataLayout, arrayBytes } from "./data.ts";
import { emitFunc, emitLabelEntry, type Context } from "./emit.ts";
import { ARG_REGS, Asm, Cond, type Label } from "./encode.ts";
import { addCallees, selectGraph, selectModule, type SelectOptions } from "./isel.ts";
import { CodeBlock, DataBlock, roundUp } from "./memory.ts";
import { NativeLimit, NotEntered, OutOfMemory } from "./limit.ts";
import { ROOTS_BYTES, RootTypes, rootEntries } from "./roots.ts";
import { RunObjects, unsupportedHolding } from "./objects.ts";
import { keptIn, tableFor } from "./pairs.ts";
import { ObjectRegion, withRegion } from "./region.ts";

export { NativeLimit, NotEntered, OutOfMemory };
import { CONSTANTS } from "./data.ts";
import type { MFunc, Origin } from "./mir.ts";
import { allocate, type Allocation } from "./regalloc.ts";
import { emitStubs, stubsAt, type Stubs } from "./stubs.ts";

/** What the entry takes and gives, as L3 has it. */
export type Value = number | boolean | Int32Array | Uint8Array;

/** A listing annotation: from code offset `at` on, the code comes from `origin` of `f`. */
export interface Mark {
  at: number;
  f: MFunc | undefined;
  origin: Origin | string;
}

/** The code compiled at once (the module's, or a continuation's): `size` bytes `at` bytes into
 *  chunk `code`; marks' offsets are from `at`. */
export interface Compiled {
  code: CodeBlock;
  at: number;
  size: number;
  marks: Mark[];
  /** When it was made, on the monotonic clock perf records with (`jitdump.ts`). */
  madeAt: bigint;
}

/** A label of a compiled function (`@name#i`): its function, allocation, number, and the
 *  address of its code (the block its entry jumps to), for its entry made later. */
interface LabelCode {
  name: string;
  f: MFunc;
  alloc: Allocation;
  label: number;
  target: bigint;
}

/** A chunk of executable memory: code up to `used` (at most `end`), its stubs first. */
interface Chunk {
  code: CodeBlock;
  used: number;
  end: number;
  stubs: Stubs;
}

/** The state buffers of the runs under way in the process, innermost last (of any module: a
 *  run inside another's callback shares its stack). */
const running: BigInt64Array[] = [];

/** Bytes of room a module with continuations keeps for them per chunk (untouched pages cost
 *  nothing but address space). */
const CHUNK_ROOM = 1 << 20;

/** Where an exit goes on: a graph to compile (with the graphs made for it, which may be none),
 *  or the exited graph's outcome when JS ran the rest of it (a fallback), or (for an exit of
 *  the graph the run entered, `bottom`) the end of the run with the values JS read (tiers: the
 *  first tier goes on from them; the run gives an exit with status -1). */
export type Resolution =
  | {
      name: string;
      graphs: Graph[];
      perValue: boolean;
      /** A safepoint's exit (`region_low`): the types of its values, the roots with which the
       *  object region is collected before going on (its cell is never patched). */
      collect?: Type[];
    }
  | { done: RunStatus }
  | { leave: Value[] };

export interface CompileOptions {
  /** Run the allocation checker on every graph; throw on the first problem. */
  check?: boolean;
  /** Heap bytes of each run's arena (DEFAULT_HEAP_BYTES). */
  heapBytes?: number;
  /** Bytes of each run's object region (DEFAULT_REGION_BYTES; none without objects). */
  regionBytes?: number;
  /** Collect at every safepoint reached after an allocation (tests: the collector's stress
   *  switch), not only where the region is nearly full. */
  stressCollect?: boolean;
  /** Bytes of each run's root stack (ROOTS_BYTES; tests make it small). */
  rootBytes?: number;
  /** The JavaScript objects compiled code's objects are paired with (`objects.ts`): the
   *  specialiser's, whose constants the module's are. */
  heap?: Heap;
  /** Bytes of room a chunk keeps for continuations (CHUNK_ROOM); tests make it small. */
  chunkRoom?: number;
  /** Where exit `status` goes on for `value`; `leaves` reads the exit's other values (of the
   *  given types). Without it, an exit leaves to JS with its state (L3's `exit` status). */
  continuation?: (
    status: number,
    value: number,
    leaves: (types: Type[]) => Value[],
    bottom: boolean,
  ) => Resolution;
}

/** Heap bytes per run: arrays live while their frame does (see `emit.ts`), so this bounds the
 *  arrays live at once (TL: a stack per call level). Untouched pages cost nothing, but V8 counts
 *  a view's whole size as external memory and much more than this makes it collect garbage. */
export const DEFAULT_HEAP_BYTES = 16 << 20;

/** Object region bytes per run (`--heap-mb`): collected at safepoints (`collect`). */
export const DEFAULT_REGION_BYTES = 64 << 20;

const BAD_LENGTH = "invalid array length";

/** An exit site: its status, its cell, the absolute address of its thunk, and for a promotion
 *  the addresses of the values seen and the dispatch on them. */
interface Site {
  status: number;
  /** The type of its value, and the function it is in. */
  type: Type;
  func: MFunc;
  cell: Cell;
  thunk: bigint;
  cases: Map<number, bigint>;
  /** A reference's cases are by constant (`cases`' keys are indexes of the constant table: the
   *  reference of an object differs from run to run). */
  byConstant?: boolean;
  dispatch?: CodeBlock;
}

/** An exit's cell: the 8 bytes its jump goes through, the `index`th of `page`. */
interface Cell {
  address: bigint;
  page: BigUint64Array;
  index: number;
}

/** Cells per page of cells (64 KB). */
const CELLS = 8192;

export class NativeModule {
  /** Everything compiled, the module's first. */
  readonly compilations: Compiled[] = [];
  private chunks: Chunk[] = [];
  readonly funcs: MFunc[] = [];
  readonly allocations: Allocation[] = [];
  /** Raise messages by index: the runtime's first, then the graphs' (continuations add). */
  readonly messages: string[] = [STEP_LIMIT, BAD_LENGTH];
  private select: SelectOptions;
  /** The graphs some call of the module calls (`isel.ts`, `MFunc.stateParams`). */
  private callable = new Set<string>();
  /** The numbers of the types calls keep on the root stack (`roots.ts`). */
  private rootTypes = new RootTypes();
  private layout: DataLayout;
  /** Absolute address of every compiled graph (and of each label's entry once made). */
  private entries = new Map<string, bigint>();
  /** The code of each label (`Graph.labels`), whose entry is made when first needed. */
  private labelCode = new Map<string, LabelCode>();
  private sites: Site[] = [];
  /** The exit cells: in data pages of their own (read-write, never executable), so that
   *  patching one is a store, where a cell in the code would cost two mprotect calls (each a
   *  TLB shootdown on every core the process runs on). The code reaches them by address. */
  private cellPages: { block: DataBlock; cells: BigUint64Array }[] = [];
  private cellsUsed = CELLS;
  /** Time spent compiling (selection, allocation, emission, mapping), and bytes made. */
  compileMs = 0;
  codeBytes = 0;
  /** Exits resolved by a call into JS, exit sites patched, and fallbacks. */
  /** Exits resolved, cells patched, fallbacks; objects copied in and out (`objects.ts`). */
  readonly counts = {
    resolves: 0,
    patches: 0,
    fallbacks: 0,
    copiedIn: 0,
    copiedOut: 0,
    /** Collections of the object region (safepoints: `collect`), and of those, the ones made
     *  while calls were under way whose callers kept references (on the root stack). */
    collections: 0,
    collectionsInCalls: 0,
  };

  /** The collection counts for a run's statistics (none when nothing was collected). */
  collectionStats(): { collections?: number; collectionsInCalls?: number } {
    const { collections, collectionsInCalls } = this.counts;
    return collections ? { collections, collectionsInCalls } : {};
  }
  /** Why resolving a continuation failed, rethrown by `run`. */
  private failure: unknown;
  /** The values of an exit that left the run (`Resolution.leave`), for `run` to give. */
  private left: Value[] = [];
  /** The arenas of runs under way, innermost last (a run in a callback of another has its
   *  own): data constants placed meanwhile are written into each. */
  private arenas: DataBlock[] = [];
  /** The objects of the runs under way, innermost last (parallel to `arenas`; none for a
   *  module without objects). */
  private objects: (RunObjects | undefined)[] = [];
  /** A constant object's index in the module's constants (the dispatch of a promotion). */
  private constantIndex = new Map<unknown, number>();
  private tramp: (state: bigint) => number;

  constructor(
    private m: Module,
    private opts: CompileOptions = {},
  ) {
    addCallees(m.graphs, this.callable);
    this.select = {
      continuations: opts.continuation !== undefined,
      callable: this.callable,
      rootTypes: this.rootTypes,
    };
    const objects = usesObjects(m);
    const held = objects ? unsupportedHolding(m) : undefined;
    if (held)
      throw new Error(`x64: arrays held in objects, lists or maps are not compiled (${held})`);
    this.layout = new DataLayout(
      m.data,
      opts.heapBytes ?? DEFAULT_HEAP_BYTES,
      objects ? (opts.regionBytes ?? DEFAULT_REGION_BYTES) : 0,
      objects ? (opts.rootBytes ?? ROOTS_BYTES) : 0,
    );
    const main = this.compile(() => selectModule(m, this.messages, this.select).funcs);
    const tramp = this.chunks[0]!.stubs.tramp;
    this.tramp = main.code.fn("i32", ["ptr"], tramp) as (state: bigint) => number;
  }

  /** The module's chunk. */
  get code(): CodeBlock {
    return this.compilations[0]!.code;
  }

  /** Compilations after the module's. */
  get continuations(): number {
    return this.compilations.length - 1;
  }

  /** Selects `select`'s functions, allocates their registers and emits them into the last
   *  chunk, or a new one after its stubs (the first chunk's with the trampoline; timed as
   *  `compileMs`). */
  private compile(select: () => MFunc[], label?: LabelCode): Compiled {
    const t0 = performance.now();
    const funcs = select();
    const allocations = funcs.map((f) => allocate(f));
    if (this.opts.check) funcs.forEach((f, i) => this.check(f, allocations[i]!));
    // The exit sites, in the order emission meets them: the same ones if it is done again.
    const sites: Site[] = [];
    let chunk = this.chunks.at(-1);
    let at = chunk ? roundUp(chunk.used, 16) : 0;
    let out = this.emit(funcs, allocations, sites, chunk && stubsAt(chunk.stubs, at), label);
    if (!chunk || at + out.bytes.length > chunk.end) {
      if (chunk) out = this.emit(funcs, allocations, sites, undefined, label);
      const end =
        out.bytes.length + (this.opts.continuation ? (this.opts.chunkRoom ?? CHUNK_ROOM) : 0);
      chunk = { code: new CodeBlock(out.bytes, end), used: 0, end, stubs: out.stubs };
      this.chunks.push(chunk);
      at = 0;
    } else chunk.code.patch(at, out.bytes);
    chunk.used = at + out.bytes.length;
    const compiled = {
      code: chunk.code,
      at,
      size: out.bytes.length,
      marks: out.marks,
      madeAt: process.hrtime.bigint(),
    };
    const base = chunk.code.address + BigInt(at);
    // Each cell starts at its thunk.
    sites.forEach((site, i) => {
      site.thunk = base + BigInt(out.thunks[i]!.pos);
      site.cell.page[site.cell.index] = site.thunk;
    });
    this.sites.push(...sites);
    funcs.forEach((f, i) => this.entries.set(f.name, base + BigInt(out.offsets[i]!)));
    for (const [name, at] of out.entries) this.entries.set(name, base + BigInt(at));
    for (const l of out.labels) this.labelCode.set(l.name, { ...l, target: base + l.target });
    this.compilations.push(compiled);
    this.funcs.push(...funcs);
    this.allocations.push(...allocations);
    this.codeBytes += out.bytes.length;
    this.compileMs += performance.now() - t0;
    return compiled;
  }

  /** Emits `funcs`: after `stubs` already in the chunk, or after stubs of their own (with the
   *  trampoline in the first chunk). `sites` gets a site per exit, or has them from a first
   *  try; `thunks` are theirs, in order. */
  private emit(
    funcs: MFunc[],
    allocations: Allocation[],
    sites: Site[],
    stubs?: Stubs,
    label?: LabelCode,
  ): {
    bytes: Uint8Array;
    stubs: Stubs;
    marks: Mark[];
    offsets: number[];
    thunks: Label[];
    /** The entry of `label`, if asked for: its name (`@name#i`) and offset. */
    entries: [string, number][];
    /** The code of each label of `funcs` (`target`: its offset). */
    labels: LabelCode[];
  } {
    const a = new Asm();
    const marks: Mark[] = [];
    const mark = (at: number, f: MFunc | undefined, origin: Origin | string) =>
      marks.push({ at, f, origin });
    stubs ??= emitStubs(
      a,
      { stepLimit: 0, badLength: 1 },
      (at, what) => mark(at, undefined, what),
      this.chunks.length === 0,
    );
    const labels = new Map<string, Label>(funcs.map((f) => [f.name, a.label()]));
    const thunks: Label[] = [];
    const entries: [string, number][] = [];
    const labelled: LabelCode[] = [];
    let n = 0;
    const ctx: Context = {
      site: (f, i, thunk) => {
        const site = (sites[n] ??= {
          status: f.sites[i]!,
          type: f.siteTypes[i]!,
          func: f,
          cell: this.cell(),
          thunk: 0n,
          cases: new Map(),
        });
        thunks[n] = thunk;
        return { id: this.sites.length + n++, cell: site.cell.address };
      },
      graph: (name) => {
        const target = labels.get(name) ?? this.entries.get(name);
        if (target === undefined) throw new Error(`x64: call to unknown graph @${name}`);
        return target;
      },
      dataOffset: (i) => this.layout.offsets[i]!,
      stubs,
      mark,
      labelAt: (f, label, at) =>
        labelled.push({
          name: `${f.name}#${label}`,
          f,
          alloc: allocations[funcs.indexOf(f)]!,
          label,
          target: BigInt(at),
        }),
    };
    const offsets = funcs.map((f, i) => {
      mark(a.size, undefined, "padding");
      a.align(16);
      const at = a.size;
      a.bind(labels.get(f.name)!);
      emitFunc(a, f, allocations[i]!, ctx);
      return at;
    });
    if (label) {
      mark(a.size, undefined, "padding");
      a.align(16);
      entries.push([label.name, a.size]);
      emitLabelEntry(a, label.f, label.alloc, ctx, label.label, label.target);
    }
    return { bytes: a.bytes(), stubs, marks, offsets, thunks, entries, labels: labelled };
  }

  /** The address of graph `name`, or of a label's entry (`@graph#i`), compiled now if it
   *  was not (undefined: none). */
  private entry(name: string): bigint | undefined {
    const at = this.entries.get(name);
    if (at !== undefined) return at;
    const label = this.labelCode.get(name);
    if (!label) return undefined;
    this.compile(() => [], label);
    return this.entries.get(name);
  }

  /** The address of stub `l` of the module's chunk. */
  private stub(l: (s: Stubs) => Label): bigint {
    return this.code.address + BigInt(l(this.chunks[0]!.stubs).pos);
  }

  private check(f: MFunc, a: Allocation): void {
    const errors = checkAllocation(f, a);
    if (errors.length) throw new Error(`x64: bad allocation of @${f.name}:\n${errors.join("\n")}`);
  }

  /** Runs graph `name` with `args` (at most six), as `L3.run` does. Arrays are copied into the
   *  run's arena (an array passed twice, once) and what the code wrote to them is copied back
   *  when the run ends, so that the caller sees the writes; an exit that leaves the run gives
   *  those arrays again, not views of the arena (which the next run reuses). */
  run(name: string, args: Value[]): RunStatus {
    const f = this.funcs.find((g) => g.name === name);
    const entry = this.entries.get(name);
    if (!f || entry === undefined) throw new Error(`no graph @${name}`);
    const most = f.stateParams ? MAX_STATE_ARGS : ARG_REGS.length;
    if (args.length > most)
      throw new Error(`x64: the entry @${name} takes more than ${most} arguments`);
    const layout = this.layout;
    return withArena(layout.size, (arena, pooled) => {
      layout.write(arena);
      const state = arena.i64(0, STATE_BYTES / 8);
      const field = (offset: number, v: bigint) => (state[offset / 8] = v);
      // Each array argument once, by the offset of its items in the arena.
      const homes = new Map<Int32Array | Uint8Array, number>();
      let heap = layout.heapStart;
      const types = f.graph.blocks[0]!.params.map((p) => f.graph.types[p]!);
      args.forEach((v, i) => {
        if (isReference(types[i])) return; // (below, once the object region is set up)
        if (typeof v === "number") field(S.args + 8 * i, BigInt(v >>> 0));
        else if (typeof v === "boolean") field(S.args + 8 * i, v ? 1n : 0n);
        else {
          let at = homes.get(v);
          if (at === undefined) {
            const bytes = arrayBytes(v.length, v instanceof Int32Array ? 4 : 1);
            if (heap + bytes > layout.heapEnd)
              throw new Error("x64: the arena cannot hold the arguments");
            arena.i32(heap, 2).set([v.length, 0]);
            if (v instanceof Int32Array) arena.i32(heap + ARRAY_HEADER, v.length).set(v);
            else arena.u8(heap + ARRAY_HEADER, v.length).set(v);
            homes.set(v, (at = heap));
            heap += bytes;
          }
          field(S.args + 8 * i, arena.addr(at));
        }
      });
      field(S.bump, arena.addr(heap));
      field(S.arenaEnd, arena.addr(layout.heapEnd));
      const objects = this.runObjects(arena, pooled);
      if (objects) {
        try {
          this.fillConstants(objects);
          args.forEach((v, i) => {
            if (isReference(types[i])) field(S.args + 8 * i, BigInt(objects.refOf(v, types[i]!)));
          });
          objects.flushIn();
        } catch (e) {
          this.closeObjects(objects, false);
          throw e instanceof NativeLimit ? new NotEntered(e.message) : e;
        }
      }
      arena.i32(S.rootTop, 2).set([this.layout.rootStart, this.layout.rootEnd]);
      field(S.stackBudget, BigInt(stackBudget()));
      field(S.stackFloor, running.at(-1)?.[S.stackLimit / 8] ?? 0n);
      const cb = callbacks();
      field(S.ioRead, cb.read);
      field(S.ioWrite, cb.write);
      field(S.resolve, cb.resolve);
      field(S.heapOp, cb.heap);
      field(S.entry, entry);
      const fuel = getFuel();
      field(S.fuel, fuel >= 0 ? BigInt(fuel) : 1n << 62n);

      this.failure = undefined;
      this.arenas.push(arena);
      this.objects.push(objects);
      running.push(state);
      let status: number;
      try {
        const go = () =>
          withResolver(
            (site, v) => field(S.target, this.resolve(site, v, arena)),
            () => this.tramp(arena.address),
          );
        status = objects ? withRegion(objects.region, go) : go();
      } finally {
        this.arenas.pop();
        this.objects.pop();
        running.pop();
      }
      if (fuel >= 0) setFuel(Number(state[S.fuel / 8]));
      let out: RunStatus;
      let whole = false;
      try {
        if (objects?.region.failure) throw objects.region.failure;
        out = this.outcome(status, f, arena, objects);
        // (what the code changed of JavaScript's objects, written out: the first tier goes on)
        objects?.syncOut();
        whole = true;
      } finally {
        if (objects) this.closeObjects(objects, whole);
      }
      copyBack(arena, homes);
      if (out.k === "exit" && status === Status.left)
        out.state = this.homesOf(out.state, homes, arena);
      return out;
    });
  }

  /** The objects of a run in `arena` of a module with objects: what the pooled arena kept of
   *  them from the module's last run (`pairs.ts`), or an empty region. */
  private runObjects(arena: DataBlock, pooled: boolean): RunObjects | undefined {
    const { objectStart: start, objectEnd: end } = this.layout;
    if (end === start) return undefined;
    const heap = this.opts.heap;
    if (!heap) throw new Error("x64: a module with objects needs the heap of its objects");
    const stress = this.opts.stressCollect ?? false;
    if (!pooled) {
      const region = new ObjectRegion(arena, start, end, start, [], stress);
      return new RunObjects(region, heap, this.m, tableFor(start, end - start));
    }
    const kept = keptIn(arena, this.layout, start, end);
    const region = new ObjectRegion(arena, start, end, kept.bump, kept.tables, stress);
    return new RunObjects(region, heap, this.m, kept.table, kept);
  }

  /** Collects the object region of the run in `arena` at a safepoint whose exit's values, of
   *  `types`, are the roots (the live state of the loop, the run's bottom frame): what they
   *  reach goes out to JavaScript (every object that may have changed too), the region starts
   *  over, and they come back in, in new places, the exit's values rewritten where the thunk
   *  reloads them. A copying collection through JavaScript's objects: its cost is what is live,
   *  and one identity is kept by the JavaScript objects, as across runs. */
  private collect(arena: DataBlock, types: Type[], objects: RunObjects): void {
    const state = arena.i64(0, STATE_BYTES / 8);
    const values = this.leaves(arena, types, objects);
    // (and what the frames below keep across their calls: the root stack)
    const words = objects.region.words;
    const { rootStart } = this.layout;
    const roots = rootEntries(words, rootStart, words[S.rootTop / 4]!, this.rootTypes);
    const held = roots.map((e) => objects.valueOf(words[e.at]!, e.type));
    objects.flushOut();
    objects.syncOut();
    objects.restart();
    this.fillConstants(objects);
    types.forEach((t, i) => {
      if (isReference(t)) state[S.args / 8 + i] = BigInt(objects.refOf(values[i], t));
    });
    roots.forEach((e, i) => (words[e.at] = objects.refOf(held[i], e.type)));
    objects.flushIn();
    objects.region.markLow();
    this.counts.collections++;
    if (roots.length) this.counts.collectionsInCalls++;
    if (logging())
      logEvent({
        ev: "collect",
        live: objects.region.bump - objects.region.start,
        roots: roots.length,
      });
  }

  /** Ends a run's pairing (`whole`: the run ended without an error, so every pair is whole). */
  private closeObjects(objects: RunObjects, whole: boolean): void {
    objects.close(whole);
    this.counts.copiedIn += objects.copiedIn;
    this.counts.copiedOut += objects.copiedOut;
  }

  /** Puts the module's constants not there yet into the constant table of `objects`' run. */
  private fillConstants(objects: RunObjects): void {
    const heap = this.opts.heap!;
    const all = constantsOf(this.m, heap);
    const types = (this.m.objects ?? []).map((d) => (d.k === "object" ? "ref" : d.type));
    objects.fillConstants(all, types);
  }

  /** The values an exit left the run with, arrays as the caller knows them: an argument as the
   *  array passed (written back), one the code made as a copy. */
  private homesOf(
    values: Value[],
    homes: Map<Int32Array | Uint8Array, number>,
    arena: DataBlock,
  ): Value[] {
    const passed = new Map<number, Int32Array | Uint8Array>();
    for (const [arr, at] of homes) passed.set(at + ARRAY_HEADER, arr);
    return values.map((v) =>
      typeof v === "object" && v.buffer === arena.buffer
        ? (passed.get(v.byteOffset) ?? v.slice())
        : v,
    );
  }

  /** Compiles graphs made outside a run (tiers: an entry made from a hot state), which may call
   *  the others. */
  add(graphs: Graph[]): void {
    const fresh = graphs.filter((g) => !this.entries.has(g.name));
    if (!fresh.length) return;
    for (const arena of this.arenas.length ? this.arenas : [undefined])
      this.layout.extend(this.m.data, arena);
    for (const objects of this.objects) if (objects) this.fillConstants(objects);
    addCallees(fresh, this.callable);
    this.compile(() => fresh.map((g) => selectGraph(g, this.m, this.messages, this.select)));
  }

  /** Where exit site `site` goes on for `value`, patched into its cell; on any error, the
   *  stub that ends the run with `Status.failed` (the error is kept for `run`). */
  private resolve(site: number, value: number, arena: DataBlock): bigint {
    try {
      this.counts.resolves++;
      const s = this.sites[site]!;
      // The interpreter of a fallback spends the run's fuel: it goes over and comes back.
      const state = arena.i64(0, STATE_BYTES / 8);
      const fuel = getFuel() >= 0;
      if (fuel) setFuel(Number(state[S.fuel / 8]));
      // The graph the run entered tail-exits with rsp where the trampoline's call left it.
      const bottom = state[S.exitRsp / 8] === state[S.savedRsp / 8]! - 8n;
      const objects = this.objects.at(-1);
      // A promoted reference: the object (paired with a JavaScript one, copied out).
      let promoted: unknown = value;
      if (objects && isReference(s.type)) {
        promoted = objects.valueOf(value, s.type);
        objects.flushOut();
      }
      let looked = false;
      const r = this.opts.continuation!(
        s.status,
        promoted as number,
        (types) => {
          // JavaScript is about to look at the objects (and may change them: a fallback, the
          // first tier going on from the state).
          looked = true;
          objects?.syncOut();
          return this.leaves(arena, types, objects);
        },
        bottom,
      );
      if (looked) objects?.syncIn();
      if (fuel) state[S.fuel / 8] = BigInt(getFuel());
      if ("leave" in r) {
        if (!bottom) throw new Error("x64: a nested graph cannot leave the run");
        this.left = r.leave;
        arena.i32(S.payload, 1)[0] = -1;
        return this.stub((st) => st.left);
      }
      if ("done" in r) {
        this.counts.fallbacks++;
        return this.finish(r.done, arena, s.func, objects);
      }
      this.add(r.graphs);
      const at = this.entry(r.name);
      if (at === undefined) throw new Error(`x64: no graph @${r.name} to go on in`);
      if (r.collect && objects) {
        this.collect(arena, r.collect, objects);
        return at;
      }
      const key = r.perValue ? this.caseKey(s, promoted) : undefined;
      if (key !== undefined) s.cases.set(key, at);
      this.patch(s, key !== undefined ? this.dispatch(s) : r.perValue ? s.thunk : at);
      return at;
    } catch (e) {
      this.failure = e;
      return this.stub((s) => s.failed);
    }
  }

  /** What the dispatch of promotion site `s` compares its value with to go where `promoted`
   *  went: the value itself, or for a reference the index of the constant the object is (none
   *  if it is not one: that value goes through the thunk each time). */
  private caseKey(s: Site, promoted: unknown): number | undefined {
    if (!isReference(s.type)) return promoted as number;
    s.byConstant = true;
    const all = constantsOf(this.m, this.opts.heap!);
    for (let k = this.constantIndex.size; k < all.length; k++)
      if (!this.constantIndex.has(all[k])) this.constantIndex.set(all[k], k);
    return this.constantIndex.get(promoted);
  }

  /** Points the cell of `s` at `target`. */
  private patch(s: Site, target: bigint): void {
    s.cell.page[s.cell.index] = target;
    this.counts.patches++;
  }

  /** A new exit cell. */
  private cell(): Cell {
    if (this.cellsUsed === CELLS) {
      const block = new DataBlock(8 * CELLS);
      this.cellPages.push({ block, cells: new BigUint64Array(block.buffer) });
      this.cellsUsed = 0;
    }
    const { block, cells } = this.cellPages.at(-1)!;
    const index = this.cellsUsed++;
    return { address: block.addr(8 * index), page: cells, index };
  }

  /** A dispatch on the values a promotion site has seen: a compare and jump per value, then
   *  the site's thunk. It replaces the site's last one, which is unmapped: nothing points at it
   *  once the cell is patched (it jumped to the thunk, it did not call it). */
  private dispatch(s: Site): bigint {
    const a = new Asm();
    for (const [v, at] of s.cases) {
      const next = a.label();
      if (s.byConstant) {
        a.movRM(32, SCRATCH1, { base: STATE, disp: CONSTANTS + 4 * v });
        a.cmpRM(32, SCRATCH1, { base: STATE, disp: S.value });
      } else a.cmpMI(32, { base: STATE, disp: S.value }, v);
      a.jcc(Cond.ne, next);
      a.movabs(SCRATCH1, at).jmpR(SCRATCH1);
      a.bind(next);
    }
    a.movabs(SCRATCH1, s.thunk).jmpR(SCRATCH1);
    s.dispatch?.free();
    s.dispatch = new CodeBlock(a.bytes());
    return s.dispatch.address;
  }

  /** The values of the exit being resolved, in the state buffer (the first six the thunk put
   *  there, the others the exit). Arrays are views of the arena. */
  private leaves(arena: DataBlock, types: Type[], objects: RunObjects | undefined): Value[] {
    const state = arena.i64(0, STATE_BYTES / 8);
    const values = types.map((t, i) => {
      const raw = state[S.args / 8 + i]!;
      if (t === "bool") return (raw & 1n) === 1n;
      if (t === "i32") return Number(BigInt.asIntN(32, raw));
      if (isReference(t)) return objects!.valueOf(Number(BigInt.asIntN(32, raw)), t) as Value;
      const at = Number(raw - arena.address);
      const n = arena.i32(at, 1)[0]!;
      return t === "u8[]" ? arena.u8(at + ARRAY_HEADER, n) : arena.i32(at + ARRAY_HEADER, n);
    });
    objects?.flushOut();
    return values;
  }

  /** Where the thunk goes when JS ran the rest of the exited graph: its result is returned, or
   *  its error raised. */
  private finish(
    done: RunStatus,
    arena: DataBlock,
    f: MFunc,
    objects: RunObjects | undefined,
  ): bigint {
    const state = arena.i64(0, STATE_BYTES / 8);
    if (done.k === "raise") {
      let i = this.messages.indexOf(done.msg);
      if (i < 0) i = this.messages.push(done.msg) - 1;
      arena.i32(S.payload, 1)[0] = i;
      return this.stub((s) => s.raise);
    }
    if (done.k === "exit") throw new Error("x64: a fallback ended in an exit");
    const v = done.value;
    const t = f.graph.ret;
    if (isReference(t)) {
      state[S.result / 8] = BigInt(objects!.refOf(v, t));
      objects!.flushIn();
      return this.stub((s) => s.fellBack);
    }
    if (typeof v === "object") throw new Error("x64: a fallback cannot return an array");
    state[S.result / 8] =
      v === undefined ? 0n : BigInt(typeof v === "boolean" ? Number(v) : v >>> 0);
    return this.stub((s) => s.fellBack);
  }

  private outcome(
    status: number,
    f: MFunc,
    arena: DataBlock,
    objects: RunObjects | undefined,
  ): RunStatus {
    const state = arena.i64(0, STATE_BYTES / 8);
    const payload = arena.i32(S.payload, 1)[0]!;
    switch (status) {
      case Status.returned:
        return { k: "return", value: resultValue(state[S.result / 8]!, f, arena, objects) };
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
        throw new NativeLimit(
          `x64: the arena's heap of ${this.layout.heapEnd - this.layout.heapStart} bytes is exhausted`,
        );
      case Status.objectsFull: {
        const bytes = this.layout.objectEnd - this.layout.objectStart;
        const size = bytes >= 1 << 20 ? `${bytes / (1 << 20)} MiB` : `${bytes >> 10} KiB`;
        if (objects?.region.outgrown)
          throw new OutOfMemory(
            `out of memory: the live objects outgrew half of machine code's object region of ${size} (--heap-mb)`,
          );
        throw new NativeLimit(
          `x64: the object region of ${size} is full (what is live fills it between safepoints)`,
        );
      }
      case Status.stackOverflow:
        throw new NativeLimit("x64: native stack exhausted (recursion too deep)");
      case Status.failed:
        throw this.failure;
      case Status.ioFailed:
        throw takeIoFailure();
      case Status.left:
        return { k: "exit", status: -1, state: this.left };
      default:
        throw new Error(`x64: unknown status ${status}`);
    }
  }

  free(): void {
    for (const c of this.chunks) c.code.free();
    for (const s of this.sites) s.dispatch?.free();
    for (const c of this.cellPages) c.block.free();
  }
}

/** Copies the arrays a run was passed back from `arena` (`homes`: where each one's copy is). */
function copyBack(arena: DataBlock, homes: Map<Int32Array | Uint8Array, number>): void {
  for (const [arr, at] of homes) {
    const n = arr.length;
    arr.set(
      arr instanceof Int32Array ? arena.i32(at + ARRAY_HEADER, n) : arena.u8(at + ARRAY_HEADER, n),
    );
  }
}

function resultValue(
  raw: bigint,
  f: MFunc,
  arena: DataBlock,
  objects: RunObjects | undefined,
): Value | undefined {
  const t = f.graph.ret;
  if (t === "void") return undefined;
  if (t === "bool") return (raw & 1n) === 1n;
  if (t === "i32") return Number(BigInt.asIntN(32, raw));
  if (isReference(t)) {
    const v = objects!.valueOf(Number(BigInt.asIntN(32, raw)), t);
    objects!.flushOut();
    return v as Value;
  }
  // An array: copied out of the arena before it goes.
  const at = Number(raw - arena.address);
  const n = arena.i32(at, 1)[0]!;
  return t === "u8[]"
    ? arena.u8(at + ARRAY_HEADER, n).slice()
    : arena.i32(at + ARRAY_HEADER, n).slice();
}
