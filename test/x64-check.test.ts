// Register allocation, validated by the checker: on every graph the backend compiles for the
// example programs, for random TL and TLR programs and for random modules that spill; and the
// checker itself, on allocations broken on purpose. None of this runs machine code, so it runs
// on any host.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { examples } from "../generator/cli/start.ts";
import { programs } from "../generator/fuzz/generators.ts";
import { langs, graphsOf } from "../generator/language.ts";
import { parseModule } from "../runtime/ir/parse.ts";
import { entryArgs } from "../runtime/jit.ts";
import { makeConstants } from "../runtime/l3.ts";
import type { Module } from "../runtime/ir/types.ts";
import { specialise, type Specialised } from "../runtime/specialiser/pe.ts";
import { SpecialisationLimit, defaultPolicy } from "../runtime/specialiser/policy.ts";
import { CALLEE_SAVED } from "../runtime/x64/abi.ts";
import { checkAllocation } from "../runtime/x64/check.ts";
import { Reg } from "../runtime/x64/encode.ts";
import { addCallees, selectModule } from "../runtime/x64/isel.ts";
import { allocate, type Allocation } from "../runtime/x64/regalloc.ts";
import type { MFunc } from "../runtime/x64/mir.ts";
import { randomModule } from "./x64-random.ts";
import { RootTypes } from "../runtime/x64/roots.ts";

const root = new URL("../", import.meta.url).pathname;

/** Every graph of `m`, selected and allocated. */
function allocated(m: Module): { f: MFunc; a: Allocation }[] {
  const callable = new Set<string>();
  addCallees(m.graphs, callable);
  return selectModule(m, [], {
    continuations: true,
    callable,
    rootTypes: new RootTypes(),
  }).funcs.map((f) => ({
    f,
    a: allocate(f),
  }));
}

/** The checker's findings over every graph of `m`. */
function problems(m: Module): string[] {
  return allocated(m).flatMap(({ f, a }) => checkAllocation(f, a));
}

function specialised(lang: string, code: Uint8Array, fuel: boolean): Specialised | undefined {
  try {
    const l = langs[lang]!;
    const graphs = graphsOf(l);
    // (a language with a loader: the program's constants made as the runner makes them)
    const made = l.constants === undefined ? [] : [makeConstants(graphs, l.constants, code)];
    return specialise(graphs, l.entry, entryArgs(graphs, l.entry, code, made), {
      ...defaultPolicy,
      fuel,
    });
  } catch (e) {
    if (e instanceof SpecialisationLimit) return undefined;
    throw e;
  }
}

const residual = (lang: string, code: Uint8Array, fuel: boolean) =>
  specialised(lang, code, fuel)?.module;

/** The continuations of every promotion exit of `s` for a few values, as a module (the ones
 *  the specialiser gives up on left out). */
function continuations(s: Specialised, values: number[]): Module {
  const statuses = new Set(
    s.module.graphs.flatMap((g) =>
      g.blocks.flatMap((b) => (b.term.k === "exit" ? [b.term.status] : [])),
    ),
  );
  const graphs = [...statuses].flatMap((status) =>
    values.flatMap((v) => {
      try {
        return s.engine.continuation(status, v).graphs;
      } catch (e) {
        if (e instanceof SpecialisationLimit) return [];
        throw e;
      }
    }),
  );
  return { graphs, data: s.module.data };
}

describe("the allocation checker accepts what the allocator does", () => {
  it("on every graph of the example programs (with and without fuel)", () => {
    const compiled = examples();
    const files = new Set(compiled.map((e) => e.file));
    for (const f of [
      ...files,
      "interpreters/programs/hello.b",
      "interpreters/programs/rev.b",
      "interpreters/programs/nested.b",
    ]) {
      const lang = Object.values(langs).find((l) => f.endsWith(l.ext))!;
      const code = lang.load(readFileSync(root + f, "latin1"), f);
      for (const fuel of [false, true]) {
        const m = residual(lang.name, code, fuel);
        expect(m, f).toBeDefined();
        expect(problems(m!), f).toEqual([]);
      }
    }
  });

  it("on the continuations of switch.tl's promotions", () => {
    const s = specialised(
      "tl",
      langs.tl!.load(readFileSync(root + "interpreters/programs/switch.tl", "latin1"), "switch.tl"),
      true,
    )!;
    const m = continuations(s, [0, 6, 12]);
    expect(m.graphs.length).toBeGreaterThanOrEqual(3);
    expect(m.graphs.flatMap((g) => g.blocks).some((b) => b.term.k === "exit")).toBe(true);
    expect(problems(m)).toEqual([]);
  });

  for (const [lang, seed] of [
    ["tl", 11],
    ["tlr", 12],
  ] as const) {
    it(`on the residual graphs of 300 random ${lang} programs, and continuations of their promotions`, () => {
      let graphs = 0;
      for (const p of programs(lang, seed, 300)) {
        const s = specialised(lang, p.code, true);
        if (!s) continue;
        for (const m of [s.module, continuations(s, [0, 2, -3])]) {
          graphs += m.graphs.length;
          expect(problems(m), Array.from(p.code).join(" ")).toEqual([]);
        }
      }
      expect(graphs).toBeGreaterThan(250);
    });
  }

  it("on 300 random modules, which spill", () => {
    let slots = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const all = allocated(randomModule(seed).module);
      slots += all.reduce((s, { a }) => s + a.slots, 0);
      expect(
        all.flatMap(({ f, a }) => checkAllocation(f, a)),
        `seed ${seed}`,
      ).toEqual([]);
    }
    expect(slots).toBeGreaterThan(100);
  });
});

describe("the allocator", () => {
  it("keeps loop.tl's and square.tlr's loops in registers, with nothing to move on the back edge", () => {
    for (const [lang, file] of [
      ["tl", "loop.tl"],
      ["tlr", "square.tlr"],
    ] as const) {
      const code = langs[lang]!.load(
        readFileSync(root + "interpreters/programs/" + file, "latin1"),
        file,
      );
      for (const { f, a } of allocated(residual(lang, code, false)!)) {
        expect(a.slots).toBe(0);
        // Only the loop's entry moves anything (one value into its second register).
        const moves = a.order.flatMap((b) => a.edgeMoves[b]!.flat());
        expect(moves.length, `@${f.name}`).toBeLessThanOrEqual(2);
      }
    }
  });
});

// A loop that swaps two values on every trip (a cycle in the back edge's parallel move), with a
// call inside (values live across it) and a subtraction (its right operand read late).
const SWAP = parseModule(`
func @main -> i32 {
b0(a.0: i32, b.1: i32, n.2: i32):
  jump b1(a.0, b.1, n.2)
b1(x.3: i32, y.4: i32, c.5: i32):
  v6: bool = int_gt c.5, 0
  branch v6, b2, b3
b2:
  v7: i32 = int_sub c.5, 1
  v8: i32 = call<id> v7
  jump b1(y.4, x.3, v8)
b3:
  v9: i32 = int_sub x.3, y.4
  return v9
}

func @id -> i32 {
b0(x.0: i32):
  return x.0
}
`);

describe("the checker catches a broken allocation", () => {
  const fresh = () => allocated(SWAP)[0]!;
  const reg = (n: Reg) => ({ k: "reg" as const, n });

  it("accepts the real one", () => {
    const { f, a } = fresh();
    expect(checkAllocation(f, a)).toEqual([]);
    expect(a.edgeMoves.flat().some((ms) => ms.length >= 3)).toBe(true); // the swap's cycle
  });

  it("two live values in one register", () => {
    const { f, a } = fresh();
    a.loc[4] = a.loc[3]; // y where x is
    expect(checkAllocation(f, a).join("\n")).toMatch(/v[34] expected in/);
  });

  it("a value live across a call in a register the call clobbers", () => {
    const { f, a } = fresh();
    const x = a.loc[3]!;
    expect(x.k === "slot" || CALLEE_SAVED.includes(x.n as Reg)).toBe(true);
    a.loc[3] = reg(Reg.r8);
    expect(checkAllocation(f, a).join("\n")).toMatch(/v3 expected in r8, which holds \{\}/);
  });

  it("a subtraction's result over its right operand", () => {
    const { f, a } = fresh();
    a.loc[9] = a.loc[4];
    expect(checkAllocation(f, a).join("\n")).toMatch(/v4 expected in/);
  });

  it("a parallel move done in the wrong order, or not at all", () => {
    const { f, a } = fresh();
    const [b, j] = [...a.edgeMoves.entries()]
      .flatMap(([b, es]) => es.map((ms, j) => [b, j, ms.length] as const))
      .find(([, , n]) => n >= 3)!;
    a.edgeMoves[b]![j]!.reverse();
    expect(checkAllocation(f, a)).not.toEqual([]);
    const second = fresh();
    second.a.edgeMoves[b]![j] = [];
    expect(checkAllocation(second.f, second.a).join("\n")).toMatch(/expected in/);
  });

  it("a missing argument move before a call", () => {
    const { f, a } = fresh();
    for (const k of a.callMoves.keys()) a.callMoves.set(k, []);
    a.loc[7] = reg(Reg.rsi);
    expect(checkAllocation(f, a).join("\n")).toMatch(/v7 expected in rdi/);
  });
});
