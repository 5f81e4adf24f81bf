//! TLR programs: statement trees (straight-line code, loops counted in registers, forward
//! conditionals) lowered to bytecode with every register operand repaired into range (clean),
//! or with some repairs skipped (faulty: raw registers, uncounted loops, jumps anywhere,
//! missing ALLOCATE or RETURN_A).

import fc from "fast-check";
import { Asm } from "./asm.ts";
import { TLR_OPS, op } from "./ops.ts";
import { NEST, mix, nArb, rawArb, wArb, type Program } from "./program.ts";

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

/** TLR programs: 55% clean, 15% mutated, 15% faulty, 15% raw bytes. */
export function tlrProgramArb(): fc.Arbitrary<Program> {
  return mix(tlrTree, lowerTlr, 8, rawArb(8, fc.nat(6), 24));
}
