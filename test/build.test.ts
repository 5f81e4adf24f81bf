// The build step (generator/build.ts): generated/ matches the interpreters' sources, a change to
// a source shows up as a stale file, and the frontend's graphs survive the IR text format and
// verify after every clean-up pass. Nothing here writes to interpreters/ or generated/: edited
// sources are given to the frontend as text.

import { relative } from "node:path";
import { readFileSync } from "node:fs";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { artifacts, header, stale, stampOf, type Artifact } from "../generator/build.ts";
import { buildGraphs } from "../generator/frontend/index.ts";
import { langs, stampedSource, type Lang } from "../generator/language.ts";
import { parseModule } from "../runtime/ir/parse.ts";
import { printModule } from "../runtime/ir/print.ts";
import { verifyModule } from "../runtime/ir/verify.ts";

const root = new URL("../", import.meta.url).pathname;
const LANGS = Object.values(langs);

/** The text of generated/<lang>.graphs that `source` (standing for the interpreter) gives. */
function graphsFile(lang: Lang, source: string): string {
  // A path beside the interpreter, so that its imports resolve, that is not the interpreter's.
  const r = buildGraphs(lang.source.replace(/\.ts$/, ".copy.ts"), lang.entry, {
    text: source,
    roots: lang.constants === undefined ? [] : [lang.constants],
  });
  expect(r.violations).toEqual([]);
  return header(";", stampOf(lang, source, r.imports ?? [])) + "\n" + printModule(r.module!);
}

const sourceOf = (lang: Lang) => readFileSync(lang.source, "utf8");
const generatedOf = (lang: Lang) => readFileSync(`${root}generated/${lang.name}.graphs`, "utf8");
/** The lines of `b` that are not in `a`. */
const added = (a: string, b: string) => {
  const old = new Set(a.split("\n"));
  return b.split("\n").filter((l) => !old.has(l));
};

let list: Artifact[] = [];
beforeAll(async () => {
  list = await artifacts();
}, 120_000);

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const { main } = await import("../generator/cli/main.ts");
  let out = "";
  let err = "";
  const sink = (add: (s: string) => void) =>
    ({ write: (s: string) => (add(String(s)), true) }) as unknown as NodeJS.WritableStream;
  const code = await main(
    argv,
    sink((s) => (out += s)),
    sink((s) => (err += s)),
  );
  return { code, out, err };
}

describe("futamura check", () => {
  afterEach(() => {
    vi.doUnmock("../generator/build.ts");
  });

  it("passes on the checkout: nothing in generated/ is stale", () => {
    expect(list.map((a) => relative(root, a.path))).toEqual(
      expect.arrayContaining(
        LANGS.flatMap((l) => [`generated/${l.name}.graphs`, `generated/${l.name}.ts`]),
      ),
    );
    expect(list.map((a) => relative(root, a.path))).toContain("generated/index.ts");
    expect(stale(list).map((a) => relative(root, a.path))).toEqual([]);
  });

  it("the graphs file is the header and the frontend's printed graphs, for every interpreter", () => {
    for (const lang of LANGS)
      expect(graphsFile(lang, sourceOf(lang)), lang.name).toBe(generatedOf(lang));
  });

  it("an opcode renumbered in a copy of TLR makes generated/tlr.graphs stale", async () => {
    const tlr = langs.tlr!;
    const source = sourceOf(tlr);
    const negA = langs.tlr!.isa!.opcodes.NEG_A![0];
    const renumbered = negA + 1;
    expect(Object.values(langs.tlr!.isa!.opcodes).map(([op]) => op)).not.toContain(renumbered);
    const edited = source.replace(/const NEG_A = \d+;/, `const NEG_A = ${renumbered};`);
    expect(edited).not.toBe(source);
    const text = graphsFile(tlr, edited);
    const before = generatedOf(tlr);
    expect(text).not.toBe(before);
    // The header's hash, and the dispatch switch: NEG_A's case has its new number.
    const lines = added(before, text);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(header(";", { names: stampedSource(tlr), text: edited }));
    expect(lines[1]).toMatch(
      new RegExp(`^\\s*switch opcode\\.\\d+, .*\\b${renumbered}: b\\d+, default: `),
    );
    expect(lines[1]).not.toMatch(new RegExp(`\\b${negA}: b`));

    // `futamura check`, with the artifacts the edited source gives, fails naming the file.
    const changed = list.map((a) =>
      a.path === root + "generated/tlr.graphs" ? { path: a.path, text } : a,
    );
    expect(stale(changed).map((a) => relative(root, a.path))).toEqual(["generated/tlr.graphs"]);
    vi.doMock("../generator/build.ts", async (importOriginal) => ({
      ...(await importOriginal<typeof import("../generator/build.ts")>()),
      artifacts: async () => changed,
    }));
    expect(await cli("check")).toEqual({
      code: 1,
      out: "",
      err: "stale: generated/tlr.graphs does not match its source; run `npm run generate`\n",
    });
  });

  it("and with the artifacts of the checkout, check passes", async () => {
    vi.doMock("../generator/build.ts", async (importOriginal) => ({
      ...(await importOriginal<typeof import("../generator/build.ts")>()),
      artifacts: async () => list,
    }));
    expect(await cli("check")).toEqual({ code: 0, out: "generated/ is up to date\n", err: "" });
  });

  it("a statement added to a copy of TL shows in its graphs", () => {
    const tl = langs.tl!;
    const source = sourceOf(tl);
    const anchor = "  const stack = new Int32Array(code.length);\n";
    expect(source).toContain(anchor);
    const edited = source.replace(
      anchor,
      anchor + '  if (arg === 12345) throw new VmError("unlucky");\n',
    );
    const text = graphsFile(tl, edited);
    expect(text).not.toBe(generatedOf(tl));
    expect(added(generatedOf(tl), text).join("\n")).toContain('raise "unlucky"');
    expect(
      stale([{ path: root + "generated/tl.graphs", text }]).map((a) => relative(root, a.path)),
    ).toEqual(["generated/tl.graphs"]);
  });

  it("a violation in a copy of an interpreter is reported, not built", () => {
    const tlr = langs.tlr!;
    const edited = sourceOf(tlr).replace("a = -a | 0;", "a = -a;");
    const r = buildGraphs(root + "interpreters/tlr.copy.ts", tlr.entry, { text: edited });
    expect(r.module).toBeUndefined();
    expect(r.violations).toHaveLength(1);
    expect(r.violations[0]).toMatch(/interpreters\/tlr\.copy\.ts:\d+:\d+: coerce with \| 0/);
  });
});

describe("the frontend's graphs, for every interpreter", () => {
  for (const lang of LANGS) {
    it(`${lang.name}: print, parse and print again give the same text`, () => {
      const r = buildGraphs(lang.source, lang.entry, { text: sourceOf(lang) });
      expect(r.violations).toEqual([]);
      const printed = printModule(r.module!);
      const parsed = parseModule(printed);
      expect(printModule(parsed)).toBe(printed);
      verifyModule(parsed);
      expect(parsed.driver).toEqual(r.module!.driver);
      expect(parsed.graphs.map((g) => g.name)).toEqual(r.module!.graphs.map((g) => g.name));
    });

    it(`${lang.name}: every graph verifies after every clean-up pass`, () => {
      // buildGraphs runs runPasses(cleanup) with verifyGraph as the check after each pass and
      // throws "after <pass>: <errors>" on the first pass that leaves a broken graph.
      let r: ReturnType<typeof buildGraphs> | undefined;
      expect(() => {
        r = buildGraphs(lang.source, lang.entry, {
          text: sourceOf(lang),
          verifyEachPass: true,
          roots: lang.constants === undefined ? [] : [lang.constants],
        });
      }).not.toThrow();
      expect(r?.violations).toEqual([]);
      expect(printModule(r!.module!)).toBe(
        generatedOf(lang).slice(generatedOf(lang).indexOf("\n") + 1),
      );
    });
  }
});
