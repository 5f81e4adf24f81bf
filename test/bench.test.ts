// The bench's own checks, on one small workload: results compared with interp's, and the warm
// specialisation section (both specialisers in one process) measured and printed.

import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { formatTable, runBench } from "../bench/harness.ts";
import { futamuraArgs } from "../bench/command.ts";

describe("bench", () => {
  it("runs a workload on interp and pe, and times both specialisers warm", async () => {
    const report = await runBench({
      quick: true,
      reps: 1,
      cap: 10,
      interpCap: 10,
      only: ["square"],
      backends: ["interp", "pe"],
    });
    expect(report.failures).toEqual([]);
    const [w] = report.workloads;
    expect(w!.entries.map((e) => [e.backend, e.status])).toEqual([
      ["interp", "ok"],
      ["pe", "ok"],
    ]);
    const spec = w!.spec!;
    if ("error" in spec) throw new Error(spec.error);
    expect(spec.keys).toBeGreaterThan(0);
    expect(spec.pe.walkMs).toBeGreaterThan(0);
    expect(spec.generated.walkMs).toBeLessThanOrEqual(spec.generated.ms);
    expect(spec.runs).toBeGreaterThanOrEqual(1);
    // Medians, with the fastest runs beside them.
    for (const k of ["pe", "generated"] as const) {
      expect(spec.fastest[k].walkMs).toBeGreaterThan(0);
      expect(spec.fastest[k].walkMs).toBeLessThanOrEqual(spec[k].walkMs);
      expect(spec.fastest[k].ms).toBeLessThanOrEqual(spec[k].ms);
    }
    expect(spec.ratioWalk).toBeCloseTo(spec.pe.walkMs / spec.generated.walkMs, 0);
    // The builder's calls alone were replayed and timed: a finite figure, and the ceiling with it.
    expect(spec.builderMs).toBeGreaterThan(0);
    expect(spec.builderMs).toBeLessThan(Infinity);
    expect(spec.ceiling).toBeCloseTo(spec.pe.walkMs / spec.builderMs, 0);
    expect(formatTable(report)).toMatch(/specialisation, warm[^]*square\s+\d+/);
  }, 60_000);
});

describe("the command the bench runs", () => {
  it("is Node with the options on futamura's first line", () => {
    const script = new URL("../generator/futamura.mjs", import.meta.url).pathname;
    const first = readFileSync(script, "utf8").split("\n", 1)[0]!;
    expect(first).toBe("#!/usr/bin/env -S node --v8-pool-size=0");
    expect(futamuraArgs(script)).toEqual(["--v8-pool-size=0", script]);
  });
});
