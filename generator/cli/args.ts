//! What the commands read from their command line: a program file (bounded), counts, a
//! program's integer arguments; each wrong one a usage or load error naming it.

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { RunOptions } from "../backends.ts";
import { LoadError, type Lang } from "../language.ts";
import { UsageError } from "./usage.ts";

/** Program files larger than this are refused (a load error), never read whole. */
export const MAX_PROGRAM_BYTES = 16 << 20;

/** A program file's bytes as latin1 text, read up to the limit. */
export function readProgram(file: string): string {
  const tooLarge = () =>
    new LoadError(`${file}: too large (the limit for a program is ${MAX_PROGRAM_BYTES} bytes)`);
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (e) {
    throw cannotRead(file, e);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new LoadError(`${file}: cannot read: EISDIR`);
    if (st.isFile() && st.size > MAX_PROGRAM_BYTES) throw tooLarge();
    // A file is read to one byte past its size (it may grow meanwhile); devices and pipes have
    // no size, so they are read in growing chunks, never past one byte over the limit.
    let bytes = Buffer.alloc(Math.min(MAX_PROGRAM_BYTES + 1, st.isFile() ? st.size + 1 : 1 << 16));
    let n = 0;
    for (;;) {
      if (n === bytes.length) {
        if (n > MAX_PROGRAM_BYTES) throw tooLarge();
        const bigger = Buffer.alloc(Math.min(2 * n, MAX_PROGRAM_BYTES + 1));
        bytes.copy(bigger);
        bytes = bigger;
      }
      const got = readSync(fd, bytes, n, bytes.length - n, null);
      if (got === 0) break;
      n += got;
    }
    if (n > MAX_PROGRAM_BYTES) throw tooLarge();
    return bytes.toString("latin1", 0, n);
  } catch (e) {
    throw e instanceof LoadError ? e : cannotRead(file, e);
  } finally {
    closeSync(fd);
  }
}

export function cannotRead(file: string, e: unknown): LoadError {
  return new LoadError(
    `${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
  );
}

export function parseCount(s: string, what: string): number {
  if (!/^\d+$/.test(s) || Number(s) > Number.MAX_SAFE_INTEGER)
    throw new UsageError(`${what} takes a non-negative integer, not '${s}'`);
  return Number(s);
}

export function parseInt32(s: string): number {
  if (!/^-?\d+$/.test(s)) throw new UsageError(`argument '${s}' is not an integer`);
  const n = Number(s);
  if (n < -2147483648 || n > 2147483647)
    throw new UsageError(`argument ${s} is out of the 32-bit range`);
  return n;
}

/** Negative program arguments (`-2`) are not options: `hideNegatives` marks them for
 *  parseArgs to take as positionals, `unhidden` gives them back. */
const NEG = "\u0000";

export function hideNegatives(argv: string[]): string[] {
  return argv.map((a) => (/^-\d/.test(a) ? NEG + a : a));
}

export function unhidden(s: string): string {
  return s.replace(NEG, "");
}

/** Option values with negative numbers given back. */
export function unhiddenValues<T extends Record<string, unknown>>(values: T): T {
  return Object.fromEntries(
    Object.entries(values).map(([k, v]) => [k, typeof v === "string" ? unhidden(v) : v]),
  ) as T;
}

/** The options of a run that `run` and `view` both take, for parseArgs. */
export const RUN_OPTIONS = {
  fuel: { type: "string" },
  threshold: { type: "string" },
  "heap-mb": { type: "string" },
} as const;

/** What `RUN_OPTIONS` say, checked, as a run's options. */
export function runOptionsOf(values: {
  fuel?: string | undefined;
  threshold?: string | undefined;
  "heap-mb"?: string | undefined;
}): Pick<RunOptions, "fuel" | "tiers" | "regionBytes"> {
  const fuel = values.fuel === undefined ? undefined : parseCount(values.fuel, "--fuel");
  const threshold =
    values.threshold === undefined ? undefined : parseCount(values.threshold, "--threshold");
  const heapMB =
    values["heap-mb"] === undefined ? undefined : parseCount(values["heap-mb"], "--heap-mb");
  if (heapMB !== undefined && (heapMB < 1 || heapMB > 1024))
    throw new UsageError("--heap-mb takes 1 to 1024");
  return {
    fuel,
    ...(threshold !== undefined ? { tiers: { threshold } } : {}),
    ...(heapMB !== undefined ? { regionBytes: heapMB << 20 } : {}),
  };
}

/** A program's integer arguments, as many as `lang`'s entry takes. */
export function programInts(lang: Lang, args: string[]): number[] {
  if (args.length !== lang.arity)
    throw new UsageError(
      lang.arity === 0
        ? `${lang.name} programs ${lang.convention === "bytes" ? "read stdin and " : ""}take no arguments`
        : `${lang.name} programs take ${lang.arity === 1 ? "one integer argument" : `${lang.arity} integer arguments`}`,
    );
  return args.map(parseInt32);
}
