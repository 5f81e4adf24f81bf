//! Brainfuck programs, made like the others from structures (runs, I/O, clears, moves, counted
//! and nested loops, echo loops, runs off the right end of the tape), each with an input: the
//! input is part of the program, and results include the output bytes.

import fc from "fast-check";
import { NEST, mutationsArb, wArb, type Mutation, type Program } from "./program.ts";

/** BF statement trees. Every structure but a run of `<`/`>` leaves the pointer where it found
 *  it, so the lowering knows the pointer statically and (in a clean program) never moves it
 *  left of the tape. */
type BfStmt =
  | { k: "run"; c: number; n: number; w: number }
  | { k: "io"; read: boolean }
  | { k: "clear"; up: boolean }
  | { k: "move"; d: number; copy: boolean; w: number }
  | { k: "loop"; v: number; n: number; w: number; body: BfStmt[] }
  | { k: "echo" }
  | { k: "comment"; text: number[] }
  | { k: "far"; w: number };
interface BfTree {
  main: BfStmt[];
  /** Input bytes for `,`. */
  input: Uint8Array;
  w: number;
}

const BF_COMMANDS = [43, 45, 60, 62, 46, 44, 91, 93]; // + - < > . , [ ]
/** Comment bytes: letters, digits, spaces, newlines, and anything that is not a command. */
const bfCommentByte = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 97, max: 122 }) },
  { weight: 2, arbitrary: fc.constantFrom(32, 10, 9, 35, 48, 49) },
  { weight: 1, arbitrary: fc.nat(255).filter((b) => !BF_COMMANDS.includes(b)) },
);

const bfInputArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(new Uint8Array(0)) },
  {
    weight: 6,
    arbitrary: fc
      .array(
        fc.oneof(
          { weight: 5, arbitrary: fc.integer({ min: 1, max: 9 }) },
          { weight: 2, arbitrary: fc.integer({ min: 32, max: 126 }) },
          { weight: 1, arbitrary: fc.constantFrom(0, 255) },
        ),
        { minLength: 1, maxLength: 6 },
      )
      .map((a) => Uint8Array.from(a)),
  },
);

const bfLeaf: fc.Arbitrary<BfStmt> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      k: fc.constant("run" as const),
      c: fc.nat(3),
      n: fc.integer({ min: 1, max: 12 }),
      w: wArb,
    }),
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant("io" as const), read: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("clear" as const), up: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant("move" as const),
      d: fc.integer({ min: 1, max: 3 }),
      copy: fc.boolean(),
      w: wArb,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant("comment" as const),
      text: fc.array(bfCommentByte, { minLength: 1, maxLength: 6 }),
    }),
  },
);

function bfStmts(depth: number, maxLength: number): fc.Arbitrary<BfStmt[]> {
  if (depth === 0) return fc.array(bfLeaf, { maxLength });
  const inner = bfStmts(depth - 1, 4);
  const stmt: fc.Arbitrary<BfStmt> = fc.oneof(
    { weight: 10, arbitrary: bfLeaf },
    {
      weight: 3,
      arbitrary: fc.record({
        k: fc.constant("loop" as const),
        v: fc.nat(3),
        n: fc.integer({ min: 1, max: 8 }),
        w: wArb,
        body: inner,
      }),
    },
    { weight: depth === NEST ? 1 : 0, arbitrary: fc.constant<BfStmt>({ k: "echo" }) },
    {
      weight: depth === NEST ? 2 : 0,
      arbitrary: fc.record({ k: fc.constant("far" as const), w: wArb }),
    },
  );
  return fc.array(stmt, { maxLength });
}

const bfTree: fc.Arbitrary<BfTree> = fc.record({
  main: bfStmts(NEST, 10),
  input: bfInputArb,
  w: wArb,
});

/** Lowers a BF tree to program text (as bytes). A clean program keeps its brackets balanced,
 *  never moves the pointer left of cell 0 and counts its loops down (a loop counted by a cell
 *  left by earlier code may run 255 times, or forever if its body moves back onto the counter);
 *  a faulty one moves left unchecked, has loops without their decrement and an extra bracket,
 *  and runs some far to the right (off the end of the tape, in about 31,000 steps). */
export function lowerBf(t: BfTree, faulty: boolean): Uint8Array {
  const out: number[] = [];
  const s = (text: string) => {
    for (let i = 0; i < text.length; i++) out.push(text.charCodeAt(i));
  };
  const wild = (w: number) => faulty && w % 4 === 0;
  let p = 0; // the pointer, known statically
  let floor = 0; // a clean program does not move left of here (a loop's counter is left of it)
  const block = (stmts: BfStmt[]): void => {
    for (const st of stmts) {
      switch (st.k) {
        case "run": {
          if (st.c === 0 || st.c === 1) {
            s((st.c === 0 ? "+" : "-").repeat(st.n));
            break;
          }
          const left = st.c === 2;
          const n = left && !wild(st.w) ? Math.max(0, Math.min(st.n, p - floor)) : st.n;
          s((left ? "<" : ">").repeat(n));
          p += left ? -n : n;
          if (p < 0) p = 0; // (the program has stopped there)
          break;
        }
        case "io":
          s(st.read ? "," : ".");
          break;
        case "clear":
          s(st.up ? "[+]" : "[-]");
          break;
        case "move": {
          // Adds the cell to the one d to the right (and copy to the one after), clearing it;
          // wild: to the left, which may be off the tape.
          const there = wild(st.w) ? "<" : ">";
          const back = wild(st.w) ? ">" : "<";
          s(
            `[-${there.repeat(st.d)}+${st.copy ? `${there}+` : ""}${back.repeat(st.d + (st.copy ? 1 : 0))}]`,
          );
          break;
        }
        case "loop": {
          const w = wild(st.w);
          if (st.v === 0 || st.v === 2)
            s(`[-]${"+".repeat(st.n)}`); // counted from n
          else if (st.v === 1) s("+"); // counted by the cell (at least 1)
          // v === 3: counted by the cell as it is (maybe 0: skipped)
          s("[>");
          const at = p;
          p++;
          const saved = floor;
          floor = p;
          block(st.body);
          floor = saved;
          // Back to the counter's right neighbour, then to the counter.
          const d = p - (at + 1);
          s((d > 0 ? "<" : ">").repeat(Math.abs(d)));
          p = at;
          s(w ? "<]" : "<-]");
          break;
        }
        case "echo":
          // Copies the input to the output up to a 0 byte or its end (the cell is cleared
          // before each read, so the end of input reads as 0).
          s("[-],[.[-],]");
          break;
        case "far":
          if (faulty && st.w % 2 === 0) s(`[-]+[${">".repeat(64)}+]`);
          else (s(">".repeat(3)), (p += 3));
          break;
        case "comment":
          out.push(...st.text);
          break;
      }
    }
  };
  block(t.main);
  if (faulty && t.w % 2 === 0) {
    // An extra bracket, somewhere.
    const at = (t.w * 7919) % (out.length + 1);
    out.splice(at, 0, t.w & 4 ? 91 : 93);
  }
  return Uint8Array.from(out);
}

/** Byte mutations of a BF program: mostly commands (a deleted or inserted bracket unbalances
 *  it), sometimes any byte. */
function mutateBf(code: Uint8Array, ms: Mutation[]): Uint8Array {
  const b = Array.from(code);
  const cmd = (x: number) => (x % 5 === 0 ? x : BF_COMMANDS[x % 8]!);
  for (const m of ms) {
    const p = m.pos % (b.length + 1);
    switch (m.kind) {
      case 0:
      case 1:
        if (p < b.length) b[p] = cmd(m.byte);
        break;
      case 2:
        b.splice(p, 1);
        break;
      case 3:
        b.splice(p, 0, cmd(m.byte));
        break;
      default:
        b.length = Math.max(p, b.length >> 1);
    }
  }
  return Uint8Array.from(b);
}

/** Raw BF: mostly commands (few brackets), some comment bytes. */
const bfRawArb: fc.Arbitrary<Uint8Array> = fc
  .array(
    fc.oneof(
      { weight: 12, arbitrary: fc.constantFrom(43, 45, 60, 62, 62, 46, 44) },
      { weight: 2, arbitrary: fc.constantFrom(91, 93) },
      { weight: 2, arbitrary: bfCommentByte },
    ),
    { maxLength: 24 },
  )
  .map((a) => Uint8Array.from(a));

/** BF programs: 55% clean, 15% mutated, 15% faulty, 15% raw bytes; each with its input (the
 *  argument is not used, and is 0). */
export const bfProgramArb: fc.Arbitrary<Program> = fc.oneof(
  {
    weight: 55,
    arbitrary: bfTree.map((t): Program => ({
      code: lowerBf(t, false),
      arg: 0,
      input: t.input,
      origin: "clean",
    })),
  },
  {
    weight: 15,
    arbitrary: fc.record({ t: bfTree, ms: mutationsArb }).map(({ t, ms }): Program => ({
      code: mutateBf(lowerBf(t, false), ms),
      arg: 0,
      input: t.input,
      origin: "mutated",
    })),
  },
  {
    weight: 15,
    arbitrary: bfTree.map((t): Program => ({
      code: lowerBf(t, true),
      arg: 0,
      input: t.input,
      origin: "faulty",
    })),
  },
  {
    weight: 15,
    arbitrary: fc
      .record({ code: bfRawArb, input: bfInputArb })
      .map(({ code, input }): Program => ({ code, arg: 0, input, origin: "raw" })),
  },
);
