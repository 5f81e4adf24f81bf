//! Merge-point keys and positions (`policy.ts`) as numbers. A key is a sequence of parts, the
//! greens' values and the reds' shapes; a specialiser meets one per instruction it specialises,
//! so the engine finds a key's number from its parts by a hash, without making its string
//! (which only statistics and lazy mode's key graph need, made once per key on demand).

/** Part codes: a 32-bit integer is itself; other parts lie above 2^32, apart by kind. */
export const TRUE = 2 ** 32 + 1;
export const FALSE = 2 ** 32;
export const ARRAY = 2 ** 33;
export const UNKNOWN = 2 ** 34;
/** A red's shape other than a virtual's, by its number. */
export const SHAPE = 2 ** 35;
/** The first part of a position's general key, whose second is the position's number. */
export const GENERAL = 2 ** 36;
/** A virtual red: `VIRTUAL + length`, then a part per item, HOLE for a run-time one. */
export const VIRTUAL = 2 ** 37;
export const HOLE = 2 ** 38;

/** Numbers for sequences of part codes: equal sequences get the same number, from 0 up. */
export class Interner {
  /** By hash, the newest number with it; `older` chains the rest. */
  private newest = new Map<number, number>();
  private older: number[] = [];
  private seqs: number[][] = [];

  /** The number of `parts[0..n)`, new if the sequence is. */
  id(parts: number[], n: number): number {
    const h = hash(parts, n);
    const first = this.newest.get(h);
    for (let id = first ?? -1; id >= 0; id = this.older[id]!) {
      const s = this.seqs[id]!;
      let same = s.length === n;
      for (let i = 0; same && i < n; i++) same = s[i] === parts[i];
      if (same) return id;
    }
    const id = this.seqs.push(parts.slice(0, n)) - 1;
    this.older.push(first ?? -1);
    this.newest.set(h, id);
    return id;
  }

  /** The parts of sequence `id`. */
  parts(id: number): number[] {
    return this.seqs[id]!;
  }
}

/** A 32-bit hash of `parts[0..n)` (both halves of each code). */
export function hash(parts: number[], n: number): number {
  let h = n;
  for (let i = 0; i < n; i++) {
    const x = parts[i]!;
    h = Math.imul(h ^ (x | 0) ^ Math.imul((x / 4294967296) | 0, 0x27d4eb2d), 0x9e3779b1);
    h ^= h >>> 15;
  }
  return h;
}
