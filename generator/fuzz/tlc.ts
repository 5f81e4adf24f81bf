//! TLC programs: statement trees (stack code on boxed integers, cons lists built and taken apart,
//! list concatenation and indexing, instances of the program's classes with attributes read and
//! written, methods sent with arguments, counted loops, conditionals, calls to later
//! subroutines) written as TLC assembler text, with its classes, and assembled by TLC's own
//! assembler (`interpreters/tlc-assembler.ts`): the text is the program a failure shows. Every
//! block tracks the kind of each stack item (integer, list, instance), so that a clean program
//! applies each operation to what it takes; a faulty one skips some of those repairs (type
//! errors, missing attributes, stack underflow, recursion).

import fc from "fast-check";
import { LoadError } from "../../runtime/hints.ts";
import { langs } from "../language.ts";
import { NEST, mix, nArb, rawArb, wArb, type Program } from "./program.ts";

type Simple =
  | "PUSH"
  | "PUSHARG"
  | "NIL"
  | "CONS"
  | "CAR"
  | "CDR"
  | "POP"
  | "SWAP"
  | "ROLL"
  | "PICK"
  | "PUT"
  | "ARITH"
  | "COMPARE"
  | "CONCAT"
  | "NTH"
  | "NEW"
  | "GETATTR"
  | "SETATTR"
  | "SEND"
  | "PRINT";
type Stmt =
  | { k: "op"; op: Simple; n: number; w: number }
  | { k: "call"; n: number; w: number }
  | { k: "loop"; init: number; w: number; body: Stmt[] }
  | { k: "if"; cond: number; n: number; w: number; body: Stmt[] };
interface Tree {
  main: Stmt[];
  subs: Stmt[][];
  /** Per class: how many attributes (of a0..a3) it has, from a3 down. */
  classes: number[];
  /** Methods m0, m1: their bodies (each class has its own copy of each). */
  methods: Stmt[][];
  w: number;
}

const simple = (weight: number, name: Simple) => ({ weight, arbitrary: fc.constant(name) });
const simpleArb: fc.Arbitrary<Stmt> = fc.record({
  k: fc.constant("op" as const),
  op: fc.oneof(
    simple(4, "PUSH"),
    simple(2, "PUSHARG"),
    simple(2, "NIL"),
    simple(3, "CONS"),
    simple(1, "CAR"),
    simple(1, "CDR"),
    simple(1, "POP"),
    simple(1, "SWAP"),
    simple(1, "ROLL"),
    simple(2, "PICK"),
    simple(1, "PUT"),
    simple(4, "ARITH"),
    simple(2, "COMPARE"),
    simple(1, "CONCAT"),
    simple(1, "NTH"),
    simple(2, "NEW"),
    simple(2, "GETATTR"),
    simple(2, "SETATTR"),
    simple(2, "SEND"),
    simple(1, "PRINT"),
  ),
  n: nArb,
  w: wArb,
});
const callArb: fc.Arbitrary<Stmt> = fc.record({
  k: fc.constant("call" as const),
  n: nArb,
  w: wArb,
});

function stmts(depth: number, maxLength: number): fc.Arbitrary<Stmt[]> {
  const leaf = fc.oneof({ weight: 10, arbitrary: simpleArb }, { weight: 1, arbitrary: callArb });
  if (depth === 0) return fc.array(leaf, { maxLength });
  const inner = stmts(depth - 1, 4);
  return fc.array(
    fc.oneof(
      { weight: 8, arbitrary: leaf },
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
        arbitrary: fc.record({
          k: fc.constant("if" as const),
          cond: fc.nat(3),
          n: nArb,
          w: wArb,
          body: inner,
        }),
      },
    ),
    { maxLength },
  );
}

const treeArb: fc.Arbitrary<Tree> = fc.record({
  main: stmts(NEST, 8),
  subs: fc.array(stmts(1, 4), { maxLength: 2 }),
  classes: fc.array(fc.nat(3), { minLength: 1, maxLength: 3 }),
  methods: fc.array(stmts(0, 4), { minLength: 2, maxLength: 2 }),
  w: wArb,
});

/** What a stack item is, as far as a clean program knows. */
type Kind = "int" | "list" | "inst" | "any";

/** Where a block is: main or a subroutine (its index), or method m0 or m1 of a class (whose
 *  first argument is the receiver; m1 takes an integer too). */
type Place = { sub: number } | { method: number };

/** The text of a TLC tree: main, its subroutines, then each class's methods. */
export function tlcText(t: Tree, faulty: boolean): string {
  const out: string[] = [];
  const wild = (w: number) => faulty && w % 4 === 0;
  let labels = 0;
  const label = () => `L${labels++}`;
  const subs = t.subs.map((_, i) => `sub${i}`);
  // Each class has attributes a0..ak and methods m0 and m1 (so a SEND to any instance finds
  // them), at labels of its own.
  const classOf = (c: number) => {
    const attrs = Array.from({ length: t.classes[c]! + 1 }, (_, i) => `a${i}`);
    return [...attrs, `m0=c${c}m0`, `m1=c${c}m1`].join(",");
  };
  let stack: Kind[] = [];
  let floor = 0;
  const emit = (...lines: string[]) => lines.forEach((l) => out.push("        " + l));
  const push = (k: Kind) => stack.push(k);
  const pop = () => stack.pop() ?? "any";
  const make = (kind: Kind, n: number) => {
    if (kind === "int") emit(`PUSH ${(n % 9) - 3}`);
    else if (kind === "list") emit(...listOf(n));
    else emit(`NEW ${classOf(n % t.classes.length)}`);
    push(kind);
  };
  /** At least k items above the floor, pushing small integers. */
  const need = (k: number, n: number) => {
    while (stack.length - floor < k) make("int", n++);
  };
  /** The two top items integers (above the floor), pushing two when they are not. */
  const twoInts = (n: number) => {
    const ok = stack.length - floor >= 2 && stack.at(-1) === "int" && stack.at(-2) === "int";
    if (!ok) (make("int", n), make("int", n >> 3));
  };
  const popTo = (to: number) => {
    while (stack.length > to) (emit("POP"), pop());
  };
  const op = (s: Stmt & { k: "op" }, where: Place, w: boolean) => {
    const n = s.n;
    const method = "method" in where ? where.method : -1;
    switch (s.op) {
      case "PUSH":
        emit(`PUSH ${(n & 255) - 128}`);
        push("int");
        break;
      case "PUSHARG":
        if (method === 1 && n % 2) emit("PUSHARGN 1");
        else emit("PUSHARG");
        push(method < 0 ? "int" : method === 1 && n % 2 ? "int" : "inst");
        break;
      case "NIL":
        emit("NIL");
        push("list");
        break;
      case "CONS":
        if (!w) need(2, n);
        emit("CONS");
        pop();
        pop();
        push("list");
        break;
      case "CAR":
      case "CDR":
        if (!w) {
          need(1, n);
          emit(`PUSH ${n % 5}`, "CONS"); // a cons cell for certain: (k . what was there)
          pop();
          push("list");
        }
        emit(s.op);
        pop();
        push(s.op === "CAR" ? "int" : "any");
        break;
      case "POP":
        if (!w) need(1, n);
        emit("POP");
        pop();
        break;
      case "SWAP":
        if (!w) need(2, n);
        emit("SWAP");
        if (stack.length >= 2) stack.push(stack.splice(-2, 1)[0]!);
        break;
      case "ROLL": {
        if (!w) need(1, n);
        const d = stack.length - floor;
        emit(`ROLL ${w ? (n & 255) - 128 : (n % (2 * d + 1)) - d}`);
        for (let i = floor; i < stack.length; i++) stack[i] = "any"; // (moved: forgotten)
        break;
      }
      case "PICK": {
        if (!w) need(1, n);
        const i = w ? (n & 255) - 128 : n % stack.length;
        emit(`PICK ${i}`);
        push(stack[stack.length - 1 - i] ?? "any");
        break;
      }
      case "PUT": {
        if (!w) need(2, n);
        const i = w ? (n & 255) - 128 : n % (stack.length - 1 - floor);
        emit(`PUT ${i}`);
        const k = pop();
        if (stack.length - 1 - i >= 0) stack[stack.length - 1 - i] = k;
        break;
      }
      case "ARITH": {
        const name = ["ADD", "SUB", "MUL", "DIV"][n % 4]!;
        if (!w) {
          twoInts(n);
          if (name === "DIV") {
            emit("POP", `PUSH ${n % 5 === 0 ? -1 : (n % 9) + 1}`); // a divisor that is not 0
          }
        } else if (name === "DIV") {
          emit(`PUSH ${n % 7}`, `PUSH ${(n >> 2) % 2}`); // division by zero, half of the time
          push("int");
          push("int");
        }
        emit(name);
        pop();
        pop();
        push("int");
        break;
      }
      case "COMPARE":
        if (!w) twoInts(n);
        emit(["EQ", "NE", "LT", "LE", "GT", "GE"][n % 6]!);
        pop();
        pop();
        push("int");
        break;
      case "CONCAT":
        if (!w) (make("list", n), make("list", n >> 3));
        emit("ADD");
        pop();
        pop();
        push("list");
        break;
      case "NTH":
        if (!w) (make("list", n), make("int", 3 + (n % 3))); // an index in the list, or past it
        emit("DIV");
        pop();
        pop();
        push("int");
        break;
      case "NEW":
        make("inst", n);
        break;
      case "GETATTR":
        if (!w && stack.at(-1) !== "inst") make("inst", n);
        emit(`GETATTR a${w ? n % 5 : 0}`); // every class has a0
        pop();
        push("any");
        break;
      case "SETATTR":
        if (!w) {
          if (stack.at(-1) !== "inst") make("inst", n);
          emit("PICK 0");
          push("inst");
          make(n % 2 ? "int" : "list", n);
        }
        emit(`SETATTR a${w ? n % 5 : 0}`);
        pop();
        pop();
        break;
      case "SEND": {
        // (not in methods: a method sending to its receiver would recurse to the depth limit)
        const m = n % 2; // m0 takes nothing, m1 an integer; both return a value
        if (!w && method >= 0) return op({ ...s, op: "GETATTR" }, where, w);
        if (!w) {
          if (stack.at(-1) !== "inst") make("inst", n);
          if (m) make("int", n >> 1);
        }
        emit(`SEND m${m}/${m}`);
        for (let i = 0; i <= m; i++) pop();
        push("any");
        break;
      }
      case "PRINT":
        if (!w) need(1, n);
        emit("PRINT");
        pop();
        break;
    }
  };
  const block = (body: Stmt[], where: Place): void => {
    for (const s of body) {
      const w = wild(s.w);
      if (s.k === "op") op(s, where, w);
      else if (s.k === "loop") loop(s, where, w);
      else if (s.k === "if") conditional(s, where, w);
      else {
        const self = "sub" in where ? where.sub : subs.length;
        const later = subs.length - (self + 1);
        if (w)
          emit(`CALL ${s.n % 2 && subs.length ? subs[0] : "main"}`); // recursion
        else if (later <= 0 || "method" in where) emit("PUSHARG");
        else emit(`CALL ${subs[self + 1 + (s.n % later)]}`);
        push("any"); // (a subroutine returns a value)
      }
    }
  };
  const loop = (s: Stmt & { k: "loop" }, where: Place, w: boolean) => {
    const top = label();
    if (w) {
      // grows the stack by an item a trip, forever: stack overflow, or out of fuel
      out.push(`${top}:`);
      block(s.body, where);
      emit("PUSHARG", `BR ${top}`);
      push("int");
      return;
    }
    // The counter, below the body's items: counts down to 0.
    emit(s.init < 12 || "method" in where ? `PUSH ${s.init}` : "PUSHARG");
    push("int");
    const saved = floor;
    floor = stack.length;
    const exit = label();
    out.push(`${top}:`);
    emit("PICK 0", "PUSH 0", "GT", `BR_COND ${top}b`, `BR ${exit}`);
    out.push(`${top}b:`);
    block(s.body, where);
    popTo(floor);
    floor = saved;
    emit("PUSH 1", "SUB", `BR ${top}`);
    out.push(`${exit}:`);
    emit("POP");
    pop();
  };
  const conditional = (s: Stmt & { k: "if" }, where: Place, w: boolean) => {
    // The condition: an item of the stack (every object has a truth), the argument, or a
    // comparison with it (not pushed on `stack`: BR_COND takes it).
    const compare = "sub" in where && s.cond > 1;
    if (s.cond === 0 && stack.length > 0) emit(`PICK ${s.n % stack.length}`);
    else if (!compare) emit("PUSHARG");
    else emit("PUSHARG", `PUSH ${((s.n & 255) - 128) >> 4}`, "LT");
    const skip = label();
    emit(`BR_COND ${w ? (s.n & 255) - 128 : skip}`);
    const saved = floor;
    floor = stack.length;
    block(s.body, where);
    if (!w) popTo(floor);
    floor = saved;
    out.push(`${skip}:`);
  };
  /** Ends a frame with a value (a wild main may end with an empty stack: no result). */
  const finish = (main = false) => {
    if (stack.length === 0 && !wild(t.w)) (emit("PUSHARG"), push(main ? "int" : "any"));
    // main's result is an integer (`interpret` takes its intO()): EQ of anything with one is
    if (main && stack.at(-1) !== "int" && !wild(t.w)) emit("PUSH 0", "EQ");
    emit("RETURN");
  };
  const body = (stmts: Stmt[], where: Place) => {
    stack = [];
    floor = 0;
    block(stmts, where);
    finish("sub" in where && where.sub < 0);
  };
  out.push("main:");
  body(t.main, { sub: -1 });
  t.subs.forEach((stmts, i) => (out.push(`${subs[i]}:`), body(stmts, { sub: i })));
  t.classes.forEach((_, c) =>
    t.methods.forEach((stmts, m) => (out.push(`c${c}m${m}:`), body(stmts, { method: m }))),
  );
  return out.join("\n") + "\n";
}

/** The lines that push a short list of small integers. */
function listOf(n: number): string[] {
  const lines = ["NIL"];
  for (let i = 0; i < n % 4; i++) lines.push(`PUSH ${(n >> i) % 5}`, "CONS");
  return lines;
}

/** A TLC tree assembled. TLC's branches reach 127 bytes at most: a tree whose code is too long
 *  for one is cut down (each list of statements to its first half, at every depth) until it
 *  fits. */
export function lowerTlc(t: Tree, faulty: boolean): Uint8Array {
  for (;;) {
    try {
      return langs.tlc!.load(tlcText(t, faulty), "generated.tlc");
    } catch (e) {
      if (!(e instanceof LoadError) || !e.message.includes("does not fit")) throw e;
      t = { ...t, main: halve(t.main), subs: t.subs.map(halve), methods: t.methods.map(halve) };
    }
  }
}

function halve(stmts: Stmt[]): Stmt[] {
  return stmts
    .slice(0, Math.floor(stmts.length / 2))
    .map((s) => (s.k === "loop" || s.k === "if" ? { ...s, body: halve(s.body) } : s));
}

/** TLC programs: 55% clean, 15% mutated, 15% faulty, 15% raw bytes (after an empty pool, so
 *  that they are code; mutations make bad pools). */
export function tlcProgramArb(): fc.Arbitrary<Program> {
  const raw = rawArb(34, fc.integer({ min: -4, max: 8 }), 35).map((code) =>
    Uint8Array.of(0, ...code),
  );
  return mix(treeArb, lowerTlc, 34, raw);
}
