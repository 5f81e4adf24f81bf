//! The run-time bookkeeping that makes a specialiser and a backend into a JIT for one program:
//! what the generated code and the backends share, on L3 and on x86-64 alike.
//!
//! A `Program` is the code cache of one bytecode program: the specialiser's engine (its
//! merge-point keys, saved paths and residual graphs) and the code made from them, reused by
//! every `run` of the program and released with it (native code is unmapped when the program
//! is collected, or at once by `free()`).
//!
//! Specialisation starts at the entry and makes the whole program at once (the `pe` and `x64`
//! backends; the tiered JIT, `tiers/tiered.ts`, compiles only what gets hot). It stops at
//! promotions of run-time values: each is an exit naming a saved path. When the code takes an
//! exit the first time, `resolve` asks the engine where it goes on (making the graph for the
//! value) and the backend patches the exit to go there directly after (L3 rewrites the
//! instruction; x64 points the exit's cell at a dispatch on the values seen).
//!
//! Fallback: where specialisation gives up (a bound of the policy), the run goes on in the
//! interpreter's own graphs on L3 from the exact state of the exit (every frame's position and
//! values, virtuals made real), and its outcome becomes the exited graph's. Nothing runs twice:
//! output already written stays written. If the very first specialisation gives up, the whole
//! run is the interpreter's (nothing has run yet).
//!
//! Budget: the compile work a program takes over its life is counted in steps
//! (`runtime/work.ts`: every stage counts its own, from specialising to emitting machine code,
//! specialisations given up included), deterministically, never in time. Past `policy.maxWork`
//! nothing more is compiled: an exit not resolved yet falls back as above. (`maxResidualOps` did not bound the work: see `policy.ts`.)

import type { Graph, Module } from "./ir/types.ts";
import { L3, makeConstants, type ExitTo, type Status } from "./l3.ts";
import type { Compiled, Engine } from "./specialiser/engine.ts";
import { specialise } from "./specialiser/pe.ts";
import { SpecialisationLimit, type Policy } from "./specialiser/policy.ts";
import { newStats, type SpecStats } from "./specialiser/stats.ts";
import type { AVal } from "./specialiser/value.ts";
import { workDone } from "./work.ts";
import type { Heap } from "./heap.ts";
import type { NativeModule, Resolution, Value } from "./x64/native.ts";
import { logEvent, logging } from "./events.ts";
import { opsIn } from "./ir/walk.ts";

export interface JitOptions {
  policy: Policy;
  /** A generated specialiser's compiled graphs (the abstract interpreter's walk without). */
  compiled?: Record<string, Compiled> | undefined;
  /** Where the residual graphs run. */
  target: "l3" | "x64";
  /** Sees every residual graph made (the first module's, then each continuation's). */
  onGraphs?: (graphs: Graph[], data: Module["data"]) => void;
  /** The interpreter's function that makes the program's constants (`Descriptor.constants`):
   *  made on L3 before the run, passed after the bytecode, a constant to the specialiser. */
  constants?: string | undefined;
}

/** What a program's runs measured, the specialiser's statistics included. */
export interface JitStats extends SpecStats {
  /** Exits taken into JS (at most once per exit site, per value for promotions). */
  exits: number;
  /** Exits that went on in the interpreter (the policy's bound), and the last reason. */
  fallbacks: number;
  fallback?: string;
  /** Machine code made and the time it took (x64). */
  codeBytes: number;
  compileMs: number;
  /** Collections of machine code's object region at safepoints (x64). */
  collections?: number;
  collectionsInCalls?: number;
  /** Steps of compile work over the program's life (`runtime/work.ts`, `Policy.maxWork`). */
  work: number;
}

/** Makes the native module of a residual module (x64 only; imported when used, so that L3
 *  runs wherever Node does). */
export type NativeFactory = (
  m: Module,
  resolve: (
    status: number,
    value: number,
    leaves: (types: Graph["types"]) => Value[],
    bottom: boolean,
  ) => Resolution,
  /** The JavaScript objects compiled code's objects are paired with (`x64/objects.ts`). */
  heap: Heap,
) => NativeModule;

/** The abstract values of a specialisation of `entry` from its start: the bytecode, the
 *  program's constants (`made`: the very objects, constants of the residual code), and a
 *  run-time integer for each parameter after them. */
export function entryArgs(
  graphs: Module,
  entry: string,
  code: Uint8Array,
  made: readonly unknown[],
): (e: Engine) => AVal[] {
  const params = graphs.graphs.find((g) => g.name === entry)?.blocks[0]?.params.length ?? 1;
  return (e) => [
    { k: "a", arr: code, type: "u8[]" },
    ...made.map((c) => e.promoted(c as object)),
    ...Array.from({ length: Math.max(params - 1 - made.length, 0) }, (): AVal => ({
      k: "r",
      o: 0,
      type: "i32",
    })),
  ];
}

export class Program {
  readonly stats: JitStats;
  private engine: Engine | undefined;
  private l3: L3 | undefined;
  private native: NativeModule | undefined;
  /** The interpreter's graphs on L3, for fallbacks. */
  private interp: L3 | undefined;
  /** The program's constants (none, or what `JitOptions.constants` made). */
  private made: unknown[];
  /** `workDone()` when the program's own work was last counted (see `account`). */
  private since = workDone();

  constructor(
    private graphs: Module,
    private entry: string,
    private code: Uint8Array,
    private opts: JitOptions,
    private makeNative?: NativeFactory,
  ) {
    // (made on L3, the very objects every run of L3 here holds)
    this.made = opts.constants === undefined ? [] : [makeConstants(graphs, opts.constants, code)];
    const args = entryArgs(graphs, entry, code, this.made);
    let stats: SpecStats | undefined;
    try {
      const spec = specialise(graphs, entry, args, opts.policy, opts.compiled);
      this.engine = spec.engine;
      stats = spec.stats;
      opts.onGraphs?.(spec.module.graphs, spec.module.data);
      this.stats = { ...stats, exits: 0, fallbacks: 0, codeBytes: 0, compileMs: 0, work: 0 };
      this.start(spec.module);
      this.account();
    } catch (e) {
      if (!(e instanceof SpecialisationLimit)) throw e;
      this.stats = {
        ...(stats ?? e.stats ?? newStats()),
        exits: 0,
        fallbacks: 1,
        fallback: e.message,
        codeBytes: 0,
        compileMs: 0,
        work: 0,
      };
      this.account();
    }
  }

  /** Counts the work done since the last count as the program's: everything that ran while it
   *  was being made or was running is its own (JavaScript runs one thing at a time), and past
   *  the budget tells the engine to stop. */
  private account(): void {
    const now = workDone();
    this.stats.work += now - this.since;
    this.since = now;
    const max = this.opts.policy.maxWork;
    if (!this.engine) return;
    this.engine.workLimit = now + (max - this.stats.work);
    if (this.stats.work > max) this.engine.spent ??= `more than ${max} steps of compile work`;
  }

  private start(m: Module): void {
    if (this.opts.target === "l3") {
      this.l3 = new L3(m, (status, state) => this.onL3Exit(status, state));
      return;
    }
    this.native = this.makeNative!(
      m,
      (status, value, leaves) => this.resolve(status, value, leaves),
      this.engine!.heap,
    );
    this.stats.compileMs = this.native.compileMs;
    this.stats.codeBytes = this.native.codeBytes;
  }

  /** Runs the program on the integers `ints` (the entry's parameters after the bytecode). */
  run(...ints: number[]): Status {
    const args = [this.code, ...(this.made as Value[]), ...ints];
    this.since = workDone();
    try {
      if (this.l3) return this.l3.run(this.entry, args);
      if (!this.native) return this.interpreter().run(this.entry, args);
      return this.native.run(this.entry, args);
    } finally {
      this.account();
      if (this.native) {
        this.stats.compileMs = this.native.compileMs;
        this.stats.codeBytes = this.native.codeBytes;
        Object.assign(this.stats, this.native.collectionStats());
      }
    }
  }

  /** The `n` merge-point positions most often reached while specialising, most entries
   *  first: how often, how many keys were made there, how many found made. */
  mergePoints(n: number): { position: string; entries: number; made: number; found: number }[] {
    const all = [...(this.engine?.positions ?? [])];
    all.sort((a, b) => b[1].entries - a[1].entries || (a[0] < b[0] ? -1 : 1));
    return all
      .slice(0, n)
      .map(([position, c]) => ({ position, entries: c.entries, made: c.keys, found: c.hits }));
  }

  /** Releases the machine code now (it is also released when the program is collected). */
  free(): void {
    this.native?.free();
  }

  /** False when the first specialisation gave up and the whole run is the interpreter's. */
  get specialised(): boolean {
    return this.engine !== undefined;
  }

  /** The code compiled so far, for listings (x64). */
  get nativeModule(): NativeModule | undefined {
    return this.native;
  }

  private interpreter(): L3 {
    return (this.interp ??= new L3(this.graphs));
  }

  private onL3Exit(status: number, state: Value[]): ExitTo {
    return exitOnL3(
      this.l3!,
      this.resolve(status, state[0] as number, () => state.slice(1)),
      state,
    );
  }

  /** Where exit `status` goes on for `value`: the graph the engine makes (or made) for it, or,
   *  where specialisation gives up, the outcome of the interpreter going on from the exit's
   *  state (`leaves` reads the exit's values). */
  private resolve(
    status: number,
    value: number,
    leaves: (types: Graph["types"]) => Value[],
  ): Resolution {
    const e = this.engine!;
    this.stats.exits++;
    if (logging()) logEvent({ ev: "exit", status, kind: e.kindOf(status) });
    this.account();
    const t0 = performance.now();
    try {
      return continuationOrInterpreter(e, status, value, leaves, {
        interpreter: () => this.interpreter(),
        stats: this.stats,
        onGraphs: this.opts.onGraphs,
      });
    } finally {
      const ms = this.stats.specialiseMs + (performance.now() - t0);
      Object.assign(this.stats, e.stats, { specialiseMs: ms });
    }
  }
}

/** Where an exit of `l3` with `state` (its value, then its leaves) goes on, given where it was
 *  resolved to: the graphs made for it added. */
export function exitOnL3(l3: L3, r: Resolution, state: Value[]): ExitTo {
  if ("done" in r || "leave" in r) return r;
  l3.add(r.graphs);
  return { graph: r.name, args: state.slice(1), fixed: !r.perValue };
}

/** Where exit `status` of engine `e` goes on for `value`: the graph the engine makes (or made)
 *  for it, or where specialisation gives up (counted in `stats`), the outcome of the
 *  interpreter's graphs going on from the exit's exact state (`leaves` reads its values). The
 *  whole-program JIT's exits and the tiers' share it. */
export function continuationOrInterpreter(
  e: Engine,
  status: number,
  value: number,
  leaves: (types: Graph["types"]) => Value[],
  how: {
    interpreter: () => L3;
    stats: { fallbacks: number; fallback?: string };
    onGraphs?: ((graphs: Graph[], data: Module["data"]) => void) | undefined;
  },
): Resolution {
  try {
    const r = e.continuation(status, value);
    if (r.graphs.length) {
      how.onGraphs?.(r.graphs, e.residualData);
      if (logging()) logEvent({ ev: "continuation", status, graph: r.name, ops: opsIn(r.graphs) });
    }
    // (a safepoint's: the runner collects with the exit's values before it goes on)
    return e.kindOf(status) === "collect" ? { ...r, collect: e.leafTypes(status) } : r;
  } catch (err) {
    if (!(err instanceof SpecialisationLimit)) throw err;
    how.stats.fallbacks++;
    how.stats.fallback = err.message;
    if (logging()) logEvent({ ev: "fallback", at: "exit", why: err.message });
    const frames = e.state(status, value, leaves(e.leafTypes(status)));
    return {
      done: how.interpreter().resume(
        frames.map((f) => ({
          graph: f.g.name,
          block: f.block,
          op: f.op,
          env: f.env,
          ret: f.ret,
        })),
      ),
    };
  }
}
