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
  const onL3 = (entry: string, n: number): string => {
    const s = new L3(graphsOf(entry)).run(entry, [n]);
    return s.k === "return" ? String(s.value) : s.k === "raise" ? `error: ${s.msg}` : "exit";
  };
  return { graphsOf, native, onL3 };
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
