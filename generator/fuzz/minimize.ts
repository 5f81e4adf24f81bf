//! Minimisation: greedy deletion of byte chunks while a backend still disagrees, so that a
//! failure comes with a smaller program that shows it.

import type { Lang } from "../../interpreters/lang.ts";
import type { Backend } from "../backends.ts";
import { runOne, type Result } from "./run.ts";

/** Greedily deletes chunks of bytes while `backend` still disagrees with interp (or, for
 *  interp, still crashes); undefined if nothing could be removed. At most `limit` runs. */
export async function minimize(
  lang: Lang,
  code: Uint8Array,
  arg: number,
  backend: Backend,
  fuel: number,
  limit = 400,
  input?: Uint8Array,
): Promise<{ code: Uint8Array; expected: Result; got: Result } | undefined> {
  let runs = 0;
  const check = async (c: Uint8Array) => {
    runs++;
    const { expected, got } = await runOne(
      lang,
      c,
      arg,
      backend.name === "interp" ? [] : [backend],
      fuel,
      input,
    );
    const bad = backend.name === "interp" ? expected.startsWith("crash: ") : got[0] !== expected;
    return bad ? { code: c, expected, got: got[0] ?? expected } : undefined;
  };
  let best: { code: Uint8Array; expected: Result; got: Result } | undefined;
  let cur = code;
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
