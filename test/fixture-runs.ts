// What the tests of the subset's constructs share: a fixture module's functions lowered to
// graphs (once each) and run on L3, the same functions run natively, and a generated program's
// text run natively by V8 (types erased, the hints its own), so that each backend's answer is
// compared with what TypeScript computes.

import { ts } from "ts-morph";
import { expect } from "vitest";
import { buildGraphs } from "../generator/frontend/index.ts";
import * as hints from "../runtime/hints.ts";
import type { Module } from "../runtime/ir/types.ts";
import { L3 } from "../runtime/l3.ts";
import { Program as Jit } from "../runtime/jit.ts";
import { defaultPolicy, type Policy } from "../runtime/specialiser/policy.ts";
import { Heap } from "../runtime/heap.ts";
import { NativeModule } from "../runtime/x64/native.ts";
import { x64Supported } from "../runtime/x64/memory.ts";
import { nativeFactory, nativeFactoryFor } from "../generator/compiled.ts";

/** The functions of the fixture module at `path` (its exports, `fixture`), each on L3 and
 *  natively, as text: a value, or `error: message` for an interpreter error. */
export function fixtureRuns<F extends Record<string, (n: number) => unknown>>(
  path: string,
  fixture: F,
) {
  const built = new Map<string, Module>();
  const graphsOf = (entry: string): Module => {
    let m = built.get(entry);
    if (!m) {
      const r = buildGraphs(path, entry, { verifyEachPass: true });
      expect(r.violations).toEqual([]);
      m = r.module!;
      built.set(entry, m);
    }
    return m;
  };
  const native = (entry: keyof F, n: number): string => {
    try {
      return String(fixture[entry]!(n));
    } catch (e) {
      if (e instanceof hints.VmError) return `error: ${e.message}`;
      throw e;
    }
  };
  const text = (s: { k: string; value?: unknown; msg?: string }) =>
    s.k === "return" ? String(s.value) : s.k === "raise" ? `error: ${s.msg}` : "exit";
  const onL3 = (entry: string, n: number): string => text(new L3(graphsOf(entry)).run(entry, [n]));
  // The graphs compiled to machine code as they are (once per entry), where the host runs it.
  const compiled = new Map<string, NativeModule>();
  const onX64 = (entry: string, n: number): string | undefined => {
    if (!x64Supported) return undefined;
    let x64 = compiled.get(entry);
    if (!x64) {
      const m = graphsOf(entry);
      compiled.set(entry, (x64 = new NativeModule(m, { heap: Heap.of(m), check: true })));
    }
    return text(x64.run(entry, [n]));
  };
  return { graphsOf, native, onL3, onX64 };
}

/** A program's text run natively: transpiled (types erased) and run by V8, the hints its own. */
export function natively(text: string): (...args: unknown[]) => number {
  const js = ts.transpileModule(text, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const exports: { main?: (...args: unknown[]) => number } = {};
  new Function("exports", "require", js)(exports, () => hints);
  return exports.main!;
}

/** Checks that program `text` (a file at `path` whose `main` takes an integer) lowers to graphs
 *  that give on L3, for each of `args`, what V8 gives; and compiled to machine code as they
 *  are (where the host runs it), the same. */
export function onL3AsNatively(path: string, text: string, args: number[]): void {
  const r = buildGraphs(path, "main", { text, verifyEachPass: true });
  expect(r.violations, text).toEqual([]);
  const native = natively(text);
  const m = r.module!;
  const l3 = new L3(m);
  const x64 = x64Supported ? new NativeModule(m, { heap: Heap.of(m), check: true }) : undefined;
  try {
    for (const n of args) {
      const s = l3.run("main", [n]);
      const expected = native(n);
      expect(s.k === "return" ? s.value : s, `main(${n}) of\n${text}`).toBe(expected);
      const c = x64?.run("main", [n]);
      if (c) expect(c.k === "return" ? c.value : c, `x64: main(${n}) of\n${text}`).toBe(expected);
    }
  } finally {
    x64?.free();
  }
}

/** Checks that program `text` (a file at `path` whose `main` takes an empty bytecode and an
 *  integer, a merge point in its loop), specialised by the abstract interpreter under `policy`
 *  (`pe`: residual graphs on L3), gives for each of `args` what V8 gives, and so does its
 *  machine code, also with its objects collected at every safepoint after an allocation (the
 *  collector's stress switch: the program's objects, cycles, sharing, lists of lists, maps of
 *  objects, go out and come back at every loop trip); gives the program's code cache (its
 *  statistics) and its graphs. */
export function specialisedAsNatively(
  path: string,
  text: string,
  args: number[],
  policy: Policy = defaultPolicy,
): { jit: Jit; module: Module; collections: number } {
  const r = buildGraphs(path, "main", { text });
  expect(r.violations, text).toEqual([]);
  const native = natively(text);
  const code = new Uint8Array(0);
  const jit = new Jit(r.module!, "main", code, { policy, target: "l3" });
  const x64 = x64Supported
    ? new Jit(r.module!, "main", code, { policy, target: "x64" }, nativeFactory)
    : undefined;
  const stressed = x64Supported
    ? new Jit(
        r.module!,
        "main",
        code,
        { policy: { ...policy, safepoints: true }, target: "x64" },
        nativeFactoryFor({ stressCollect: true }),
      )
    : undefined;
  try {
    for (const n of args) {
      const s = jit.run(n);
      const expected = native(code, n);
      expect(s.k === "return" ? s.value : s, `main(${n}) of\n${text}`).toBe(expected);
      const c = x64?.run(n);
      if (c) expect(c.k === "return" ? c.value : c, `x64: main(${n}) of\n${text}`).toBe(expected);
      const g = stressed?.run(n);
      if (g)
        expect(g.k === "return" ? g.value : g, `x64, collected: main(${n}) of\n${text}`).toBe(
          expected,
        );
    }
  } finally {
    x64?.free();
    stressed?.free();
  }
  return { jit, module: r.module!, collections: stressed?.stats.collections ?? 0 };
}
