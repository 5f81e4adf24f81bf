// TLC (interpreters/tlc.ts), PyPy's toy language with cons cells: its assembler's constant pool
// as PyPy's test_tlc.py asserts it, and what the abstract interpreter makes of an interpreter of
// objects: the pool is the program's constants (made by `readPool` before the run, a green
// constant), and the class an instance holds is promoted (`promote(this.cls)`), so a SEND or
// GETATTR looks its name up at compile time. (Every example program on every backend that runs TLC:
// test/cli.test.ts; 1,000 random programs: test/fuzz.test.ts.)

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { backends, runProgram } from "../generator/backends.ts";
import { buildGraphs } from "../generator/frontend/index.ts";
import { langs } from "../generator/language.ts";
import { printGraph, printModule } from "../runtime/ir/print.ts";
import { parseModule } from "../runtime/ir/parse.ts";
import type { Graph } from "../runtime/ir/types.ts";
import { loopBlocks, loopOps } from "./loops.ts";
import { defaultPolicy } from "../runtime/specialiser/policy.ts";
import { Program } from "../runtime/jit.ts";
import { graphsOf } from "../generator/language.ts";
import { NEW } from "../interpreters/tlc.ts";
import { RETURN } from "../interpreters/tl.ts";

const root = new URL("../", import.meta.url).pathname;
const tlc = langs.tlc!;
const load = (text: string) => tlc.load(text, "t.tlc");

describe("TLC's assembler", () => {
  it("puts a class of the pool before the code (PyPy's test_constant_pool)", () => {
    const code = load("NEW foo,bar,meth=f\nf:\nRETURN");
    // one class: attributes foo (0) and bar (1), method meth (2) at address 2 of the code
    expect(Array.from(code)).toEqual([1, 2, 0, 1, 1, 2, 2, 0, NEW, 0, RETURN]);
  });

  it("shares a name between attributes, GETATTR and SEND, and reports a missing label", () => {
    const code = load("NEW x,get=g\nGETATTR x\nSEND get/0\ng:\nRETURN");
    expect(Array.from(code.subarray(0, 7))).toEqual([1, 1, 0, 1, 1, 7, 0]);
    expect(() => load("NEW x,get=nowhere")).toThrow("t.tlc:1: unknown label 'nowhere'");
  });

  it("writes a program's bytes as they are after .program (the disassembler's form)", () => {
    expect(Array.from(load(".program\n.byte 0\nRETURN"))).toEqual([0, RETURN]);
  });
});

/** The residual graphs `pe` makes for a program (continuations included), and as text. */
async function residual(
  file: string,
  arg: number,
  policy = defaultPolicy,
): Promise<{ text: string; value: number; graphs: Graph[] }> {
  const code = load(readFileSync(root + file, "utf8"));
  const graphs: Graph[] = [];
  const jit = new Program(graphsOf(tlc), tlc.entry, code, {
    target: "l3",
    policy,
    constants: tlc.constants,
    onGraphs: (gs) => graphs.push(...gs),
  });
  const s = jit.run(arg);
  if (s.k !== "return") throw new Error(JSON.stringify(s));
  return { text: graphs.map((g) => printGraph(g)).join("\n"), value: s.value as number, graphs };
}

describe("TLC specialised", () => {
  it("a SEND to an object of a known class looks no method up at run time", async () => {
    const r = await residual("interpreters/programs/accumulator.tlc", 10);
    expect(r.value).toBe(45);
    // the pool is made before the run (`readPool`, the descriptor's constants) and is a
    // constant: no map is made, filled or read at run time
    for (const op of ["new_map", "map_set", "map_get", "map_has"]) expect(r.text).not.toContain(op);
  });

  it("a loop summing boxed integers has no allocation, no class test and no stack", async () => {
    const r = await residual("interpreters/programs/sum.tlc", 100);
    expect(r.value).toBe(4950);
    // The boxes (IntObj), the frame and its stack are virtual in the loop: what is left is
    // the two additions, n's value (n's class was promoted once, before the loop) and the test.
    const ops = loopOps(r.graphs).map((o) => o.op);
    expect(ops.length).toBeGreaterThan(0);
    expect(ops.filter((op) => /^(new_|list_|map_|class_of|set_field)/.test(op))).toEqual([]);
    const loop = r.graphs.find((g) => loopBlocks(g).length)!;
    await expect(printGraph(loop)).toMatchFileSnapshot("golden/residual/sum.tlc.ir");
  });

  it("a polymorphic SEND site has one class guard per class seen", async () => {
    const r = await residual("interpreters/programs/poly.tlc", 10);
    expect(r.value).toBe(55);
    // The items' classes are promoted (`promote(this.cls)`): in a loop, an item's class object
    // is tested against each class the run had shown there when the loop was made, once each
    // (the loop made after B's first item tests A's and B's).
    const counts = r.graphs.flatMap((g) => {
      const guards = loopOps([g]).filter(
        (o) => o.op === "ref_eq" && typeof o.args[1] === "object" && o.args[1].k === "obj",
      );
      const pairs = guards.map((o) => `${String(o.args[0])}=${JSON.stringify(o.args[1])}`);
      expect(new Set(pairs).size).toBe(pairs.length);
      const perValue = new Map<unknown, number>();
      for (const o of guards) perValue.set(o.args[0], (perValue.get(o.args[0]) ?? 0) + 1);
      return [...perValue.values()];
    });
    expect(Math.max(...counts)).toBe(2);
    // and no method is looked up at run time
    for (const op of ["map_get", "map_has"]) expect(r.text).not.toContain(op);
  });

  it("gives what interp gives, with the classes of many instances promoted", async () => {
    for (const arg of [1, 10, 12, 15, 20, 27, 30, 40]) {
      const code = load(readFileSync(root + "interpreters/programs/binarytree.tlc", "utf8"));
      const want = await runProgram(backends.interp!, tlc, code, arg);
      const got = await runProgram(backends.pe!, tlc, code, arg);
      expect([got.value, got.error, got.stats.fallbacks]).toEqual([want.value, want.error, 0]);
    }
  });
});

describe("the program's constants (the pool, made before the run)", () => {
  it("a malformed pool is the same interpreter error on every backend that runs TLC", async () => {
    // three classes announced, one byte of the first
    const code = load(".program\n.byte 3\n.byte 1");
    for (const b of Object.keys(backends)) {
      const r = await runProgram(backends[b]!, tlc, code, 0);
      expect([b, r.error]).toEqual([b, "bad constant pool"]);
    }
  });

  it("the entry runs no decoding: the pool's classes and tables are constants", async () => {
    const r = await residual("interpreters/programs/binarytree.tlc", 15);
    expect(r.value).toBe(1);
    for (const op of ["new_map", "map_set", "get_field<Pool.", "get_field<Class."])
      expect(r.text).not.toContain(op);
  });
});

describe("promote of a reference", () => {
  const source = (cls: string) =>
    [
      'import { promote } from "../runtime/hints.ts";',
      cls,
      "export function f(n: number): number {",
      "  const k = new K(n);",
      "  return promote(k).v;",
      "}",
    ].join("\n") + "\n";

  it("takes an object of an immutable class", () => {
    const r = buildGraphs(`${root}interpreters/promote-ref.ts`, "f", {
      text: source(
        "class K {\n  readonly v: number;\n  constructor(v: number) {\n    this.v = v;\n  }\n}",
      ),
    });
    expect(r.violations).toEqual([]);
    expect(printModule(r.module!)).toMatch(/ref = promote /);
  });

  it("refuses one whose fields may change, at its position", () => {
    const r = buildGraphs(`${root}interpreters/promote-ref.ts`, "f", {
      text: source("class K {\n  v: number;\n  constructor(v: number) {\n    this.v = v;\n  }\n}"),
    });
    expect(r.violations).toEqual([
      expect.stringMatching(
        /promote-ref\.ts:10:10: promote takes an integer or an immutable object: 'K\.v' is not readonly$/,
      ),
    ]);
  });
});

/** The tiered JITs: compiled code on L3 (`jit-graph`) and in machine code (`jit`, where the
 *  host runs it), each beside the first tier. */
const TIERED = ["jit-graph", "jit"].filter((b) => backends[b]);

describe("one identity across the tiers (compiled code on L3 and in machine code beside the first tier)", () => {
  // An instance made in the first tier; a method whose loop gets hot (compiled code) adds the
  // instance's `step` to its `x` n times, storing a new integer object each trip; between
  // rounds the first tier multiplies `step` by 10; at the end the first tier reads `x` and calls
  // its methods (`intO`) on an integer object that compiled code made.
  const shared = `
        NEW x,step,bump=bump
        PICK 0
        PUSH 0
        SETATTR x
        PICK 0
        PUSH 1
        SETATTR step
        PUSH 3            # obj k: three rounds, in the first tier
outer:
        PICK 0
        BR_COND round
        POP
        GETATTR x
        RETURN
round:
        PICK 1
        PUSHARG
        SEND bump/1       # compiled code changes obj.x
        POP
        PICK 1
        PICK 2
        GETATTR step
        PUSH 10
        MUL
        SETATTR step      # the first tier changes obj.step
        PUSH 1
        SUB
        BR outer
bump:                     # self n
        PUSHARGN 1
loop:
        PICK 0
        BR_COND body
        NIL
        RETURN
body:
        PUSHARG
        PICK 0
        GETATTR x
        PUSHARG
        GETATTR step
        ADD
        SETATTR x         # self.x = self.x + self.step (a new object, stored)
        PUSH 1
        SUB
        BR loop`;

  it("a first-tier caller sees what compiled code changed, and compiled code what the first tier changed", async () => {
    const code = load(shared);
    for (const n of [500, 2000]) {
      const want = await runProgram(backends.interp!, tlc, code, n);
      expect(want.value).toBe(111 * n);
      for (const b of TIERED) {
        const got = await runProgram(backends[b]!, tlc, code, n, { tiers: { threshold: 50 } });
        expect([b, got.value, got.error]).toEqual([b, want.value, want.error]);
        // compiled code ran the loop, entered from the first tier in each round
        expect(got.stats.entered).toBeGreaterThanOrEqual(3);
        expect(got.stats.fallbacks ?? 0).toBe(0);
      }
    }
  });
});

describe("portal calls with virtual arguments (runtime/specialiser/portal-args.ts)", () => {
  // Each trip makes an object o, keeps it on the stack, and sends it to a method of another new
  // object, which sets o.v; the caller reads o.v after the call. The argument list and the
  // receiver go to the callee virtual; o, which the caller still holds, must be one object for
  // both (forced and passed as a reference), or the caller would read its own copy.
  const program = `
        PUSH 0
        PUSHARG
loop:
        PICK 0
        BR_COND body
        POP
        RETURN
body:
        NEW v
        PICK 0
        NEW set=set
        SWAP
        PICK 3
        SEND set/2        # r.set(o, n): o.v = 2n
        POP
        GETATTR v
        ROLL 3
        ADD
        SWAP
        PUSH 1
        SUB
        BR loop
set:
        PUSHARGN 1
        PUSHARGN 2
        PUSH 2
        MUL
        SETATTR v
        NIL
        RETURN`;

  it("a method changing an object its caller still holds: the caller sees the change, on every backend", async () => {
    const code = load(program);
    for (const n of [0, 1, 5, 3000]) {
      const want = await runProgram(backends.interp!, tlc, code, n);
      expect(want.value).toBe(n * (n + 1));
      for (const b of Object.keys(backends))
        for (const threshold of [1, 5]) {
          const got = await runProgram(backends[b]!, tlc, code, n, {
            tiers: { threshold, warmup: 0 },
          });
          expect([b, n, threshold, got.value, got.error]).toEqual([
            b,
            n,
            threshold,
            want.value,
            want.error,
          ]);
        }
    }
  });

  it.runIf(backends.jit)(
    "a loop through exits with more than six values does not grow the native stack (jit)",
    async () => {
      // accumulator's loop on jit closes through exits that pass the frame's unpacked stack:
      // past the sixth in the state buffer, a tail call each (an ordinary call each overflowed
      // the native stack, and the run was replayed on the interpreter).
      const code = load(readFileSync(root + "interpreters/programs/accumulator.tlc", "utf8"));
      const n = 600_000;
      const got = await runProgram(backends.jit!, tlc, code, n);
      expect(got.value).toBe(((n * (n - 1)) / 2) | 0);
      expect(got.stats.replayed).toBeUndefined();
      expect(got.stats.entered).toBeGreaterThan(0);
    },
  );

  it("the argument list of a SEND made in the loop is never allocated: the callee takes its items", async () => {
    // (portal calls residual, as they are where they cannot be inlined)
    const policy = { ...defaultPolicy, maxInlinedSteps: 0 };
    const r = await residual("interpreters/programs/accumulator.tlc", 100, policy);
    expect(r.value).toBe(4950);
    // In the loops, a call per SEND and no list made for it (the receiver, the accumulator,
    // is allocated once before the loop: its caller holds it).
    const ops = loopOps(r.graphs).map((o) => o.op);
    expect(ops).toContain("call");
    expect(ops.filter((op) => op === "new_list")).toEqual([]);
  });
});

describe("portal calls inlined (PyPy's inlining of a recursive portal call into the trace)", () => {
  it("a SEND in a loop to a short method is inlined: its frame, lists and boxes are never made", async () => {
    const r = await residual("interpreters/programs/accumulator.tlc", 100);
    expect(r.value).toBe(4950);
    // The accumulator object itself stays virtual: its value is the loop's variable.
    const ops = loopOps(r.graphs).map((o) => o.op);
    expect(ops.length).toBeGreaterThan(0);
    expect(
      ops.filter((op) => /^(call|new_|list_|map_|class_of|get_field|set_field)/.test(op)),
    ).toEqual([]);
  });

  it("a recursive call stays residual, and a method looping longer than the bound is outlined where it passes it", async () => {
    // binarytree.tlc: insert and search SEND themselves (in the portal's graphs, a call of the
    // portal: an inlined method's own recursive SEND is residual, not inlined again)
    const tree = await residual("interpreters/programs/binarytree.tlc", 15);
    expect(tree.value).toBe(1);
    const calls = (graphs: Graph[]) =>
      graphs
        .filter((g) => g.name.startsWith("interpEval"))
        .flatMap((g) => g.blocks.flatMap((b) => b.ops))
        .filter((o) => o.op === "call" && String(o.imm).startsWith("interpEval"));
    expect(calls(tree.graphs).length).toBeGreaterThan(0);
    // a method whose loop runs past maxInlinedSteps merge points: the rest is a residual call of
    // the portal from its merge point (its key in the graph's name), and the answer is interp's
    const short = { ...defaultPolicy, maxInlinedSteps: 3 };
    const acc = await residual("interpreters/programs/accumulator.tlc", 100, short);
    expect(acc.value).toBe(4950);
    expect(calls(acc.graphs).length).toBeGreaterThan(0);
    expect(calls((await residual("interpreters/programs/accumulator.tlc", 100)).graphs)).toEqual(
      [],
    );
  });
});

describe("the frame virtualizable (PyPy's virtualizables): a tier entry unpacks it", () => {
  it("a loop summing boxed integers entered from the first tier is pe's loop, the frame written back once", async () => {
    const code = load(readFileSync(root + "interpreters/programs/sum.tlc", "utf8"));
    let text = "";
    const log = { write: (s: string) => ((text += s), true) } as NodeJS.WritableStream;
    // (past the default warm-up, 2,000,000 passes: the loop is warm whole when it gets hot)
    const n = 400_000;
    const got = await runProgram(backends["jit-graph"]!, tlc, code, n, { dump: "residual", log });
    expect(got.value).toBe(((n * (n - 1)) / 2) | 0);
    // Entries from the first tier's states: the frame and its stack unpacked (the items'
    // classes part of the entry's key), the loop made inside the entry and run there (not
    // entered again per trip), the frame written back where the loop ends.
    expect(Number(got.stats.entered) + Number(got.stats.linked)).toBeLessThan(50);
    expect(got.stats.writeBacks).toBeGreaterThan(0);
    const classes = printModule(graphsOf(tlc))
      .split("\n")
      .filter((l) => l.startsWith("class "));
    const graphs = parseModule([...classes, text].join("\n")).graphs;
    const ops = loopOps(graphs).map((o) => o.op);
    expect(ops.length).toBeGreaterThan(0);
    expect(ops.filter((op) => /^(new_|list_|map_|class_of|set_field)/.test(op))).toEqual([]);
    expect(ops.filter((op) => op === "int_add")).toHaveLength(2);
    // The argument list is only read: clean, it is written back nowhere (the stack is).
    const all = graphs.flatMap((g) => g.blocks.flatMap((b) => b.ops));
    const args = new Set(all.filter((o) => o.imm === "Frame.args").map((o) => o.dst));
    const writes = all.filter((o) => /^list_(set|push|pop)/.test(o.op));
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.filter((o) => args.has(o.args[0] as number))).toEqual([]);
  });

  it("positions whose stacks hold objects of several classes, entered at every threshold, give interp's answer", async () => {
    // (An entry's key holds the classes of the stack's items: each state gets the entry made
    // for its classes, the frame written back at every exit.)
    for (const file of ["poly.tlc", "conslist.tlc", "accumulator.tlc", "binarytree.tlc"]) {
      const code = load(readFileSync(root + "interpreters/programs/" + file, "utf8"));
      for (const n of [30, 300]) {
        const want = await runProgram(backends.interp!, tlc, code, n);
        for (const [b, threshold] of TIERED.flatMap((b) =>
          [1, 7, 100].map((t) => [b, t] as const),
        )) {
          const got = await runProgram(backends[b]!, tlc, code, n, {
            tiers: { threshold, warmup: 0 },
          });
          expect([b, file, n, threshold, got.value, got.error]).toEqual([
            b,
            file,
            n,
            threshold,
            want.value,
            want.error,
          ]);
        }
      }
    }
  });
});
