//! The program generator of each language, and the one definition of "program `index` of seed
//! `seed`": the `index`-th value `fc.sample` draws, which does not depend on the count. Every
//! way of reproducing a program (`--seed S --index I`, worker processes, the seed schedule)
//! goes through `programs`.

import fc from "fast-check";
import { langs, type Lang } from "../language.ts";
import { bfProgramArb } from "./bf.ts";
import { genericProgramArb } from "./generic.ts";
import type { Program } from "./program.ts";
import { tlProgramArb } from "./tl.ts";
import { tlcProgramArb } from "./tlc.ts";
import { tlrProgramArb } from "./tlr.ts";

/** The program generator of a language (by its shorthand, or resolved): this repository's
 *  hand-written ones (55% clean, 15% mutated, 15% faulty, 15% raw bytes), and for any other
 *  language the generic one, grown from its instruction set under the interpreter's guidance. */
export function programArb(lang: string | Lang): fc.Arbitrary<Program> {
  const l = typeof lang === "string" ? langs[lang] : lang;
  if (!l) throw new Error(`no language ${String(lang)}`);
  if (langs[l.name] !== l) return genericProgramArb(l);
  switch (l.name) {
    case "tlr":
      return tlrProgramArb();
    case "tl":
      return tlProgramArb();
    case "tlc":
      return tlcProgramArb();
    default:
      return bfProgramArb;
  }
}

/** The `count` programs of `seed` (program i does not depend on `count`). */
export function programs(lang: string | Lang, seed: number, count: number): Program[] {
  return fc.sample(programArb(lang), { seed, numRuns: count });
}

/** Programs by seed and index, each seed's made once: the harness and every worker process
 *  hold one, and make the same programs from the same seed. Keeps the last few seeds. */
export class ProgramCache {
  private seeds = new Map<number, Program[]>();

  constructor(
    private lang: string | Lang,
    private keep = 4,
  ) {}

  /** Program `index` of `seed`, making at least `count` of the seed's programs at once. */
  get(seed: number, index: number, count = index + 1): Program {
    let ps = this.seeds.get(seed);
    if (!ps || ps.length <= index) {
      ps = programs(this.lang, seed, Math.max(count, index + 1));
      this.seeds.delete(seed);
      this.seeds.set(seed, ps);
      if (this.seeds.size > this.keep) this.seeds.delete(this.seeds.keys().next().value!);
    }
    return ps[index]!;
  }
}

/** A short fingerprint of a program (bytes, argument, input): a worker sends it back with its
 *  results, so that the harness knows the worker ran the program it meant. */
export function programDigest(p: Pick<Program, "code" | "arg" | "args" | "input">): string {
  let h = 0x811c9dc5; // FNV-1a, 32 bits
  const mix = (b: number) => (h = Math.imul(h ^ (b & 255), 0x01000193));
  for (const b of p.code) mix(b);
  for (const a of p.args ?? [p.arg]) for (let i = 0; i < 4; i++) mix(a >>> (8 * i));
  mix(p.input ? p.input.length + 1 : 0);
  for (const b of p.input ?? []) mix(b);
  return `${p.code.length}:${(h >>> 0).toString(16).padStart(8, "0")}`;
}
