//! Minimisation: greedy deletion of byte chunks while a backend still disagrees, so that a
//! failure comes with a smaller program that shows it.

import { agrees, type Job, type Result, type Runner } from "./run.ts";

/** A smaller program and what it gave. */
export interface Smaller {
  code: Uint8Array;
  expected: Result;
  got: Result;
}

/** Greedily deletes chunks of bytes while `backend` still disagrees with interp (or, for
 *  interp, still crashes); undefined if nothing could be removed. At most `limit` runs, each
 *  a job of `runner` (in a worker process where the fuzzing ran in one). */
export async function minimize(
  runner: Runner,
  program: { code: Uint8Array; arg: number; args?: number[]; input?: Uint8Array | undefined },
  backend: string,
  limit = 400,
): Promise<Smaller | undefined> {
  let runs = 0;
  const check = async (c: Uint8Array): Promise<Smaller | undefined> => {
    runs++;
    const job: Job = {
      code: Array.from(c),
      arg: program.arg,
      ...(program.args ? { args: program.args } : {}),
      ...(program.input ? { input: Array.from(program.input) } : {}),
      backends: backend === "interp" ? [] : [backend],
    };
    const { expected, got } = await runner.run(0, job);
    const bad =
      backend === "interp"
        ? expected.startsWith("crash: ")
        : got[0] === undefined || !agrees(got[0], expected);
    return bad ? { code: c, expected, got: got[0] ?? expected } : undefined;
  };
  let cur = program.code;
  let best: Smaller | undefined;
  // Passes over chunk sizes len/2, len/4, ..., 4, 3, 2, 1 (instructions are 1 or 2 bytes), until
  // a pass removes nothing.
  for (let progress = true; progress && runs < limit;) {
    progress = false;
    const sizes = new Set<number>();
    for (let k = cur.length >> 1; k > 4; k >>= 1) sizes.add(k);
    for (const k of [4, 3, 2, 1]) if (k <= cur.length) sizes.add(k);
    for (const chunk of sizes) {
      for (let at = cur.length - chunk; at >= 0 && runs < limit; at--) {
        const c = Uint8Array.from([...cur.subarray(0, at), ...cur.subarray(at + chunk)]);
        const r = await check(c);
        if (r) {
          best = r;
          cur = c;
          progress = true;
          at = Math.min(at, cur.length - chunk + 1);
        }
      }
    }
  }
  return best;
}
