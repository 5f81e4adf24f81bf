// The first tier (generator/first-tier.ts, generated/<lang>.tier1.ts): the interpreter's source
// made resumable at its merge point. Left and entered again at every possible moment, it must
// give exactly what the interpreter gives: random programs of every language run with hot
// thresholds of 1, 2, 7 and 1,000, each hot state handed over to the dispatch loop entered
// afresh with the greens and reds (what compiled code's cold exits will do), with fuel; and
// the emitter refuses interpreters whose dispatch loop it cannot make resumable, at
// `file:line:col`.

import { describe, expect, it } from "vitest";
import { backends, runProgram } from "../generator/backends.ts";
import { emitFirstTier } from "../generator/first-tier.ts";
import { buildGraphs, sourceFileOf } from "../generator/frontend/index.ts";
import { programs } from "../generator/fuzz/generators.ts";
import { langs } from "../generator/language.ts";
import { STAY, type OnHot, type PortalLoop } from "../runtime/tiers/counters.ts";

const root = new URL("../", import.meta.url).pathname;
const tier1 = backends.tier1!;

/** Hands each hot state over to the dispatch loop entered afresh, up to `budget` times (each
 *  hand-over is a JS frame deeper); counts them. */
function handingOver(budget: number): { onHot: OnHot; count: () => number } {
  let n = 0;
  return {
    onHot: (loop: PortalLoop, greens: unknown[], reds: unknown[]) =>
      n < budget ? (n++, (loop as (...s: unknown[]) => unknown)(...greens, ...reds)) : STAY,
    count: () => n,
  };
}

const FUEL: Record<string, number> = { tlr: 10_000, tl: 10_000, tlc: 10_000, bf: 40_000 };

describe("the first tier left and entered at every merge point", () => {
  for (const lang of Object.values(langs))
    for (const threshold of [1, 2, 7, 1000])
      it(`${lang.name}: 150 random programs, hot after ${threshold}`, async () => {
        let handed = 0;
        for (const [i, p] of programs(lang.name, 22 + threshold, 150).entries()) {
          const opts = { input: p.input, fuel: FUEL[lang.name] };
          const want = await runProgram(backends.interp!, lang, p.code, p.arg, opts);
          const h = handingOver(200);
          const got = await runProgram(tier1, lang, p.code, p.arg, {
            ...opts,
            tiers: { threshold, onHot: h.onHot },
          });
          handed += h.count();
          const seen = (r: typeof want) => [
            r.value,
            r.error,
            Buffer.from(r.output).toString("hex"),
          ];
          expect(seen(got), `${lang.name} program ${i}`).toEqual(seen(want));
        }
        // The hand-overs happened (a threshold of 1,000 only in the longer runs).
        expect(handed).toBeGreaterThan(threshold === 1000 ? 0 : 150);
      }, 120_000);
});

describe("the emitter", () => {
  const base = `import { JitDriver } from "../runtime/hints.ts";
const driver = new JitDriver({ greens: ["code", "pc"], reds: ["a"], immutable: ["code"] });
export function run(code: Uint8Array, a: number): number {
  let pc = 0;
  LOOP
  return a;
}
`;
  function emit(loop: string): { text?: string; violations: string[] } {
    const path = root + "interpreters/first-tier-case.ts";
    const text = base.replace("LOOP", loop);
    const r = buildGraphs(path, "run", { text });
    expect(r.violations).toEqual([]);
    return emitFirstTier(
      sourceFileOf(path)!,
      r.module!.driver!,
      "stamp",
      root + "generated/case.tier1.ts",
      (module) => `../runtime/${module}.ts`,
    );
  }

  it("makes a while loop resumable", () => {
    const r = emit(
      "while (pc < code.length) {\n    driver.mergePoint({ code, pc, a });\n    a = (a + code[pc]) | 0;\n    pc = (pc + 1) | 0;\n  }",
    );
    expect(r.violations).toEqual([]);
    // The portal stays whole, with the countdown; the loop function is its copy.
    expect(r.text).toContain(
      "let tier$tick = tier$carry.tick;\n  let tier$seed = 1;\n  let tier$last = -1;\n  while (pc < code.length) {",
    );
    expect(r.text).toContain(
      "export function run$loop(code: Uint8Array, pc: number, a: number): number {\n  let tier$tick = tier$carry.tick;\n  let tier$seed = 1;\n  let tier$last = -1;\n  while (pc < code.length) {",
    );
    expect(r.text!.match(/tier\$up\(run\$loop, pc, \[code, pc\], \[a\]\)/g)).toHaveLength(2);
  });

  it("leaves a for loop's initialiser out of the loop function", () => {
    const r = emit(
      "for (pc = 0; pc < code.length; pc = (pc + 1) | 0) {\n    driver.mergePoint({ code, pc, a });\n    a = (a + code[pc]) | 0;\n  }",
    );
    expect(r.violations).toEqual([]);
    expect(r.text).toContain("for (pc = 0; pc < code.length; pc = (pc + 1) | 0) {");
    expect(r.text).toContain("for (; pc < code.length; pc = (pc + 1) | 0) {");
  });

  it("refuses a merge point that is not the first statement of the loop", () => {
    const r = emit(
      "while (pc < code.length) {\n    a = (a + 1) | 0;\n    driver.mergePoint({ code, pc, a });\n    pc = (pc + 1) | 0;\n  }",
    );
    expect(r.text).toBeUndefined();
    expect(r.violations).toEqual([
      expect.stringMatching(
        /first-tier-case\.ts:7:5: the first tier needs the merge point as the first statement of a while or for loop at the top level of its function$/,
      ),
    ]);
  });
});
