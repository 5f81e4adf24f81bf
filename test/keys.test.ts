// Merge-point keys as numbers (runtime/specialiser/keys.ts): the interner gives equal sequences of
// parts the same number and different ones different numbers, whatever their hashes do.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ARRAY,
  FALSE,
  GENERAL,
  HOLE,
  IntMap,
  Interner,
  SHAPE,
  TRUE,
  UNKNOWN,
  VIRTUAL,
  hash,
} from "../runtime/specialiser/keys.ts";

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

/** Parts as the engine makes them: integers, and codes of each kind with small numbers. */
const part = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(INT_MIN, INT_MAX, TRUE, FALSE, UNKNOWN, HOLE, GENERAL),
  fc.integer({ min: 0, max: 3 }).map((k) => ARRAY + k),
  fc.integer({ min: 0, max: 3 }).map((k) => SHAPE + k),
  fc.integer({ min: 0, max: 3 }).map((k) => VIRTUAL + k),
);
const sequences = fc.array(fc.array(part, { maxLength: 6 }), { minLength: 1, maxLength: 60 });

describe("key interner", () => {
  it("numbers sequences from 0, equal ones alike and different ones apart, and gives their parts back", () => {
    fc.assert(
      fc.property(sequences, (seqs) => {
        const interner = new Interner(16);
        const ids = new Map<string, number>();
        for (const s of seqs) {
          // The engine passes a longer scratch array and a length: junk beyond it must not count.
          const id = interner.id([...s, 7, 7], s.length);
          const text = JSON.stringify(s);
          const seen = ids.get(text);
          if (seen === undefined) {
            expect(id).toBe(ids.size);
            ids.set(text, id);
          } else expect(id).toBe(seen);
          // Its parts read back as they were (the sequences end to end, through growth).
          expect(interner.parts(id)).toEqual(s);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("tells apart sequences whose hashes meet", () => {
    // Among 200,000 random two-part sequences a 32-bit hash has collisions (about 4.7 expected;
    // this seed gives 2): find them, then the interner must still give each its own number.
    let seed = 1;
    const random = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed | 0;
    };
    const first = new Map<number, number[]>();
    const pairs: number[][][] = [];
    for (let n = 0; n < 200_000; n++) {
      const s = [random(), random()];
      const h = hash(s, 2);
      const t = first.get(h);
      if (t === undefined) first.set(h, s);
      else pairs.push([t, s]);
    }
    expect(pairs.length).toBeGreaterThan(0);
    const interner = new Interner(16);
    for (const [s, t] of pairs) {
      const a = interner.id(s!, 2);
      const b = interner.id(t!, 2);
      expect(a).not.toBe(b);
      expect(interner.id(s!, 2)).toBe(a);
      expect(interner.id(t!, 2)).toBe(b);
    }
  });
});

describe("int map", () => {
  it("agrees with a Map through growth and overwrites", () => {
    const ops = fc.array(
      fc.tuple(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 2 ** 31 - 1 })),
      { maxLength: 400 },
    );
    fc.assert(
      fc.property(ops, (sets) => {
        const m = new IntMap();
        const ref = new Map<number, number>();
        for (const [k, v] of sets) {
          m.set(k, v);
          ref.set(k, v);
        }
        for (let k = 0; k <= 3000; k += 7) expect(m.get(k)).toBe(ref.get(k) ?? -1);
        for (const [k, v] of ref) expect(m.get(k)).toBe(v);
      }),
      { numRuns: 200 },
    );
  });
});
