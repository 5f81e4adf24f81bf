// Machine code's objects collected at safepoints (runtime/x64/native.ts `collect`): a loop
// allocating more than its object region holds runs on x64 and jit, collected where its state
// is the whole of what is live; the stress switch (a collection at every safepoint reached
// after an allocation) changes no example's and no fuzzed program's outcome; a callee collects
// with its callers' references on the root stack; live data outgrowing the
// region is out of memory, a resource outcome (the CLI says so, the fuzzer does not compare it).

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { backends, runProgram, type RunOptions } from "../generator/backends.ts";
import { main } from "../generator/cli/main.ts";
import { examples } from "../generator/cli/start.ts";
import { programs } from "../generator/fuzz/generators.ts";
import { agrees } from "../generator/fuzz/run.ts";
import { graphsOf, langs } from "../generator/language.ts";
import { Program as Jit } from "../runtime/jit.ts";
import { defaultPolicy } from "../runtime/specialiser/policy.ts";
import { NativeModule } from "../runtime/x64/native.ts";
import { x64Supported } from "../runtime/x64/memory.ts";

const root = new URL("../", import.meta.url).pathname;
const tlc = langs.tlc!;
const native = ["x64", "jit"] as const;

async function agree(code: Uint8Array, arg: number, opts: RunOptions, what: string) {
  // (a turn of the event loop between programs: machine code runs synchronously, and a test
  // file that never yields for a minute loses vitest's worker messages)
  await new Promise((r) => setImmediate(r));
  const base = { fuel: opts.fuel, input: opts.input };
  const want = await runProgram(backends.interp!, tlc, code, arg, base);
  const outcome = (r: typeof want) => [r.value, r.error, Buffer.from(r.output).toString("hex")];
  const got = [];
  for (const b of native) {
    const r = await runProgram(backends[b]!, tlc, code, arg, { ...base, ...opts });
    expect(outcome(r), `${what} on ${b}`).toEqual(outcome(want));
    expect(r.stats.replayed, `${what} on ${b}`).toBeUndefined();
    got.push(r);
  }
  return got;
}

const load = (file: string) => tlc.load(readFileSync(root + file, "utf8"), file);

describe.runIf(x64Supported)("objects collected at safepoints", () => {
  it("a loop boxing an integer per trip runs in a region a fraction of what it allocates", async () => {
    // accumulator.tlc: jit's loop stores a new box into the accumulator at every SEND
    // (200,000 boxes of 8 bytes: 1.6 MB through a 64 KiB region)
    const code = load("interpreters/programs/accumulator.tlc");
    const [, jit] = await agree(
      code,
      200_000,
      { regionBytes: 1 << 16, tiers: { threshold: 7 } },
      "",
    );
    expect(Number(jit!.stats.collections)).toBeGreaterThan(10);
  });

  it("the stress switch: every TLC example agrees, collected at every safepoint after an allocation", async () => {
    let collections = 0;
    // (but for the long ones: a collection copies what is live, and conslist's 20,000 cells
    // collected at every trip is 200 million copies)
    for (const ex of examples().filter((e) => e.lang === "tlc" && e.arg <= 1000)) {
      const got = await agree(load(ex.file), ex.arg, { stressCollect: true }, ex.file);
      for (const r of got) collections += Number(r.stats.collections ?? 0);
    }
    expect(collections).toBeGreaterThan(0);
  });

  it("the stress switch: 300 random TLC programs agree on x64 and jit", async () => {
    let collections = 0;
    for (const [i, p] of programs("tlc", 20261207, 300).entries()) {
      const opts = { fuel: 10_000, stressCollect: true, tiers: { threshold: [1, 7, 64][i % 3]! } };
      const got = await agree(p.code, p.arg, opts, `program ${i} (${p.origin})`);
      for (const r of got) collections += Number(r.stats.collections ?? 0);
    }
    expect(collections).toBeGreaterThan(100);
  }, 300_000);

  it("under stress, callees collect with their callers' references on the root stack", async () => {
    // binarytree.tlc: insert and search SEND themselves, each frame's receiver live across the
    // call, and every call's graph starts with a safepoint; accumulator.tlc's loop runs in a
    // graph its entry calls
    const [tree] = await agree(
      load("interpreters/programs/binarytree.tlc"),
      15,
      { stressCollect: true },
      "tree",
    );
    expect(Number(tree!.stats.collectionsInCalls)).toBeGreaterThan(0);
    const [x64] = await agree(
      load("interpreters/programs/accumulator.tlc"),
      1000,
      { stressCollect: true },
      "acc",
    );
    expect(Number(x64!.stats.collections)).toBeGreaterThan(0);
  });

  it("a collection below calls whose callers keep references: the root stack", async () => {
    // binarytrees.tlc at depth 12 in 1 MiB: make/1 and check/1 SEND themselves, each frame's
    // receiver and subtrees live across the call; a tree of depth 12 is 128 KiB made within
    // one recursion, so the region fills inside it, where a portal graph's first merge point
    // collects with the callers' references on the root stack (rewritten where they moved)
    const [x64, jit] = await agree(
      load("interpreters/programs/binarytrees.tlc"),
      12,
      { regionBytes: 1 << 20 },
      "binarytrees 12",
    );
    expect(Number(x64!.stats.collections)).toBeGreaterThan(10);
    expect(Number(x64!.stats.collectionsInCalls)).toBeGreaterThan(0);
    expect(Number(jit!.stats.collectionsInCalls)).toBeGreaterThan(0);
  }, 60_000);

  it("live objects outgrowing the region: out of memory on x64, a resource outcome", async () => {
    // conslist.tlc keeps every cell it makes: 400,000 cells of 16 bytes in 1 MiB
    const code = load("interpreters/programs/conslist.tlc");
    const opts = { regionBytes: 1 << 20 };
    const x64 = await runProgram(backends.x64!, tlc, code, 400_000, opts);
    expect(x64.error).toMatch(/^out of memory: .* object region of 1 MiB \(--heap-mb\)$/);
    expect(x64.resource).toBe("memory");
    expect(x64.stats.replayed).toBeUndefined();
    // what the same run gives with room: interp's answer
    const roomy = await runProgram(backends.x64!, tlc, code, 400_000, {});
    const want = await runProgram(backends.interp!, tlc, code, 400_000, {});
    expect(roomy.value).toBe(want.value);
    // the command line: exit 1, the message on stderr, nothing on stdout
    let said = "";
    let printed = "";
    const sink = (f: (s: string) => void) =>
      ({ write: (c: string | Uint8Array) => (f(String(c)), true) }) as NodeJS.WritableStream;
    const file = root + "interpreters/programs/conslist.tlc";
    const status = await main(
      ["run", "tlc", file, "400000", "--backend", "x64", "--heap-mb", "1"],
      sink((c) => (printed += c)),
      sink((c) => (said += c)),
    );
    expect([status, said, printed]).toEqual([1, `${x64.error ? `error: ${x64.error}` : ""}\n`, ""]);
  });

  it("a state whose objects do not fit the region is not entered: jit's first tier goes on", async () => {
    const code = load("interpreters/programs/conslist.tlc");
    const want = await runProgram(backends.interp!, tlc, code, 400_000, {});
    // (the default warm-up: the first tier offers its first state with the list 4.5 MiB long;
    // a low threshold enters while it is short, and the region fills: out of memory)
    const jit = await runProgram(backends.jit!, tlc, code, 400_000, { regionBytes: 1 << 20 });
    expect([jit.value, jit.error]).toEqual([want.value, undefined]);
    expect(Number(jit.stats.notEntered)).toBeGreaterThan(0);
    expect(jit.stats.replayed).toBeUndefined();
  });

  it("a root stack that runs out stops the run as a native stack overflow does", () => {
    // binarytrees.tlc at depth 8: make/1 and check/1 SEND themselves 8 deep, each keeping its
    // receiver and a subtree across the call; 16 bytes of root stack hold two entries
    const code = load("interpreters/programs/binarytrees.tlc");
    const opts = { policy: defaultPolicy, target: "x64" as const, constants: tlc.constants };
    const program = (rootBytes?: number) =>
      new Jit(graphsOf(tlc), tlc.entry, code, opts, (m, resolve, heap) => {
        const sized = rootBytes ? { rootBytes } : {};
        return new NativeModule(m, { continuation: resolve, heap, ...sized });
      });
    const small = program(16);
    try {
      expect(() => small.run(8)).toThrow(/native stack exhausted/);
    } finally {
      small.free();
    }
    const roomy = program();
    try {
      expect(roomy.run(8)).toEqual({ k: "return", value: 0 });
    } finally {
      roomy.free();
    }
  });

  it("the fuzzer counts a resource outcome as agreeing, and nothing else", () => {
    expect(agrees("value 3", "value 3")).toBe(true);
    expect(agrees("resource: out of memory: ...", "value 3")).toBe(true);
    expect(agrees("value 4", "value 3")).toBe(false);
    expect(agrees("error: out of memory: ...", "value 3")).toBe(false);
  });
});
