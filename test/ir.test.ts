import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseModule } from "../runtime/ir/parse.ts";
import { printModule } from "../runtime/ir/print.ts";
import { verifyModule } from "../runtime/ir/verify.ts";

const dir = new URL("./ir/", import.meta.url);
const strip = (t: string) =>
  t
    .split("\n")
    .filter((l) => !l.startsWith(";"))
    .map((l) => l.replace(/\s+@/, " @").trimEnd())
    .join("\n")
    .trim();

describe("IR text", () => {
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".ir"))) {
    it(`${f} round-trips and verifies`, () => {
      const text = readFileSync(new URL(f, dir), "utf8");
      const m = parseModule(text);
      verifyModule(m);
      const printed = printModule(m);
      expect(printModule(parseModule(printed))).toBe(printed);
      expect(strip(printed)).toBe(strip(text));
    });
  }
});

/** Each case is a small broken graph; the verifier's complete report is golden text. */
const broken: Record<string, string> = {
  "undefined variable": `b0:\n  return v7`,
  "defined twice": `b0(x.0: i32):\n  x.0: i32 = int_add 1, 2\n  return x.0`,
  "use before definition": `b0:\n  v1: i32 = int_add v2, 1\n  v2: i32 = int_add 1, 1\n  return v1`,
  "definition does not dominate": `b0(c.0: bool):\n  branch c.0, b1, b2\nb1:\n  v1: i32 = int_add 1, 1\n  jump b2\nb2:\n  return v1`,
  "jump arity": `b0:\n  jump b1(1, 2)\nb1(x.1: i32):\n  return x.1`,
  "argument type": `b0(c.0: bool):\n  v1: i32 = int_add c.0, 1\n  return v1`,
  "branch on an integer": `b0(x.0: i32):\n  branch x.0, b1, b1\nb1:\n  return 0`,
  "result type": `b0(x.0: i32):\n  v1: i32 = int_lt x.0, 1\n  return x.0`,
  "return type": `b0(c.0: bool):\n  return c.0`,
  "unknown operation": `b0:\n  v1: i32 = int_frob 1, 2\n  return v1`,
  "call to unknown graph": `b0:\n  v1: i32 = call<nowhere> 1\n  return v1`,
  "missing result": `b0:\n  int_add 1, 2\n  return 0`,
  "jump to missing block": `b0:\n  jump b9`,
  "duplicate switch cases": `b0(x.0: i32):\n  switch x.0, 1: b1, 1: b1, default: b1\nb1:\n  return 0`,
  "array type": `b0(x.0: i32):\n  v1: i32 = array_len x.0\n  return v1`,
};

describe("verifier", () => {
  it("reports every broken graph", async () => {
    const report = Object.entries(broken).map(([name, body]) => {
      try {
        verifyModule(parseModule(`func @f -> i32 {\n${body}\n}`));
        return `${name}: accepted`;
      } catch (e) {
        return `${name}: ${(e as Error).message}`;
      }
    });
    expect(report.every((r) => !r.endsWith("accepted"))).toBe(true);
    await expect(report.join("\n") + "\n").toMatchFileSnapshot("golden/verifier.txt");
  });
});
