// The abstract interpreter on random graphs: acyclic graphs over a state of three integers, two
// arrays and two conditions, with arithmetic, arrays of constant and run-time length, aliasing
// (one array in both places), reads and writes at constant and run-time indices, calls of a
// helper that writes the array it is passed, and branches on run-time conditions that pass the
// whole state on. The residual graph must give on L3 what the graph gives, for every input.
// (The interpreters exercise the engine through their own shapes only: a virtual passed on a
// branch's edge, for one, occurs in none of them.)

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { L3 } from "../runtime/l3.ts";
import { parseModule } from "../runtime/ir/parse.ts";
import { verifyModule } from "../runtime/ir/verify.ts";
import { specialise } from "../runtime/spec/pe.ts";

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

/** The IR text of a plan. Every block takes the whole state as parameters and passes it on. */
function graph(p: Plan): string {
  let n = 3;
  const fresh = () => `v${n++}`;
  const lines: string[] = [];
  const I = ["x.2", "1", "-7"];
  const A = [fresh(), fresh()];
  const C = ["c.0", "d.1"];
  lines.push("func @main -> i32 {", "b0(c.0: bool, d.1: bool, x.2: i32):");
  lines.push(`  ${A[0]}: i32[] = new_array<i32[]> 2`, `  ${A[1]}: i32[] = new_array<i32[]> 3`);
  const op = (s: string) => lines.push(`  ${s}`);
  // An index below every array's length (2 or 3): constant, or known at run time only.
  const index = (k: number) => {
    if (k % 3 !== 1) return String((k >> 2) % 2);
    const t = fresh();
    op(`${t}: i32 = int_and ${I[(k >> 2) % 3]}, 1`);
    return t;
  };
  const last = p.blocks.length - 1;
  p.blocks.forEach((blk, bi) => {
    if (bi > 0) {
      for (let i = 0; i < 3; i++) I[i] = fresh();
      for (let i = 0; i < 2; i++) A[i] = fresh();
      for (let i = 0; i < 2; i++) C[i] = fresh();
      lines.push(
        `b${bi}(${I.map((v) => `${v}: i32`).join(", ")}, ${A.map((v) => `${v}: i32[]`).join(", ")}, ${C.map((v) => `${v}: bool`).join(", ")}):`,
      );
    }
    for (const { kind, a, b, c } of blk.ops) {
      const t = fresh();
      switch (kind % 11) {
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
          op(`${t}: i32 = call<helper> ${A[b % 2]}, ${I[c % 3]}`);
          I[a % 3] = t;
          break;
      }
    }
    const state = [...I, ...A, ...C].join(", ");
    const later = (k: number) => `b${bi + 1 + (k % (last - bi))}(${state})`;
    const { kind, a, b, c } = blk.term;
    if (bi === last || kind % 4 === 0) {
      // The result reads every integer and both arrays.
      const [s, t, u, w, r] = [fresh(), fresh(), fresh(), fresh(), fresh()];
      op(`${s}: i32 = int_add ${I[0]}, ${I[1]}`);
      op(`${t}: i32 = int_mul ${I[2]}, 31`);
      op(`${u}: i32 = array_get ${A[0]}, ${a % 2}`);
      op(`${w}: i32 = array_get ${A[1]}, 1`);
      op(`${r}: i32 = int_add ${s}, ${t}`);
      const r2 = fresh();
      const r3 = fresh();
      op(`${r2}: i32 = int_add ${r}, ${u}`);
      op(`${r3}: i32 = int_add ${r2}, ${w}`);
      op(`return ${r3}`);
    } else if (kind % 4 === 1) op(`jump ${later(a)}`);
    else op(`branch ${C[a % 2]}, ${later(b)}, ${later(c)}`);
  });
  lines.push("}", HELPER);
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

const inputs: [boolean, boolean, number][] = [];
for (const c of [false, true])
  for (const d of [false, true]) for (const x of [0, 1, -2, 5]) inputs.push([c, d, x]);

describe("the abstract interpreter on random graphs", () => {
  it("gives on L3 what the graph gives, for every input", () => {
    fc.assert(
      fc.property(plan, (p) => {
        const m = parseModule(graph(p));
        verifyModule(m);
        const residual = specialise(m, "main", [
          { k: "r", o: 0, type: "bool" },
          { k: "r", o: 1, type: "bool" },
          { k: "r", o: 2, type: "i32" },
        ]).module;
        verifyModule(residual);
        for (const args of inputs)
          expect(new L3(residual).run("main", args), `${args}`).toEqual(
            new L3(m).run("main", args),
          );
      }),
      { numRuns: 1000 },
    );
  });
});
