//! Running one program on interp and on the other backends, and turning how each run ended
//! into comparable text (a `Result`). A `Job` names a program by seed and index (or gives it
//! whole) and is plain data, so that a `Runner` can run it in this process or send it to a
//! worker process (workers.ts) and get the same answer back.

import { defaultPolicy } from "../../runtime/specialiser/policy.ts";
import type { Lang } from "../language.ts";
import { STEP_LIMIT } from "../../runtime/hints.ts";
import { backends as registry, runProgram, type Backend } from "../backends.ts";
import { UsageError } from "../cli/usage.ts";
import { ProgramCache, programDigest } from "./generators.ts";
import { hex } from "./ops.ts";
import type { Program } from "./program.ts";

/** How one run ended, as text: `value 42`, `error: <message>`, or `crash: <message>` for an
 *  exception that is not an interpreter error (a bug of the backend or of the tool); followed
 *  by `; output <hex>` when the program wrote bytes. */
export type Result = string;

/** Runs one program on `interp` and on each of `others`. Results (in the order of `others`)
 *  and times are plain data; `each` hears of each result as it comes (k = 0 is interp). */
export async function runOne(
  lang: Lang,
  code: Uint8Array,
  arg: number | number[],
  others: Backend[],
  fuel: number,
  input?: Uint8Array,
  each?: (k: number, result: Result, ms: number) => void,
): Promise<{ expected: Result; got: Result[]; ms: number[] }> {
  const ms: number[] = [];
  const timed = async (b: Backend) => {
    const start = performance.now();
    const r = await runOn(b, lang, code, arg, fuel, input);
    ms.push(performance.now() - start);
    each?.(ms.length - 1, r, ms[ms.length - 1]!);
    return r;
  };
  const expected = await timed(registry.interp!);
  const got: Result[] = [];
  for (const b of others) got.push(await timed(b));
  return { expected, got, ms };
}

export async function runOn(
  backend: Backend,
  lang: Lang,
  code: Uint8Array,
  arg: number | number[],
  fuel: number,
  input?: Uint8Array,
): Promise<Result> {
  try {
    const o = await runProgram(backend, lang, code, arg, {
      fuel,
      input,
      ...drawnFor(code, typeof arg === "number" ? arg : (arg[0] ?? 0)),
    });
    const output = o.output?.length ? `; output ${hex(o.output)}` : "";
    if (o.resource) return `${RESOURCE}${o.error}`; // (not compared: see `agrees`)
    if (o.error !== undefined) return `error: ${o.error}${output}`;
    if (lang.convention !== "int") return `completed${output}`; // the result is not the point
    return typeof o.value === "number" && Number.isInteger(o.value)
      ? `value ${o.value}${output}`
      : `crash: returned ${String(o.value)}`;
  } catch (e) {
    return `crash: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
  }
}

/** The tiers' threshold and bridges, and how far portal calls are inlined, for a program,
 *  from its bytes and argument (so that a failure is reproduced by the program alone): tiered
 *  backends are entered and left at different moments across programs, from every pass (1)
 *  to rarely (1,000), and a portal call is inlined (the default bound), outlined after two
 *  merge points, or residual. */
export function drawnFor(
  code: Uint8Array,
  arg: number,
): { tiers: { threshold: number; bridgeAfter: number }; policy: { maxInlinedSteps: number } } {
  let h = 0x811c9dc5 ^ arg;
  for (const b of code) h = Math.imul(h ^ b, 16777619);
  h >>>= 0;
  return {
    tiers: { threshold: [1, 2, 7, 64, 1000][h % 5]!, bridgeAfter: [0, 1, 4][(h >>> 8) % 3]! },
    policy: { maxInlinedSteps: [defaultPolicy.maxInlinedSteps, 2, 0][(h >>> 16) % 3]! },
  };
}

/** How a result that is a resource outcome starts (out of memory). */
const RESOURCE = "resource: ";

/** Whether a backend's result agrees with interp's: the same, or a resource outcome (machine
 *  code's objects outgrew their region: V8's heap cannot be held to the same bound). */
export function agrees(got: Result, expected: Result): boolean {
  return got === expected || got.startsWith(RESOURCE);
}

/** The histogram key of a result: "completed", "fuel exhausted", "error: <message>", or
 *  "crash" (the message of a crash goes into the failure, not the histogram). */
export function kind(r: Result): string {
  if (r.startsWith("value ") || r.startsWith("completed")) return "completed";
  if (r.startsWith("crash: ")) return "crash";
  const error = r.replace(/; output [0-9a-f ]*$/, "");
  return error === `error: ${STEP_LIMIT}` ? "fuel exhausted" : error;
}

/** The backends to compare with interp: names (or objects) given, or every one but interp. */
export function resolveBackends(list: (string | Backend)[] | undefined): Backend[] {
  if (list === undefined) return Object.values(registry).filter((b) => b.name !== "interp");
  return list.map((b) => {
    if (typeof b !== "string") return b;
    const found = registry[b];
    if (!found)
      throw new UsageError(`unknown backend '${b}' (${Object.keys(registry).join(", ")})`);
    return found;
  });
}

/** What a runner runs: program `index` of `seed` (making `count` of the seed's programs at
 *  once) on interp and every backend of the runner, or a program given whole (minimisation's
 *  candidates) on interp and the backends named. Plain data: it goes to worker processes. */
export type Job =
  | { seed: number; index: number; count: number }
  | { code: number[]; arg: number; args?: number[]; input?: number[]; backends: string[] };

/** What a job gave: interp's result, each backend's (in the job's order; undefined when the
 *  backend did not run because the worker died or was stopped on an earlier one), times, and
 *  the digest of the program that ran (when the run finished). */
export interface Ran {
  expected: Result;
  got: (Result | undefined)[];
  ms: number[];
  digest?: string;
}

/** Runs jobs: in this process, or in worker processes (one slot each). */
export interface Runner {
  readonly slots: number;
  /** Jobs a slot may have under way at once (1: each waits for the one before). */
  readonly depth: number;
  run(slot: number, job: Job): Promise<Ran>;
  close(): void;
}

/** A job's program and backends, among `others` (a worker's or the harness's). */
export function jobParts(
  job: Job,
  cache: ProgramCache,
  others: Backend[],
): { program: Pick<Program, "code" | "arg" | "args" | "input">; backends: Backend[] } {
  if ("seed" in job)
    return { program: cache.get(job.seed, job.index, job.count), backends: others };
  const program = {
    code: Uint8Array.from(job.code),
    arg: job.arg,
    ...(job.args ? { args: job.args } : {}),
    ...(job.input ? { input: Uint8Array.from(job.input) } : {}),
  };
  return { program, backends: job.backends.map((n) => others.find((b) => b.name === n)!) };
}

/** Jobs run in this process, one at a time: a backend that kills its process takes the run
 *  with it (workers.ts runs them apart). */
export class InProcess implements Runner {
  readonly slots = 1;
  readonly depth = 1; // one run at a time: a run owns the process's input, output and fuel
  private cache: ProgramCache;

  constructor(
    private lang: Lang,
    private fuel: number,
    private others: Backend[],
  ) {
    this.cache = new ProgramCache(lang);
  }

  async run(_slot: number, job: Job): Promise<Ran> {
    const { program: p, backends } = jobParts(job, this.cache, this.others);
    const r = await runOne(this.lang, p.code, p.args ?? p.arg, backends, this.fuel, p.input);
    return { ...r, digest: programDigest(p) };
  }

  close(): void {}
}
