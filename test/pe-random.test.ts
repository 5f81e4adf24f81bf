// The specialiser, the JIT's bookkeeping and both backends on random graphs over a state of
// three integers, two arrays and two conditions: arithmetic, arrays of constant and run-time
// length, aliasing (one array in both places), reads and writes at constant and run-time
// indices, counts kept in items, promotions, calls of a helper that branches and writes the
// array it is passed and of one that allocates an array and returns it, branches and switches
// on run-time values passing the whole state on, and an interpreter error on some inputs;
// acyclic, or the body of a loop with a merge point. Each runs eagerly and lazily, on L3 and
// as machine code, and must give what the graph gives on L3, for every input; the generated
// specialiser of each must make the abstract interpreter's code. (The interpreters exercise the engine through their own shapes only: a
// virtual passed on a branch's edge, or two reds holding one virtual at a merge point, occur in
// none of them. The bugs these graphs found are kept as tests of their own, "found: ...".)

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { L3 } from "../runtime/l3.ts";
import { parseModule } from "../runtime/ir/parse.ts";
import { verifyModule } from "../runtime/ir/verify.ts";
import { nativeFactory } from "../generator/compiled.ts";
import { Program } from "../runtime/jit.ts";
import { defaultPolicy, type Policy } from "../runtime/specialiser/policy.ts";
import { x64Supported } from "../runtime/x64/memory.ts";
import { ts } from "ts-morph";
import { analyse } from "../generator/bta.ts";
import { emitSpecialiser } from "../generator/emit.ts";
import { printModule } from "../runtime/ir/print.ts";
import type { Module } from "../runtime/ir/types.ts";
import * as engine from "../runtime/specialiser/engine.ts";
import type { Compiled } from "../runtime/specialiser/engine.ts";
import * as value from "../runtime/specialiser/value.ts";

/** Three small numbers choose what an operation or a terminator does (see `graph`). */
interface Choice {
  kind: number;
  a: number;
  b: number;
  c: number;
}

interface Plan {
  blocks: { ops: Choice[]; term: Choice }[];
}

const choice = fc.record({
  kind: fc.nat(),
  a: fc.nat(),
  b: fc.nat(),
  c: fc.nat(),
});
const plan: fc.Arbitrary<Plan> = fc.record({
  blocks: fc.array(fc.record({ ops: fc.array(choice, { maxLength: 6 }), term: choice }), {
    minLength: 1,
    maxLength: 7,
  }),
});

/** The IR text of a plan. Every block takes the whole state as parameters and passes it on.
 *  With `loop`, the blocks are the body of a loop whose head is a merge point (greens: a pc
 *  that alternates between 0 and 1 as the body says; reds: a trip count, run three times, and
 *  the state), and an end of the body goes round again. */
function graph(p: Plan, loop: boolean): string {
  let n = 3;
  const fresh = () => `v${n++}`;
  const lines: string[] = [];
  const op = (s: string) => lines.push(`  ${s}`);
  const I = ["x.1", "1", "-7"];
  const A = [fresh(), fresh()];
  const C = [fresh(), fresh()];
  let pc = "0";
  let trips = "0";
  const vars = () => [...(loop ? [pc, trips] : []), ...I, ...A, ...C];
  const types = [...(loop ? ["i32", "i32"] : []), "i32", "i32", "i32", "i32[]", "i32[]"];
  /** A block taking the whole state. */
  const block = (bi: number) => {
    if (loop) [pc, trips] = [fresh(), fresh()];
    for (let i = 0; i < 3; i++) I[i] = fresh();
    for (let i = 0; i < 2; i++) A[i] = fresh();
    for (let i = 0; i < 2; i++) C[i] = fresh();
    const ts = [...types, "bool", "bool"];
    lines.push(
      `b${bi}(${vars()
        .map((v, i) => `${v}: ${ts[i]}`)
        .join(", ")}):`,
    );
  };
  const to = (bi: number) => `b${bi}(${vars().join(", ")})`;
  /** Returns what reads every integer and both arrays. */
  const result = (k: number) => {
    const [s, t, u, w, r, r2, r3] = [fresh(), fresh(), fresh(), fresh(), fresh(), fresh(), fresh()];
    op(`${s}: i32 = int_add ${I[0]}, ${I[1]}`);
    op(`${t}: i32 = int_mul ${I[2]}, 31`);
    op(`${u}: i32 = array_get ${A[0]}, ${k % 2}`);
    op(`${w}: i32 = array_get ${A[1]}, 1`);
    op(`${r}: i32 = int_add ${s}, ${t}`);
    op(`${r2}: i32 = int_add ${r}, ${u}`);
    op(`${r3}: i32 = int_add ${r2}, ${w}`);
    op(`return ${r3}`);
  };
  // An index below every array's length (2 or 3): constant, or known at run time only.
  const index = (k: number) => {
    if (k % 3 !== 1) return String((k >> 2) % 2);
    const t = fresh();
    op(`${t}: i32 = int_and ${I[(k >> 2) % 3]}, 1`);
    return t;
  };

  // The entry takes what an interpreter does (the bytecode, unused here, and an argument).
  lines.push("func @main -> i32 {", "b0(code.0: u8[], x.1: i32):");
  op(`${A[0]}: i32[] = new_array<i32[]> 2`);
  op(`${A[1]}: i32[] = new_array<i32[]> 3`);
  const odd = fresh();
  op(`${C[0]}: bool = int_lt x.1, 2`);
  op(`${odd}: i32 = int_and x.1, 1`);
  op(`${C[1]}: bool = int_ne ${odd}, 0`);
  // Blocks: the entry, then (a loop's head), the plan's, (the loop's exit).
  const first = loop ? 2 : 0;
  const last = first + p.blocks.length - 1;
  const raising = last + (loop ? 2 : 1);
  if (loop) {
    op(`jump ${to(1)}`);
    block(1);
    op(`merge_point<1> ${vars().join(", ")}`);
    const t = fresh();
    op(`${t}: bool = int_lt ${trips}, 3`);
    op(`branch ${t}, ${to(first)}, ${to(last + 1)}`);
  }
  p.blocks.forEach((blk, i) => {
    const bi = first + i;
    if (bi > 0) block(bi);
    for (const { kind, a, b, c } of blk.ops) {
      const t = fresh();
      switch (kind % 13) {
        case 0:
          op(`${t}: i32 = int_add ${I[b % 3]}, ${I[c % 3]}`);
          I[a % 3] = t;
          break;
        case 1:
          op(`${t}: i32 = int_mul ${I[b % 3]}, ${(c % 7) - 3}`);
          I[a % 3] = t;
          break;
        case 2:
          op(`${t}: i32 = int_sub ${I[b % 3]}, ${I[c % 3]}`);
          I[a % 3] = t;
          break;
        case 3:
          op(`array_set ${A[a % 2]}, ${index(b)}, ${I[c % 3]}`);
          break;
        case 4: {
          const i = index(c);
          op(`${t}: i32 = array_get ${A[b % 2]}, ${i}`);
          I[a % 3] = t;
          break;
        }
        case 5:
          A[a % 2] = A[b % 2]!;
          break;
        case 6:
          op(`${t}: i32[] = new_array<i32[]> ${2 + (b % 2)}`);
          A[a % 2] = t;
          break;
        case 7: {
          // A length known at run time only: 2 or 3.
          const u = fresh();
          const w = fresh();
          op(`${u}: i32 = int_and ${I[b % 3]}, 1`);
          op(`${w}: i32 = int_add ${u}, 2`);
          op(`${t}: i32[] = new_array<i32[]> ${w}`);
          A[a % 2] = t;
          break;
        }
        case 8:
          op(`${t}: i32 = array_len ${A[b % 2]}`);
          I[a % 3] = t;
          break;
        case 9:
          op(`${t}: bool = int_lt ${I[b % 3]}, ${I[c % 3]}`);
          C[a % 2] = t;
          break;
        case 10:
          if ((c >> 8) % 2) {
            // An array allocated by a callee: compiled where its argument is green (so the walk
            // may receive an array compiled code allocated).
            op(`${t}: i32[] = call<mk> ${I[b % 3]}`);
            A[a % 2] = t;
            break;
          }
          op(`${t}: i32 = call<helper> ${A[b % 2]}, ${I[c % 3]}`);
          I[a % 3] = t;
          break;
        case 12:
          // A case per run-time value (three at most: the index's 0, 1 and 2).
          op(`${t}: i32 = promote ${index(b)}`);
          I[a % 3] = t;
          break;
        case 11: {
          // A count in an item: a constant that changes every trip round a loop, so keys do
          // until widening makes it a run-time value (and generalising forces the arrays).
          const u = fresh();
          op(`${t}: i32 = array_get ${A[b % 2]}, ${c % 2}`);
          op(`${u}: i32 = int_add ${t}, ${1 + (a % 3)}`);
          op(`array_set ${A[b % 2]}, ${c % 2}, ${u}`);
          break;
        }
      }
    }
    const later = (k: number) => to(bi + 1 + (k % (last - bi)));
    const { kind, a, b, c } = blk.term;
    const t = fresh();
    if (bi < last && kind % 6 === 1) op(`jump ${later(a)}`);
    else if (bi < last && kind % 6 < 4) op(`branch ${C[a % 2]}, ${later(b)}, ${later(c)}`);
    else if (bi < last && kind % 6 === 4) {
      op(`${t}: i32 = int_and ${I[a % 3]}, 3`);
      op(`switch ${t}, 0: ${later(b)}, 2: ${later(c)}, default: ${later(a)}`);
    } else if (bi < last && kind % 6 === 5) {
      // An interpreter error on some inputs.
      op(`${t}: bool = int_lt ${I[a % 3]}, -3`);
      op(`branch ${t}, b${raising}, ${later(b)}`);
    } else if (!loop) result(a);
    else {
      // Round again, the pc flipped or not.
      const [next, more] = [fresh(), fresh()];
      op(`${next}: i32 = int_xor ${pc}, ${b % 2}`);
      op(`${more}: i32 = int_add ${trips}, 1`);
      [pc, trips] = [next, more];
      op(`jump ${to(1)}`);
    }
  });
  if (loop) {
    block(last + 1);
    result(0);
  }
  lines.push(`b${raising}:`, '  raise "below -3"', "}", HELPER, MK);
  return lines.join("\n");
}

/** Inlined where called: a branch on a run-time value inside it splits a path of two frames. */
const HELPER = `
func @helper -> i32 {
b0(a.0: i32[], i.1: i32):
  v2: bool = int_lt i.1, 0
  branch v2, b1, b2
b1:
  array_set a.0, 0, i.1
  jump b2
b2:
  v3: i32 = array_get a.0, 1
  v4: i32 = int_add v3, i.1
  array_set a.0, 1, v4
  return v4
}`;

/** Inlined where called: allocates and returns an array, written with its argument. */
const MK = `
func @mk -> i32[] {
b0(n.0: i32):
  v1: i32[] = new_array<i32[]> 2
  v2: i32 = int_and n.0, 3
  array_set v1, 1, v2
  return v1
}`;

const DRIVER = "driver greens(pc) reds(trips, i0, i1, i2, a0, a1, c0, c1) immutable()\n";

/** Both conditions true and false, and the arrays' run-time lengths 2 and 3. */
const inputs = [0, 1, -2, 5, 3, 2, -1, 7];

/** Where the residual code runs: the abstract interpreter's, with its promotions' exits made
 *  into graphs when taken, on L3 and as machine code; and with a code cache so small that runs
 *  fall back to the interpreter's graphs midway (at an exit) or from the start. */
const hows: { target: "l3" | "x64"; tiny?: boolean; runs: number }[] = [
  { target: "l3", runs: 1000 },
  { target: "l3", tiny: true, runs: 1000 },
  ...(x64Supported
    ? [{ target: "x64", runs: 300 } as const, { target: "x64", tiny: true, runs: 300 } as const]
    : []),
];

/** `program`, run on every input, gives what `m` gives on L3. */
function agrees(program: Program, m: Module): void {
  for (const x of inputs)
    expect(program.run(x), `x = ${x}`).toEqual(new L3(m).run("main", [new Uint8Array(0), x]));
}

describe("the abstract interpreter on random graphs", () => {
  it.skipIf(!x64Supported)(
    "found: x64 sets a promotion's value at its exit even when clean-up made it the constant 0",
    () => {
      // k is red at the merge point; the continuation after the first promotion (of 1) passes
      // it only 0, so its promotion exits with the constant 0, which machine code left unset
      // (the 0 of a branch's or key's exit): the second trip went on as if k were 1 again.
      const m = parseModule(`
        driver greens(pc) reds(n, k, acc) immutable()
        func @main -> i32 {
        b0(code.0: u8[], x.1: i32):
          jump b1(0, 0, 1, 0)
        b1(pc.2: i32, n.3: i32, k.4: i32, acc.5: i32):
          merge_point<1> pc.2, n.3, k.4, acc.5
          v6: bool = int_lt n.3, 3
          branch v6, b2, b3
        b2:
          v7: i32 = promote k.4
          v8: i32 = int_add n.3, 1
          v9: i32 = int_mul v7, 10
          v10: i32 = int_add acc.5, v9
          jump b1(pc.2, v8, 0, v10)
        b3:
          return acc.5
        }`);
      const program = new Program(
        m,
        "main",
        new Uint8Array(0),
        { policy: defaultPolicy, target: "x64" },
        nativeFactory,
      );
      try {
        expect(program.run(0)).toEqual({ k: "return", value: 10 });
      } finally {
        program.free();
      }
    },
  );

  it("found: a saved state holds a virtual forced before it as the red array it is", () => {
    // The red index forces v3; the helper's branch on x was a stub in the lazy mode of the
    // time, whose saved state read the forced array's items as its leaves (the continuation
    // took x for the array). A promotion's saved state is made the same way.
    const m = parseModule(`
      func @main -> i32 {
      b0(code.0: u8[], x.1: i32):
        v2: i32[] = new_array<i32[]> 2
        v3: i32 = int_and x.1, 1
        array_set v2, v3, x.1
        v4: i32 = call<helper> v2, x.1
        v5: i32 = array_get v2, 0
        v6: i32 = int_add v4, v5
        return v6
      }
      ${HELPER}`);
    const program = new Program(m, "main", new Uint8Array(0), {
      policy: defaultPolicy,
      target: "l3",
    });
    agrees(program, m);
  });

  for (const loop of [false, true])
    for (const { target, tiny, runs } of hows)
      it(`gives what the graph gives, for every input (${loop ? "a loop with a merge point" : "acyclic"}; on ${target}${tiny ? ", a tiny code cache" : ""})`, () => {
        fc.assert(
          fc.property(plan, (p) => {
            const m = parseModule((loop ? DRIVER : "") + graph(p, loop));
            verifyModule(m);
            const program = new Program(
              m,
              "main",
              new Uint8Array(0),
              {
                policy: { ...defaultPolicy, ...(tiny ? { maxResidualOps: 24 } : {}) },
                target,
                onGraphs: (graphs, data) => verifyModule({ graphs, data }),
              },
              target === "x64" ? nativeFactory : undefined,
            );
            try {
              agrees(program, m);
            } finally {
              program.free();
            }
          }),
          { numRuns: runs },
        );
      });
});

/** The generated specialiser of a module, as `futamura generate` would emit it for an
 *  interpreter, loaded in memory (transpiled; its imports are the engine's modules). */
function generatedFor(m: Module): Record<string, Compiled> {
  const bt = analyse(m, "main");
  if (bt.errors.length) throw new Error(bt.errors.join("\n"));
  const js = ts.transpileModule(emitSpecialiser(m, bt, "", "random graph"), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const exports: { compiled?: Record<string, Compiled> } = {};
  const require = (path: string) => (path.endsWith("/engine.ts") ? engine : value);
  new Function("require", "exports", js)(require, exports);
  return exports.compiled!;
}

/** The generated specialiser takes the abstract interpreter's decisions: a JIT of `m` made
 *  with each (on L3) and run on every input makes the same graphs in the same order, byte for
 *  byte (the entry's and every continuation's), gives the same answers, falls back as often. */
function sameCode(m: Module, policy: Policy = defaultPolicy): void {
  const made = (compiled?: Record<string, Compiled>) => {
    const out: string[] = [];
    const program = new Program(m, "main", new Uint8Array(0), {
      policy,
      target: "l3",
      ...(compiled ? { compiled } : {}),
      onGraphs: (graphs, data) => out.push(printModule({ graphs, data })),
    });
    for (const x of inputs) out.push(`x = ${x}: ${JSON.stringify(program.run(x))}`);
    out.push(`fallbacks: ${program.stats.fallbacks}`);
    return out.join("\n");
  };
  expect(made(generatedFor(m))).toBe(made());
}

/** A JIT of `m` on L3 through its generated specialiser. */
function generatedProgram(m: Module, policy: Policy = defaultPolicy): Program {
  return new Program(m, "main", new Uint8Array(0), {
    policy,
    compiled: generatedFor(m),
    target: "l3",
  });
}

/** An acyclic plan: a promotion of `x & 1` into the first integer, then operation `kind` on
 *  the first array. */
function afterPromotion(kind: number): Plan {
  const end = { kind: 0, a: 0, b: 0, c: 0 };
  return {
    blocks: [
      { ops: [{ kind: 12, a: 0, b: 1, c: 0 }], term: end },
      { ops: [{ kind, a: 0, b: 0, c: 0 }], term: end },
    ],
  };
}

describe("the generated specialiser on random graphs", () => {
  for (const loop of [false, true])
    for (const tiny of [false, true])
      it(`makes the abstract interpreter's code, byte for byte, continuations too (${loop ? "a loop with a merge point" : "acyclic"}${tiny ? ", a tiny code cache" : ""})`, () => {
        fc.assert(
          fc.property(plan, (p) => {
            const m = parseModule((loop ? DRIVER : "") + graph(p, loop));
            sameCode(m, tiny ? { ...defaultPolicy, maxResidualOps: 24 } : defaultPolicy);
          }),
          { numRuns: 150 },
        );
      });

  it("found: a saved state keys a run-time value by its variable, not by the abstract value", () => {
    // Two slots hold one forced array (an alias): the generated specialiser held two abstract
    // values of its variable there, the abstract interpreter one; keyed by abstract value, the
    // sides of a branch saved two states where the abstract interpreter saved one.
    const p: Plan = JSON.parse(
      '{"blocks":[{"ops":[{"kind":3,"a":0,"b":1,"c":0}],"term":{"kind":0,"a":0,"b":0,"c":0}},{"ops":[{"kind":5,"a":1,"b":0,"c":0}],"term":{"kind":0,"a":0,"b":0,"c":0}},{"ops":[{"kind":12,"a":0,"b":1,"c":0}],"term":{"kind":0,"a":0,"b":0,"c":0}}]}',
    );
    sameCode(parseModule(DRIVER + graph(p, true)));
  });

  it("found: the walk holds an array compiled code allocated as the virtual it would have made", () => {
    // A promotion hands the frames to the walk; it took their green array for a compile-time
    // constant and gave up specialising at the count written into it (a fallback on every
    // run), where the abstract interpreter, holding it virtual, specialises on.
    sameCode(parseModule(graph(afterPromotion(11), false)));
  });

  it("the walk holds an array a compiled callee returns as the virtual it would have made", () => {
    // After the promotion @main runs in the walk; @mk, all green, runs compiled and returns its
    // array, which @main then writes (folded, as the abstract interpreter folds it).
    const m = parseModule(`
      func @main -> i32 {
      b0(code.0: u8[], x.1: i32):
        v2: i32 = int_and x.1, 1
        v3: i32 = promote v2
        v4: i32[] = call<mk> v3
        v5: i32 = array_get v4, 0
        v6: i32 = int_add v5, 1
        array_set v4, 0, v6
        v7: i32 = array_get v4, 0
        v8: i32 = int_add v7, x.1
        return v8
      }
      func @mk -> i32[] {
      b0(n.0: i32):
        v1: i32[] = new_array<i32[]> 2
        array_set v1, 0, n.0
        return v1
      }`);
    sameCode(m);
    agrees(generatedProgram(m), m);
  });

  it("found: a green array the walk took over is copied for each continuation", () => {
    // A promotion hands the frame to the walk, whose continuations (one per value) share its
    // green array; the compiled helper each calls wrote it, so the second saw the first's write.
    const m = parseModule(graph(afterPromotion(10), false));
    agrees(generatedProgram(m), m);
  });

  it("found: a saved state keys a green array of compiled code by its contents", () => {
    // An array allocated after the merge point is green in generated code (a typed array) and
    // virtual in the abstract interpreter; at a promotion each side of a branch saves its copy,
    // which an identity key told apart (two continuations where the abstract interpreter made
    // one).
    const p: Plan = JSON.parse(
      '{"blocks":[{"ops":[{"kind":238211044,"a":0,"b":0,"c":0}],"term":{"kind":0,"a":0,"b":0,"c":0}},{"ops":[{"kind":1239886088,"a":0,"b":349914784,"c":0},{"kind":189534821,"a":0,"b":0,"c":0},{"kind":39935719,"a":0,"b":916756221,"c":0}],"term":{"kind":0,"a":0,"b":0,"c":0}}]}',
    );
    sameCode(parseModule(DRIVER + graph(p, true)));
  });

  for (const loop of [false, true])
    for (const tiny of [false, true])
      it(`gives what the graph gives, for every input (${loop ? "a loop with a merge point" : "acyclic"}${tiny ? ", a tiny code cache" : ""})`, () => {
        fc.assert(
          fc.property(plan, (p) => {
            const m = parseModule((loop ? DRIVER : "") + graph(p, loop));
            const policy = { ...defaultPolicy, ...(tiny ? { maxResidualOps: 24 } : {}) };
            agrees(generatedProgram(m, policy), m);
          }),
          { numRuns: 100 },
        );
      });
});
