// Where residual code comes from (issue 28): every residual operation a specialiser makes
// carries the program position it was made at (the greens of the last merge point its path
// passed: `@0,16` is TL's pc 16) and the interpreter's source line it comes from; both
// specialisers agree on them (`test/generator.test.ts` compares the graphs printed with them),
// and the dumps show them: `--dump residual` as a comment, `--dump asm` and perf's files beside
// each instruction.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { main } from "../generator/cli/main.ts";
import { graphsOf, langs } from "../generator/language.ts";
import { specialise } from "../runtime/specialiser/pe.ts";
import { x64Supported } from "../runtime/x64/memory.ts";

const root = new URL("../", import.meta.url).pathname;

function capture(argv: string[]): Promise<{ status: number; err: string }> {
  let err = "";
  const sink = (f: (s: string) => void) =>
    ({ write: (c: string | Uint8Array) => (f(String(c)), true) }) as NodeJS.WritableStream;
  return main(
    argv,
    sink(() => {}),
    sink((c) => (err += c)),
  ).then((status) => ({ status, err }));
}

describe("positions of residual code", () => {
  it("every operation after the first merge point has its pc and the interpreter's line", () => {
    const tl = langs.tl!;
    const file = "interpreters/programs/loop.tl";
    const code = tl.load(readFileSync(root + file, "latin1"), file);
    const m = graphsOf(tl);
    const r = specialise(m, tl.entry, [
      { k: "a", arr: code, type: "u8[]" },
      { k: "r", o: 0, type: "i32" },
    ]);
    const source = readFileSync(root + "interpreters/tl.ts", "utf8").split("\n");
    const loop = r.module.graphs.find((g) => g.name.startsWith("execute"))!;
    const ops = loop.blocks.flatMap((b) => b.ops);
    expect(ops.length).toBeGreaterThan(0);
    for (const op of ops) {
      // (the pc is a position of the program, the line a line of tl.ts with code on it)
      const pc = Number(/^@0,(\d+)$/.exec(op.at ?? "")?.[1]);
      expect(pc, op.op).toBeGreaterThanOrEqual(0);
      expect(pc).toBeLessThan(code.length);
      expect(source[op.pos!.line - 1]!.trim().length, `line ${op.pos!.line}`).toBeGreaterThan(0);
    }
    // the loop's add is the interpreter's ADD, at the pc of an ADD of the program
    const add = ops.find((o) => o.op === "int_add" && o.args.every((a) => typeof a === "number"))!;
    expect(source[add.pos!.line - 1]).toMatch(/\+/);
  });

  it("terminators and the operations clean-up passes make in others' place carry them too", () => {
    const bf = langs.bf!;
    // (moving and copying cells: stores forwarded to loads, guards of the pointer merged)
    const code = bf.load("++++++++[>++++++++<-]>[->+>+<<]>>[-<<+>>]<<<.>[>>+<<-]>>.", "t.b");
    const r = specialise(graphsOf(bf), bf.entry, [{ k: "a", arr: code, type: "u8[]" }]);
    const made = new Set(["int_and", "uint_lt", "int_lt", "int_ge"]);
    let checked = 0;
    for (const g of r.module.graphs)
      for (const b of g.blocks) {
        // (a block every position shares, that raises an error, has none)
        if (b.term.k !== "raise") expect(b.termAt, `${g.name} ${b.term.k}`).toMatch(/^@0,\d+$/);
        for (const op of b.ops)
          if (made.has(op.op)) (expect(op.at, op.op).toMatch(/^@0,\d+$/), checked++);
      }
    expect(checked).toBeGreaterThan(0);
  });

  it("--dump residual shows them beside each operation", async () => {
    const file = root + "interpreters/programs/loop.tl";
    const r = await capture(["run", "tl", file, "10", "--backend", "pe", "--dump", "residual"]);
    expect(r.status).toBe(0);
    expect(r.err).toMatch(/int_add v\d+, -1 +@\d+:0 +; at @0,\d+/);
    expect(r.err).toMatch(/\n {2}branch v\d+, b\d+, b\d+ +; at @0,\d+\n/);
  });

  it.runIf(x64Supported)("--dump asm shows them beside each instruction", async () => {
    const file = root + "interpreters/programs/loop.tl";
    const r = await capture(["run", "tl", file, "10", "--backend", "x64", "--dump", "asm"]);
    expect(r.status).toBe(0);
    expect(r.err).toMatch(/\badd \w+,0xffffffff +; at @0,\d+ {2}line \d+ {2}v\d+: i32 = int_add/);
  });
});
