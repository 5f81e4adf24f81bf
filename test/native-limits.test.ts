// Machine code's own limits are never what the user sees (generator/backends.ts: a run that
// exhausts compiled code's stack or arena is replayed on the interpreter). Deep recursion gives
// the interpreter's own error ("call depth exceeded") on every backend, whatever the size of a
// frame; a replayed run reads its input and writes its output once.

import { describe, expect, it } from "vitest";
import { backends, runProgram, type Backend } from "../generator/backends.ts";
import { langs } from "../generator/language.ts";
import { readByte, step, writeByte } from "../runtime/hints.ts";
import { NativeLimit } from "../runtime/x64/native.ts";

const BACKENDS = Object.keys(backends);
const tl = langs.tl!;
const bf = langs.bf!;

/** TL: `f` keeps `n` copies of its argument on the stack across a recursive call, then adds them
 *  up. The call's offset is a signed byte, so past ~120 values the code reaches `f` through
 *  a chain of hops, each within range of the next. */
function deepRecursion(n: number): string {
  const lines = ["CALL f", "RETURN", "f:"];
  let back = "f";
  for (let pushed = 0, k = 0; pushed < n; k++) {
    const m = Math.min(90, n - pushed);
    lines.push(...Array<string>(m).fill("PUSHARG"));
    pushed += m;
    if (n <= 120) continue;
    lines.push("PUSH 1", `BR_COND over${k}`, `s${k}: PUSH 1`, `BR_COND ${back}`, `over${k}: NOP`);
    back = `s${k}`;
  }
  if (n <= 120) lines.push("CALL f");
  else
    lines.push("CALL t", "PUSH 1", "BR_COND after", "t: PUSH 1", `BR_COND ${back}`, "after: NOP");
  lines.push(...Array<string>(n).fill("ADD"), "RETURN");
  return lines.join("\n") + "\n";
}

describe("deep recursion ends in the interpreter's own error", () => {
  // 120 values a frame: the report's case (exit 3 on jit with a 2 MB native stack); 3,000: a
  // stack array per call level larger than compiled code's arena holds at depth 1,000.
  for (const n of [120, 125, 3000])
    it.each(BACKENDS)(
      `%s: ${n} values a frame`,
      async (b) => {
        const code = tl.load(deepRecursion(n), `deep${n}.tl`);
        const r = await runProgram(backends[b]!, tl, code, 5);
        expect(r.error).toBe("call depth exceeded");
      },
      120_000,
    );

  it("the same program without the recursion's end gives its value", async () => {
    const code = tl.load(
      deepRecursion(120).replace("CALL f\nRETURN\nf:", "PUSH 0\nRETURN\nf:"),
      "x.tl",
    );
    for (const b of BACKENDS) expect((await runProgram(backends[b]!, tl, code, 5)).value).toBe(0);
  });
});

describe("a replayed run", () => {
  // A backend that reads and writes some bytes, then runs out of a native resource.
  const failing = (reads: number, steps = 0): Backend => ({
    name: "failing",
    dumps: [],
    native: true,
    run() {
      for (let i = 0; i < steps; i++) step();
      for (let i = 0; i < reads; i++) writeByte(readByte());
      throw new NativeLimit("x64: native stack exhausted (recursion too deep)");
    },
  });
  const cat = bf.load(",[.[-],]", "cat.b"); // at the end of input "," leaves the cell as it is
  const input = new TextEncoder().encode("the quick brown fox");

  it.each([0, 3, 19])("reads its input and writes its output once (%i bytes before)", async (n) => {
    const r = await runProgram(failing(n), bf, cat, 0, { input });
    expect(new TextDecoder().decode(r.output)).toBe("the quick brown fox");
    expect(r.stats.replayed).toMatch(/native stack exhausted/);
  });

  it("spends the fuel from the start again", async () => {
    const fuel = 7;
    const direct = await runProgram(backends.interp!, bf, cat, 0, { input, fuel });
    const replayed = await runProgram(failing(0, 5), bf, cat, 0, { input, fuel });
    expect(replayed.error).toBe("step limit exceeded");
    expect([replayed.error, replayed.output]).toEqual([direct.error, direct.output]);
  });
});
