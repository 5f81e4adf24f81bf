//! The differential fuzzing harness: random TLR, TL and Brainfuck programs, run on `interp` and on other
//! backends, which must give exactly what `interp` gives (the value, or the error message).
//!
//! Programs come from fast-check arbitraries, so a run is reproducible from its seed: program
//! `index` of seed `seed` is the `index`-th value `fc.sample` draws (it does not depend on the
//! count). There are four kinds of program (`origin`):
//!   clean    well-formed: an abstract statement tree (straight-line code, counted loops,
//!            forward conditionals, TL subroutine calls) lowered with every operand repaired
//!            into range, stacks balanced and registers allocated; most complete with a value,
//!            some run out of fuel (loops counted by the argument)
//!   mutated  a clean program with one or two byte mutations (replace, insert, delete, truncate)
//!   faulty   the same trees lowered with some repairs skipped: raw register and stack
//!            operands, raw branch targets, unguarded DIV, recursive CALLs, growing loops,
//!            missing ALLOCATE or RETURN
//!   raw      biased random bytes (mostly valid opcodes and small operands)
//! in the proportions 55 / 15 / 15 / 15.
//! Brainfuck programs (`bf`) are made the same way from structures (runs, I/O, clears, moves,
//! counted and nested loops, echo loops, runs off the right end of the tape), each with an
//! input; the input is part of the program, and results include the output bytes.
//!
//! `runOne` runs one program on every backend and is the unit that could move to a child
//! process (for backends that may crash the process): its inputs and result are plain data.
//! A failure names its seed and index (`futamura fuzz <lang> --seed S --index I` prints that
//! program as a file `futamura run` takes), its bytes and disassembly, and for the first few
//! a minimised program (greedy deletion of byte chunks) that still disagrees.

import fc from "fast-check";
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { langs, type Lang } from "../interpreters/lang.ts";
import { STEP_LIMIT } from "../runtime/hints.ts";
import { backends as registry, runProgram, type Backend } from "./backends.ts";
import { UsageError } from "./cli.ts";

// ---------------------------------------------------------------------------------------------
// Instruction sets (as numbered in interpreters/tlr.ts and tl.ts; test/fuzz.test.ts checks them
// against the assembler).

/** Mnemonic and whether it takes a one-byte operand, indexed by opcode. */
type OpTable = Record<number, readonly [string, boolean]>;

export const TLR_OPS: OpTable = {
  1: ["MOV_A_R", true],
  2: ["MOV_R_A", true],
  3: ["JUMP_IF_A", true],
  4: ["SET_A", true],
  5: ["ADD_R_TO_A", true],
  6: ["RETURN_A", false],
  7: ["ALLOCATE", true],
  8: ["NEG_A", false],
};

export const TL_OPS: OpTable = {
  1: ["NOP", false],
  2: ["PUSH", true],
  3: ["POP", false],
  4: ["SWAP", false],
  5: ["ROLL", true],
  6: ["PICK", true],
  7: ["PUT", true],
  8: ["ADD", false],
  9: ["SUB", false],
  10: ["MUL", false],
  11: ["DIV", false],
  12: ["EQ", false],
  13: ["NE", false],
  14: ["LT", false],
  15: ["LE", false],
  16: ["GT", false],
  17: ["GE", false],
  18: ["BR_COND", true],
  19: ["BR_COND_STK", false],
  20: ["CALL", true],
  21: ["RETURN", false],
  22: ["PUSHARG", false],
  23: ["INVALID", false],
};

const OPS: Record<string, OpTable> = { tlr: TLR_OPS, tl: TL_OPS };

/** Opcode of a mnemonic. */
function op(table: OpTable, name: string): number {
  for (const [k, [n]] of Object.entries(table)) if (n === name) return Number(k);
  throw new Error(`no opcode ${name}`);
}

/** `code` as assembler text that `lang.load` turns back into exactly `code`: one instruction a
 *  line with its address (and a branch's target) in a comment; bytes that are no instruction
 *  (an unknown opcode, an instruction cut short by the end) as `.byte`. A Brainfuck program is
 *  its own text (its bytes as latin1). */
export function disassemble(lang: string, code: Uint8Array): string {
  if (lang === "bf") return String.fromCharCode(...code); // the program text (latin1)
  const table = OPS[lang];
  if (!table) throw new Error(`no instruction set for ${lang}`);
  const lines: string[] = [];
  for (let pc = 0; pc < code.length;) {
    const at = pc;
    const b = code[pc++]!;
    const info = table[b];
    let text: string;
    let note = "";
    if (!info) {
      text = `.byte ${b}`;
      note = " unknown opcode";
    } else if (!info[1]) {
      text = info[0];
    } else if (pc >= code.length) {
      text = `.byte ${b}`;
      note = ` ${info[0]} without its operand`;
    } else {
      const raw = code[pc++]!;
      const v = lang === "tl" ? (raw << 24) >> 24 : raw;
      text = `${info[0]} ${v}`;
      if (info[0] === "JUMP_IF_A") note = ` -> ${v}`;
      if (info[0] === "BR_COND" || info[0] === "CALL") note = ` -> ${pc + v}`;
    }
    lines.push(`${text.padEnd(16)}# ${at}${note}`);
  }
  return lines.join("\n") + (lines.length ? "\n" : "");
}

export function hex(code: Uint8Array): string {
  return Array.from(code, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

// ---------------------------------------------------------------------------------------------
// A small assembler with symbolic labels, for lowering statement trees.

type Fixup = { label: number; kind: "abs" | "rel" | "stk" };

class Asm {
  private items: (number | Fixup)[] = [];
  private labels: number[] = [];

  emit(...bytes: number[]): void {
    for (const b of bytes) this.items.push(b & 255);
  }
  label(): number {
    return this.labels.push(-1) - 1;
  }
  place(l: number): void {
    this.labels[l] = this.items.length;
  }
  /** An operand naming label `l`: its address ("abs", TLR), its offset from the byte after
   *  the operand ("rel", TL BR_COND and CALL), or from the byte after the BR_COND_STK that
   *  follows this PUSH operand ("stk"). Offsets that do not fit a byte wrap. */
  ref(l: number, kind: Fixup["kind"]): void {
    this.items.push({ label: l, kind });
  }
  done(): Uint8Array {
    return Uint8Array.from(this.items, (it, at) => {
      if (typeof it === "number") return it;
      const addr = this.labels[it.label]!;
      return (
        (it.kind === "abs" ? addr : it.kind === "rel" ? addr - (at + 1) : addr - (at + 2)) & 255
      );
    });
  }
}

/** A byte as a signed operand. */
const signed = (n: number) => ((n & 255) << 24) >> 24;

// ---------------------------------------------------------------------------------------------
// Programs

/** A generated program: the bytecode, the argument, and how it was made. */
export interface Program {
  code: Uint8Array;
  arg: number;
  /** Standard input, for languages that read bytes (bf). */
  input?: Uint8Array;
  origin: "clean" | "mutated" | "faulty" | "raw";
}

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

/** Arguments: mostly small (loops counted by the argument then terminate), some edge values. */
const argArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -3, max: 20 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(0, 1, -1, 127, 128, 255, 256, INT_MIN, INT_MAX, INT_MIN + 1),
  },
  { weight: 2, arbitrary: fc.integer() },
);

/** Maximum nesting of loops and conditionals. */
const NEST = 2;

/** Operand seed and "wildness" seed of a statement (`w % 4 === 0` skips its repair in a faulty
 *  program). */
const nArb = fc.nat(255);
const wArb = fc.nat(15);

interface Mutation {
  kind: number;
  pos: number;
  byte: number;
}
const mutationsArb = fc.array(fc.record({ kind: fc.nat(4), pos: fc.nat(), byte: fc.nat(255) }), {
  minLength: 1,
  maxLength: 2,
});

/** Applies byte mutations; `opcodes` is how many opcodes the language has (1..opcodes). */
function mutate(code: Uint8Array, ms: Mutation[], opcodes: number): Uint8Array {
  const b = Array.from(code);
  for (const m of ms) {
    const p = m.pos % (b.length + 1);
    switch (m.kind) {
      case 0: // replace with a random byte
        if (p < b.length) b[p] = m.byte;
        break;
      case 1: // replace with a valid opcode (an operand becomes an instruction, or vice versa)
        if (p < b.length) b[p] = (m.byte % opcodes) + 1;
        else b.push((m.byte % opcodes) + 1);
        break;
      case 2: // delete
        b.splice(p, 1);
        break;
      case 3: // insert
        b.splice(p, 0, m.byte % 3 === 0 ? m.byte : (m.byte % opcodes) + 1);
        break;
      default: // truncate (keep at least half)
        b.length = Math.max(p, b.length >> 1);
    }
  }
  return Uint8Array.from(b);
}

/** Biased random bytes: mostly opcodes and small operands, so that runs get somewhere. */
function rawArb(
  opcodes: number,
  small: fc.Arbitrary<number>,
  maxLength: number,
): fc.Arbitrary<Uint8Array> {
  const byte = fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 1, max: opcodes }) },
    { weight: 3, arbitrary: small },
    { weight: 1, arbitrary: fc.nat(255) },
  );
  return fc.array(byte, { maxLength }).map((a) => Uint8Array.from(a, (x) => x & 255));
}

/** Mixes clean, mutated, faulty and raw programs. */
function mix<T>(
  tree: fc.Arbitrary<T>,
  low: (t: T, faulty: boolean) => Uint8Array,
  opcodes: number,
  raw: fc.Arbitrary<Uint8Array>,
): fc.Arbitrary<Program> {
  return fc.oneof(
    {
      weight: 55,
      arbitrary: fc
        .record({ t: tree, arg: argArb })
        .map(({ t, arg }): Program => ({ code: low(t, false), arg, origin: "clean" })),
    },
    {
      weight: 15,
      arbitrary: fc
        .record({ t: tree, ms: mutationsArb, arg: argArb })
        .map(({ t, ms, arg }): Program => ({
          code: mutate(low(t, false), ms, opcodes),
          arg,
          origin: "mutated",
        })),
    },
    {
      weight: 15,
      arbitrary: fc
        .record({ t: tree, arg: argArb })
        .map(({ t, arg }): Program => ({ code: low(t, true), arg, origin: "faulty" })),
    },
    {
      weight: 15,
      arbitrary: fc
        .record({ code: raw, arg: argArb })
        .map(({ code, arg }): Program => ({ code, arg, origin: "raw" })),
    },
  );
}

// --- TLR -------------------------------------------------------------------------------------

type TlrSimple = "SET_A" | "NEG_A" | "MOV_A_R" | "MOV_R_A" | "ADD_R_TO_A" | "RETURN_A" | "ALLOCATE";
type TlrStmt =
  | { k: "op"; op: TlrSimple; n: number; w: number }
  | { k: "loop"; init: number; w: number; body: TlrStmt[] }
  | { k: "if"; n: number; w: number; body: TlrStmt[] };
interface TlrTree {
  /** Scratch registers 0..scratch-1 (register 0 starts as the argument). */
  scratch: number;
  main: TlrStmt[];
  w: number;
}

const tlrSimple: fc.Arbitrary<TlrStmt> = fc.record({
  k: fc.constant("op" as const),
  op: fc.oneof(
    { weight: 3, arbitrary: fc.constant<TlrSimple>("SET_A") },
    { weight: 1, arbitrary: fc.constant<TlrSimple>("NEG_A") },
    { weight: 3, arbitrary: fc.constant<TlrSimple>("MOV_A_R") },
    { weight: 3, arbitrary: fc.constant<TlrSimple>("MOV_R_A") },
    { weight: 4, arbitrary: fc.constant<TlrSimple>("ADD_R_TO_A") },
    { weight: 1, arbitrary: fc.constant<TlrSimple>("RETURN_A") },
    { weight: 1, arbitrary: fc.constant<TlrSimple>("ALLOCATE") },
  ),
  n: nArb,
  w: wArb,
});

function tlrStmts(depth: number, maxLength: number): fc.Arbitrary<TlrStmt[]> {
  if (depth === 0) return fc.array(tlrSimple, { maxLength });
  const inner = tlrStmts(depth - 1, 4);
  const stmt: fc.Arbitrary<TlrStmt> = fc.oneof(
    { weight: 8, arbitrary: tlrSimple },
    {
      weight: 2,
      arbitrary: fc.record({
        k: fc.constant("loop" as const),
        init: fc.nat(15),
        w: wArb,
        body: inner,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ k: fc.constant("if" as const), n: nArb, w: wArb, body: inner }),
    },
  );
  return fc.array(stmt, { maxLength });
}

const tlrTree: fc.Arbitrary<TlrTree> = fc.record({
  scratch: fc.integer({ min: 1, max: 4 }),
  main: tlrStmts(NEST, 10),
  w: wArb,
});

/** Lowers a TLR tree. Registers: scratch 0..S-1, S holds -1, S+1+k counts loops at depth k. */
export function lowerTlr(t: TlrTree, faulty: boolean): Uint8Array {
  const a = new Asm();
  const O = (name: string) => op(TLR_OPS, name);
  const S = t.scratch;
  const M1 = S;
  const R = S + 1 + NEST;
  const wild = (w: number) => faulty && w % 4 === 0;
  // Prologue: save the argument in register 0, put -1 in M1, restore a.
  if (!wild(t.w)) a.emit(O("ALLOCATE"), R);
  a.emit(O("MOV_A_R"), 0, O("SET_A"), 1, O("NEG_A"), O("MOV_A_R"), M1, O("MOV_R_A"), 0);
  const block = (stmts: TlrStmt[], depth: number): void => {
    for (const s of stmts) {
      const w = wild(s.w);
      switch (s.k) {
        case "op":
          switch (s.op) {
            case "SET_A":
              a.emit(O("SET_A"), s.n);
              break;
            case "NEG_A":
              a.emit(O("NEG_A"));
              break;
            case "MOV_A_R": // writes only scratch registers
              a.emit(O("MOV_A_R"), w ? s.n % (R + 3) : s.n % S);
              break;
            case "MOV_R_A":
            case "ADD_R_TO_A":
              a.emit(O(s.op), w ? s.n % (R + 3) : s.n % R);
              break;
            case "RETURN_A":
              a.emit(O("RETURN_A"));
              break;
            case "ALLOCATE": // resets the registers: only in faulty programs
              if (w) a.emit(O("ALLOCATE"), s.n % 6);
              else a.emit(O("NEG_A"));
              break;
          }
          break;
        case "loop": {
          const c = S + 1 + depth;
          const top = a.label();
          if (w) {
            // No counter: loops while the body leaves a non-zero accumulator.
            a.place(top);
            block(s.body, depth + 1);
            a.emit(O("JUMP_IF_A"));
            a.ref(top, "abs");
            break;
          }
          if (s.init < 10) a.emit(O("SET_A"), s.init + 1);
          else if (s.init < 12)
            a.emit(O("MOV_R_A"), 0); // counted by register 0 (the argument)
          else a.emit(O("SET_A"), s.init * 5);
          a.emit(O("MOV_A_R"), c);
          a.place(top);
          block(s.body, depth + 1);
          a.emit(O("MOV_R_A"), c, O("ADD_R_TO_A"), M1, O("MOV_A_R"), c, O("JUMP_IF_A"));
          a.ref(top, "abs");
          break;
        }
        case "if": {
          if (w) {
            a.emit(O("JUMP_IF_A"), s.n); // anywhere, past the end, into an operand
            block(s.body, depth + 1);
            break;
          }
          const skip = a.label();
          a.emit(O("JUMP_IF_A"));
          a.ref(skip, "abs");
          block(s.body, depth + 1);
          a.place(skip);
          break;
        }
      }
    }
  };
  block(t.main, 0);
  if (!faulty || t.w % 3 !== 0) a.emit(O("RETURN_A"));
  return a.done();
}

// --- TL --------------------------------------------------------------------------------------

type TlSimple =
  | "PUSH"
  | "PUSHARG"
  | "POP"
  | "SWAP"
  | "ROLL"
  | "PICK"
  | "PUT"
  | "NOP"
  | "INVALID"
  | "ADD"
  | "SUB"
  | "MUL"
  | "DIV"
  | "EQ"
  | "NE"
  | "LT"
  | "LE"
  | "GT"
  | "GE";
type TlStmt =
  | { k: "op"; op: TlSimple; n: number; w: number }
  | { k: "call"; n: number; w: number }
  | { k: "loop"; v: number; init: number; w: number; body: TlStmt[] }
  | { k: "if"; cond: number; n: number; w: number; body: TlStmt[] };
interface TlTree {
  main: TlStmt[];
  subs: TlStmt[][];
  /** Whether main ends with RETURN when it could fall off the end. */
  ret: boolean;
  w: number;
}

const tlOp = (weight: number, name: TlSimple) => ({ weight, arbitrary: fc.constant(name) });
const tlSimple: fc.Arbitrary<TlStmt> = fc.record({
  k: fc.constant("op" as const),
  op: fc.oneof(
    tlOp(4, "PUSH"),
    tlOp(2, "PUSHARG"),
    tlOp(1, "POP"),
    tlOp(1, "SWAP"),
    tlOp(1, "ROLL"),
    tlOp(2, "PICK"),
    tlOp(1, "PUT"),
    tlOp(1, "NOP"),
    tlOp(1, "INVALID"),
    tlOp(2, "ADD"),
    tlOp(2, "SUB"),
    tlOp(2, "MUL"),
    tlOp(1, "DIV"),
    tlOp(1, "EQ"),
    tlOp(1, "NE"),
    tlOp(1, "LT"),
    tlOp(1, "LE"),
    tlOp(1, "GT"),
    tlOp(1, "GE"),
  ),
  n: nArb,
  w: wArb,
});
const tlCall: fc.Arbitrary<TlStmt> = fc.record({
  k: fc.constant("call" as const),
  n: nArb,
  w: wArb,
});

function tlStmts(depth: number, maxLength: number): fc.Arbitrary<TlStmt[]> {
  const leaf = fc.oneof({ weight: 10, arbitrary: tlSimple }, { weight: 1, arbitrary: tlCall });
  if (depth === 0) return fc.array(leaf, { maxLength });
  const inner = tlStmts(depth - 1, 4);
  const stmt: fc.Arbitrary<TlStmt> = fc.oneof(
    { weight: 8, arbitrary: leaf },
    {
      weight: 2,
      arbitrary: fc.record({
        k: fc.constant("loop" as const),
        v: fc.nat(2),
        init: fc.nat(15),
        w: wArb,
        body: inner,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        k: fc.constant("if" as const),
        cond: fc.nat(3),
        n: nArb,
        w: wArb,
        body: inner,
      }),
    },
  );
  return fc.array(stmt, { maxLength });
}

const tlTree: fc.Arbitrary<TlTree> = fc.record({
  main: tlStmts(NEST, 8),
  subs: fc.array(tlStmts(1, 4), { maxLength: 3 }),
  ret: fc.boolean(),
  w: wArb,
});

/** Lowers a TL tree: main, then the subroutines; sub i calls only subs after it. Every block
 *  tracks the frame's stack depth `d`; items below `floor` belong to an enclosing loop or
 *  conditional and are only read. A clean program never underflows, never overflows (each push
 *  costs at least one byte of code), never divides by zero and never recurses. */
export function lowerTl(t: TlTree, faulty: boolean): Uint8Array {
  const a = new Asm();
  const O = (name: string) => op(TL_OPS, name);
  const wild = (w: number) => faulty && w % 4 === 0;
  const subs = t.subs.map(() => a.label());
  const main = a.label();
  let d = 0;
  let floor = 0;
  /** At least k items above the floor, pushing small constants. */
  const need = (k: number, n: number) => {
    while (d - floor < k) (a.emit(O("PUSH"), (n++ % 7) - 2), d++);
  };
  /** Back down to `to` items. */
  const popTo = (to: number) => {
    while (d > to) (a.emit(O("POP")), d--);
  };
  const block = (stmts: TlStmt[], self: number): void => {
    for (const s of stmts) {
      const w = wild(s.w);
      switch (s.k) {
        case "op": {
          const n = s.n;
          switch (s.op) {
            case "PUSH":
              a.emit(O("PUSH"), signed(n));
              d++;
              break;
            case "PUSHARG":
              a.emit(O("PUSHARG"));
              d++;
              break;
            case "NOP":
              a.emit(O("NOP"));
              break;
            case "INVALID":
              a.emit(O(faulty ? "INVALID" : "NOP"));
              break;
            case "POP":
              if (!w) need(1, n);
              a.emit(O("POP"));
              d = Math.max(0, d - 1);
              break;
            case "SWAP":
              if (!w) need(2, n);
              a.emit(O("SWAP"));
              break;
            case "ROLL":
              if (!w) need(1, n);
              a.emit(O("ROLL"), w ? signed(n) : (n % (2 * (d - floor) + 1)) - (d - floor));
              break;
            case "PICK":
              if (!w) need(1, n);
              a.emit(O("PICK"), w ? signed(n) : n % d);
              d++;
              break;
            case "PUT":
              if (!w) need(2, n);
              a.emit(O("PUT"), w ? signed(n) : n % (d - 1 - floor));
              d = Math.max(0, d - 1);
              break;
            case "DIV":
              if (!w && !faulty) {
                // A divisor that is not zero (-1 for INT_MIN / -1), or rarely the argument.
                need(1, n);
                if (n % 16 === 0) a.emit(O("PUSHARG"), O("DIV"));
                else
                  a.emit(O("PUSH"), n % 5 === 0 ? -1 : ((n % 9) + 1) * (n & 1 ? -1 : 1), O("DIV"));
                break;
              }
              a.emit(O("PUSH"), n % 2, O("DIV")); // division by zero, half of the time
              break;
            default: // the other binary operators
              if (!w) need(2, n);
              a.emit(O(s.op));
              d = Math.max(0, d - 1);
          }
          break;
        }
        case "call": {
          if (faulty && s.w % 2 === 0) {
            // Recursion (call depth exceeded), or a raw offset (branch out of range).
            if (s.n & 1) a.emit(O("CALL"), signed(s.n));
            else {
              a.emit(O("CALL"));
              a.ref(self < 0 ? main : subs[self]!, "rel");
            }
            d++;
            break;
          }
          const later = subs.length - (self + 1);
          if (later <= 0) a.emit(O("PUSHARG"));
          else {
            a.emit(O("CALL"));
            a.ref(subs[self + 1 + (s.n % later)]!, "rel");
          }
          d++;
          break;
        }
        case "loop": {
          const top = a.label();
          if (w) {
            // Grows the stack by one item an iteration, forever: stack overflow (or fuel).
            a.place(top);
            block(s.body, self);
            a.emit(O("PUSHARG"), O("PUSH"), 1, O("BR_COND"));
            a.ref(top, "rel");
            d++;
            break;
          }
          // The counter sits on the stack below the body's items.
          if (s.init < 10) a.emit(O("PUSH"), s.v === 1 ? s.init - 3 : s.init + 1);
          else if (s.init < 12) a.emit(O("PUSHARG"));
          else a.emit(O("PUSH"), s.v === 1 ? -s.init : s.init * 2);
          d++;
          const saved = floor;
          floor = d;
          a.place(top);
          block(s.body, self);
          popTo(floor);
          floor = saved;
          if (s.v === 1) {
            // Count up to a bound.
            a.emit(
              O("PUSH"),
              1,
              O("ADD"),
              O("PICK"),
              0,
              O("PUSH"),
              2 + (s.init % 7),
              O("LT"),
              O("BR_COND"),
            );
            a.ref(top, "rel");
          } else if (s.v === 2) {
            // Count down, branching with BR_COND_STK.
            a.emit(O("PUSH"), 1, O("SUB"), O("PICK"), 0, O("PUSH"));
            a.ref(top, "stk");
            a.emit(O("BR_COND_STK"));
          } else {
            a.emit(O("PUSH"), 1, O("SUB"), O("PICK"), 0, O("BR_COND"));
            a.ref(top, "rel");
          }
          a.emit(O("POP"));
          d--;
          break;
        }
        case "if": {
          // The condition: an item of the stack, the argument, a constant or a comparison.
          if (s.cond === 0 && d > 0) a.emit(O("PICK"), s.n % d);
          else if (s.cond <= 1) a.emit(O("PUSHARG"));
          else if (s.cond === 2) a.emit(O("PUSH"), s.n & 1);
          else a.emit(O("PUSHARG"), O("PUSH"), signed(s.n) >> 4, O("LT"));
          if (w) {
            a.emit(O("BR_COND"), signed(s.n)); // anywhere, out of range, into an operand
            block(s.body, self);
            break;
          }
          const skip = a.label();
          a.emit(O("BR_COND"));
          a.ref(skip, "rel");
          const saved = floor;
          floor = d;
          block(s.body, self);
          popTo(floor);
          floor = saved;
          a.place(skip);
          break;
        }
      }
    }
  };
  const finish = (mustReturn: boolean) => {
    if (d === 0 && !wild(t.w)) (a.emit(O("PUSHARG")), d++);
    if (mustReturn) a.emit(O("RETURN"));
  };
  a.place(main);
  block(t.main, -1);
  finish(subs.length > 0 || t.ret);
  t.subs.forEach((body, i) => {
    a.place(subs[i]!);
    d = 0;
    floor = 0;
    block(body, i);
    finish(true);
  });
  return a.done();
}

// --- Brainfuck -------------------------------------------------------------------------------

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
const bfProgramArb: fc.Arbitrary<Program> = fc.oneof(
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

/** The program generator of a language: 55% clean, 15% mutated, 15% faulty, 15% raw bytes. */
export function programArb(lang: string): fc.Arbitrary<Program> {
  switch (lang) {
    case "tlr":
      return mix(tlrTree, lowerTlr, 8, rawArb(8, fc.nat(6), 24));
    case "tl":
      return mix(tlTree, lowerTl, 23, rawArb(23, fc.integer({ min: -4, max: 8 }), 24));
    case "bf":
      return bfProgramArb;
    default:
      throw new Error(`no program generator for ${lang}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Running and comparing

/** How one run ended, as text: `value 42`, `error: <message>`, or `crash: <message>` for an
 *  exception that is not an interpreter error (a bug of the backend or of the tool); followed
 *  by `; output <hex>` when the program wrote bytes. */
export type Result = string;

/** Runs one program on `interp` and on each of `others`: the unit of work that could move to
 *  a child process. Results (in the order of `others`) and times are plain data. */
export async function runOne(
  lang: Lang,
  code: Uint8Array,
  arg: number,
  others: Backend[],
  fuel: number,
  input?: Uint8Array,
): Promise<{ expected: Result; got: Result[]; ms: number[] }> {
  const ms: number[] = [];
  const timed = async (b: Backend) => {
    const start = performance.now();
    const r = await runOn(b, lang, code, arg, fuel, input);
    ms.push(performance.now() - start);
    return r;
  };
  const expected = await timed(registry.interp!);
  const got: Result[] = [];
  for (const b of others) got.push(await timed(b));
  return { expected, got, ms };
}

async function runOn(
  backend: Backend,
  lang: Lang,
  code: Uint8Array,
  arg: number,
  fuel: number,
  input?: Uint8Array,
): Promise<Result> {
  try {
    const o = await runProgram(backend, lang, code, arg, { fuel, input });
    const output = o.output?.length ? `; output ${hex(o.output)}` : "";
    if (o.error !== undefined) return `error: ${o.error}${output}`;
    if (lang.convention !== "int") return `completed${output}`; // the result is not the point
    return typeof o.value === "number" && Number.isInteger(o.value)
      ? `value ${o.value}${output}`
      : `crash: returned ${String(o.value)}`;
  } catch (e) {
    return `crash: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
  }
}

/** The histogram key of a result: "completed", "fuel exhausted", "error: <message>", or
 *  "crash" (the message of a crash goes into the failure, not the histogram). */
export function kind(r: Result): string {
  if (r.startsWith("value ") || r.startsWith("completed")) return "completed";
  if (r.startsWith("crash: ")) return "crash";
  const error = r.replace(/; output [0-9a-f ]*$/, "");
  return error === `error: ${STEP_LIMIT}` ? "fuel exhausted" : error;
}

export interface Failure {
  /** Program `index` of seed `seed` reproduces it (`futamura fuzz <lang> --seed S --index I`). */
  seed: number;
  index: number;
  lang: string;
  backend: string;
  arg: number;
  /** The program's input as hex bytes, for languages that read bytes. */
  input?: string;
  fuel: number;
  origin: Program["origin"];
  /** The program as hex bytes and as assembler text (`futamura run` takes the latter). */
  hex: string;
  program: string;
  expected: Result;
  got: Result;
  /** A smaller program (and its results) that still disagrees, when minimisation found one. */
  minimal?: { hex: string; program: string; expected: Result; got: Result };
}

export interface FuzzOptions {
  lang: string | Lang;
  seed?: number;
  count?: number;
  /** Backends to compare with interp (names or objects); default: every backend but interp. */
  backends?: (string | Backend)[];
  fuel?: number;
  /** Only program `index` of the seed. */
  index?: number;
  /** Minimise this many failures (default 5). */
  minimize?: number;
  /** Run the programs in a child process, so that a backend that kills its process (machine
   *  code gone wrong) is reported with the program's seed and index instead of ending the run. */
  isolate?: boolean;
}

export interface FuzzReport {
  lang: string;
  seed: number;
  count: number;
  fuel: number;
  backends: string[];
  failures: Failure[];
  /** Outcome kind on interp → number of programs. */
  histogram: Map<string, number>;
  /** Program origin → outcome kind → number of programs. */
  byOrigin: Map<string, Map<string, number>>;
  /** Milliseconds in all, and spent running each backend (interp included). */
  ms: number;
  backendMs: Map<string, number>;
}

export const DEFAULT_SEED = 1;
export const DEFAULT_COUNT = 1000;
export const DEFAULT_FUEL = 10_000;
/** Brainfuck needs more: running off the right end of the 30,000-cell tape takes about 31,000
 *  steps. */
export const DEFAULT_FUEL_BF = 40_000;

/** The `count` programs of `seed` (program i does not depend on `count`). */
export function programs(lang: string, seed: number, count: number): Program[] {
  return fc.sample(programArb(lang), { seed, numRuns: count });
}

function resolveBackends(list: (string | Backend)[] | undefined): Backend[] {
  if (list === undefined) return Object.values(registry).filter((b) => b.name !== "interp");
  return list.map((b) => {
    if (typeof b !== "string") return b;
    const found = registry[b];
    if (!found)
      throw new UsageError(`unknown backend '${b}' (${Object.keys(registry).join(", ")})`);
    return found;
  });
}

/** Runs `count` programs of `seed` on interp and the selected backends and compares them. */
export async function fuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const start = performance.now();
  const lang = typeof opts.lang === "string" ? langs[opts.lang] : opts.lang;
  if (!lang)
    throw new UsageError(
      `unknown language '${String(opts.lang)}' (${Object.keys(langs).join(", ")})`,
    );
  const seed = opts.seed ?? DEFAULT_SEED;
  const count = opts.count ?? DEFAULT_COUNT;
  const fuel = opts.fuel ?? (lang.name === "bf" ? DEFAULT_FUEL_BF : DEFAULT_FUEL);
  const others = resolveBackends(opts.backends);
  const progs =
    opts.index === undefined
      ? programs(lang.name, seed, count)
      : programs(lang.name, seed, opts.index + 1);
  const first = opts.index ?? 0;
  const worker = opts.isolate ? new Worker(lang, seed, progs.length, fuel, others) : undefined;

  const failures: Failure[] = [];
  const histogram = new Map<string, number>();
  const byOrigin = new Map<string, Map<string, number>>();
  const backendMs = new Map<string, number>([registry.interp!, ...others].map((b) => [b.name, 0]));
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  for (let index = first; index < progs.length; index++) {
    const p = progs[index]!;
    const { expected, got, ms } = worker
      ? await worker.run(index, others)
      : await runOne(lang, p.code, p.arg, others, fuel, p.input);
    [registry.interp!, ...others].forEach((b, i) =>
      backendMs.set(b.name, backendMs.get(b.name)! + ms[i]!),
    );
    const k = kind(expected);
    bump(histogram, k);
    if (!byOrigin.has(p.origin)) byOrigin.set(p.origin, new Map());
    bump(byOrigin.get(p.origin)!, k);
    const base = {
      seed,
      index,
      lang: lang.name,
      arg: p.arg,
      ...(p.input ? { input: hex(p.input) } : {}),
      fuel,
      origin: p.origin,
      hex: hex(p.code),
      program: disassemble(lang.name, p.code),
      expected,
    };
    if (expected.startsWith("crash: "))
      failures.push({
        ...base,
        backend: "interp",
        got: expected,
        expected: "a value or an interpreter error",
      });
    others.forEach((b, i) => {
      if (got[i] !== expected) failures.push({ ...base, backend: b.name, got: got[i]! });
    });
  }

  worker?.close();

  // Minimise the first few failures: smaller programs make better bug reports.
  const budget = opts.minimize ?? 5;
  for (const f of failures.slice(0, budget)) {
    if (worker && f.got.startsWith("crash: the worker")) continue; // not again in this process
    const b = f.backend === "interp" ? registry.interp! : others.find((o) => o.name === f.backend)!;
    const m = await minimize(
      lang,
      progs[f.index]!.code,
      f.arg,
      b,
      fuel,
      400,
      progs[f.index]!.input,
    );
    if (m)
      f.minimal = {
        hex: hex(m.code),
        program: disassemble(lang.name, m.code),
        expected: m.expected,
        got: m.got,
      };
  }
  return {
    lang: lang.name,
    seed,
    count: progs.length - first,
    fuel,
    backends: others.map((b) => b.name),
    failures,
    histogram,
    byOrigin,
    ms: performance.now() - start,
    backendMs,
  };
}

/** A child process that runs programs of one seed by index (`futamura fuzz-worker`); when it
 *  dies, the program it was running gets `crash:` results and a new child takes the next. */
class Worker {
  private child: ChildProcess | undefined;
  private pending: ((line: string | undefined) => void) | undefined;

  constructor(
    private lang: Lang,
    private seed: number,
    private count: number,
    private fuel: number,
    private others: Backend[],
  ) {}

  private start(): ChildProcess {
    const bin = new URL("./futamura.mjs", import.meta.url).pathname;
    const names = this.others.map((b) => b.name).join(",");
    const child = spawn(
      process.execPath,
      [
        bin,
        "fuzz-worker",
        this.lang.name,
        String(this.seed),
        String(this.count),
        String(this.fuel),
        names,
      ],
      { stdio: ["pipe", "pipe", "inherit"] },
    );
    createInterface({ input: child.stdout! }).on("line", (line) => this.settle(line));
    child.on("exit", (code, signal) => {
      this.child = undefined;
      this.settle(undefined, signal ?? `exit code ${code}`);
    });
    return child;
  }

  private death = "";

  private settle(line: string | undefined, why?: string): void {
    if (why) this.death = why;
    const p = this.pending;
    this.pending = undefined;
    p?.(line);
  }

  async run(
    index: number,
    others: Backend[],
  ): Promise<{ expected: Result; got: Result[]; ms: number[] }> {
    this.child ??= this.start();
    const line = await new Promise<string | undefined>((resolve) => {
      this.pending = resolve;
      this.child!.stdin!.write(`${index}\n`);
    });
    if (line !== undefined) return JSON.parse(line);
    // The worker died on this program: interp's result from here, a crash for the others.
    const p = programs(this.lang.name, this.seed, index + 1)[index]!;
    const expected = await runOn(registry.interp!, this.lang, p.code, p.arg, this.fuel, p.input);
    return {
      expected,
      got: others.map(() => `crash: the worker process died (${this.death})`),
      ms: [0, ...others.map(() => 0)],
    };
  }

  close(): void {
    this.child?.stdin?.end();
  }
}

/** `futamura fuzz-worker <lang> <seed> <count> <fuel> <backends>`: reads program indexes from
 *  stdin and writes each one's results as a JSON line (see Worker). FUTAMURA_FUZZ_CRASH=<index>
 *  makes it kill itself on that program, to test that a dying backend is reported. */
export async function fuzzWorker(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const [name, seed, count, fuel, names] = argv;
  const lang = langs[name!]!;
  const progs = programs(lang.name, Number(seed), Number(count));
  const others = resolveBackends(names ? names.split(",") : []);
  const crashAt = process.env.FUTAMURA_FUZZ_CRASH;
  for await (const line of createInterface({ input: process.stdin })) {
    const index = Number(line);
    if (crashAt !== undefined && Number(crashAt) === index) process.kill(process.pid, "SIGSEGV");
    const p = progs[index]!;
    out.write(
      JSON.stringify(await runOne(lang, p.code, p.arg, others, Number(fuel), p.input)) + "\n",
    );
  }
  return 0;
}

/** Greedily deletes chunks of bytes while `backend` still disagrees with interp (or, for
 *  interp, still crashes); undefined if nothing could be removed. At most `limit` runs. */
export async function minimize(
  lang: Lang,
  code: Uint8Array,
  arg: number,
  backend: Backend,
  fuel: number,
  limit = 400,
  input?: Uint8Array,
): Promise<{ code: Uint8Array; expected: Result; got: Result } | undefined> {
  let runs = 0;
  const check = async (c: Uint8Array) => {
    runs++;
    const { expected, got } = await runOne(
      lang,
      c,
      arg,
      backend.name === "interp" ? [] : [backend],
      fuel,
      input,
    );
    const bad = backend.name === "interp" ? expected.startsWith("crash: ") : got[0] !== expected;
    return bad ? { code: c, expected, got: got[0] ?? expected } : undefined;
  };
  let best: { code: Uint8Array; expected: Result; got: Result } | undefined;
  let cur = code;
  // Passes over chunk sizes len/2, len/4, ..., 4, 3, 2, 1 (instructions are 1 or 2 bytes), until
  // a pass removes nothing.
  for (let progress = true; progress && runs < limit;) {
    progress = false;
    const sizes = new Set<number>();
    for (let k = cur.length >> 1; k > 4; k >>= 1) sizes.add(k);
    for (const k of [4, 3, 2, 1]) if (k <= cur.length) sizes.add(k);
    for (const chunk of sizes) {
      for (let at = cur.length - chunk; at >= 0 && runs < limit; at--) {
        const c = Uint8Array.from([...cur.subarray(0, at), ...cur.subarray(at + chunk)]);
        const r = await check(c);
        if (r) {
          best = r;
          cur = c;
          progress = true;
          at = Math.min(at, cur.length - chunk + 1);
        }
      }
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// Reporting and the command

/** One line per outcome kind, most frequent first: count, percent, kind. */
export function formatHistogram(h: Map<string, number>): string {
  const total = [...h.values()].reduce((x, y) => x + y, 0);
  const width = String(total).length;
  return [...h.entries()]
    .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
    .map(
      ([k, n]) =>
        `${String(n).padStart(width)}  ${((100 * n) / (total || 1)).toFixed(1).padStart(5)}%  ${k}\n`,
    )
    .join("");
}

/** A failure, with what reproduces it. */
export function formatFailure(f: Failure): string {
  const indent = (s: string) => s.replace(/^(?=.)/gm, "    ");
  const rerun = `futamura fuzz ${f.lang} --seed ${f.seed} --index ${f.index} --backends ${f.backend} --fuel ${f.fuel}`;
  let s =
    `FAIL ${f.lang} seed ${f.seed} index ${f.index} (${f.origin}): backend ${f.backend} disagrees with interp\n` +
    `  ${f.input !== undefined ? `input ${f.input || "(empty)"}` : `arg ${f.arg}`}, fuel ${f.fuel}\n  expected (interp): ${f.expected}\n  got (${f.backend}): ${f.got}\n` +
    `  reproduce: ${rerun}\n  bytes: ${f.hex || "(empty)"}\n  program:\n${indent(f.program) || "    (empty)\n"}`;
  if (f.minimal)
    s +=
      `  minimised (${f.minimal.expected} vs ${f.minimal.got}):\n  bytes: ${f.minimal.hex || "(empty)"}\n` +
      `  program:\n${indent(f.minimal.program) || "    (empty)\n"}`;
  return s;
}

/** `futamura fuzz <lang> [--seed S] [--count N] [--backends a,b] [--fuel N] [--index I]`. */
export async function fuzzCommand(
  argv: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        seed: { type: "string" },
        count: { type: "string" },
        backends: { type: "string" },
        fuel: { type: "string" },
        index: { type: "string" },
        isolate: { type: "boolean" },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1)
    throw new UsageError(
      "fuzz <lang> [--seed S] [--count N] [--backends a,b,...] [--fuel N] [--index I] [--isolate]",
    );
  const int = (s: string | undefined, what: string, min: number) => {
    if (s === undefined) return undefined;
    if (!/^-?\d+$/.test(s) || !Number.isSafeInteger(Number(s)) || Number(s) < min)
      throw new UsageError(`${what} takes an integer${min === 0 ? " >= 0" : ""}, not '${s}'`);
    return Number(s);
  };
  const backendNames = values.backends?.split(",").filter((b) => b !== "");
  const r = await fuzz({
    lang: positionals[0]!,
    seed: int(values.seed, "--seed", Number.MIN_SAFE_INTEGER),
    count: int(values.count, "--count", 0),
    backends: backendNames,
    fuel: int(values.fuel, "--fuel", 0),
    index: int(values.index, "--index", 0),
    // Machine code runs in a child process unless told otherwise: a crash must not lose the seed.
    isolate: values.isolate ?? (backendNames ?? Object.keys(registry)).includes("x64"),
  });
  const shown = 20;
  for (const f of r.failures.slice(0, shown)) err.write(formatFailure(f) + "\n");
  if (r.failures.length > shown) err.write(`... and ${r.failures.length - shown} more failures\n`);
  const verdict = r.failures.length ? `${r.failures.length} disagreements` : "all agree";
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const times = [...r.backendMs].map(([b, ms]) => `${b} ${s(ms)}`).join(", ");
  let summary =
    `fuzz ${r.lang}: ${r.count} programs, seed ${r.seed}, fuel ${r.fuel}, interp vs ${r.backends.join(", ") || "(nothing)"}: ` +
    `${verdict} (${s(r.ms)}: ${times})\n` +
    formatHistogram(r.histogram);
  if (values.index !== undefined) {
    // The program as a file `futamura run` takes, everything else as comments.
    const index = Number(values.index);
    const p = programs(r.lang, r.seed, index + 1)[index]!;
    const what = p.input ? `input ${hex(p.input) || "(empty)"}` : `arg ${p.arg}`;
    const comment = (text: string) =>
      // Brainfuck comments are any other bytes: its commands in them become underscores.
      (r.lang === "bf" ? text.replace(/[-+<>.,[\]]/g, "_") : text)
        .replace(/^/gm, "# ")
        .replace(/# $/, "");
    // A Brainfuck program's text may not end with a newline.
    const text = disassemble(r.lang, p.code);
    summary =
      comment(
        `program ${index} of seed ${r.seed} (${p.origin}), ${what}, bytes ${hex(p.code) || "(empty)"}\n`,
      ) +
      text +
      (text === "" || text.endsWith("\n") ? "" : "\n") +
      comment(summary);
  }
  out.write(summary);
  return r.failures.length ? 1 : 0;
}
