//! The backends a program can run on, behind one interface, and the one place that runs a
//! program and turns an interpreter error into an outcome. The CLI, `start`, the fuzzing
//! harness and the benchmark all go through `runProgram`, so they compare like with like.

import type { Lang } from "../interpreters/lang.ts";
import { VmError, setFuel, setIo } from "../runtime/hints.ts";
import { printModule } from "../runtime/ir/print.ts";
import { loadGraphs } from "../runtime/graphs.ts";
import { L3, type Status } from "../runtime/l3.ts";
import { specialise, type Specialised } from "../runtime/spec/pe.ts";
import type { AVal } from "../runtime/spec/value.ts";
import type { Graph } from "../runtime/ir/types.ts";
import type { Compiled } from "../runtime/spec/engine.ts";
import { SpecialisationLimit, defaultPolicy } from "../runtime/spec/policy.ts";
import { x64 } from "./x64-backend.ts";
import { x64Supported } from "../runtime/x64/memory.ts";

export interface RunOptions {
  fuel?: number | undefined;
  /** The program's standard input, for languages that read bytes. */
  input?: Uint8Array | undefined;
  /** An intermediate form to print to `log` (each backend names what it has). */
  dump?: string | undefined;
  log?: NodeJS.WritableStream;
}

export interface Backend {
  name: string;
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

/** What a run gives: a value or an interpreter error, the bytes it wrote, and statistics. */
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
    const m = loadGraphs(lang.name);
    if (opts.dump === "graphs") opts.log?.write(printModule(m));
    return valueOf(new L3(m).run(lang.entry, [code, arg]));
  },
};

/** The abstract interpreter's residual graphs on L3. Where specialisation gives up (a bound of
 *  the policy), the program runs on its interpreter's graphs instead: nothing has run yet. */
const pe: Backend = {
  name: "pe",
  dumps: ["residual"],
  run: (lang, code, arg, opts, stats) => specialiseAndRun(lang, code, arg, opts, stats),
};

/** Specialises the interpreter for the program by the shared policy (with a generated
 *  specialiser's compiled graphs when given) and dumps the residual graphs when asked.
 *  Undefined where specialisation gives up: `stats.fallback` says why, and the caller runs the
 *  program on the interpreter's graphs instead (nothing has run yet). */
export function specialiseProgram(
  lang: Lang,
  code: Uint8Array,
  opts: RunOptions,
  stats: Record<string, unknown>,
  compiled?: Record<string, Compiled>,
): Specialised | undefined {
  const policy = { ...defaultPolicy, fuel: opts.fuel !== undefined };
  const args: AVal[] = [
    { k: "a", arr: code, type: "u8[]" },
    { k: "r", o: 0, type: "i32" },
  ];
  let spec;
  try {
    spec = specialise(loadGraphs(lang.name), lang.entry, args, policy, compiled);
  } catch (e) {
    if (!(e instanceof SpecialisationLimit)) throw e;
    stats.fallback = e.message;
    return undefined;
  }
  if (opts.dump === "residual") opts.log?.write(printModule(spec.module));
  return spec;
}

/** The graphs that go on from promotion exit `status` with `value` (see Engine.continuation),
 *  dumped with the residual graphs when asked. */
export function continuation(
  spec: Specialised,
  opts: RunOptions,
  status: number,
  value: number,
): Graph[] {
  const gs = spec.engine.continuation(status, value);
  if (opts.dump === "residual") opts.log?.write(printModule({ graphs: gs, data: [] }));
  return gs;
}

/** The interpreter's graphs on L3, for a program whose specialisation gave up. */
export function fallback(
  lang: Lang,
  code: Uint8Array,
  arg: number,
  opts: RunOptions,
  stats: Record<string, unknown>,
): number {
  return graph.run(lang, code, arg, { ...opts, dump: undefined }, stats) as number;
}

/** Specialises and runs the residual graphs on L3. */
function specialiseAndRun(
  lang: Lang,
  code: Uint8Array,
  arg: number,
  opts: RunOptions,
  stats: Record<string, unknown>,
  compiled?: Record<string, Compiled>,
): number {
  const spec = specialiseProgram(lang, code, opts, stats, compiled);
  if (!spec) return fallback(lang, code, arg, opts, stats);
  // A promotion of a run-time value exits: specialise the rest of the path for the value seen,
  // once per value, and run it in place of the graph that exited.
  const seen = new Map<string, string>();
  const l3: L3 = new L3(spec.module, (status, state) => {
    const key = `${status}:${state[0]}`;
    let name = seen.get(key);
    if (name === undefined) {
      const gs = continuation(spec, opts, status, state[0] as number);
      gs.forEach((g) => l3.add(g));
      seen.set(key, (name = gs[0]!.name));
    }
    return { graph: name, args: state.slice(1) };
  });
  try {
    return valueOf(l3.run(lang.entry, [code, arg]));
  } finally {
    Object.assign(stats, spec.stats, { continuations: seen.size });
  }
}

/** The generated specialiser's residual graphs on L3 (the same graphs as `pe`, made faster). */
const jitGraph: Backend = {
  name: "jit-graph",
  dumps: ["residual"],
  // Imported when used: the CLI must work (to regenerate) while generated/ is stale or absent.
  run: async (lang, code, arg, opts, stats) => {
    const { specialisers } = await import("../generated/index.ts");
    return specialiseAndRun(lang, code, arg, opts, stats, specialisers[lang.name]);
  },
};

/** Every backend this host can run: `x64` only on x86-64 Linux. */
export const backends: Record<string, Backend> = {
  interp,
  graph,
  pe,
  "jit-graph": jitGraph,
  ...(x64Supported ? { x64 } : {}),
};

export async function runProgram(
  backend: Backend,
  lang: Lang,
  code: Uint8Array,
  arg: number,
  opts: RunOptions = {},
): Promise<Outcome> {
  const stats: Record<string, unknown> = { backend: backend.name, lang: lang.name };
  const start = performance.now();
  const out = new ByteSink();
  const input = opts.input ?? new Uint8Array(0);
  let at = 0;
  setIo({ read: () => (at < input.length ? input[at++]! : -1), write: (b) => out.push(b) });
  setFuel(opts.fuel);
  try {
    const value = await backend.run(lang, code, arg, opts, stats);
    return { value, output: out.bytes(), stats };
  } catch (e) {
    if (e instanceof VmError) return { error: e.message, output: out.bytes(), stats };
    throw e;
  } finally {
    setFuel(undefined);
    setIo({ read: () => -1, write: () => {} });
    stats.runMs = Math.round((performance.now() - start) * 1000) / 1000;
  }
}

/** A growable byte buffer for a program's output. */
class ByteSink {
  private buf = new Uint8Array(256);
  private n = 0;
  push(b: number): void {
    if (this.n === this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.n++] = b;
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.n);
  }
}
