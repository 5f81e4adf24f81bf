//! The backends a program can run on, behind one interface, and the one place that runs a
//! program and turns an interpreter error into an outcome. The CLI, `start`, the fuzzing
//! harness and the benchmark all go through `runProgram`, so they compare like with like.

import { pathToFileURL } from "node:url";
import { LoadError, product, graphsOf, withConstants, type Lang } from "./language.ts";
import {
  BufferSource,
  OutputBuffer,
  RecordingSource,
  collector,
  type ByteSource,
  type ChunkSink,
} from "../runtime/stdio.ts";
import { VmError, setFuel, setIo } from "../runtime/hints.ts";
import { logEvent, logging, setEventSink, type LoggedEvent } from "../runtime/events.ts";
import { printModule } from "../runtime/ir/print.ts";
import type { Graph, Module } from "../runtime/ir/types.ts";
import type { NativeModule } from "../runtime/x64/native.ts";
import { checkStamp } from "../runtime/stamp.ts";
import { Heap, type TierObjects } from "../runtime/heap.ts";
import { STAY, setTiers, type OnHot, type PortalLoop } from "../runtime/tiers/counters.ts";
import { newTierStats } from "../runtime/tiers/stats.ts";
import type { Policy } from "../runtime/specialiser/policy.ts";
import type { Status } from "../runtime/l3.ts";
import { x64Supported } from "../runtime/x64/memory.ts";
import { unsupportedHolding } from "../runtime/x64/objects.ts";

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
  /** Bytes of machine code's object region (`--heap-mb`; the default `DEFAULT_REGION_BYTES`). */
  regionBytes?: number | undefined;
  /** Collect machine code's objects at every safepoint reached after an allocation (tests). */
  stressCollect?: boolean | undefined;
  log?: NodeJS.WritableStream;
  /** The first tier's threshold; what it does with a hot state (`tier1`: tests hand it over);
   *  the takes of an edge exit before it gets a bridge (`jit`, `jit-graph`). */
  tiers?:
    | {
        threshold?: number;
        onHot?: OnHot;
        bridgeAfter?: number;
        warmup?: number;
        /** Load the JIT before the run even where it could wait until a state is hot (tests:
         *  both make the same decisions). */
        loadFirst?: boolean;
      }
    | undefined;
  /** Filled with the run's statistics (also when the run fails); the outcome holds them too. */
  stats?: Record<string, unknown>;
  /** Hears the JIT's events as they happen (`--log`: `runtime/events.ts`). */
  events?: ((e: LoggedEvent) => void) | undefined;
  /** Sees what compiled code was made of (`futamura view`). */
  inspect?: Inspector | undefined;
}

/** What a run on compiled code shows of its code: each residual graph as it is made (with the
 *  module's data constants so far), and the machine code when the run ends. */
export interface Inspector {
  onGraphs?(graphs: Graph[], data: Module["data"]): void;
  onNative?(native: NativeModule): void;
}

export interface Backend {
  name: string;
  /** Runs machine code inside the process: a bug can kill the process, so the fuzzer runs it
   *  in a worker process (generator/fuzz/workers.ts). */
  native?: boolean;
  /** What `--dump` accepts. */
  dumps: string[];
  /** Runs the program on its integers (`args`: as many as the entry takes after the
   *  bytecode, `Lang.arity`); fills `stats` with what it measured. */
  run(
    lang: Lang,
    code: Uint8Array,
    args: readonly number[],
    opts: RunOptions,
    stats: Record<string, unknown>,
  ): number | Promise<number>;
}

/** What a run gives: a value or an interpreter error, the bytes it wrote (when no `output`
 *  sink took them as they came), and statistics. */
export interface Outcome {
  value?: number;
  error?: string;
  /** The error is a resource outcome (`"memory"`: machine code's objects outgrew `--heap-mb`),
   *  not the program's answer: left out of differential agreement, as a time limit is. */
  resource?: "memory";
  output: Uint8Array;
  stats: Record<string, unknown>;
}

const interp: Backend = {
  name: "interp",
  dumps: [],
  run: (lang, code, args) => lang.native(code, args),
};

/** The first tier alone (`generated/<lang>.tier1.ts`): the interpreter's source made resumable
 *  at its merge point, counting passes; with `opts.tiers`, hot states go where it says. */
const tier1: Backend = {
  name: "tier1",
  dumps: [],
  async run(lang, code, args, opts) {
    const entry = await firstTier(lang);
    const t = opts.tiers;
    setTiers(t?.threshold ?? Infinity, t?.onHot ?? (() => STAY));
    try {
      return entry(code, ...args.map((x) => x | 0));
    } finally {
      setTiers(Infinity, () => STAY);
    }
  },
};

type Entry = (code: Uint8Array, ...ints: number[]) => number;
const firstTiers = new Map<string, Entry>();
const tierHeaps = new Map<string, Heap>();

/** The heap of the first tier's objects (its classes and module constants, which its `portal`
 *  exports), for compiled code that runs in JavaScript beside it: one identity across tiers. */
export async function firstTierHeap(lang: Lang): Promise<Heap> {
  const path = product(lang, "tier1");
  let heap = tierHeaps.get(path);
  if (!heap) {
    const portal = (await importProduct(lang, "tier1")).portal as Partial<TierObjects>;
    heap = Heap.ofClasses(graphsOf(lang), {
      classes: portal.classes ?? {},
      constants: portal.constants ?? {},
    });
    tierHeaps.set(path, heap);
  }
  return heap;
}

/** The entry function of a language's first tier (its build stamp checked), loaded once; one
 *  taking the program's constants makes them first with the first tier's own function. */
export async function firstTier(lang: Lang): Promise<Entry> {
  const path = product(lang, "tier1");
  let entry = firstTiers.get(path);
  if (!entry) {
    const module = await importProduct(lang, "tier1");
    entry = module[lang.entry] as Entry;
    if (lang.constants !== undefined)
      entry = withConstants(entry, module[lang.constants] as (code: Uint8Array) => unknown);
    firstTiers.set(path, entry);
  }
  return entry;
}

/** A build product of `lang` as a module, its stamp checked first (`runtime/stamp.ts`). */
export async function importProduct(
  lang: Lang,
  kind: "specialiser" | "tier1",
): Promise<Record<string, unknown>> {
  const path = product(lang, kind);
  checkStamp(path);
  return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
}

/** The interpreter's own graphs on the L3 interpreter. */
const graph: Backend = {
  name: "graph",
  dumps: ["graphs"],
  async run(lang, code, args, opts) {
    const m = graphsOf(lang);
    if (opts.dump === "graphs") opts.log?.write(printModule(m));
    const { L3, makeConstants } = await import("../runtime/l3.ts");
    const made = lang.constants === undefined ? [] : [makeConstants(m, lang.constants, code)];
    return valueOf(new L3(m).run(lang.entry, [code, ...(made as number[]), ...args]));
  },
};

/** Whether a backend needs the language's generated specialiser. */
export const needsSpecialiser = (backend: string): boolean =>
  backend === "jit-graph" || backend === "jit";

/** `lang`, if machine code can hold what its objects hold (not an array: `x64/objects.ts`);
 *  else a load error saying what. */
function compilable(lang: Lang): Lang {
  const held = unsupportedHolding(graphsOf(lang));
  if (held)
    throw new LoadError(
      `${lang.name}: machine code does not hold arrays in objects, lists or maps (${held}); run it with --backend interp, tier1, graph, pe or jit-graph`,
    );
  return lang;
}

/** Turns how a graph run ended into the run's value, or the interpreter's error. */
export function valueOf(s: Status): number {
  if (s.k === "raise") throw new VmError(s.msg);
  if (s.k === "exit") throw new Error(`unexpected exit ${s.status} from compiled code`);
  return s.value as number;
}

/** Running on compiled code (`compiled.ts`), loaded when a backend first needs it. */
const compiled = () => import("./compiled.ts");

/** The abstract interpreter's residual graphs on L3, specialised eagerly. */
const pe: Backend = {
  name: "pe",
  dumps: ["residual"],
  run: async (lang, code, args, opts, stats) =>
    (await compiled()).runJit(lang, code, args, opts, stats, { target: "l3" }),
};

/** The tiered JIT with its residual graphs on L3: the portable reference of `jit`. */
const jitGraph: Backend = {
  name: "jit-graph",
  dumps: ["residual"],
  run: (lang, code, args, opts, stats) => runTiers(lang, code, args, opts, stats, "l3"),
};

/** A hot state offered past the warm-up, before the JIT was loaded: the first tier's frame is
 *  unwound to the run (`runTiers`), which loads the JIT and goes on from the state. */
class Suspended {
  constructor(
    readonly loop: PortalLoop,
    readonly greens: unknown[],
    readonly reds: unknown[],
  ) {}
}

/** Runs the tiers, loading the JIT (the specialisers, the passes, the backends: 60 ms of module
 *  loading in the package, 130 ms in a checkout, as much as a short program's whole run) only
 *  once a state is hot past the warm-up. The first tier calls its hot-state handler
 *  synchronously and Node loads ES modules asynchronously, so the first tier's frame is
 *  unwound (`Suspended`) and the run goes on from the state once the JIT is loaded: possible
 *  where that frame is the run's own, the entry being the portal and the portal never calling
 *  itself (Brainfuck, TLR). Elsewhere the JIT is loaded before the run. */
async function runTiers(
  lang: Lang,
  code: Uint8Array,
  args: readonly number[],
  opts: RunOptions,
  stats: Record<string, unknown>,
  target: "l3" | "x64",
): Promise<number> {
  const load = async () => {
    const c = await compiled();
    return { c, how: { target, compiled: await c.generated(lang) } };
  };
  const portal = (await importProduct(lang, "tier1")).portal as {
    name: string;
    recursive?: boolean;
  };
  const waits = portal.recursive === false && portal.name === lang.entry && !lang.constants;
  if (!waits || opts.tiers?.loadFirst) {
    const { c, how } = await load();
    stats.jitLoaded = true;
    return c.runTiered(lang, code, args, opts, stats, how);
  }
  const entry = await firstTier(lang);
  const startedAt = performance.now();
  const warmup = warmupOffersOf(opts);
  let offers = 0;
  setTiers(opts.tiers?.threshold ?? TIER_THRESHOLD, (loop, greens, reds) => {
    if (++offers > warmup) throw new Suspended(loop, greens, reds); // (offered again, logged then)
    // (the position: the green that is a number, the bytecode's the array)
    if (logging())
      logEvent({ ev: "hot", position: greens.find((g) => typeof g === "number") as number });
    return STAY;
  });
  let loaded = false;
  try {
    return entry(code, ...args.map((x) => x | 0));
  } catch (e) {
    if (!(e instanceof Suspended)) throw e;
    loaded = true;
    const t0 = performance.now();
    const { c, how } = await load();
    const loadMs = performance.now() - t0;
    stats.jitLoaded = true;
    stats.jitLoadMs = Math.round(loadMs * 1000) / 1000;
    // (awaited: the counters stay set until the run ends; the load is not the first tier's time)
    return await c.runTiered(lang, code, args, opts, stats, {
      ...how,
      resume: { ...e, offers, startedAt: startedAt + loadMs },
    });
  } finally {
    setTiers(Infinity, () => STAY);
    // (a run the first tier ended, however it ended: its offers, and nothing compiled)
    if (!loaded) {
      const ms = Math.round((performance.now() - startedAt) * 1000) / 1000;
      Object.assign(stats, newTierStats(), { hotStates: offers, runningMs: ms, firstTierMs: ms });
      stats.jitLoaded = false;
    }
  }
}

/** Hot states offered before the first is compiled (`TierOptions.warmupOffers`): the warm-up
 *  in passes over the threshold. A threshold given (tests, --threshold) means no warm-up unless
 *  one is given too. */
export function warmupOffersOf(opts: RunOptions): number {
  const warmup = opts.tiers?.warmup ?? (opts.tiers?.threshold === undefined ? WARMUP_PASSES : 0);
  return Math.ceil(warmup / (opts.tiers?.threshold ?? TIER_THRESHOLD));
}

/** The abstract interpreter's residual graphs, specialised eagerly, as x86-64 machine code. */
const x64: Backend = {
  name: "x64",
  native: true,
  dumps: ["residual", "asm"],
  run: async (lang, code, args, opts, stats) =>
    (await compiled()).runJit(compilable(lang), code, args, opts, stats, { target: "x64" }),
};

/** The JIT: the first tier, and what gets hot specialised by the generated specialiser into
 *  x86-64 machine code. */
const jit: Backend = {
  name: "jit",
  native: true,
  dumps: ["residual", "asm"],
  run: (lang, code, args, opts, stats) =>
    runTiers(compilable(lang), code, args, opts, stats, "x64"),
};

/** Passes through a merge-point position after which the first tier offers it to the JIT, and
 *  takes of an edge exit after which it gets a bridge. */
export const TIER_THRESHOLD = 10_000;
/** Passes through merge points (about) before anything is compiled, when the threshold is the
 *  default: the real programs that run 25-55 ms in the interpreter paid 150-300 ms for a first
 *  compilation they could not repay. Counted in offers (a position's counter run out: about
 *  `TIER_THRESHOLD` passes each), they make life 132, squares 43, rot13, numwarp and skiploop
 *  none; TL's call.tl at 750,000 makes 937, and 5,000,000 passes (500 offers) kept half of its
 *  run in the first tier (jit 1.05x interp, against 0.28x without a warm-up). */
export const WARMUP_PASSES = 2_000_000;
export const BRIDGE_AFTER = 4;

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

/** Runs `code` on `backend`: with the integers `args` (one number stands for one integer, or
 *  for none where the entry takes none: a Brainfuck program's 0). */
export async function runProgram(
  backend: Backend,
  lang: Lang,
  code: Uint8Array,
  args: number | readonly number[],
  opts: RunOptions = {},
): Promise<Outcome> {
  const ints = typeof args === "number" ? (lang.arity > 0 ? [args] : []) : args;
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
    setEventSink(opts.events);
    try {
      const value = await backend.run(lang, code, ints, opts, stats);
      return { value, output: output(), stats };
    } catch (e) {
      if (!(e instanceof Error) || e.name !== "NativeLimit" || !input.complete) throw e;
      // Machine code ran out of its own stack or arena: the interpreter has neither limit.
      // The run starts again on it, with the same input and fuel, and what it writes again
      // is dropped: the user sees the interpreter's own answer (its depth limit), once.
      stats.replayed = e.message;
      from = input.replay();
      out.replay();
      setFuel(opts.fuel);
      return { value: await interp.run(lang, code, ints, opts, stats), output: output(), stats };
    }
  } catch (e) {
    if (e instanceof VmError) return { error: e.message, output: output(), stats };
    if (e instanceof Error && e.name === "OutOfMemory")
      return { error: e.message, resource: "memory", output: output(), stats };
    throw e;
  } finally {
    setFuel(undefined);
    setEventSink(undefined);
    setIo({ read: () => -1, write: () => {} });
    stats.outputBytes = out.written;
    stats.runMs = Math.round((performance.now() - start) * 1000) / 1000;
  }
}
