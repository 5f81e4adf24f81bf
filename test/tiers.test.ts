// The tiers (runtime/tiers/): the first tier, hot states specialised and entered, edge exits
// back to the first tier, bridges. Entered at every possible moment and left at every edge
// exit, a run must give exactly what the interpreter gives: random programs of every language
// on `jit-graph` (L3) and `jit` (x86-64), with hot thresholds of 1, 2, 7 and 1,000 and bridges
// after 0, 1 and 10 takes, with fuel. And the memory model: machine code's writes to an array
// it was passed are the caller's.

import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyResidualPasses } from "../runtime/specialiser/residual.ts";
import { backends, runProgram, type Backend } from "../generator/backends.ts";
import fc from "fast-check";
import { programs } from "../generator/fuzz/generators.ts";
import { langs } from "../generator/language.ts";
import { parseModule } from "../runtime/ir/parse.ts";
import { NativeModule } from "../runtime/x64/native.ts";
import { defaultPolicy } from "../runtime/specialiser/policy.ts";

const root = new URL("../", import.meta.url).pathname;
const FUEL: Record<string, number> = { tlr: 10_000, tl: 10_000, tlc: 10_000, bf: 40_000 };
const tiered = ["jit-graph", "jit"].map((n) => backends[n]).filter((b): b is Backend => !!b);

describe("every tier change gives what the interpreter gives", () => {
  // (every residual graph verified after each clean-up pass: labels are roots of their graphs)
  beforeAll(() => verifyResidualPasses(true));
  afterAll(() => verifyResidualPasses(false));
  for (const backend of tiered)
    for (const lang of Object.values(langs))
      for (const threshold of [1, 2, 7, 1000])
        it(`${backend.name}, ${lang.name}: 60 random programs, hot after ${threshold}`, async () => {
          const seen = {
            entered: 0,
            takenOver: 0,
            takenOverInside: 0,
            bridges: 0,
            entries: 0,
            entryPositions: 0,
          };
          for (const [i, p] of programs(lang.name, 7 * threshold + 3, 60).entries()) {
            const opts = { input: p.input, fuel: FUEL[lang.name] };
            const want = await runProgram(backends.interp!, lang, p.code, p.arg, opts);
            const bridgeAfter = [0, 1, 10][i % 3]!;
            // portal calls residual, inlined (the default), or outlined after 2 merge points
            const maxInlinedSteps = [0, defaultPolicy.maxInlinedSteps, 2][Math.floor(i / 3) % 3]!;
            const got = await runProgram(backend, lang, p.code, p.arg, {
              ...opts,
              tiers: { threshold, bridgeAfter },
              policy: { maxInlinedSteps },
            });
            const outcome = (r: typeof want) => [
              r.value,
              r.error,
              Buffer.from(r.output).toString("hex"),
            ];
            expect(
              outcome(got),
              `${lang.name} program ${i} (${p.origin}, bridges after ${bridgeAfter}, inlined ${maxInlinedSteps})`,
            ).toEqual(outcome(want));
            for (const k of Object.keys(seen) as (keyof typeof seen)[])
              seen[k] += Number(got.stats[k === "entries" ? "tierEntries" : k] ?? 0);
          }
          // One entry per state: an edge exit reaching a hot state goes into the entry the
          // first tier's offer made for it (a Brainfuck state is its position).
          if (lang.name === "bf") expect(seen.entries).toBe(seen.entryPositions);
          // The tiers were exercised: code entered, left at edges, bridged.
          if (threshold < 1000) {
            expect(seen.entered).toBeGreaterThan(0);
            expect(seen.takenOver).toBeGreaterThan(0);
            expect(seen.bridges).toBeGreaterThan(0);
            // TL's calls not inlined are portal calls in compiled code, whose exits are taken
            // over inside.
            if (lang.name === "tl") expect(seen.takenOverInside).toBeGreaterThan(0);
          }
        }, 180_000);
});

describe("labels: code made later jumps into code made before", () => {
  // Counted Brainfuck loops nested up to five deep, in sequence (each loop counts its own cell
  // down, its body returns the pointer: every program ends): regions made from inner loops
  // first, then bridges and entries of the outer ones, which reach the inner loops' heads.
  const loop = (depth: number): fc.Arbitrary<string> =>
    fc
      .tuple(
        fc.integer({ min: 1, max: 6 }),
        depth >= 4
          ? fc.constant([] as string[])
          : fc.array(
              fc.oneof(
                loop(depth + 1),
                fc.integer({ min: 1, max: 5 }).map((m) => ">" + "+".repeat(m) + "<"),
              ),
              { maxLength: 3 },
            ),
      )
      .map(([n, kids]) => ">" + "+".repeat(n) + "[" + kids.join("") + "-]<");
  const nests = fc
    .array(loop(0), { minLength: 1, maxLength: 4 })
    .map((ls) => ls.join("") + ">>.>.>.");
  beforeAll(() => verifyResidualPasses(true));
  afterAll(() => verifyResidualPasses(false));
  for (const backend of tiered)
    it(`${backend.name}: 40 random loop nests, hot after 5, 20 and 100, bridges after 0, 1 and 4, with fuel and without`, async () => {
      const bf = langs.bf!;
      let labels = 0;
      let jumps = 0;
      for (const [i, text] of fc.sample(nests, { numRuns: 40, seed: 7 }).entries()) {
        const code = bf.load(text, "nest.b");
        const fuel = i % 2 ? 5_000 : undefined;
        const want = await runProgram(backends.interp!, bf, code, 0, { fuel });
        for (const threshold of [5, 20, 100])
          for (const bridgeAfter of [0, 1, 4]) {
            const got = await runProgram(backend, bf, code, 0, {
              fuel,
              tiers: { threshold, bridgeAfter },
            });
            expect(
              [got.error, Buffer.from(got.output)],
              `${text} ${threshold} ${bridgeAfter}`,
            ).toEqual([want.error, Buffer.from(want.output)]);
            labels += got.stats.labels as number;
            jumps += got.stats.labelJumps as number;
          }
      }
      expect(labels).toBeGreaterThan(100);
      expect(jumps).toBeGreaterThan(100);
    }, 180_000);
});

describe("where hot states are offered", () => {
  it("at a loop's head, where the frame's loop turns, not wherever a counter ran out", async () => {
    const bf = langs.bf!;
    // (loops three deep, runs of straight code between them)
    const text = "+++++[>++++++++[>++++++++[>+>++<<-]<-]>>>[-<+>]<<<-]>>>>[-]<<[->+<]>.";
    const code = bf.load(text, "nested.b");
    const want = await runProgram(backends.interp!, bf, code, 0);
    for (const backend of tiered)
      for (const threshold of [100, 1000, 5000]) {
        const hot: number[] = [];
        const got = await runProgram(backend, bf, code, 0, {
          tiers: { threshold },
          events: (e) => void (e.ev === "hot" && hot.push(e.position)),
        });
        expect(Buffer.from(got.output)).toEqual(Buffer.from(want.output));
        expect(hot.length, `${backend.name} ${threshold}`).toBeGreaterThan(0);
        // (a loop turns at its ']', going on just after its '[')
        for (const p of hot) expect(text[p - 1], `${backend.name} ${threshold} @${p}`).toBe("[");
      }
  });
});

describe("the warm-up", () => {
  it("a program too short to repay a compilation compiles nothing; without the warm-up it would", async () => {
    const tl = langs.tl!;
    const code = tl.load(readFileSync(root + "interpreters/programs/loop.tl", "utf8"), "loop.tl");
    for (const backend of tiered) {
      const want = await runProgram(backends.interp!, tl, code, 50_000);
      const warm = await runProgram(backend, tl, code, 50_000);
      const cold = await runProgram(backend, tl, code, 50_000, { tiers: { warmup: 0 } });
      expect([warm.value, cold.value]).toEqual([want.value, want.value]);
      expect(warm.stats.hotStates).toBeGreaterThan(0);
      expect(warm.stats.tierEntries).toBe(0);
      expect(cold.stats.tierEntries).toBeGreaterThan(0);
    }
  });
});

describe("the JIT loaded when something is hot", () => {
  it("a short run never loads it; a long one loads it past the warm-up and goes on exactly", async () => {
    // Brainfuck's and TLR's entries are their portals, which never call themselves: the first
    // tier's frame is the run's, unwound at the first hot state past the warm-up while the JIT
    // is loaded, and the run goes on from that state.
    const bf = langs.bf!;
    const tlr = langs.tlr!;
    const hello = bf.load(readFileSync(root + "interpreters/programs/hello.b", "utf8"), "hello.b");
    const square = tlr.load(readFileSync(root + "interpreters/programs/square.tlr", "utf8"), "sq");
    for (const backend of tiered) {
      const short = await runProgram(backend, bf, hello, 0);
      expect(Buffer.from(short.output).toString()).toBe("Hello World!\n");
      expect([short.stats.jitLoaded, short.stats.tierEntries]).toEqual([false, 0]);
      // (9 instructions a trip: 400,000 trips are past the warm-up, 2,000,000 passes counted in
      // offers, which wait for the loop to turn: 300,000 trips made 187 of the 200)
      for (const [n, loaded] of [
        [1_000, false],
        [400_000, true],
      ] as const) {
        const want = await runProgram(backends.interp!, tlr, square, n, { fuel: 20_000_000 });
        const got = await runProgram(backend, tlr, square, n, { fuel: 20_000_000 });
        expect([got.value, got.error, got.stats.jitLoaded]).toEqual([
          want.value,
          want.error,
          loaded,
        ]);
        if (loaded) expect(got.stats.entered).toBeGreaterThan(0);
        // Loaded when hot or before the run, the tiers make the same decisions.
        const first = await runProgram(backend, tlr, square, n, {
          fuel: 20_000_000,
          tiers: { loadFirst: true },
        });
        const decisions = (r: typeof got) =>
          ["hotStates", "tierEntries", "entered", "takenOver", "linked", "bridges", "exits"].map(
            (k) => r.stats[k],
          );
        expect(decisions(got)).toEqual(decisions(first));
      }
    }
  });
});

describe.runIf(backends.jit)("machine code and the arrays it is passed", () => {
  it("gives the heap back after each call: TL's calls through tier exits do not fill the arena", async () => {
    const tl = langs.tl!;
    const code = tl.load(readFileSync(root + "interpreters/programs/call.tl", "utf8"), "call.tl");
    const want = await runProgram(backends.interp!, tl, code, 200_000);
    const got = await runProgram(backends.jit!, tl, code, 200_000, { tiers: { threshold: 1000 } });
    expect(got.value).toBe(want.value);
    // Not replayed on the interpreter (a full arena), and compiled code ran the calls.
    expect(got.stats.replayed).toBeUndefined();
    expect(got.stats.entered).toBeGreaterThan(0);
  });

  it("writes an array its caller passed in place, and passes one array given twice once", () => {
    const m = parseModule(`func @f -> i32 {
b0(a.0: i32[], b.1: i32[], x.2: i32):
  array_set a.0, 0, x.2
  v3: i32 = array_get b.1, 0
  array_set b.1, 1, 7
  return v3
}
`);
    const native = new NativeModule(m);
    try {
      const shared = new Int32Array([1, 2, 3]);
      const r = native.run("f", [shared, shared, 42]);
      // `b` is `a`: it read the 42 just written, and both writes are in the caller's array.
      expect(r).toEqual({ k: "return", value: 42 });
      expect([...shared]).toEqual([42, 7, 3]);
    } finally {
      native.free();
    }
  });
});
