//! Merge-point keys and positions (`policy.ts`) as numbers. A key is a sequence of parts, the
//! greens' values and the reds' shapes; a specialiser meets one per instruction it specialises,
//! so the engine finds a key's number from its parts by a hash, without making its string
//! (which only statistics need, made once per position on demand).

/** Part codes: a 32-bit integer is itself; other parts lie above 2^32, apart by kind. */
export const TRUE = 2 ** 32 + 1;
export const FALSE = 2 ** 32;
/** The null reference (a field of a virtual object). */
export const NULL_PART = 2 ** 32 + 2;
export const ARRAY = 2 ** 33;
export const UNKNOWN = 2 ** 34;
/** A red's shape other than a virtual's, by its number. */
export const SHAPE = 2 ** 35;
/** The first part of a position's general key, whose second is the position's number. */
export const GENERAL = 2 ** 36;
/** A virtual red: `VIRTUAL + length`, then the number m of its items that are not the zeros it
 *  ends with, then a part per such item, HOLE for a run-time one. */
export const VIRTUAL = 2 ** 37;
export const HOLE = 2 ** 38;
/** A virtual list: `LIST + length`, then the length again (the number of its items), then the
 *  shape of each item. */
export const LIST = 2 ** 38 + 2 ** 36;
/** A virtual object red: `OBJECT + ` its class's id, then the number m of its fields but for
 *  the integer zeros they end with, then the shape of each such field (a constant's part,
 *  `NULL_PART` for null, `CONSTANT + i` for a constant object, HOLE for a run-time value, or a
 *  virtual's own shape: they nest). Laid out as a virtual array's, so the same rules widen
 *  both. */
export const OBJECT = 2 ** 38 + 2 ** 37;
/** A virtual met before in the same key (held twice: one allocation): `ALIAS + ` its number,
 *  virtuals counted from 0 in the order the key meets them. */
export const ALIAS = 2 ** 39;
/** A constant object (a loader's constant pool), green or held by a virtual: `CONSTANT + ` its
 *  index in the module's constants. */
export const CONSTANT = 2 ** 40;
/** A run-time reference whose class is known (promoted): `CLASSED + ` the class's id. A leaf,
 *  as HOLE is, whose parameter keeps the class. */
export const CLASSED = 2 ** 41;
/** A run-time reference met before in the same key (one variable in two places: after the
 *  merge point it is one parameter): `REPEAT + ` the number of its leaf, reds' leaves counted from 0
 *  in the order the key meets them. */
export const REPEAT = 2 ** 42;
/** After the reds' shapes, for each virtualizable's virtual the shapes keep (in the order met),
 *  `HOME + 2 * ` its home's variable `+ 1` if it changed since it was unpacked: a key holding
 *  one is its graph's own (the home is a variable of the graph, which a block of the key goes
 *  on using), and a clean one writes nothing back. */
export const HOME = 2 ** 43;

/** Numbers for sequences of part codes: equal sequences get the same number, from 0 up.
 *  (An open-addressing table of numbers, by hash: a `Map` of hashes cost more than the rest
 *  of the lookup. The sequences lie end to end in one typed array, not an array each: a
 *  program's keys live as long as its specialisation, and the garbage collector copies every
 *  small object that does, twice; and pushing part codes, most above 2^32, onto a plain
 *  array was a tenth of a merge point.) */
export class Interner {
  private table: Int32Array;
  private count = 0;
  private hashes: Int32Array;
  /** Sequence `id` is `flat[starts[id]..starts[id + 1])`. */
  private starts: Int32Array;
  private flat: Parts;

  /** `room`: a power of two, twice the sequences expected (growing shows on a small program's
   *  specialisation, and so does a large table: it is made per specialisation). */
  constructor(room: number) {
    this.table = ints(room);
    this.hashes = ints(room / 2);
    this.starts = ints(room / 2 + 1);
    this.starts[0] = 0;
    this.flat = new Parts(4 * room);
  }

  /** The number of `parts[0..n)`, new if the sequence is. */
  id(parts: number[], n: number): number {
    const h = hash(parts, n);
    const mask = this.table.length - 1;
    let i = h & mask;
    for (let id = this.table[i]!; id >= 0; id = this.table[(i = (i + 1) & mask)]!) {
      if (this.hashes[id] !== h) continue;
      const at = this.starts[id]!;
      let same = this.starts[id + 1]! - at === n;
      for (let k = 0; same && k < n; k++) same = this.flat.at(at + k) === parts[k];
      if (same) return id;
    }
    const id = this.count++;
    if (id + 1 >= this.hashes.length) {
      this.hashes = grown(this.hashes, ints(2 * this.hashes.length));
      this.starts = grown(this.starts, ints(2 * this.starts.length));
    }
    for (let k = 0; k < n; k++) this.flat.push(parts[k]!);
    this.starts[id + 1] = this.flat.length;
    this.hashes[id] = h;
    this.table[i] = id;
    if (2 * this.count > this.table.length) this.grow();
    return id;
  }

  /** The parts of sequence `id`. */
  parts(id: number): number[] {
    return this.flat.slice(this.starts[id]!, this.starts[id + 1]!);
  }

  private grow(): void {
    const t = ints(2 * this.table.length);
    const mask = t.length - 1;
    for (let id = 0; id < this.count; id++) {
      let i = this.hashes[id]! & mask;
      while (t[i]! >= 0) i = (i + 1) & mask;
      t[i] = id;
    }
    this.table = t;
  }
}

/** A growing list of part codes. (Most are above 2^32: pushed onto a plain array, each took
 *  a tenth of a merge point.) */
export class Parts {
  private xs: Float64Array;
  length = 0;

  constructor(room: number) {
    this.xs = floats(room);
  }

  push(x: number): void {
    if (this.length === this.xs.length) this.xs = grown(this.xs, floats(2 * this.length));
    this.xs[this.length++] = x;
  }

  at(i: number): number {
    return this.xs[i]!;
  }

  /** (A loop: `subarray` makes a typed array, a microsecond in V8.) */
  slice(from: number, to: number): number[] {
    const out: number[] = new Array(to - from);
    for (let i = from; i < to; i++) out[i - from] = this.xs[i]!;
    return out;
  }
}

/** `to` holding `from` at its start. */
function grown<T extends Int32Array | Float64Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

/** A map from numbers 0 up (keys) to numbers 0 up, as an open-addressing table: a residual
 *  graph's blocks by key, looked up at every merge point. */
export class IntMap {
  /** Room for 128 keys from the start: growing shows on a small program's specialisation. */
  private keys = ints(256);
  private values = ints(256);
  private size = 0;

  /** The value of `k`, or -1. */
  get(k: number): number {
    const mask = this.keys.length - 1;
    for (let i = Math.imul(k, 0x9e3779b1) & mask; ; i = (i + 1) & mask) {
      const x = this.keys[i]!;
      if (x === k) return this.values[i]!;
      if (x < 0) return -1;
    }
  }

  has(k: number): boolean {
    return this.get(k) >= 0;
  }

  /** Calls `f` with each key and its value (in the table's order: the same for the same
   *  insertions). */
  forEach(f: (k: number, v: number) => void): void {
    for (let i = 0; i < this.keys.length; i++)
      if (this.keys[i]! >= 0) f(this.keys[i]!, this.values[i]!);
  }

  set(k: number, v: number): void {
    const mask = this.keys.length - 1;
    let i = Math.imul(k, 0x9e3779b1) & mask;
    while (this.keys[i]! >= 0 && this.keys[i] !== k) i = (i + 1) & mask;
    if (this.keys[i]! < 0) this.size++;
    this.keys[i] = k;
    this.values[i] = v;
    if (2 * this.size > this.keys.length) this.grow();
  }

  private grow(): void {
    const { keys, values } = this;
    this.keys = ints(2 * keys.length);
    this.values = ints(2 * keys.length);
    this.size = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i]! >= 0) this.set(keys[i]!, values[i]!);
  }
}

/** Typed arrays for tables made per specialisation, as views of shared blocks of memory. (V8
 *  keeps a typed array of more than 64 bytes outside its heap, and making one takes
 *  microseconds, ~3 us on a small machine: an engine's tables were 7% of a small program's
 *  specialisation. A view of a shared block takes a tenth of that. A block lives as long as a
 *  table in it does.) `ints` are every one -1, `floats` 0. */
function ints(n: number): Int32Array {
  const at = carve(4 * n);
  return (at < 0 ? new Int32Array(n) : new Int32Array(block, at, n)).fill(-1);
}

function floats(n: number): Float64Array {
  const at = carve(8 * n);
  return at < 0 ? new Float64Array(n) : new Float64Array(block, at, n);
}

/** Where `bytes` (a multiple of 4) start in the current block, 8-aligned; -1 for a table too
 *  large to share one. */
function carve(bytes: number): number {
  if (bytes > BLOCK / 8) return -1;
  used = (used + 7) & ~7;
  if (used + bytes > BLOCK) {
    block = new ArrayBuffer(BLOCK);
    used = 0;
  }
  const at = used;
  used += bytes;
  return at;
}
const BLOCK = 1 << 18;
let block = new ArrayBuffer(BLOCK);
let used = 0;

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
