import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { specialisers } from "../generated/index.ts";
import { analyse, explain, printBinding } from "../generator/bta.ts";
import { artifacts } from "../generator/build.ts";
import { examples } from "../generator/start.ts";
import { langs } from "../interpreters/lang.ts";
import { loadGraphs } from "../runtime/graphs.ts";
import { printModule } from "../runtime/ir/print.ts";
import { specialise } from "../runtime/spec/pe.ts";
import type { AVal } from "../runtime/spec/value.ts";

const root = new URL("../", import.meta.url).pathname;

function both(lang: string, code: Uint8Array) {
  const args: AVal[] = [
    { k: "a", arr: code, type: "u8[]" },
    { k: "r", o: 0, type: "i32" },
  ];
  const m = loadGraphs(lang);
  const pe = specialise(m, langs[lang]!.entry, args);
  const gen = specialise(m, langs[lang]!.entry, args, undefined, specialisers[lang]);
  return { pe: printModule(pe.module), gen: printModule(gen.module) };
}

describe("binding-time analysis", () => {
  for (const lang of Object.keys(langs))
    it(`marks every value of ${lang} green or red (golden text)`, async () => {
      const m = loadGraphs(lang);
      const bt = analyse(m, langs[lang]!.entry);
      expect(bt.errors).toEqual([]);
      await expect(printBinding(m, bt)).toMatchFileSnapshot(`golden/bta/${lang}.txt`);
    });

  it("explains why a value is red, back to where it started", () => {
    const m = loadGraphs("tl");
    const lines = explain(m, analyse(m, "interpret"), "execute", "depth");
    expect(lines[0]).toMatch(/^depth\.\d+ in @execute is red: declared red by the driver/);
    expect(explain(m, analyse(m, "interpret"), "execute", "pc")).toEqual([
      expect.stringMatching(/^pc\.\d+ in @execute is green$/),
    ]);
  });
});

describe("generated specialisers", () => {
  it("give byte-identical residual graphs to the abstract interpreter on every example", () => {
    for (const ex of examples()) {
      const lang = langs[ex.lang]!;
      const code = lang.load(readFileSync(root + ex.file, "latin1"), ex.file);
      const { pe, gen } = both(ex.lang, code);
      expect(gen, ex.file).toBe(pe);
    }
  });

  it("match what the generator makes from the interpreters now", async () => {
    for (const a of await artifacts())
      expect(readFileSync(root + a.path, "utf8"), a.path).toBe(a.text);
  });
});
