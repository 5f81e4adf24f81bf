//! Running a program on compiled code: specialised whole from its entry (`runJit`: the `pe`
//! and `x64` backends) or by the tiered JIT (`runTiered`: `jit`, `jit-graph`), on L3 or x86-64,
//! with the statistics each fills. Apart from `backends.ts` so that the machinery behind it
//! (the engine, the passes, the x86-64 backend) is loaded only by a run that uses it: `interp`
//! starts without it.

import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from "node:fs";
import { printData, printModule } from "../runtime/ir/print.ts";
import type { Graph, Module } from "../runtime/ir/types.ts";
import { Program, type NativeFactory } from "../runtime/jit.ts";
import type { Compiled } from "../runtime/specialiser/engine.ts";
import { defaultPolicy, type Policy } from "../runtime/specialiser/policy.ts";
import {
  RESUME,
  STAY,
  resumed,
  setOnHot,
  setTiers,
  type PortalLoop,
} from "../runtime/tiers/counters.ts";
import { TieredProgram } from "../runtime/tiers/tiered.ts";
import { listing, perfMap } from "../runtime/x64/disasm.ts";
import { jitdump } from "../runtime/x64/jitdump.ts";
import { mapForPerf, x64Supported } from "../runtime/x64/memory.ts";
import { NativeModule } from "../runtime/x64/native.ts";
import {
  BRIDGE_AFTER,
  TIER_THRESHOLD,
  warmupOffersOf,
  firstTier,
  firstTierHeap,
  importProduct,
  type RunOptions,
  valueOf,
} from "./backends.ts";
import { graphsOf, type Lang } from "./language.ts";

/** Runs the program specialised whole from its entry (`runtime/jit.ts`), by the abstract
 *  interpreter or (with `compiled`) a generated specialiser, on L3 or x86-64. Fills `stats`
 *  with the specialiser's and the JIT's figures. */
export function runJit(
  lang: Lang,
  code: Uint8Array,
  args: readonly number[],
  opts: RunOptions,
  stats: Record<string, unknown>,
  how: { target: "l3" | "x64"; compiled?: Record<string, Compiled> },
): number {
  const policy: Policy = {
    ...defaultPolicy,
    safepoints: how.target === "x64",
    ...opts.policy,
    fuel: opts.fuel !== undefined,
  };
  const t0 = performance.now();
  const onGraphs = graphsSeen(opts);
  const program = new Program(
    graphsOf(lang),
    lang.entry,
    code,
    {
      policy,
      compiled: how.compiled,
      target: how.target,
      constants: lang.constants,
      ...(onGraphs ? { onGraphs } : {}),
    },
    how.target === "x64" ? nativeFactoryFor(opts) : undefined,
  );
  try {
    return valueOf(program.run(...args));
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
    if (native) nativeSeen(native, opts);
  }
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

/** For `perf record` of compiled code, where perf looks for a JIT's: its symbols
 *  (`FUTAMURA_PERF_MAP=1`: `/tmp/perf-<pid>.map`, a symbol per residual operation), and its
 *  code (`FUTAMURA_JITDUMP=1`: `/tmp/jit-<pid>.dump`, a symbol per graph with its bytes and
 *  its residual operations as source lines in `/tmp/futamura-jit-<pid>/`, mapped executable
 *  so that perf notes it for `perf inject --jit`). */
function forPerf(native: NativeModule): void {
  if (process.env.FUTAMURA_PERF_MAP) writeFileSync(`/tmp/perf-${process.pid}.map`, perfMap(native));
  if (process.env.FUTAMURA_JITDUMP) {
    const dir = `/tmp/futamura-jit-${process.pid}`;
    const { bytes, sources } = jitdump(native, process.pid, dir);
    mkdirSync(dir, { recursive: true });
    for (const [file, text] of sources) writeFileSync(file, text);
    const fd = openSync(`/tmp/jit-${process.pid}.dump`, "w+");
    try {
      writeSync(fd, bytes);
      mapForPerf(fd);
    } finally {
      closeSync(fd);
    }
  }
}

/** Where the first tier was unwound (see `runTiers`): the portal's loop, its state at a merge
 *  point (offered, hot), the offers counted so far, and when the run started. */
export interface Resumption {
  loop: PortalLoop;
  greens: unknown[];
  reds: unknown[];
  offers: number;
  startedAt: number;
}

/** The run from a resumption, as the first tier would go on at that merge point: the hot state
 *  offered, then the portal's result, or its loop from the state as it stands or was left. */
function goOn(program: TieredProgram, r: Resumption): number {
  const left = program.onHot(r.loop, r.greens, r.reds);
  const loop = r.loop as (...state: unknown[]) => number;
  if (left === STAY) return loop(...r.greens, ...r.reds);
  if (left === RESUME) return loop(...resumed);
  return left as number;
}

/** What hears of each residual graph as it is made: `--dump residual`, and the run's
 *  inspector (`futamura view`). */
function graphsSeen(opts: RunOptions): OnGraphs | undefined {
  const dump = opts.dump === "residual" && opts.log ? residualDump(opts.log) : undefined;
  const inspect = opts.inspect?.onGraphs?.bind(opts.inspect);
  if (!dump || !inspect) return dump ?? inspect;
  return (graphs, data) => (dump(graphs, data), inspect(graphs, data));
}

type OnGraphs = (graphs: Graph[], data: Module["data"]) => void;

/** The run's machine code, at its end, to whatever asked for it: `--dump asm`, the inspector,
 *  perf. */
function nativeSeen(native: NativeModule, opts: RunOptions): void {
  if (opts.dump === "asm") opts.log?.write(listing(native));
  opts.inspect?.onNative?.(native);
  forPerf(native);
}

/** Prints each residual graph once as it is made, with the data constants not printed yet. */
function residualDump(log: NodeJS.WritableStream) {
  let printed = 0;
  return (graphs: Graph[], data: Module["data"]) => {
    const fresh = data.slice(printed).map((d, i) => printData(d, printed + i) + "\n");
    printed = data.length;
    log.write(
      fresh.join("") + (fresh.length ? "\n" : "") + printModule({ graphs, data: [] }, { at: true }),
    );
  };
}

/** The residual module compiled to machine code, with exits resolved through `resolve`. */
export const nativeFactory: NativeFactory = (m, resolve, heap) =>
  nativeFactoryFor({})(m, resolve, heap);

/** The environment variable that turns the collector's stress switch on for every run
 *  (`RunOptions.stressCollect`; `futamura fuzz --gc-stress` sets it for its workers). */
export const GC_STRESS = "FUTAMURA_GC_STRESS";

/** `nativeFactory`, the object region of the run's size (`opts.regionBytes`). */
export function nativeFactoryFor(opts: RunOptions): NativeFactory {
  return (m, resolve, heap) => {
    if (!x64Supported)
      throw new Error(
        `the x64 backend runs only on x86-64 Linux (this is ${process.arch} ${process.platform})`,
      );
    return new NativeModule(m, {
      continuation: resolve,
      heap,
      regionBytes: opts.regionBytes,
      stressCollect: opts.stressCollect ?? process.env[GC_STRESS] === "1",
    });
  };
}

/** Imported when used: the CLI must work (to regenerate) while generated/ is stale or absent. */
export async function generated(lang: Lang): Promise<Record<string, Compiled> | undefined> {
  // The language's own module, not the index of all three (a third of the load time).
  return (await importProduct(lang, "specialiser")).compiled as Record<string, Compiled>;
}

/** Runs the program as the tiered JIT does (`runtime/tiers/tiered.ts`): in the first tier,
 *  with hot states specialised and run on `target`. Fills `stats` with what the tiers did. */
export async function runTiered(
  lang: Lang,
  code: Uint8Array,
  args: readonly number[],
  opts: RunOptions,
  stats: Record<string, unknown>,
  how: {
    target: "l3" | "x64";
    compiled: Record<string, Compiled> | undefined;
    /** Other than `nativeFactory` (tests: code in small chunks, checked as it is made). */
    makeNative?: NativeFactory;
    /** The run so far, if the first tier ran it until a state was hot past the warm-up and
     *  was unwound there (`backends.ts`, `runTiers`): it goes on from that state, with the
     *  counters as they are. */
    resume?: Resumption;
  },
): Promise<number> {
  const policy: Policy = {
    ...defaultPolicy,
    safepoints: how.target === "x64",
    ...opts.policy,
    fuel: opts.fuel !== undefined,
  };
  const onGraphs = graphsSeen(opts);
  const entry = await firstTier(lang);
  const resume = how.resume;
  const t0 = resume?.startedAt ?? performance.now();
  const program = new TieredProgram(graphsOf(lang), {
    policy,
    compiled: how.compiled,
    target: how.target,
    makeNative: how.target === "x64" ? (how.makeNative ?? nativeFactoryFor(opts)) : undefined,
    bridgeAfter: opts.tiers?.bridgeAfter ?? BRIDGE_AFTER,
    // A threshold given (tests, --threshold) means no warm-up unless one is given too.
    warmupOffers: resume ? 0 : warmupOffersOf(opts),
    onGraphs,
    heap: await firstTierHeap(lang),
  });
  if (resume) {
    // (the offer it was unwound at is offered again now, and counted again)
    program.stats.hotStates = resume.offers - 1;
    setOnHot(program.onHot);
  } else setTiers(opts.tiers?.threshold ?? TIER_THRESHOLD, program.onHot);
  try {
    return resume ? goOn(program, resume) : entry(code, ...args.map((x) => x | 0));
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
    if (native) nativeSeen(native, opts);
  }
}
