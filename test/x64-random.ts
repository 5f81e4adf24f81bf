// Random residual-like modules for the x86-64 backend's tests: every operation of the opcode
// table on random operands (variables and the awkward constants: 0, -1, INT_MIN, shift counts
// past 31), a loop carrying many values (register pressure, spilling), a diamond merging through
// block parameters, calls with up to nine arguments (stack arguments) inside the loop (values live
// across calls), i32 and u8 arrays, data constants, and raises. Deterministic per seed. The
// results are compared with L3, which is the reference.

import { GraphBuilder } from "../runtime/ir/build.ts";
import type { Graph, Module, Operand } from "../runtime/ir/types.ts";

const INT_MIN = -0x80000000;
const AWKWARD = [0, 1, -1, 2, 7, 31, 32, 33, 255, 256, INT_MIN, 0x7fffffff, -7];
const BINARY = [
  "int_add",
  "int_sub",
  "int_mul",
  "int_div",
  "int_mod",
  "int_and",
  "int_or",
  "int_xor",
  "int_shl",
  "int_shr",
  "int_ushr",
];
const COMPARE = ["int_eq", "int_ne", "int_lt", "int_le", "int_gt", "int_ge", "uint_lt"];

/** mulberry32: a small deterministic generator. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  value(): number {
    return this.chance(0.6) ? this.pick(AWKWARD) : this.int(2 ** 32) | 0;
  }
}

/** Values in scope in a block, by type. */
interface Scope {
  ints: number[];
  bools: number[];
  /** Arrays of 8 items each. */
  arrays: { v: Operand; type: "i32[]" | "u8[]" }[];
}

const copy = (s: Scope): Scope => ({
  ints: [...s.ints],
  bools: [...s.bools],
  arrays: [...s.arrays],
});

class Builder {
  constructor(
    private g: Gen,
    private b: GraphBuilder,
  ) {}

  intOperand(s: Scope): Operand {
    return s.ints.length && this.g.chance(0.8)
      ? this.g.pick(s.ints)
      : { k: "int", v: this.g.value() };
  }

  boolOperand(s: Scope): Operand {
    return s.bools.length && this.g.chance(0.85)
      ? this.g.pick(s.bools)
      : { k: "bool", v: this.g.chance(0.5) };
  }

  /** One random pure operation, its result added to the scope. */
  pure(blk: number, s: Scope): void {
    const g = this.g;
    const r = g.int(10);
    if (r < 6)
      s.ints.push(
        this.b.emit(blk, g.pick(BINARY), [this.intOperand(s), this.intOperand(s)], "i32"),
      );
    else if (r < 7)
      s.ints.push(this.b.emit(blk, g.pick(["int_neg", "int_not"]), [this.intOperand(s)], "i32"));
    else if (r < 9)
      s.bools.push(
        this.b.emit(blk, g.pick(COMPARE), [this.intOperand(s), this.intOperand(s)], "bool"),
      );
    else if (g.chance(0.5))
      s.bools.push(this.b.emit(blk, "bool_not", [this.boolOperand(s)], "bool"));
    else
      s.bools.push(
        this.b.emit(
          blk,
          g.pick(["bool_eq", "bool_ne"]),
          [this.boolOperand(s), this.boolOperand(s)],
          "bool",
        ),
      );
  }

  /** An array access at an index masked into range (the frontend's guards do that for real). */
  array(blk: number, s: Scope): void {
    const { v } = this.g.pick(s.arrays);
    const idx = this.g.chance(0.3)
      ? ({ k: "int", v: this.g.int(8) } as Operand)
      : this.b.emit(blk, "int_and", [this.intOperand(s), { k: "int", v: 7 }], "i32");
    const r = this.g.int(3);
    // Data constants are never written (L3 shares them between runs).
    if (r === 0 && typeof v === "number")
      this.b.emit(blk, "array_set", [v, idx, this.intOperand(s)]);
    else if (r === 1) s.ints.push(this.b.emit(blk, "array_len", [v], "i32"));
    else s.ints.push(this.b.emit(blk, "array_get", [v, idx], "i32"));
  }

  ops(blk: number, s: Scope, n: number): void {
    for (let i = 0; i < n; i++) {
      if (s.arrays.length && this.g.chance(0.2)) this.array(blk, s);
      else this.pure(blk, s);
    }
  }

  /** A condition, often a compare right before the branch (which the backend fuses). */
  cond(blk: number, s: Scope): Operand {
    if (this.g.chance(0.6)) {
      let c: Operand = this.b.emit(
        blk,
        this.g.pick(COMPARE),
        [this.intOperand(s), this.intOperand(s)],
        "bool",
      );
      if (this.g.chance(0.3)) c = this.b.emit(blk, "bool_not", [c], "bool");
      return c;
    }
    return this.boolOperand(s);
  }
}

/** A graph `@helper<i>` taking `n` ints: some operations, maybe a branch, returns an int. */
function helper(g: Gen, name: string, n: number): Graph {
  const b = new GraphBuilder(name, "i32");
  const bld = new Builder(g, b);
  const b0 = b.newBlock();
  const s: Scope = {
    ints: Array.from({ length: n }, () => b.addParam(b0, "i32")),
    bools: [],
    arrays: [],
  };
  bld.ops(b0, s, 2 + g.int(6));
  const [t, e] = [b.newBlock(), b.newBlock()];
  b.terminate(b0, {
    k: "branch",
    cond: bld.cond(b0, s),
    then: { block: t, args: [] },
    else: { block: e, args: [] },
  });
  const st = copy(s);
  bld.ops(t, st, g.int(4));
  b.terminate(t, { k: "return", value: bld.intOperand(st) });
  const se = copy(s);
  bld.ops(e, se, g.int(4));
  b.terminate(e, { k: "return", value: bld.intOperand(se) });
  return b.finish();
}

/** A random module and arguments for its entry `@main`. */
export function randomModule(seed: number): { module: Module; args: number[][] } {
  const g = new Gen(seed);
  const module: Module = {
    graphs: [],
    data: [
      { type: "i32[]", values: Array.from({ length: 8 }, () => g.value()) },
      { type: "u8[]", values: Array.from({ length: 8 }, () => g.int(256)) },
    ],
  };
  const helperArity = 1 + g.int(9);
  const b = new GraphBuilder("main", "i32");
  const bld = new Builder(g, b);
  const nParams = 1 + g.int(6);
  const b0 = b.newBlock();
  const s0: Scope = {
    ints: Array.from({ length: nParams }, () => b.addParam(b0, "i32")),
    bools: [],
    arrays: [
      { v: { k: "data", v: 0 }, type: "i32[]" },
      { v: { k: "data", v: 1 }, type: "u8[]" },
    ],
  };
  for (const type of ["i32[]", "u8[]"] as const)
    s0.arrays.push({ v: b.emit(b0, "new_array", [{ k: "int", v: 8 }], type, type), type });
  bld.ops(b0, s0, 2 + g.int(8));

  // The loop: a counter and `carried` values in block parameters.
  const carried = 2 + g.int(g.chance(0.3) ? 24 : 8);
  const head = b.newBlock();
  const counter = b.addParam(head, "i32");
  const params = Array.from({ length: carried }, () => b.addParam(head, "i32"));
  b.terminate(b0, {
    k: "jump",
    to: { block: head, args: [{ k: "int", v: g.int(6) }, ...params.map(() => bld.intOperand(s0))] },
  });
  const sh = copy(s0);
  sh.ints.push(counter, ...params);
  const more = b.emit(head, "int_gt", [counter, { k: "int", v: 0 }], "bool");
  const [body, exit] = [b.newBlock(), b.newBlock()];
  b.terminate(head, {
    k: "branch",
    cond: more,
    then: { block: body, args: [] },
    else: { block: exit, args: [] },
  });

  // Body: operations, a call, a diamond merging through a parameter, maybe a raise.
  const sb = copy(sh);
  bld.ops(body, sb, 2 + g.int(10));
  const helperGraph = helper(g, "helper", helperArity);
  sb.ints.push(
    b.emit(
      body,
      "call",
      Array.from({ length: helperArity }, () => bld.intOperand(sb)),
      "i32",
      "helper",
    ),
  );
  const [left, right, join, boom] = [b.newBlock(), b.newBlock(), b.newBlock(), b.newBlock()];
  const merged = b.addParam(join, "i32");
  b.terminate(body, {
    k: "branch",
    cond: bld.cond(body, sb),
    then: { block: left, args: [] },
    else: { block: right, args: [] },
  });
  for (const side of [left, right]) {
    const ss = copy(sb);
    bld.ops(side, ss, g.int(5));
    b.terminate(side, { k: "jump", to: { block: join, args: [bld.intOperand(ss)] } });
  }
  const sj = copy(sb);
  sj.ints.push(merged);
  bld.ops(join, sj, g.int(5));
  const next = b.newBlock();
  const fail = b.emit(
    join,
    "int_eq",
    [bld.intOperand(sj), { k: "int", v: g.pick([0, 1, -1]) }],
    "bool",
  );
  b.terminate(join, {
    k: "branch",
    cond: g.chance(0.2) ? fail : { k: "bool", v: false },
    then: { block: boom, args: [] },
    else: { block: next, args: [] },
  });
  b.terminate(boom, { k: "raise", msg: "boom" });
  const dec = b.emit(next, "int_sub", [counter, { k: "int", v: 1 }], "i32");
  b.terminate(next, {
    k: "jump",
    to: { block: head, args: [dec, ...params.map(() => bld.intOperand(sj))] },
  });

  // Exit: everything carried, folded into one result.
  let acc: Operand = { k: "int", v: 0 };
  for (const p of params)
    acc = b.emit(
      exit,
      "int_xor",
      [b.emit(exit, "int_mul", [acc, { k: "int", v: 31 }], "i32"), p],
      "i32",
    );
  b.terminate(exit, { k: "return", value: acc });

  module.graphs.push(b.finish(), helperGraph);
  const args = Array.from({ length: 3 }, () => Array.from({ length: nParams }, () => g.value()));
  return { module, args };
}
