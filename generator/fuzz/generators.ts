//! The program generator of each language, and the one definition of "program `index` of seed
//! `seed`": the `index`-th value `fc.sample` draws, which does not depend on the count. Every
//! way of reproducing a program (`--seed S --index I`, worker processes, the seed schedule)
//! goes through `programs`.

import fc from "fast-check";
import { bfProgramArb } from "./bf.ts";
import type { Program } from "./program.ts";
import { tlProgramArb } from "./tl.ts";
import { tlrProgramArb } from "./tlr.ts";

/** The program generator of a language: 55% clean, 15% mutated, 15% faulty, 15% raw bytes. */
export function programArb(lang: string): fc.Arbitrary<Program> {
  switch (lang) {
    case "tlr":
      return tlrProgramArb();
    case "tl":
      return tlProgramArb();
    case "bf":
      return bfProgramArb;
    default:
      throw new Error(`no program generator for ${lang}`);
  }
}

/** The `count` programs of `seed` (program i does not depend on `count`). */
export function programs(lang: string, seed: number, count: number): Program[] {
  return fc.sample(programArb(lang), { seed, numRuns: count });
}
