// The run-time bookkeeping of compiled code (runtime/jit.ts, runtime/tiers/tiered.ts): exits
// patched once resolved, promotion cases, fallback to the interpreter in the middle of a run,
// continuations in chunks of executable memory, and the code cache of a program across runs.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { backends, runProgram, type Backend } from "../generator/backends.ts";
import { nativeFactory, runTiered } from "../generator/compiled.ts";
import { langs, graphsOf } from "../generator/language.ts";
import { setIo } from "../runtime/hints.ts";
import { printModule } from "../runtime/ir/print.ts";
import { Program } from "../runtime/jit.ts";
import { defaultPolicy } from "../runtime/specialiser/policy.ts";
import { specialisers } from "../generated/index.ts";
import { x64Supported } from "../runtime/x64/memory.ts";
import { NativeModule } from "../runtime/x64/native.ts";
import { examples } from "../generator/cli/start.ts";

const root = new URL("../", import.meta.url).pathname;
const tlr = langs.tlr!;
const tl = langs.tl!;
const bf = langs.bf!;
const TARGETS: ("l3" | "x64")[] = x64Supported ? ["l3", "x64"] : ["l3"];
const TIERED = ["jit-graph", ...(x64Supported ? ["jit"] : [])];
const load = (lang: typeof tl, file: string) =>
  lang.load(readFileSync(root + "interpreters/programs/" + file, "utf8"), file);

/** A program specialised whole from its entry (the `pe` and `x64` backends' JIT). */
const program = (lang: typeof tlr, code: Uint8Array, target: "l3" | "x64") =>
  new Program(
    graphsOf(lang),
    lang.entry,
    code,
    { policy: defaultPolicy, compiled: specialisers[lang.name], target },
    target === "x64" ? nativeFactory : undefined,
  );

describe("edge exits and bridges", () => {
  for (const name of TIERED)
    it(`${name}: a loop's exits, once bridged, are not taken again however long it runs (square.tlr)`, async () => {
      const square = load(tlr, "square.tlr");
      const exits = [];
      for (const n of [100, 10_000, 100_000]) {
        const r = await runProgram(backends[name]!, tlr, square, n, {
          tiers: { threshold: 1, bridgeAfter: 0 },
        });
        expect(r.value).toBe(Math.imul(n, n));
        expect(r.stats.entered).toBeGreaterThan(0);
        exits.push(r.stats.exits);
      }
      // The same few exits however many trips.
      expect(exits[1]).toBe(exits[0]);
      expect(exits[2]).toBe(exits[0]);
    });

  it.skipIf(!x64Supported)(
    "x64: with bridges and continuations spread over many chunks of executable memory, every example agrees",
    async () => {
      // In chunks with room for 64 bytes after the first code: most graphs made later start a
      // chunk, the others follow one in it; every compilation checked as it is made.
      const chunked: Backend = {
        name: "jit (small chunks)",
        dumps: [],
        run: (lang, code, arg, opts, stats) =>
          runTiered(lang, code, arg, opts, stats, {
            target: "x64",
            compiled: specialisers[lang.name],
            makeNative: (m, resolve, heap) =>
              new NativeModule(m, { continuation: resolve, heap, chunkRoom: 64, check: true }),
          }),
      };
      let chunks = 0;
      const compiled = examples();
      for (const ex of compiled) {
        const lang = langs[ex.lang]!;
        const code = lang.load(readFileSync(root + ex.file, "utf8"), ex.file);
        const r = await runProgram(chunked, lang, code, ex.arg, {
          tiers: { threshold: 1, bridgeAfter: 0 },
        });
        expect(r.error !== undefined ? `error: ${r.error}` : String(r.value), ex.file).toBe(
          ex.expect,
        );
        chunks += Number(r.stats.bridges ?? 0) + Number(r.stats.tierEntries ?? 0);
      }
      expect(chunks).toBeGreaterThan(compiled.length);
    },
  );
});

describe("the code cache of a program", () => {
  for (const target of TARGETS)
    it(`${target}: later runs reuse what earlier runs made`, () => {
      const p = program(tl, load(tl, "switch.tl"), target);
      expect(p.run(300).k).toBe("return");
      const made = { keys: p.stats.mergeKeys, graphs: p.stats.promotionMisses };
      expect(made.graphs).toBeGreaterThan(0);
      const exits = p.stats.exits;
      p.run(300);
      p.run(30);
      expect({ keys: p.stats.mergeKeys, graphs: p.stats.promotionMisses }).toEqual(made);
      expect(p.stats.exits).toBe(exits);
    });

  it.skipIf(!x64Supported)("x64: a program's machine code is released with it", () => {
    const p = program(tl, load(tl, "switch.tl"), "x64");
    p.run(30);
    const blocks = p.nativeModule!.compilations.map((b) => b.code);
    expect(blocks.length).toBeGreaterThan(1);
    p.free();
    expect(blocks.every((b) => b.isFreed)).toBe(true);
  });

  it("its residual graphs, continuations included, print and parse like any module", () => {
    const gs: string[] = [];
    const p = new Program(graphsOf(langs.tl!), tl.entry, load(tl, "switch.tl"), {
      policy: defaultPolicy,
      target: "l3",
      onGraphs: (graphs, data) => gs.push(printModule({ graphs, data })),
    });
    setIo({ read: () => -1, write: () => {} });
    p.run(30);
    expect(gs.length).toBeGreaterThan(1);
    expect(gs.join("\n")).toMatch(/exit \d+\(/);
  });
});

describe("promotion", () => {
  const code = load(tl, "switch.tl");
  for (const name of TIERED)
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

  for (const name of TIERED)
    it(`${name}: a tiny code cache forces a fallback mid-loop; output is neither lost nor repeated`, async () => {
      let midLoop = 0;
      for (const maxResidualOps of [8, 16, 24, 32, 48, 64, 96, 128]) {
        const r = await runProgram(backends[name]!, bf, letters, 0, {
          policy: { maxResidualOps },
          tiers: { threshold: 2, bridgeAfter: 0 },
        });
        expect(new TextDecoder().decode(r.output), `bound ${maxResidualOps}`).toBe(want);
        expect(r.error).toBeUndefined();
        // Code made and run before the fallback: it fell back from an exit, not at the start.
        if ((r.stats.fallbacks as number) > 0 && (r.stats.exits as number) > 1) midLoop++;
      }
      expect(midLoop).toBeGreaterThan(0);
    });

  for (const name of TIERED)
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
