// Compile work grows linearly with the program: every stage (the specialiser, each clean-up
// pass, each x86-64 backend stage) counts its own steps (runtime/work.ts), and on growing
// programs of one shape (n = 250, 500, 1000, 2000) the steps of each stage at 2n are at most
// ~2.3 times those at n. Counted, never timed: deterministic on any machine. The shapes are
// those of issue 22 item 5 (3,000 sequential small Brainfuck loops took 63 s on `jit`, 5,000
// nested loops 28.5 s on `x64`) and two of TL's, specialised whole (x64's path) and run by the
// tiered JIT entering compiled code at once (jit's path). And the JIT's work over a program's
// life is bounded by the policy's `maxWork`, after which nothing more is compiled.

import { describe, expect, it } from "vitest";
import { backends, runProgram } from "../generator/backends.ts";
import { nativeFactory } from "../generator/compiled.ts";
import { langs, graphsOf } from "../generator/language.ts";
import { setIo } from "../runtime/hints.ts";
import { Program } from "../runtime/jit.ts";
import { L3 } from "../runtime/l3.ts";
import { defaultPolicy, type Policy } from "../runtime/specialiser/policy.ts";
import { workByStage, workDone } from "../runtime/work.ts";
import { x64Supported } from "../runtime/x64/memory.ts";
import { specialisers } from "../generated/index.ts";

const SIZES = [250, 500, 1000, 2000];
/** The tiered JIT: machine code where there is some. */
const tiered = backends.jit ?? backends["jit-graph"]!;
const RATIO = 2.3;
/** Stages doing less than this at the smallest size are left out (constant work). */
const FLOOR = 200;
const target = x64Supported ? "x64" : "l3";

/** Issue 22's shapes, as program text of size ~n. */
const SHAPES: Record<
  string,
  {
    lang: "bf" | "tl";
    text: (n: number) => string;
    arg: number;
    sizes?: number[];
    /** For the tiers at threshold 1, where every instruction of a straight line is an entry of
     *  its own (a graph each, with a graph's fixed costs), when the sizes above take long. */
    tierSizes?: number[];
  }
> = {
  "bf sequential loops": {
    lang: "bf",
    text: (n) =>
      Array.from(
        { length: n },
        (_, i) => "+".repeat((i % 7) + 1) + "[->" + "+".repeat((i % 5) + 1) + "<]>",
      ).join(""),
    arg: 0,
  },
  "bf nested loops": {
    lang: "bf",
    text: (n) => "+" + "[".repeat(n) + "-" + "]".repeat(n),
    arg: 0,
  },
  // The tape pointer known at every step: stores to ever more constant indexes in one block.
  "bf straight line": { lang: "bf", text: (n) => ">+".repeat(n), arg: 0 },
  // A call per `.` and `,`: a register's clobbers as many as the program's I/O operations.
  "bf input and output": { lang: "bf", text: (n) => "+.>,".repeat(n), arg: 0 },
  "tl sequential loops": {
    lang: "tl",
    text: (n) =>
      Array.from(
        { length: n },
        (_, i) => `PUSHARG\nl${i}: PUSH 1\nSUB\nPICK 0\nBR_COND l${i}\nPOP\n`,
      ).join("") + "PUSH 0\nRETURN\n",
    arg: 3,
  },
  "tl straight line": {
    lang: "tl",
    text: (n) => "PUSHARG\n" + "PUSH 3\nADD\nPUSH 1\nSUB\n".repeat(n) + "RETURN\n",
    arg: 5,
  },
  // Twenty values live at once, then summed, n times: spills all along a straight line.
  "tl register pressure": {
    lang: "tl",
    text: (n) =>
      "PUSH 0\n" +
      (
        Array.from({ length: 20 }, (_, i) => `PUSHARG\nPUSH ${i + 3}\nMUL\n`).join("") +
        "ADD\n".repeat(20)
      ).repeat(n) +
      "RETURN\n",
    arg: 7,
    sizes: [100, 200, 400, 800],
    tierSizes: [25, 50, 100, 200],
  },
};

/** The steps each stage took while `f` ran. */
async function stepsOf(f: () => unknown): Promise<Map<string, number>> {
  const before = workByStage();
  await f();
  const out = new Map<string, number>();
  for (const [stage, n] of workByStage()) out.set(stage, n - (before.get(stage) ?? 0));
  return out;
}

function program(lang: "bf" | "tl", text: string, policy: Policy, compiled: boolean): Program {
  const l = langs[lang]!;
  return new Program(
    graphsOf(langs[lang]!),
    l.entry,
    l.load(text, `shape.${lang}`),
    { policy, target, compiled: compiled ? specialisers[lang] : undefined },
    target === "x64" ? nativeFactory : undefined,
  );
}

/** Each stage's steps at each size, and the stages that grow faster than linearly. */
function growth(counts: Map<string, number>[], except: string[] = []): string[] {
  const stages = new Set(counts.flatMap((c) => [...c.keys()]).filter((s) => !except.includes(s)));
  const bad: string[] = [];
  for (const stage of stages) {
    const row = counts.map((c) => c.get(stage) ?? 0);
    if (row[0]! < FLOOR) continue;
    if (row.some((n, i) => i > 0 && n > RATIO * row[i - 1]!))
      bad.push(`${stage}: ${row.join(", ")}`);
  }
  return bad;
}

describe("compile work grows linearly with the program", () => {
  for (const [name, shape] of Object.entries(SHAPES)) {
    it(`eager (x64's path), ${name}`, async () => {
      const counts = [];
      for (const n of shape.sizes ?? SIZES)
        counts.push(
          await stepsOf(() => program(shape.lang, shape.text(n), defaultPolicy, false).free()),
        );
      expect(growth(counts)).toEqual([]);
    });
    it(`tiers, run (jit's path, everything hot at once), ${name}`, async () => {
      const lang = langs[shape.lang]!;
      const counts = [];
      for (const n of shape.tierSizes ?? shape.sizes ?? SIZES)
        counts.push(
          await stepsOf(() =>
            runProgram(tiered, lang, lang.load(shape.text(n), "shape"), shape.arg, {
              tiers: { threshold: 1, bridgeAfter: 0 },
            }),
          ),
        );
      expect(growth(counts)).toEqual([]);
    });
  }
});

describe("the JIT's work over a program's life is bounded", () => {
  it("stops compiling past maxWork and finishes in the first tier, with the same output", async () => {
    // The sequential loops, each cell printed after its loop.
    const text = SHAPES["bf sequential loops"]!.text(2000).replaceAll(">", ".>");
    const code = langs.bf!.load(text, "budget.b");
    const run = (go: () => unknown) => {
      const out: number[] = [];
      setIo({ read: () => -1, write: (b) => out.push(b) });
      go();
      return out;
    };
    const expected = run(() => new L3(graphsOf(langs.bf!)).run(langs.bf!.entry, [code, 0]));
    const maxWork = 1_000_000;
    const before = workDone();
    const r = await runProgram(tiered, langs.bf!, code, 0, {
      policy: { maxWork },
      tiers: { threshold: 1, bridgeAfter: 0 },
    });
    expect(r.error).toBeUndefined();
    expect([...r.output]).toEqual(expected);
    expect(r.stats.spent).toMatch(/steps of compile work/);
    // Hot states that stayed in the first tier.
    expect(r.stats.tierEntries).toBeLessThan(r.stats.hotStates as number);
    // Past the bound by at most one specialisation's clean-up and compilation.
    expect(workDone() - before).toBeLessThan(1.5 * maxWork);
    expect(r.stats.work).toBe(workDone() - before);
  });
});
