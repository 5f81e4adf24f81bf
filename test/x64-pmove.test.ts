// The parallel-move resolver, exhaustively (QBE's tools/pmov.c idea): every parallel move over a
// few registers and stack slots, with fan-out and constants, is sequentialised, simulated, and
// checked to give every destination its source's old value and leave every other location alone.

import { describe, expect, it } from "vitest";
import type { Reg } from "../runtime/x64/encode.ts";
import { reg, locKey, isLoc, type Loc, type Move } from "../runtime/x64/loc.ts";
import { sequentialise } from "../runtime/x64/pmove.ts";
import type { MConst } from "../runtime/x64/mir.ts";

const SCRATCH = reg(11 as Reg);
const CONST: MConst = { k: "imm", v: 42 };

/** Every parallel move over `locs`: each location is not written, or written from one of `locs`
 *  (itself included) or a constant. */
function* allMoves(locs: Loc[]): Generator<Move[]> {
  const choices = locs.length + 2; // nothing, each location, the constant
  const total = choices ** locs.length;
  for (let code = 0; code < total; code++) {
    const moves: Move[] = [];
    let c = code;
    for (const dst of locs) {
      const pick = c % choices;
      c = Math.floor(c / choices);
      if (pick === 0) continue;
      moves.push({ dst, src: pick === choices - 1 ? CONST : locs[pick - 1]!, w: 32 });
    }
    yield moves;
  }
}

/** Runs `seq` on locations holding their own names; the final contents. */
function simulate(locs: Loc[], seq: Move[]): Map<string, string> {
  const state = new Map(locs.map((l) => [locKey(l), locKey(l)]));
  state.set(locKey(SCRATCH), "junk");
  for (const m of seq) {
    const v = isLoc(m.src) ? state.get(locKey(m.src)) : `#${m.src.v}`;
    if (v === undefined) throw new Error(`read of unknown ${JSON.stringify(m.src)}`);
    state.set(locKey(m.dst), v);
  }
  return state;
}

/** What is wrong with the sequence for `moves` (checked by simulation), or "". Plain code rather
 *  than `expect` in the inner loop: there are tens of thousands of cases. */
function problem(locs: Loc[], moves: Move[]): string {
  const seq = sequentialise(moves, SCRATCH);
  const state = simulate(locs, seq);
  const written = new Map(
    moves.map((m) => [locKey(m.dst), isLoc(m.src) ? locKey(m.src) : `#${m.src.v}`]),
  );
  const show = () =>
    `${moves.map((m) => `${locKey(m.dst)} <- ${isLoc(m.src) ? locKey(m.src) : m.src.v}`).join(", ")}`;
  for (const l of locs) {
    const want = written.get(locKey(l)) ?? locKey(l);
    if (state.get(locKey(l)) !== want)
      return `${show()}: ${locKey(l)} holds ${state.get(locKey(l))}, not ${want}`;
  }
  if (seq.some((m) => locKey(m.dst) !== locKey(SCRATCH) && !written.has(locKey(m.dst))))
    return `${show()}: writes a location it should not`;
  // No more moves than needed: each real move once, plus one save per cycle (cycles have >= 2).
  const real = moves.filter((m) => !isLoc(m.src) || locKey(m.src) !== locKey(m.dst)).length;
  if (seq.length > real + Math.floor(real / 2)) return `${show()}: ${seq.length} moves`;
  return "";
}

describe("parallel moves", () => {
  const regs = (n: number) => Array.from({ length: n }, (_, i) => reg(i as Reg));
  const slots = (n: number) => Array.from({ length: n }, (_, i): Loc => ({ k: "slot", n: i }));

  for (const [name, locs] of [
    ["3 registers", regs(3)],
    ["4 registers", regs(4)],
    ["3 registers and 2 stack slots", [...regs(3), ...slots(2)]],
    [
      "2 registers, a stack slot, incoming and outgoing arguments",
      [...regs(2), { k: "slot", n: 0 }, { k: "in", n: 0 }, { k: "out", n: 0 }] as Loc[],
    ],
  ] as const) {
    it(`every parallel move over ${name}`, () => {
      let count = 0;
      const problems: string[] = [];
      for (const moves of allMoves([...locs])) {
        const p = problem([...locs], moves);
        if (p) problems.push(p);
        count++;
      }
      expect(problems.slice(0, 5)).toEqual([]);
      expect(count).toBe((locs.length + 2) ** locs.length);
    });
  }

  it("every permutation of 5 registers (cycles of every shape)", () => {
    const locs = regs(5);
    const perms = (xs: number[]): number[][] =>
      xs.length <= 1
        ? [xs]
        : xs.flatMap((x, i) =>
            perms([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]),
          );
    const all = perms([0, 1, 2, 3, 4]);
    expect(all.length).toBe(120);
    const problems = all
      .map((p) =>
        problem(
          locs,
          p.map((s, d) => ({ dst: locs[d]!, src: locs[s]!, w: 64 as const })),
        ),
      )
      .filter((p) => p);
    expect(problems).toEqual([]);
  });

  it("uses the scratch only for cycles", () => {
    const [a, b, c] = regs(3) as [Loc, Loc, Loc];
    const chain = sequentialise(
      [
        { dst: b, src: a, w: 32 },
        { dst: c, src: b, w: 32 },
      ],
      SCRATCH,
    );
    expect(chain.map((m) => locKey(m.dst))).toEqual([locKey(c), locKey(b)]);
    const swap = sequentialise(
      [
        { dst: a, src: b, w: 32 },
        { dst: b, src: a, w: 32 },
      ],
      SCRATCH,
    );
    expect(swap.length).toBe(3);
    expect(swap.some((m) => locKey(m.dst) === locKey(SCRATCH))).toBe(true);
  });

  it("refuses a location written twice, and the scratch as a party", () => {
    const [a, b] = regs(2) as [Loc, Loc];
    expect(() =>
      sequentialise(
        [
          { dst: a, src: b, w: 32 },
          { dst: a, src: CONST, w: 32 },
        ],
        SCRATCH,
      ),
    ).toThrow(/twice/);
    expect(() => sequentialise([{ dst: a, src: SCRATCH, w: 32 }], SCRATCH)).toThrow(/scratch/);
  });
});
