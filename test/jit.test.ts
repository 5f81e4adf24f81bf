// The run-time bookkeeping of the JIT (runtime/jit.ts): lazy compilation of branch sides,
// patched exits, promotion cases, fallback to the interpreter in the middle of a run, and the
// code cache of a program across runs.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  backends,
  nativeFactory,
  runJit,
  runProgram,
  type Backend,
} from "../generator/backends.ts";
import { formatFailure } from "../generator/fuzz/format.ts";
import { fuzz } from "../generator/fuzz/harness.ts";
import { langs } from "../interpreters/lang.ts";
import { setIo } from "../runtime/hints.ts";
import { loadGraphs } from "../runtime/graphs.ts";
import { printModule } from "../runtime/ir/print.ts";
import { Program } from "../runtime/jit.ts";
import { defaultPolicy, type Policy } from "../runtime/specialiser/policy.ts";
import { specialisers } from "../generated/index.ts";
import { x64Supported } from "../runtime/x64/memory.ts";
import { NativeModule } from "../runtime/x64/native.ts";
import { examples } from "../generator/start.ts";

const root = new URL("../", import.meta.url).pathname;
const tlr = langs.tlr!;
const tl = langs.tl!;
const bf = langs.bf!;
const lazy: Policy = { ...defaultPolicy, mode: "lazy" };
const TARGETS: ("l3" | "x64")[] = x64Supported ? ["l3", "x64"] : ["l3"];

/** A program whose `never` side is not taken for any argument: a = arg - arg, which the
 *  specialiser does not fold (it cannot know the branch is dead). */
const NEVER = tlr.load(
  `
        ALLOCATE 1
        MOV_A_R 0
        NEG_A
        ADD_R_TO_A 0
        JUMP_IF_A never
        MOV_R_A 0
        RETURN_A
never:
        SET_A 201
        NEG_A
        RETURN_A
`,
  "never.tlr",
);

const program = (lang: typeof tlr, code: Uint8Array, policy: Policy, target: "l3" | "x64") =>
  new Program(
    loadGraphs(lang.name),
    lang.entry,
    code,
    {
      policy,
      compiled: specialisers[lang.name],
      target,
    },
    target === "x64" ? nativeFactory : undefined,
  );

/** The int32 `v` as the four bytes an immediate operand holds. */
const imm32 = (v: number) => Array.from(new Uint8Array(Int32Array.of(v).buffer));
const contains = (hay: Uint8Array, needle: number[]) =>
  hay.some((_, i) => needle.every((b, k) => hay[i + k] === b));

describe("lazy compilation", () => {
  it("a side never taken is never specialised: its graph does not exist", () => {
    const p = program(tlr, NEVER, lazy, "l3");
    for (const arg of [0, 5, -3]) expect(p.run(arg)).toEqual({ k: "return", value: arg });
    // Both sides of the red branch ended in exits; only the one taken was made.
    expect(p.stats.stubs).toBe(2);
    expect(p.stats.stubsTaken).toBe(1);
  });

  it.skipIf(!x64Supported)(
    "x64: a side never taken has no machine code, eager compilation has",
    () => {
      const eager = program(tlr, NEVER, defaultPolicy, "x64");
      const late = program(tlr, NEVER, lazy, "x64");
      for (const p of [eager, late]) expect(p.run(9)).toEqual({ k: "return", value: 9 });
      const code = (p: Program) =>
        p.nativeModule!.compilations.map((b) => b.code.read(b.at, b.size));
      expect(code(eager).some((c) => contains(c, imm32(-201)))).toBe(true);
      expect(code(late).some((c) => contains(c, imm32(-201)))).toBe(false);
    },
  );

  it.skipIf(!x64Supported)(
    "x64: a side taken once is patched in, and taken again without leaving machine code",
    () => {
      const p = program(tlr, NEVER, lazy, "x64");
      const native = () => p.nativeModule!;
      expect(p.run(4)).toEqual({ k: "return", value: 4 });
      const first = { ...native().counts };
      expect(first.resolves).toBe(1); // the side taken, made and patched in
      expect(first.patches).toBe(1);
      for (const arg of [1, 2, 3, 100]) expect(p.run(arg)).toEqual({ k: "return", value: arg });
      expect(native().counts).toEqual(first); // straight through the patched jump
    },
  );

  it.skipIf(!x64Supported)(
    "x64: with continuations spread over many chunks of executable memory, every example agrees",
    () => {
      // Without looking ahead (many continuations), in chunks with room for 64 bytes after
      // the first code: most continuations start a chunk, the others follow one in it.
      const policy = { ...lazy, lookahead: 0 };
      for (const ex of examples()) {
        const lang = langs[ex.lang]!;
        const code = lang.load(readFileSync(root + ex.file, "utf8"), ex.file);
        const p = new Program(
          loadGraphs(lang.name),
          lang.entry,
          code,
          { policy, compiled: specialisers[lang.name], target: "x64" },
          (m, resolve) =>
            new NativeModule(m, { continuation: resolve, chunkRoom: 64, check: true }),
        );
        const s = p.run(ex.arg);
        expect(s.k === "raise" ? `error: ${s.msg}` : String(s.k === "return" && s.value)).toBe(
          ex.expect,
        );
      }
    },
  );

  it("L3: an exit taken once becomes a tail call", () => {
    const p = program(tlr, NEVER, lazy, "l3");
    p.run(1);
    const exits = p.stats.exits;
    for (const arg of [2, 3, 4]) p.run(arg);
    expect(p.stats.exits).toBe(exits);
  });

  for (const target of TARGETS)
    it(`${target}: a loop's sides, once taken, run in one graph (square.tlr)`, () => {
      const square = tlr.load(readFileSync(root + "interpreters/programs/square.tlr", "utf8"), "s");
      const exits = [100, 10_000, 100_000].map((n) => {
        // Without looking ahead, so that the loop's sides end in stubs first.
        const p = program(tlr, square, { ...lazy, lookahead: 0 }, target);
        expect(p.run(n)).toEqual({ k: "return", value: Math.imul(n, n) });
        expect(p.stats.keyGraphs).toBeGreaterThan(0);
        return p.stats.exits;
      });
      // The same few exits however many trips.
      expect(exits[1]).toBe(exits[0]);
      expect(exits[2]).toBe(exits[0]);
    });
});

describe("remade loops", () => {
  // Loops inside a loop (5 × 10 trips), so that with stubs everywhere the outer loops run
  // split over graphs and their graphs are entered again and again.
  const nest = bf.load("+++++[>++++++++++[>+++[>+>+<<-]>>[<<+>>-]<<<-]<-]>>>.>.", "nest.b");
  const split: Policy = { ...lazy, lookahead: 0, hot: 10 };

  for (const target of TARGETS)
    it(`${target}: a loop split over graphs is remade whole once hot, and used from then on`, () => {
      const out: number[] = [];
      setIo({ read: () => -1, write: (b) => out.push(b) });
      const never = program(bf, nest, { ...split, hot: 0 }, target);
      never.run(0);
      expect(never.stats.remakes).toBe(0);
      const want = out.splice(0);
      const p = program(bf, nest, split, target);
      p.run(0);
      expect(out.splice(0)).toEqual(want);
      expect(p.stats.remakes).toBeGreaterThan(0);
      // A second run makes nothing new: the remade loops are in the code cache.
      const made = (s: typeof p.stats) => s.stubsTaken + s.keyGraphs + s.remakes;
      const before = made(p.stats);
      p.run(0);
      expect(out.splice(0)).toEqual(want);
      expect(made(p.stats)).toBe(before);
    });

  // Remaking as often as possible (every graph entered twice), on random programs.
  for (const name of ["jit-graph", ...(x64Supported ? ["jit"] : [])])
    for (const lang of ["tlr", "tl", "bf"])
      it(`${name}: agrees with interp on 150 random ${lang} programs with loops remade early`, async () => {
        let remakes = 0;
        // The lazy machinery is not what `jit` runs any more (it runs tiers), but while it
        // exists it is held to the same standard.
        const eager: Backend = {
          ...backends[name]!,
          name: `${name} (lazy, hot 2)`,
          run: async (l, code, arg, opts, stats) => {
            try {
              return runJit(l, code, arg, { ...opts, policy: { lookahead: 0, hot: 2 } }, stats, {
                mode: "lazy",
                target: name === "jit" ? "x64" : "l3",
                compiled: specialisers[l.name],
              });
            } finally {
              remakes += (stats.remakes as number | undefined) ?? 0;
            }
          },
        };
        const r = await fuzz({
          lang,
          seed: 7,
          count: 150,
          backends: [eager],
          fuel: lang === "bf" ? 40_000 : 10_000,
        });
        expect(r.failures.map((f) => formatFailure(f))).toEqual([]);
        expect(remakes).toBeGreaterThan(0);
      });
});

describe("the code cache of a program", () => {
  for (const target of TARGETS)
    it(`${target}: later runs reuse what earlier runs made`, () => {
      const code = tl.load(readFileSync(root + "interpreters/programs/fibonacci.tl", "utf8"), "f");
      const p = program(tl, code, lazy, target);
      expect(p.run(20)).toEqual({ k: "return", value: 6765 });
      const made = { keys: p.stats.mergeKeys, graphs: p.stats.keyGraphs + p.stats.stubsTaken };
      expect(p.run(25)).toEqual({ k: "return", value: 75025 });
      expect(p.run(10)).toEqual({ k: "return", value: 55 });
      expect({ keys: p.stats.mergeKeys, graphs: p.stats.keyGraphs + p.stats.stubsTaken }).toEqual(
        made,
      );
    });
});

it.skipIf(!x64Supported)("x64: a program's machine code is released with it", () => {
  const p = program(tlr, NEVER, lazy, "x64");
  p.run(2);
  const blocks = p.nativeModule!.compilations.map((b) => b.code);
  expect(blocks.length).toBeGreaterThan(1);
  p.free();
  expect(blocks.every((b) => b.isFreed)).toBe(true);
});

describe("promotion", () => {
  const code = tl.load(readFileSync(root + "interpreters/programs/switch.tl", "utf8"), "switch.tl");
  for (const name of ["jit-graph", ...(x64Supported ? ["jit"] : [])])
    it(`${name}: each run-time value gets its own case, and the misses are counted`, async () => {
      const runs = [];
      for (const arg of [30, 300, 3000]) {
        const want = await runProgram(backends.interp!, tl, code, arg);
        const got = await runProgram(backends[name]!, tl, code, arg, {
          tiers: { threshold: 2, bridgeAfter: 0 },
        });
        expect(got.value).toBe(want.value);
        runs.push(got.stats);
      }
      // Three offsets (i mod 3); a miss per offset and state until the loop's state settles,
      // then none however long the loop runs.
      const misses = runs.map((s) => s.promotionMisses as number);
      expect(misses[0]).toBeGreaterThanOrEqual(3);
      expect(misses[2]).toBe(misses[1]);
      expect(misses[1]).toBe(misses[0]);
      expect(runs[2]!.exits).toBe(runs[1]!.exits);
    });
});

describe("fallback to the interpreter in the middle of a run", () => {
  // Prints A..Z, one letter per trip of a loop; a cell is counted down to zero.
  const letters = bf.load("++++++++[>++++++++<-]>+>++++++++++++++++++++++++++[<.+>-]", "az.b");
  const want = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

  for (const name of ["jit-graph", ...(x64Supported ? ["jit"] : [])])
    it(`${name}: a tiny code cache forces a fallback mid-loop; output is neither lost nor repeated`, async () => {
      let midLoop = 0;
      for (const maxResidualOps of [8, 16, 24, 32, 48, 64, 96, 128]) {
        const r = await runProgram(backends[name]!, bf, letters, 0, {
          policy: { maxResidualOps, lookahead: 0 },
          tiers: { threshold: 2, bridgeAfter: 0 },
        });
        expect(new TextDecoder().decode(r.output), `bound ${maxResidualOps}`).toBe(want);
        expect(r.error).toBeUndefined();
        // Code made and run before the fallback: it fell back from an exit, not at the start.
        if ((r.stats.fallbacks as number) > 0 && (r.stats.exits as number) > 1) midLoop++;
      }
      expect(midLoop).toBeGreaterThan(0);
    });

  for (const name of ["jit-graph", ...(x64Supported ? ["jit"] : [])])
    it(`${name}: errors and fuel after a fallback are the interpreter's`, async () => {
      const runs: [Uint8Array, number | undefined][] = [
        [bf.load("+++[>+++<-]>[<<]", "left.b"), undefined],
        [letters, 200],
      ];
      for (const [code, fuel] of runs) {
        const want = await runProgram(backends.interp!, bf, code, 0, { fuel });
        const got = await runProgram(backends[name]!, bf, code, 0, {
          fuel,
          policy: { maxResidualOps: 12 },
          tiers: { threshold: 2, bridgeAfter: 0 },
        });
        expect(got.error).toBe(want.error);
        expect(got.output).toEqual(want.output);
        expect(got.stats.fallbacks).toBeGreaterThan(0);
      }
    });
});

describe("the residual graphs of lazy specialisation", () => {
  it("print and parse like any module", () => {
    const gs: string[] = [];
    const p = new Program(loadGraphs("tlr"), tlr.entry, NEVER, {
      policy: lazy,
      target: "l3",
      onGraphs: (graphs, data) => gs.push(printModule({ graphs, data })),
    });
    setIo({ read: () => -1, write: () => {} });
    p.run(3);
    expect(gs.join("\n")).toMatch(/exit \d+\(0/);
  });
});
