//! Running one program on interp and on the other backends, and turning how each run ended
//! into comparable text (a `Result`). `runOne` is the unit of work a worker process does: its
//! inputs and result are plain data.

import type { Lang } from "../../interpreters/lang.ts";
import { STEP_LIMIT } from "../../runtime/hints.ts";
import { backends as registry, runProgram, type Backend } from "../backends.ts";
import { hex } from "./ops.ts";

/** How one run ended, as text: `value 42`, `error: <message>`, or `crash: <message>` for an
 *  exception that is not an interpreter error (a bug of the backend or of the tool); followed
 *  by `; output <hex>` when the program wrote bytes. */
export type Result = string;

/** Runs one program on `interp` and on each of `others`: the unit of work that could move to
 *  a child process. Results (in the order of `others`) and times are plain data. */
export async function runOne(
  lang: Lang,
  code: Uint8Array,
  arg: number,
  others: Backend[],
  fuel: number,
  input?: Uint8Array,
): Promise<{ expected: Result; got: Result[]; ms: number[] }> {
  const ms: number[] = [];
  const timed = async (b: Backend) => {
    const start = performance.now();
    const r = await runOn(b, lang, code, arg, fuel, input);
    ms.push(performance.now() - start);
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
  arg: number,
  fuel: number,
  input?: Uint8Array,
): Promise<Result> {
  try {
    const o = await runProgram(backend, lang, code, arg, { fuel, input });
    const output = o.output?.length ? `; output ${hex(o.output)}` : "";
    if (o.error !== undefined) return `error: ${o.error}${output}`;
    if (lang.convention !== "int") return `completed${output}`; // the result is not the point
    return typeof o.value === "number" && Number.isInteger(o.value)
      ? `value ${o.value}${output}`
      : `crash: returned ${String(o.value)}`;
  } catch (e) {
    return `crash: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
  }
}

/** The histogram key of a result: "completed", "fuel exhausted", "error: <message>", or
 *  "crash" (the message of a crash goes into the failure, not the histogram). */
export function kind(r: Result): string {
  if (r.startsWith("value ") || r.startsWith("completed")) return "completed";
  if (r.startsWith("crash: ")) return "crash";
  const error = r.replace(/; output [0-9a-f ]*$/, "");
  return error === `error: ${STEP_LIMIT}` ? "fuel exhausted" : error;
}
