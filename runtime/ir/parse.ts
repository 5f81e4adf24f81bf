//! Reads the textual IR written by `print.ts`, so that tests and golden files are IR text.
//! Errors name the line: `ir:12: expected ','`.

import { classNamed } from "./classes.ts";
import { isList, isType } from "./containers.ts";
import { NULL } from "./types.ts";
import type {
  Block,
  ClassDecl,
  Const,
  Data,
  Driver,
  Field,
  Graph,
  Jump,
  MapType,
  Module,
  ObjectData,
  Op,
  Operand,
  Pos,
  Term,
  Type,
} from "./types.ts";

const TOKEN =
  /\s*(?:("(?:[^"\\]|\\.)*")|(@\d+:\d+)|(->)|([-]?\d+)|([A-Za-z_$@][\w.$]*(?:\[\])?)|([(),:={}[\]]))/y;

/** The end of the `<...>` starting at `at` (nested: `<map<i32,list<ref>>>`), or -1. */
function angleEnd(text: string, at: number): number {
  let depth = 0;
  for (let i = at; i < text.length; i++) {
    if (text[i] === "<") depth++;
    else if (text[i] === ">" && --depth === 0) return i + 1;
  }
  return -1;
}

class Line {
  private toks: string[] = [];
  private i = 0;
  pos: Pos | undefined;
  /** A residual operation's program position, from a `; at @0,16` after it. */
  at: string | undefined;

  constructor(
    text: string,
    readonly no: number,
  ) {
    let at = 0;
    for (;;) {
      while (text[at] === " " || text[at] === "\t") at++;
      if (text[at] === "<") {
        const end = angleEnd(text, at);
        if (end < 0) this.fail("unclosed '<'");
        this.toks.push(text.slice(at, end));
        at = end;
        continue;
      }
      TOKEN.lastIndex = at;
      const m = TOKEN.exec(text);
      if (!m) break;
      at = TOKEN.lastIndex;
      if (m[2]) {
        const [l, c] = m[2].slice(1).split(":").map(Number);
        this.pos = { line: l!, col: c! };
      } else this.toks.push(m[0].trim());
    }
    const rest = text.slice(at).trim();
    if (rest && !rest.startsWith(";")) this.fail(`unexpected '${rest}'`);
    const where = /^;\s*at\s+(\S+)/.exec(rest);
    if (where) this.at = where[1];
  }

  fail(msg: string): never {
    throw new Error(`ir:${this.no}: ${msg}`);
  }
  peek(): string | undefined {
    return this.toks[this.i];
  }
  next(): string {
    const t = this.toks[this.i++];
    if (t === undefined) this.fail("unexpected end of line");
    return t;
  }
  eat(t: string): boolean {
    if (this.peek() !== t) return false;
    this.i++;
    return true;
  }
  expect(t: string): void {
    if (!this.eat(t)) this.fail(`expected '${t}', found '${this.peek() ?? "end of line"}'`);
  }
  done(): boolean {
    return this.i >= this.toks.length;
  }
  end(): void {
    if (!this.done()) this.fail(`unexpected '${this.peek()}'`);
  }
}

export function parseModule(text: string): Module {
  const lines = text.split("\n").map((t, i) => new Line(t, i + 1));
  const m: Module = { graphs: [], data: [] };
  let i = 0;
  while (i < lines.length) {
    const l = lines[i]!;
    if (l.done()) i++;
    else if (l.peek() === "driver") ((m.driver = parseDriver(l)), i++);
    else if (l.peek() === "data") (m.data.push(parseData(l, m.data.length)), i++);
    else if (l.peek() === "class" || l.peek() === "abstract")
      ((m.classes ??= []).push(parseClass(l)), i++);
    else if (l.peek() === "object")
      ((m.objects ??= []).push(parseObject(l, m.objects?.length ?? 0, m)), i++);
    else if (l.peek() === "func") i = parseGraph(lines, i, m);
    else l.fail(`expected 'driver', 'data', 'class', 'object' or 'func'`);
  }
  return m;
}

function parseDriver(l: Line): Driver {
  l.expect("driver");
  const list = (key: string) => {
    l.expect(key);
    l.expect("(");
    const names: string[] = [];
    while (!l.eat(")")) {
      names.push(l.next());
      if (!l.eat(",")) {
        l.expect(")");
        break;
      }
    }
    return names;
  };
  const d: Driver = { greens: list("greens"), reds: list("reds"), immutable: list("immutable") };
  if (l.peek() === "virtualizables") d.virtualizables = list("virtualizables");
  l.end();
  return d;
}

/** `[abstract] class Name id last [extends Parent] { [readonly] field: type, ... }` */
function parseClass(l: Line): ClassDecl {
  const abstract = l.eat("abstract");
  l.expect("class");
  const name = l.next();
  const id = Number(l.next());
  const last = Number(l.next());
  const parent = l.eat("extends") ? l.next() : undefined;
  const fields: Field[] = [];
  l.expect("{");
  while (!l.eat("}")) {
    const readonly = l.eat("readonly");
    const field = l.next();
    l.expect(":");
    fields.push({ name: field, type: parseType(l), readonly });
    if (!l.eat(",")) {
      l.expect("}");
      break;
    }
  }
  l.end();
  return { name, id, last, abstract, fields, ...(parent === undefined ? {} : { parent }) };
}

/** A type: `i32`, `ref`, `list<ref>`, `map<i32,list<i32>>` (`containers.ts`). */
function parseType(l: Line): Type {
  let t = l.next();
  if ((t === "list" || t === "map") && l.peek()?.startsWith("<")) t += l.next().replace(/\s/g, "");
  if (!isType(t)) l.fail(`unknown type '${t}'`);
  return t;
}

/** `object $oN = Class { field: c, ... }`, `object $oN = list<T> [c, ...]`,
 *  `object $oN = map<K,V> { k: v, ... }`: a constant object (`print.ts`). */
function parseObject(l: Line, index: number, m: Module): ObjectData {
  l.expect("object");
  if (l.next() !== `$o${index}`) l.fail(`expected $o${index}`);
  const name = l.eat("=") ? undefined : l.next();
  if (name !== undefined) l.expect("=");
  const items = (close: string, each: () => void) => {
    while (!l.eat(close)) {
      each();
      if (!l.eat(",")) {
        l.expect(close);
        break;
      }
    }
    l.end();
  };
  if (l.peek() === "list" || l.peek() === "map") {
    const type = parseType(l);
    if (isList(type)) {
      const list: Const[] = [];
      l.expect("[");
      items("]", () => list.push(parseConst(l)));
      return { k: "list", type, items: list };
    }
    const entries: [Const, Const][] = [];
    l.expect("{");
    items("}", () => {
      const key = parseConst(l);
      l.expect(":");
      entries.push([key, parseConst(l)]);
    });
    return { k: "map", type: type as MapType, entries };
  }
  const cls = l.next();
  const fields: Const[] = [];
  l.expect("{");
  items("}", () => {
    l.next(); // the field's name, for the reader: fields are in the class's order
    l.expect(":");
    fields.push(parseConst(l));
  });
  if (!classNamed(m, cls)) l.fail(`unknown class ${cls}`);
  return name === undefined ? { k: "object", cls, fields } : { k: "object", cls, fields, name };
}

function parseConst(l: Line): Const {
  const o = parseOperand(l, undefined);
  if (typeof o === "number") l.fail("expected a constant");
  return o;
}

function parseData(l: Line, index: number): Data {
  l.expect("data");
  if (l.next() !== `$d${index}`) l.fail(`expected $d${index}`);
  l.expect(":");
  const type = parseType(l);
  if (type !== "i32[]" && type !== "u8[]") l.fail("data must be an array");
  l.expect("=");
  const values: number[] = [];
  while (!l.done()) values.push(Number(l.next()));
  return { type, values };
}

function parseGraph(lines: Line[], start: number, m: Module): number {
  const head = lines[start]!;
  head.expect("func");
  const name = head.next();
  if (!name.startsWith("@")) head.fail("expected @name");
  head.expect("->");
  const g: Graph = { name: name.slice(1), ret: parseType(head), blocks: [], types: [], names: [] };
  head.expect("{");
  head.end();
  let i = start + 1;
  for (;;) {
    const l = lines[i];
    if (!l) head.fail("unterminated func");
    if (l.done()) i++;
    else if (l.eat("}")) {
      l.end();
      break;
    } else i = parseBlock(lines, i, g);
  }
  m.graphs.push(g);
  return i + 1;
}

function defineVar(l: Line, g: Graph, tok: string, type: Type): number {
  const v = varId(l, g, tok);
  if (g.types[v] !== undefined) l.fail(`${tok} defined twice`);
  g.types[v] = type;
  return v;
}

function varId(l: Line, g: Graph, tok: string): number {
  const named = /^([A-Za-z_$][\w$]*)\.(\d+)$/.exec(tok);
  if (named) {
    const v = Number(named[2]);
    g.names[v] = named[1];
    return v;
  }
  const plain = /^v(\d+)$/.exec(tok);
  if (!plain) l.fail(`expected a variable, found '${tok}'`);
  return Number(plain[1]);
}

function parseBlock(lines: Line[], start: number, g: Graph): number {
  const head = lines[start]!;
  const label = head.next();
  const index = /^b(\d+)$/.exec(label);
  if (!index || Number(index[1]) !== g.blocks.length) head.fail(`expected b${g.blocks.length}`);
  const params: number[] = [];
  if (head.eat("(")) {
    while (!head.eat(")")) {
      const tok = head.next();
      head.expect(":");
      params.push(defineVar(head, g, tok, parseType(head)));
      if (!head.eat(",")) {
        head.expect(")");
        break;
      }
    }
  }
  head.expect(":");
  if (head.eat("label")) {
    const n = head.next();
    if (!/^\d+$/.test(n)) head.fail(`expected a label's number, found '${n}'`);
    (g.labels ??= [])[Number(n)] = g.blocks.length;
  }
  head.end();
  const ops: Op[] = [];
  for (let i = start + 1; ; i++) {
    const l = lines[i];
    if (!l) head.fail("block without a terminator");
    if (l.done()) continue;
    const term = parseTerm(l, g);
    if (term) {
      l.end();
      const b: Block = { params, ops, term };
      if (l.pos) b.termPos = l.pos;
      if (l.at !== undefined) b.termAt = l.at;
      g.blocks.push(b);
      return i + 1;
    }
    ops.push(parseOp(l, g));
  }
}

function parseOp(l: Line, g: Graph): Op {
  let dst = -1;
  let tok = l.next();
  if (l.eat(":")) {
    const type = parseType(l);
    l.expect("=");
    dst = defineVar(l, g, tok, type);
    tok = l.next();
  }
  const op: Op = { op: tok, dst, args: [] };
  const imm = l.peek();
  if (imm?.startsWith("<")) {
    l.next();
    const body = imm.slice(1, -1);
    op.imm = /^-?\d+$/.test(body) ? Number(body) : body;
  }
  if (!l.done()) op.args = parseOperands(l, g);
  l.end();
  if (l.pos) op.pos = l.pos;
  if (l.at !== undefined) op.at = l.at;
  return op;
}

function parseOperands(l: Line, g: Graph): Operand[] {
  const args = [parseOperand(l, g)];
  while (l.eat(",")) args.push(parseOperand(l, g));
  return args;
}

function parseOperand(l: Line, g: Graph | undefined): Operand {
  const t = l.next();
  if (/^-?\d+$/.test(t)) return { k: "int", v: Number(t) | 0 } satisfies Const;
  if (t === "true" || t === "false") return { k: "bool", v: t === "true" };
  if (t === "null") return NULL;
  if (/^\$d\d+$/.test(t)) return { k: "data", v: Number(t.slice(2)) };
  if (/^\$o\d+$/.test(t)) return { k: "obj", v: Number(t.slice(2)) };
  if (!g) l.fail(`expected a constant, found '${t}'`);
  return varId(l, g, t);
}

function parseJump(l: Line, g: Graph): Jump {
  const t = l.next();
  const m = /^b(\d+)$/.exec(t);
  if (!m) l.fail(`expected a block, found '${t}'`);
  const args: Operand[] = [];
  if (l.eat("(") && !l.eat(")")) {
    args.push(...parseOperands(l, g));
    l.expect(")");
  }
  return { block: Number(m[1]), args };
}

function parseTerm(l: Line, g: Graph): Term | undefined {
  switch (l.peek()) {
    case "jump":
      l.next();
      return { k: "jump", to: parseJump(l, g) };
    case "branch": {
      l.next();
      const cond = parseOperand(l, g);
      l.expect(",");
      const then = parseJump(l, g);
      l.expect(",");
      return { k: "branch", cond, then, else: parseJump(l, g) };
    }
    case "switch": {
      l.next();
      const on = parseOperand(l, g);
      const cases: { value: number; to: Jump }[] = [];
      for (;;) {
        l.expect(",");
        const key = l.next();
        l.expect(":");
        const to = parseJump(l, g);
        if (key === "default") return { k: "switch", on, cases, default: to };
        cases.push({ value: Number(key), to });
      }
    }
    case "return":
      l.next();
      return l.done() ? { k: "return" } : { k: "return", value: parseOperand(l, g) };
    case "raise":
      l.next();
      return { k: "raise", msg: JSON.parse(l.next()) as string };
    case "exit": {
      l.next();
      const status = Number(l.next());
      l.expect("(");
      const args = l.eat(")") ? [] : parseOperands(l, g);
      if (args.length) l.expect(")");
      return { k: "exit", status, args };
    }
    default:
      return undefined;
  }
}
