//! TL programs: statement trees (stack code, counted loops of three shapes, conditionals on
//! the stack, the argument or a comparison, calls to later subroutines) lowered to bytecode
//! that tracks the stack depth so that a clean program never underflows, overflows, divides
//! by zero or recurses; a faulty one skips some of those repairs.

import fc from "fast-check";
import { Asm, signed } from "./asm.ts";
import { TL_OPS, op } from "./ops.ts";
import { NEST, mix, nArb, rawArb, wArb, type Program } from "./program.ts";

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

/** TL programs: 55% clean, 15% mutated, 15% faulty, 15% raw bytes. */
export function tlProgramArb(): fc.Arbitrary<Program> {
  return mix(tlTree, lowerTl, 23, rawArb(23, fc.integer({ min: -4, max: 8 }), 24));
}
