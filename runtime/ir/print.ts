//! The textual form of the IR. `parse.ts` reads exactly what this writes.
//!
//!   data $d0: u8[] = 4 7 6
//!   func @interpret -> i32 {
//!   b0(code.0: u8[], a.1: i32):
//!     v2: i32 = array_len code.0            @14:9
//!     v3: bool = uint_lt 0, v2
//!     branch v3, b1(a.1), b2
//!   b2:
//!     raise "pc past the end"
//!   }
//!
//! A variable prints as `name.N` when it has a source name, else `vN`; `;` starts a comment.

import type {
  Block,
  ClassDecl,
  Const,
  Data,
  Driver,
  Graph,
  Jump,
  Module,
  ObjectData,
  Op,
  Operand,
  Pos,
  Term,
} from "./types.ts";

/** How much to print: `at`, each residual operation's program position as a comment. */
export interface PrintOptions {
  at?: boolean;
}

export function printModule(m: Module, opts: PrintOptions = {}): string {
  const head = [
    ...(m.driver ? [printDriver(m.driver)] : []),
    ...(m.classes ?? []).map(printClass),
    ...m.data.map(printData),
    ...(m.objects ?? []).map((o, i) => printObject(m, o, i)),
  ];
  const parts = head.length ? [head.join("\n")] : [];
  for (const g of m.graphs) parts.push(printGraph(g, opts));
  return parts.join("\n\n") + "\n";
}

function printDriver(d: Driver): string {
  const virtualizables = d.virtualizables?.length
    ? ` virtualizables(${d.virtualizables.join(", ")})`
    : "";
  return `driver greens(${d.greens.join(", ")}) reds(${d.reds.join(", ")}) immutable(${d.immutable.join(", ")})${virtualizables}`;
}

export function printClass(c: ClassDecl): string {
  const fields = c.fields.map((f) => `${f.readonly ? "readonly " : ""}${f.name}: ${f.type}`);
  const parent = c.parent === undefined ? "" : ` extends ${c.parent}`;
  const body = fields.length ? `{ ${fields.join(", ")} }` : "{}";
  return `${c.abstract ? "abstract " : ""}class ${c.name} ${c.id} ${c.last}${parent} ${body}`;
}

export function printData(d: Data, i: number): string {
  return `data $d${i}: ${d.type} = ${d.values.join(" ")}`;
}

/** A constant object: `object $o1 = Cons { car: 1, cdr: $o0 }` (`object $o0 nil = Nil {}` for a
 *  module-level constant named `nil`), `object $o2 = list<ref> [$o0]`,
 *  `object $o3 = map<i32,i32> { 1: 2 }`. */
export function printObject(m: Module, d: ObjectData, i: number): string {
  const list = (xs: string[], open: string, close: string) =>
    xs.length ? `${open} ${xs.join(", ")} ${close}` : `${open}${close}`;
  const head = `object $o${i}${d.k === "object" && d.name !== undefined ? ` ${d.name}` : ""} =`;
  if (d.k === "list") return `${head} ${d.type} ${list(d.items.map(printConst), "[", "]")}`;
  if (d.k === "map")
    return `${head} ${d.type} ${list(
      d.entries.map(([k, v]) => `${printConst(k)}: ${printConst(v)}`),
      "{",
      "}",
    )}`;
  const fields = m.classes?.find((c) => c.name === d.cls)?.fields ?? [];
  const named = d.fields.map((c, k) => `${fields[k]?.name ?? `f${k}`}: ${printConst(c)}`);
  return `${head} ${d.cls} ${list(named, "{", "}")}`;
}

export function printGraph(g: Graph, opts: PrintOptions = {}): string {
  const lines = [`func @${g.name} -> ${g.ret} {`];
  g.blocks.forEach((b, i) => lines.push(...printBlock(g, b, i, opts)));
  lines.push("}");
  return lines.join("\n");
}

export function varName(g: Graph, v: number): string {
  const n = g.names[v];
  return n === undefined ? `v${v}` : `${n}.${v}`;
}

function printBlock(g: Graph, b: Block, i: number, opts: PrintOptions): string[] {
  const params = b.params.map((p) => `${varName(g, p)}: ${g.types[p]}`).join(", ");
  const label = g.labels?.indexOf(i) ?? -1;
  const head = b.params.length ? `b${i}(${params}):` : `b${i}:`;
  const lines = [label >= 0 ? `${head} label ${label}` : head];
  for (const op of b.ops) {
    const text = withPos("  " + printOp(g, op), op.pos);
    lines.push(opts.at && op.at !== undefined ? `${text.padEnd(48)} ; at ${op.at}` : text);
  }
  const term = withPos("  " + printTerm(g, b.term), b.termPos);
  lines.push(opts.at && b.termAt !== undefined ? `${term.padEnd(48)} ; at ${b.termAt}` : term);
  return lines;
}

function withPos(text: string, pos: Pos | undefined): string {
  return pos ? `${text.padEnd(40)} @${pos.line}:${pos.col}` : text;
}

export function printOperand(g: Graph, o: Operand): string {
  return typeof o === "number" ? varName(g, o) : printConst(o);
}

function printConst(c: Const): string {
  return c.k === "data"
    ? `$d${c.v}`
    : c.k === "obj"
      ? `$o${c.v}`
      : c.k === "null"
        ? "null"
        : String(c.v);
}

export function printOp(g: Graph, op: Op): string {
  const head = op.imm === undefined ? op.op : `${op.op}<${op.imm}>`;
  const args = op.args.map((a) => printOperand(g, a)).join(", ");
  const rhs = args ? `${head} ${args}` : head;
  return op.dst < 0 ? rhs : `${varName(g, op.dst)}: ${g.types[op.dst]} = ${rhs}`;
}

function printJump(g: Graph, j: Jump): string {
  return j.args.length
    ? `b${j.block}(${j.args.map((a) => printOperand(g, a)).join(", ")})`
    : `b${j.block}`;
}

export function printTerm(g: Graph, t: Term): string {
  switch (t.k) {
    case "jump":
      return `jump ${printJump(g, t.to)}`;
    case "branch":
      return `branch ${printOperand(g, t.cond)}, ${printJump(g, t.then)}, ${printJump(g, t.else)}`;
    case "switch": {
      const cases = t.cases.map((c) => `${c.value}: ${printJump(g, c.to)}`);
      cases.push(`default: ${printJump(g, t.default)}`);
      return `switch ${printOperand(g, t.on)}, ${cases.join(", ")}`;
    }
    case "return":
      return t.value === undefined ? "return" : `return ${printOperand(g, t.value)}`;
    case "raise":
      return `raise ${JSON.stringify(t.msg)}`;
    case "exit":
      return `exit ${t.status}(${t.args.map((a) => printOperand(g, a)).join(", ")})`;
  }
}
