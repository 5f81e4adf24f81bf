// A stale build product is never used (runtime/stamp.ts). The scenario of the report: a copy of
// the project whose TLR interpreter returns `a + 1`, with generated/ left as it was. `interp`
// runs the edited source and says 50; every backend that reads generated/ must refuse with exit 2
// naming `futamura generate`, never answer 49 from the old interpreter. Then, once the copy's
// generated/ is remade, every backend agrees on 50.

import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "../generator/backends.ts";
import { FUTAMURA_VERSION, StaleBuild, checkStamp, stampLine } from "../runtime/stamp.ts";

const root = new URL("../", import.meta.url).pathname;
const BACKENDS = Object.keys(backends);
let copy = "";

function futamura(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(copy, "generator/futamura.mjs"), ...argv],
      { cwd: copy, timeout: 120_000 },
      (e, out, err) => {
        if (e && typeof e.code !== "number") return reject(e);
        resolve({ code: e ? (e.code as number) : 0, out, err });
      },
    );
  });
}

beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), "futamura-stale-"));
  for (const d of ["generator", "runtime", "interpreters", "generated", "bench"])
    cpSync(join(root, d), join(copy, d), { recursive: true });
  for (const f of ["package.json", "tsconfig.json"]) cpSync(join(root, f), join(copy, f));
  symlinkSync(join(root, "node_modules"), join(copy, "node_modules"));
  const tlr = join(copy, "interpreters/tlr.ts");
  const text = readFileSync(tlr, "utf8");
  const edited = text.replace(
    "case RETURN_A:\n        return a;",
    "case RETURN_A:\n        return (a + 1) | 0;",
  );
  expect(edited).not.toBe(text);
  writeFileSync(tlr, edited);
});
afterAll(() => rmSync(copy, { recursive: true, force: true }));

const SQUARE = "interpreters/programs/square.tlr";

describe("a build product made from another source", () => {
  it("interp runs the edited interpreter", async () => {
    expect(await futamura("run", "tlr", SQUARE, "7", "--backend", "interp")).toEqual({
      code: 0,
      out: "50\n",
      err: "",
    });
  });

  it.each(BACKENDS.filter((b) => b !== "interp"))("%s refuses it with exit 2", async (b) => {
    const r = await futamura("run", "tlr", SQUARE, "7", "--backend", b);
    expect(r.out).toBe("");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /^\S*generated\/tlr\.(graphs|ts|tier1\.ts) was made from another version of interpreters\/tlr\.ts \(sha256 [0-9a-f]{16}, now [0-9a-f]{16}\); run `futamura generate` to remake it\n$/,
    );
  });

  it("is remade by futamura generate, and then every backend agrees", async () => {
    expect((await futamura("generate")).code).toBe(0);
    for (const b of BACKENDS)
      expect([b, await futamura("run", "tlr", SQUARE, "7", "--backend", b)]).toEqual([
        b,
        { code: 0, out: "50\n", err: "" },
      ]);
  }, 300_000);
});

describe("a stamp", () => {
  const product = join(root, "generated/tlr.graphs");
  const source = readFileSync(join(root, "interpreters/tlr.ts"), "utf8");

  it("matching the source passes", () => {
    expect(() => checkStamp(product, stampLine(";", "interpreters/tlr.ts", source))).not.toThrow();
  });

  it("of another futamura, or none, is refused", () => {
    const other = `${product}.other`;
    const line = stampLine(";", "interpreters/tlr.ts", source).replace(FUTAMURA_VERSION, "0.0.1");
    expect(() => checkStamp(other, line)).toThrow(StaleBuild);
    expect(() => checkStamp(other, line)).toThrow(/made by futamura 0.0.1, this is/);
    expect(() => checkStamp(`${product}.none`, "; hand-written")).toThrow(/carries no build stamp/);
  });
});
