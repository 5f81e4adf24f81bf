//! What the results of a run add up to: the histogram of interp's outcomes (overall and by
//! program origin), time per backend, programs per worker, and a `Failure` for every backend
//! that disagrees with interp, with what reproduces it. Results may come in any order (worker
//! processes finish when they finish); the failures are sorted by seed and index at the end, so
//! a report does not depend on how many workers ran it.

import type { Lang } from "../language.ts";
import type { Backend } from "../backends.ts";
import { programDigest, type ProgramCache } from "./generators.ts";
import { disassemble, hex } from "./ops.ts";
import type { Program } from "./program.ts";
import type { Ran, Result } from "./run.ts";
import { agrees, kind } from "./run.ts";

export interface Failure {
  /** Program `index` of seed `seed` reproduces it (`futamura fuzz <lang> --seed S --index I`). */
  seed: number;
  index: number;
  lang: string;
  backend: string;
  arg: number;
  /** The program's input as hex bytes, for languages that read bytes. */
  input?: string;
  fuel: number;
  origin: Program["origin"];
  /** The program as hex bytes and as assembler text (`futamura run` takes the latter). */
  hex: string;
  program: string;
  expected: Result;
  got: Result;
  /** A smaller program (and its results) that still disagrees, when minimisation found one. */
  minimal?: { hex: string; program: string; expected: Result; got: Result };
}

/** Failures kept whole (with their programs); past this, disagreements are only counted. */
export const KEPT_FAILURES = 1000;

const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

export class Tally {
  count = 0;
  firstSeed = Infinity;
  lastSeed = -Infinity;
  /** The first failures found (at most KEPT_FAILURES), and how many there were in all. */
  readonly failures: Failure[] = [];
  disagreements = 0;
  /** Outcome kind on interp → number of programs. */
  readonly histogram = new Map<string, number>();
  /** Program origin → outcome kind → number of programs. */
  readonly byOrigin = new Map<string, Map<string, number>>();
  /** Milliseconds spent running each backend (interp included), summed over workers. */
  readonly backendMs: Map<string, number>;
  /** Programs each slot (worker process) ran. */
  readonly perSlot: number[];

  constructor(
    private lang: Lang,
    private fuel: number,
    private interp: Backend,
    private others: Backend[],
    slots: number,
    private programs: ProgramCache,
  ) {
    this.backendMs = new Map([interp, ...others].map((b) => [b.name, 0]));
    this.perSlot = new Array<number>(slots).fill(0);
  }

  /** Adds what program `index` of `seed` gave when slot `slot` ran it. */
  add(seed: number, index: number, count: number, ran: Ran, slot: number): void {
    const p = this.programs.get(seed, index, count);
    if (ran.digest !== undefined && ran.digest !== programDigest(p))
      throw new Error(
        `a worker ran another program than ${this.lang.name} seed ${seed} index ${index}`,
      );
    this.count++;
    this.perSlot[slot]!++;
    this.firstSeed = Math.min(this.firstSeed, seed);
    this.lastSeed = Math.max(this.lastSeed, seed);
    [this.interp, ...this.others].forEach((b, i) =>
      this.backendMs.set(b.name, this.backendMs.get(b.name)! + (ran.ms[i] ?? 0)),
    );
    const k = kind(ran.expected);
    bump(this.histogram, k);
    if (!this.byOrigin.has(p.origin)) this.byOrigin.set(p.origin, new Map());
    bump(this.byOrigin.get(p.origin)!, k);
    this.compare(seed, index, p, ran);
  }

  /** A failure for interp if it crashed, and for each backend that gave something else. */
  private compare(seed: number, index: number, p: Program, ran: Ran): void {
    if (ran.expected.startsWith("crash: "))
      this.fail(seed, index, p, {
        backend: "interp",
        got: ran.expected,
        expected: "a value or an interpreter error",
      });
    this.others.forEach((b, i) => {
      const got = ran.got[i];
      if (got !== undefined && !agrees(got, ran.expected))
        this.fail(seed, index, p, { backend: b.name, got, expected: ran.expected });
    });
  }

  /** Counts a disagreement; keeps it whole, with its program as text, while there is room. */
  private fail(
    seed: number,
    index: number,
    p: Program,
    what: Pick<Failure, "backend" | "got" | "expected">,
  ): void {
    this.disagreements++;
    if (this.failures.length >= KEPT_FAILURES) return;
    this.failures.push({
      seed,
      index,
      // As a command line names it: a shorthand, or the interpreter's path.
      lang: this.lang.spec,
      arg: p.arg,
      ...(p.input ? { input: hex(p.input) } : {}),
      fuel: this.fuel,
      origin: p.origin,
      hex: hex(p.code),
      program: disassemble(this.lang, p.code),
      ...what,
    });
  }

  /** The failures in the order of seed and index (a stable sort: for one program, in the
   *  order of the backends). */
  sortFailures(): void {
    this.failures.sort((x, y) => x.seed - y.seed || x.index - y.index);
  }
}
