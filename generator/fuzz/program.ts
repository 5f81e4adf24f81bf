//! What the program generators of every language share: the `Program` a generator makes, the
//! argument, the operand and "wildness" seeds of a statement, byte mutations, biased raw bytes,
//! and the mix of the four origins (clean, mutated, faulty, raw) with their weights.
//! A change to any arbitrary here changes the programs of every seed, and with them what a seed
//! recorded in the ledger ran: test/fuzz.test.ts pins a hash of sample programs.

import fc from "fast-check";

/** A generated program: the bytecode, the argument, and how it was made. */
export interface Program {
  code: Uint8Array;
  arg: number;
  /** For an entry of more than one integer: all of them (`arg` first). */
  args?: number[];
  /** Standard input, for languages that read bytes (bf). */
  input?: Uint8Array;
  /** `guided`: grown under the interpreter's guidance (the generic generator, generic.ts). */
  origin: "clean" | "mutated" | "faulty" | "raw" | "guided";
}

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

/** Arguments: mostly small (loops counted by the argument then terminate), some edge values. */
export const argArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -3, max: 20 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(0, 1, -1, 127, 128, 255, 256, INT_MIN, INT_MAX, INT_MIN + 1),
  },
  { weight: 2, arbitrary: fc.integer() },
);

/** Maximum nesting of loops and conditionals. */
export const NEST = 2;

/** Operand seed and "wildness" seed of a statement (`w % 4 === 0` skips its repair in a faulty
 *  program). */
export const nArb = fc.nat(255);
export const wArb = fc.nat(15);

export interface Mutation {
  kind: number;
  pos: number;
  byte: number;
}
export const mutationsArb = fc.array(
  fc.record({ kind: fc.nat(4), pos: fc.nat(), byte: fc.nat(255) }),
  {
    minLength: 1,
    maxLength: 2,
  },
);

/** Applies byte mutations; `opcodes` is how many opcodes the language has (1..opcodes). */
export function mutate(code: Uint8Array, ms: Mutation[], opcodes: number): Uint8Array {
  const b = Array.from(code);
  for (const m of ms) {
    const p = m.pos % (b.length + 1);
    switch (m.kind) {
      case 0: // replace with a random byte
        if (p < b.length) b[p] = m.byte;
        break;
      case 1: // replace with a valid opcode (an operand becomes an instruction, or vice versa)
        if (p < b.length) b[p] = (m.byte % opcodes) + 1;
        else b.push((m.byte % opcodes) + 1);
        break;
      case 2: // delete
        b.splice(p, 1);
        break;
      case 3: // insert
        b.splice(p, 0, m.byte % 3 === 0 ? m.byte : (m.byte % opcodes) + 1);
        break;
      default: // truncate (keep at least half)
        b.length = Math.max(p, b.length >> 1);
    }
  }
  return Uint8Array.from(b);
}

/** Biased random bytes: mostly opcodes and small operands, so that runs get somewhere. */
export function rawArb(
  opcodes: number,
  small: fc.Arbitrary<number>,
  maxLength: number,
): fc.Arbitrary<Uint8Array> {
  const byte = fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 1, max: opcodes }) },
    { weight: 3, arbitrary: small },
    { weight: 1, arbitrary: fc.nat(255) },
  );
  return fc.array(byte, { maxLength }).map((a) => Uint8Array.from(a, (x) => x & 255));
}

/** Mixes clean, mutated, faulty and raw programs. */
export function mix<T>(
  tree: fc.Arbitrary<T>,
  low: (t: T, faulty: boolean) => Uint8Array,
  opcodes: number,
  raw: fc.Arbitrary<Uint8Array>,
): fc.Arbitrary<Program> {
  return fc.oneof(
    {
      weight: 55,
      arbitrary: fc
        .record({ t: tree, arg: argArb })
        .map(({ t, arg }): Program => ({ code: low(t, false), arg, origin: "clean" })),
    },
    {
      weight: 15,
      arbitrary: fc
        .record({ t: tree, ms: mutationsArb, arg: argArb })
        .map(({ t, ms, arg }): Program => ({
          code: mutate(low(t, false), ms, opcodes),
          arg,
          origin: "mutated",
        })),
    },
    {
      weight: 15,
      arbitrary: fc
        .record({ t: tree, arg: argArb })
        .map(({ t, arg }): Program => ({ code: low(t, true), arg, origin: "faulty" })),
    },
    {
      weight: 15,
      arbitrary: fc
        .record({ code: raw, arg: argArb })
        .map(({ code, arg }): Program => ({ code, arg, origin: "raw" })),
    },
  );
}
