//! The backends a program can run on, behind one interface, and the one place that runs a
//! program and turns an interpreter error into an outcome. The CLI, `start`, the fuzzing
//! harness and the benchmark all go through `runProgram`, so they compare like with like.

import { writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { graphsOf, product, type Lang } from "./language.ts";
import {
  BufferSource,
  OutputBuffer,
  RecordingSource,
  collector,
  type ByteSource,
  type ChunkSink,
} from "../runtime/stdio.ts";
import { VmError, setFuel, setIo } from "../runtime/hints.ts";
import { printData, printModule } from "../runtime/ir/print.ts";
import type { Graph, Module } from "../runtime/ir/types.ts";
import { checkStamp } from "../runtime/stamp.ts";
import { STAY, setTiers, type OnHot } from "../runtime/tiers/counters.ts";
import { L3, type Status } from "../runtime/l3.ts";
import { Program, type NativeFactory } from "../runtime/jit.ts";
import { TieredProgram } from "../runtime/tiers/tiered.ts";
import type { Compiled } from "../runtime/specialiser/engine.ts";
import { defaultPolicy, type Policy } from "../runtime/specialiser/policy.ts";
import { listing, perfMap } from "../runtime/x64/disasm.ts";
import { x64Supported } from "../runtime/x64/memory.ts";
import { NativeLimit, NativeModule } from "../runtime/x64/native.ts";

export interface RunOptions {
  fuel?: number | undefined;
  /** The program's standard input, for languages that read bytes: bytes, or a stream read as
   *  the program asks (the CLI's stdin). */
  input?: Uint8Array | ByteSource | undefined;
  /** Where the program's output goes as it is written (the CLI's stdout); without one, the
   *  outcome holds it all. */
  output?: ChunkSink | undefined;
  /** An intermediate form to print to `log` (each backend names what it has). */
  dump?: string | undefined;
  /** Bounds of the specialisation policy other than the defaults (tests force fallbacks). */
  policy?: Partial<Policy> | undefined;
  log?: NodeJS.WritableStream;
  /** The first tier's threshold; what it does with a hot state (`tier1`: tests hand it over);
   *  the takes of an edge exit before it gets a bridge (`jit`, `jit-graph`). */
  tiers?: { threshold?: number; onHot?: OnHot; bridgeAfter?: number; warmup?: number } | undefined;
  /** Filled with the run's statistics (also when the run fails); the outcome holds them too. */
  stats?: Record<string, unknown>;
}

export interface Backend {
  name: string;
  /** Runs machine code inside the process: a bug can kill the process, so the fuzzer runs it
   *  in a worker process (generator/fuzz/workers.ts). */
  native?: boolean;
  /** What `--dump` accepts. */
  dumps: string[];
  /** Runs the program; fills `stats` with what it measured. */
  run(
    lang: Lang,
    code: Uint8Array,
    arg: number,
    opts: RunOptions,
    stats: Record<string, unknown>,
  ): number | Promise<number>;
}

/** What a run gives: a value or an interpreter error, the bytes it wrote (when no `output`
 *  sink took them as they came), and statistics. */
export interface Outcome {
  value?: number;
  error?: string;
  output: Uint8Array;
  stats: Record<string, unknown>;
}

const interp: Backend = {
  name: "interp",
  dumps: [],
  run: (lang, code, arg) => lang.native(code, arg),
};

/** The first tier alone (`generated/<lang>.tier1.ts`): the interpreter's source made resumable
 *  at its merge point, counting passes; with `opts.tiers`, hot states go where it says. */
const tier1: Backend = {
  name: "tier1",
  dumps: [],
  async run(lang, code, arg, opts) {
    const entry = await firstTier(lang);
    const t = opts.tiers;
    setTiers(t?.threshold ?? Infinity, t?.onHot ?? (() => STAY));
    try {
      return entry(code, arg | 0);
    } finally {
      setTiers(Infinity, () => STAY);
    }
  },
};

type Entry = (code: Uint8Array, arg: number) => number;
const firstTiers = new Map<string, Entry>();

/** The entry function of a language's first tier (its build stamp checked), loaded once. */
export async function firstTier(lang: Lang): Promise<Entry> {
  const path = product(lang, "tier1");
  let entry = firstTiers.get(path);
  if (!entry) {
    checkStamp(path);
    const mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    firstTiers.set(path, (entry = mod[lang.entry] as Entry));
  }
  return entry;
}

/** Turns how a graph run ended into the run's value, or the interpreter's error. */
export function valueOf(s: Status): number {
  if (s.k === "raise") throw new VmError(s.msg);
  if (s.k === "exit") throw new Error(`unexpected exit ${s.status} from compiled code`);
  return s.value as number;
}

/** The interpreter's own graphs on the L3 interpreter. */
const graph: Backend = {
  name: "graph",
  dumps: ["graphs"],
  run(lang, code, arg, opts) {
    const m = graphsOf(lang);
    if (opts.dump === "graphs") opts.log?.write(printModule(m));
    return valueOf(new L3(m).run(lang.entry, [code, arg]));
  },
};

/** Runs the program specialised whole from its entry (`runtime/jit.ts`), by the abstract
 *  interpreter or (with `compiled`) a generated specialiser, on L3 or x86-64. Fills `stats`
 *  with the specialiser's and the JIT's figures. */
export function runJit(
  lang: Lang,
  code: Uint8Array,
  arg: number,
  opts: RunOptions,
  stats: Record<string, unknown>,
  how: { target: "l3" | "x64"; compiled?: Record<string, Compiled> },
): number {
  const policy: Policy = { ...defaultPolicy, ...opts.policy, fuel: opts.fuel !== undefined };
  const t0 = performance.now();
  const log = opts.dump === "residual" ? opts.log : undefined;
  const dump = log && residualDump(log);
  const program = new Program(
    graphsOf(lang),
    lang.entry,
    code,
    {
      policy,
      compiled: how.compiled,
      target: how.target,
      ...(dump ? { onGraphs: dump } : {}),
    },
    how.target === "x64" ? nativeFactory : undefined,
  );
  try {
    return valueOf(program.run(arg));
  } finally {
    const s = program.stats;
    Object.assign(stats, s, {
      continuations: s.promotionMisses,
      mergePoints: program.mergePoints(5),
      specialiseMs: round(s.specialiseMs),
      cleanupMs: round(s.cleanupMs),
      compileMs: round(s.compileMs),
    });
    // The machine code's own time (with its calls into JS for I/O and exits); where the first
    // specialisation gave up there is none, and the time is the interpreter's.
    const rest = round(performance.now() - t0 - s.specialiseMs - s.compileMs);
    if (!program.specialised) stats.interpreterMs = rest;
    else if (how.target === "x64") stats.nativeMs = rest;
    if (s.fallbacks === 0) delete stats.fallback;
    const native = program.nativeModule;
    if (native && opts.dump === "asm") opts.log?.write(listing(native));
    // For `perf record` of compiled code: its symbols, where perf looks for a JIT's.
    if (native && process.env.FUTAMURA_PERF_MAP)
      writeFileSync(`/tmp/perf-${process.pid}.map`, perfMap(native));
  }
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

/** Prints each residual graph once as it is made, with the data constants not printed yet. */
function residualDump(log: NodeJS.WritableStream) {
  let printed = 0;
  return (graphs: Graph[], data: Module["data"]) => {
    const fresh = data.slice(printed).map((d, i) => printData(d, printed + i) + "\n");
    printed = data.length;
    log.write(fresh.join("") + (fresh.length ? "\n" : "") + printModule({ graphs, data: [] }));
  };
}

/** The residual module compiled to machine code, with exits resolved through `resolve`. */
export const nativeFactory: NativeFactory = (m, resolve) => {
  if (!x64Supported)
    throw new Error(
      `the x64 backend runs only on x86-64 Linux (this is ${process.arch} ${process.platform})`,
    );
  return new NativeModule(m, { continuation: resolve });
};

/** Imported when used: the CLI must work (to regenerate) while generated/ is stale or absent. */
export async function generated(lang: Lang): Promise<Record<string, Compiled> | undefined> {
  const path = product(lang, "specialiser");
  checkStamp(path);
  // The language's own module, not the index of all three (a third of the load time).
  const { compiled } = (await import(pathToFileURL(path).href)) as {
    compiled: Record<string, Compiled>;
  };
  return compiled;
}

/** The abstract interpreter's residual graphs on L3, specialised eagerly. */
const pe: Backend = {
  name: "pe",
  dumps: ["residual"],
  run: (lang, code, arg, opts, stats) => runJit(lang, code, arg, opts, stats, { target: "l3" }),
};

/** The tiered JIT with its residual graphs on L3: the portable reference of `jit`. */
const jitGraph: Backend = {
  name: "jit-graph",
  dumps: ["residual"],
  run: async (lang, code, arg, opts, stats) =>
    runTiered(lang, code, arg, opts, stats, { target: "l3", compiled: await generated(lang) }),
};

/** The abstract interpreter's residual graphs, specialised eagerly, as x86-64 machine code. */
const x64: Backend = {
  name: "x64",
  native: true,
  dumps: ["residual", "asm"],
  run: (lang, code, arg, opts, stats) => runJit(lang, code, arg, opts, stats, { target: "x64" }),
};

/** The JIT: the first tier, and what gets hot specialised by the generated specialiser into
 *  x86-64 machine code. */
const jit: Backend = {
  name: "jit",
  native: true,
  dumps: ["residual", "asm"],
  run: async (lang, code, arg, opts, stats) =>
    runTiered(lang, code, arg, opts, stats, { target: "x64", compiled: await generated(lang) }),
};

/** Passes through a merge-point position after which the first tier offers it to the JIT, and
 *  takes of an edge exit after which it gets a bridge. */
export const TIER_THRESHOLD = 10_000;
/** Passes through merge points (about) before anything is compiled, when the threshold is the
 *  default: the real programs that run 25-55 ms in the interpreter (life, squares, rot13: under
 *  3,000,000 passes) paid 150-300 ms for a first compilation they could not repay. */
export const WARMUP_PASSES = 5_000_000;
export const BRIDGE_AFTER = 4;

/** Runs the program as the tiered JIT does (`runtime/tiers/tiered.ts`): in the first tier,
 *  with hot states specialised and run on `target`. Fills `stats` with what the tiers did. */
export async function runTiered(
  lang: Lang,
  code: Uint8Array,
  arg: number,
  opts: RunOptions,
  stats: Record<string, unknown>,
  how: {
    target: "l3" | "x64";
    compiled: Record<string, Compiled> | undefined;
    /** Other than `nativeFactory` (tests: code in small chunks, checked as it is made). */
    makeNative?: NativeFactory;
  },
): Promise<number> {
  const policy: Policy = { ...defaultPolicy, ...opts.policy, fuel: opts.fuel !== undefined };
  const log = opts.dump === "residual" ? opts.log : undefined;
  const dump = log && residualDump(log);
  const entry = await firstTier(lang);
  const t0 = performance.now();
  const program = new TieredProgram(graphsOf(lang), {
    policy,
    compiled: how.compiled,
    target: how.target,
    makeNative: how.target === "x64" ? (how.makeNative ?? nativeFactory) : undefined,
    bridgeAfter: opts.tiers?.bridgeAfter ?? BRIDGE_AFTER,
    // A threshold given (tests, --threshold) means no warm-up unless one is given too.
    warmupOffers: Math.ceil(
      (opts.tiers?.warmup ?? (opts.tiers?.threshold === undefined ? WARMUP_PASSES : 0)) /
        (opts.tiers?.threshold ?? TIER_THRESHOLD),
    ),
    onGraphs: dump,
  });
  setTiers(opts.tiers?.threshold ?? TIER_THRESHOLD, program.onHot);
  try {
    return entry(code, arg | 0);
  } finally {
    setTiers(Infinity, () => STAY);
    const s = program.stats;
    Object.assign(stats, s, {
      specialiseMs: round(s.specialiseMs),
      cleanupMs: round(s.cleanupMs),
      compileMs: round(s.compileMs),
      // The time of the first tier and the compiled code (with the calls between them), and
      // each apart.
      runningMs: round(performance.now() - t0 - s.specialiseMs - s.compileMs),
      compiledCodeMs: round(s.compiledCodeMs),
      firstTierMs: round(performance.now() - t0 - s.specialiseMs - s.compileMs - s.compiledCodeMs),
    });
    if (s.fallbacks === 0) delete stats.fallback;
    const native = program.nativeModule;
    if (native && opts.dump === "asm") opts.log?.write(listing(native));
    if (native && process.env.FUTAMURA_PERF_MAP)
      writeFileSync(`/tmp/perf-${process.pid}.map`, perfMap(native));
  }
}

/** Every backend this host can run: `x64` only on x86-64 Linux. */
export const backends: Record<string, Backend> = {
  interp,
  tier1,
  graph,
  pe,
  "jit-graph": jitGraph,
  ...(x64Supported ? { x64, jit } : {}),
};

/** The JIT where machine code runs, else its portable form on L3. */
export const DEFAULT_BACKEND = x64Supported ? "jit" : "jit-graph";

/** Input kept for a replay: a run that reads more than this cannot be replayed. */
const REPLAY_INPUT_LIMIT = 16 << 20;

export async function runProgram(
  backend: Backend,
  lang: Lang,
  code: Uint8Array,
  arg: number,
  opts: RunOptions = {},
): Promise<Outcome> {
  const stats = Object.assign(opts.stats ?? {}, { backend: backend.name, lang: lang.name });
  const start = performance.now();
  const kept = opts.output ? undefined : collector();
  const out = new OutputBuffer(opts.output ?? kept!.sink);
  const input = new RecordingSource(
    opts.input === undefined || opts.input instanceof Uint8Array
      ? new BufferSource(opts.input ?? new Uint8Array(0))
      : opts.input,
    REPLAY_INPUT_LIMIT,
  );
  let from: ByteSource = input;
  setIo({ read: () => from.read(), write: (b) => out.write(b) });
  const output = () => (out.flush(), kept?.bytes() ?? new Uint8Array(0));
  try {
    setFuel(opts.fuel);
    try {
      const value = await backend.run(lang, code, arg, opts, stats);
      return { value, output: output(), stats };
    } catch (e) {
      if (!(e instanceof NativeLimit) || !input.complete) throw e;
      // Machine code ran out of its own stack or arena: the interpreter has neither limit.
      // The run starts again on it, with the same input and fuel, and what it writes again
      // is dropped: the user sees the interpreter's own answer (its depth limit), once.
      stats.replayed = e.message;
      from = input.replay();
      out.replay();
      setFuel(opts.fuel);
      return { value: await interp.run(lang, code, arg, opts, stats), output: output(), stats };
    }
  } catch (e) {
    if (e instanceof VmError) return { error: e.message, output: output(), stats };
    throw e;
  } finally {
    setFuel(undefined);
    setIo({ read: () => -1, write: () => {} });
    stats.outputBytes = out.written;
    stats.runMs = Math.round((performance.now() - start) * 1000) / 1000;
  }
}
