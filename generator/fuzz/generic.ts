//! The program generator of a language that has no hand-written one: made from what futamura
//! knows of the language, its instruction set if the descriptor gives one (`Lang.isa`: the
//! opcodes, which take a one-byte operand, the operands' range and how a label reads), else
//! its bytes. So every language is differentially fuzzed from the day it is written.
//!
//! Random instruction sequences mostly fail at their first steps (a pop of an empty stack, a
//! register not allocated). Without a grammar of the language, the interpreter itself is the
//! guide: a program is grown an instruction at a time, and at each step the candidate kept is
//! the one the interpreter runs furthest on (steps taken under a small fuel before it ends, an
//! error, or the fuel runs out; a run that completes counts as going all the way). Three
//! origins: `guided` (grown so), `mutated` (a grown program with a byte or two changed) and
//! `raw` (instructions drawn without the guide), 70 / 15 / 15.
//!
//! Deterministic: a program is a function of a seed fast-check draws (`fc.sample` by seed and
//! index, as every generator), the guide's runs are the interpreter's own under fuel, and a
//! worker process grows the same program from the same seed.

import fc from "fast-check";
import { STEP_LIMIT, VmError, getFuel, setFuel, setIo } from "../../runtime/hints.ts";
import type { Lang } from "../language.ts";
import { argArb, type Program } from "./program.ts";

/** Instructions in a program at most, candidates tried per instruction, and the fuel of a
 *  guide's run. */
const MAX_INSTRUCTIONS = 24;
const CANDIDATES = 3;
const GUIDE_FUEL = 2_000;
/** One step in this many keeps a candidate that makes the program fail sooner. */
const ERRORS_LET_IN = 8;

export function genericProgramArb(lang: Lang): fc.Arbitrary<Program> {
  return fc
    .record({ seed: fc.integer(), arg: argArb, kind: fc.nat(99) })
    .map(({ seed, arg, kind }) => {
      const rnd = random(seed);
      const input = lang.convention === "bytes" ? bytes(rnd, rnd(64)) : undefined;
      // An entry of more than one integer gets small ones after `arg`.
      const args = [arg, ...Array.from({ length: lang.arity - 1 }, () => rnd(12) - 3)];
      const ints = args.slice(0, lang.arity);
      const guided = kind >= 15;
      let code = grow(lang, rnd, ints, input, guided);
      const origin = kind < 15 ? "raw" : kind < 30 ? "mutated" : "guided";
      if (origin === "mutated") code = mutate(lang, rnd, code);
      return {
        code,
        arg,
        origin,
        ...(lang.arity > 1 ? { args: ints } : {}),
        ...(input ? { input } : {}),
      };
    });
}

/** A program of up to MAX_INSTRUCTIONS instructions. Guided, each step keeps the best of its
 *  candidates (more of them without an instruction set: bytes are blind guesses), and only if
 *  it takes the program no less far than before, but one time in ERRORS_LET_IN (so that
 *  programs also fail, later on); unguided, the first. */
function grow(
  lang: Lang,
  rnd: Rnd,
  ints: number[],
  input: Uint8Array | undefined,
  guided: boolean,
): Uint8Array {
  const length = 1 + rnd(MAX_INSTRUCTIONS);
  const candidates = guided ? (lang.isa ? CANDIDATES : 4 * CANDIDATES) : 1;
  let code: Uint8Array = new Uint8Array(0);
  let far = guided ? reach(lang, code, ints, input) : 0;
  for (let i = 0; i < length; i++) {
    let best = code;
    let bestScore = -1;
    for (let k = 0; k < candidates; k++) {
      const trial = concat(code, instruction(lang, rnd, code.length));
      const score = guided ? reach(lang, trial, ints, input) : 0;
      if (score > bestScore) [best, bestScore] = [trial, score];
    }
    if (bestScore < far && rnd(ERRORS_LET_IN) !== 0) continue;
    [code, far] = [best, bestScore];
  }
  return code;
}

/** How far the interpreter runs `code` under GUIDE_FUEL: a run that fails scores the steps it
 *  took; one that completes, or runs out of fuel, scores above any that fails. */
function reach(
  lang: Lang,
  code: Uint8Array,
  ints: number[],
  input: Uint8Array | undefined,
): number {
  let at = 0;
  setIo({ read: () => (input && at < input.length ? input[at++]! : -1), write: () => {} });
  setFuel(GUIDE_FUEL);
  try {
    lang.native(code, ints);
    return GUIDE_FUEL + (GUIDE_FUEL - getFuel());
  } catch (e) {
    if (!(e instanceof VmError)) return 0; // the interpreter's own failure: no further
    const steps = GUIDE_FUEL - getFuel();
    return e.message === STEP_LIMIT ? 2 * GUIDE_FUEL : steps;
  } finally {
    setFuel(undefined);
    setIo({ read: () => -1, write: () => {} });
  }
}

/** One instruction: an opcode of the instruction set (now and then any byte) and its operand;
 *  without an instruction set, one or two bytes. */
function instruction(lang: Lang, rnd: Rnd, at: number): Uint8Array {
  const isa = lang.isa;
  if (!isa) return bytes(rnd, 1 + rnd(2));
  const ops = Object.values(isa.opcodes);
  if (rnd(10) === 0) return Uint8Array.of(rnd(256));
  const [op, operands] = ops[rnd(ops.length)]!;
  const out = [op];
  for (let i = 0; i < operands; i++) out.push(operandOf(isa, rnd, at) & 255);
  return Uint8Array.from(out);
}

/** An operand: a label near the code made so far (as the instruction set reads labels), a
 *  small value, or any in range. */
function operandOf(isa: NonNullable<Lang["isa"]>, rnd: Rnd, at: number): number {
  const within = (v: number) => Math.min(isa.max, Math.max(isa.min, v));
  switch (rnd(4)) {
    case 0:
      return within(isa.labels === "absolute" ? rnd(at + 8) : rnd(at + 8) - at - 2);
    case 1:
    case 2:
      return within(rnd(12) - 3);
    default:
      return isa.min + rnd(isa.max - isa.min + 1);
  }
}

/** `code` with one or two bytes replaced, inserted or deleted. */
function mutate(lang: Lang, rnd: Rnd, code: Uint8Array): Uint8Array {
  const b = Array.from(code);
  for (let n = 1 + rnd(2); n > 0; n--) {
    const p = rnd(b.length + 1);
    const byte = lang.isa && rnd(2) ? instruction(lang, rnd, p)[0]! : rnd(256);
    const kind = rnd(3);
    if (kind === 0 && p < b.length) b[p] = byte;
    else if (kind === 1) b.splice(p, 0, byte);
    else b.splice(p, 1);
  }
  return Uint8Array.from(b);
}

function bytes(rnd: Rnd, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => (rnd(3) ? rnd(16) : rnd(256)));
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** `rnd(n)`: an integer in 0..n-1 (0 when n <= 0), from a seeded xorshift generator. */
type Rnd = (n: number) => number;

function random(seed: number): Rnd {
  let s = seed | 0 || 0x9e3779b9;
  return (n) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return n <= 0 ? 0 : (s >>> 0) % n;
  };
}
