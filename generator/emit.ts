//! The emitter: turns an interpreter's graphs and their binding times into a dedicated
//! specialiser, a TypeScript module in `generated/` (the second Futamura projection).
//!
//! Each graph becomes a `Compiled` object: a loop over its blocks in which green operations are
//! plain TypeScript on plain values (the opcode table's `expr`), and red operations, calls, the
//! merge point and red branches are calls on the specialisation engine, which the abstract
//! interpreter uses too; so both take every decision by the same rules. Every block carries the
//! source lines it came from, so a reader recognises the interpreter.
//!
//! A helper every value of which is green (a bytecode operand's decoding, a bracket table) also
//! becomes a plain function that compiled code calls directly: it runs wholly at compile time,
//! without the engine's frames.

import { OPS } from "../runtime/ir/ops.ts";
import { isReference } from "../runtime/ir/containers.ts";
import type { Block, Graph, Jump, Module, Op, Operand, Type } from "../runtime/ir/types.ts";
import type { Binding } from "./bta.ts";

/** How generated code names a module of futamura's runtime (`"specialiser/engine"`) in its
 *  imports (`generator/build.ts`, `runtimeImports`). */
export type RuntimeImports = (module: string) => string;

/** The specialiser of `m` (with binding times `bt`, from interpreter `source`), as a module
 *  that imports futamura's runtime by `runtime`. */
export function emitSpecialiser(
  m: Module,
  bt: Binding,
  source: string,
  header: string,
  runtime: RuntimeImports = (module) => `../runtime/${module}.ts`,
): string {
  const lines = source.split("\n");
  const out = [
    `// ${header}`,
    "//",
    `// The specialiser of ${m.file ?? "an interpreter"}: its graphs with every binding-time decision`,
    "// taken. Green operations run here as plain TypeScript; red ones are calls on the engine.",
    "",
    `import { Raised, bits, type Compiled, type Engine, type Frame, type Path, type Slot, type Target } from "${runtime("specialiser/engine")}";`,
  ];
  const constants = new Map<string, string>();
  const sides = new Map<string, number>();
  const direct = new Set(m.graphs.filter((g) => whollyGreen(g, bt)).map((g) => g.name));
  const graphs = m.graphs.flatMap((g) => {
    const e = new GraphEmitter(g, bt.greens.get(g.name)!, lines, constants, sides, direct);
    return direct.has(g.name) ? [e.compiled(), e.plainFunction()] : [e.compiled()];
  });
  // (null only where an interpreter has references)
  const usesNull = graphs.some((text) => text.includes("NULL_REF"));
  out.push(
    `import { ${usesNull ? "NULL_REF, " : ""}konst as k, type AVal } from "${runtime("specialiser/value")}";`,
    "",
  );
  if (constants.size) {
    out.push("// Constants as abstract values, made once (abstract values are never changed).");
    for (const [name, value] of constants) out.push(`const ${name} = k(${value});`);
    out.push("");
  }
  if (sides.size) {
    // (Made per red branch, they were 6% of what mandelbrot's specialisation allocates, and
    // their garbage a tenth of its time.)
    out.push(
      "// Sides of red branches that pass no arguments, made once (the engine only reads them).",
    );
    for (const [name, block] of sides) out.push(`const ${name}: Target = [${block}, []];`);
    out.push("");
  }
  out.push(...graphs);
  out.push(`/** The compiled graphs, by name. */`);
  out.push(
    `export const compiled: Record<string, Compiled> = { ${m.graphs.map((g) => `${JSON.stringify(g.name)}: ${ident(g.name)}`).join(", ")} };`,
  );
  return out.join("\n") + "\n";
}

/** The name of a graph's `Compiled` object (`graph_`) or plain function (`green_`). */
function ident(name: string, prefix = "graph"): string {
  return `${prefix}_${name.replace(/\W/g, "_")}`;
}

/** Whether `g` runs wholly at compile time: every value green, no calls, no merge point, no
 *  operation that only the run may do (output: a helper writing a constant text). */
function whollyGreen(g: Graph, bt: Binding): boolean {
  return (
    !bt.portals.has(g.name) &&
    bt.greens.get(g.name)!.every((x) => x) &&
    g.blocks.every((b) =>
      b.ops.every((o) => o.op !== "call" && (o.dst >= 0 || o.op === "array_set")),
    )
  );
}

class GraphEmitter {
  private line = -1;
  /** Emitting the plain function of a wholly green graph (else its `Compiled` object). */
  private plainMode = false;

  constructor(
    private g: Graph,
    private greens: boolean[],
    private src: string[],
    private constants: Map<string, string>,
    private sides: Map<string, number>,
    private direct: Set<string>,
  ) {}

  compiled(): string {
    const g = this.g;
    const blocks = g.blocks.flatMap((b, i) => this.block(b, i));
    // (a graph that only raises, an abstract method's, reads no slot)
    const usesEnv = blocks.some((line) => /\benv\b/.test(line));
    return [
      `/** @${g.name} */`,
      `const ${ident(g.name)}: Compiled = {`,
      `greens: bits("${this.greens.map((x) => (x ? "G" : "R")).join("")}"),`,
      `run(e: Engine, p: Path, f: Frame): boolean {`,
      ...(usesEnv ? [`let env = f.env;`] : []),
      `for (;;) {`,
      `switch (f.block) {`,
      ...blocks,
      `default: throw new Error("no block " + f.block);`,
      `}`,
      `}`,
      `},`,
      `};`,
      "",
    ].join("\n");
  }

  /** The graph as a plain function of plain values, for compiled code to call directly; a
   *  raise throws `Raised`. */
  plainFunction(): string {
    const g = this.g;
    this.plainMode = true;
    const params = g.blocks[0]!.params;
    const names = params.map((v, i) => {
      const n = g.names[v];
      const ok = n && /^[A-Za-z_]\w*$/.test(n) && !["e", "env", "b"].includes(n);
      return ok && params.findIndex((u) => g.names[u] === n) === i ? n : `a${i}`;
    });
    const ret = g.ret === "void" ? "void" : tsType(g.ret);
    return [
      `/** @${g.name}, every value green: run at compile time, called directly by compiled code. */`,
      `function ${ident(g.name, "green")}(e: Engine, ${names.map((n, i) => `${n}: ${tsType(g.types[params[i]!]!)}`).join(", ")}): ${ret} {`,
      `const env: Slot[] = new Array(${g.types.length});`,
      ...params.map((v, i) => `${this.slot(v)} = ${names[i]};`),
      `for (let b = 0; ; ) {`,
      `switch (b) {`,
      ...g.blocks.flatMap((b, i) => this.block(b, i)),
      `default: throw new Error("no block " + b);`,
      `}`,
      `}`,
      `}`,
      "",
    ].join("\n");
  }

  /** A constant operand as an abstract value: a module-level constant (null; a constant object
   *  is the engine's, by its index in the module's constants). */
  private constant(o: Exclude<Operand, number>): string {
    if (o.k === "null") return "NULL_REF";
    if (o.k === "obj") return `e.constant(${o.v})`;
    const v = this.plain(o);
    const name = `K${v.replace("-", "m")}`;
    this.constants.set(name, v);
    return name;
  }

  private slot(v: number): string {
    const n = this.g.names[v];
    return n === undefined ? `env[${v}]` : `env[${v} /* ${n} */]`;
  }

  /** A green operand as a plain TypeScript value (a constant reference as its abstract value:
   *  the engine reads it). */
  private plain(o: Operand): string {
    if (typeof o !== "number")
      return o.k === "data"
        ? unsupported("data")
        : o.k === "null" || o.k === "obj"
          ? this.constant(o)
          : String(o.v);
    return `(${this.slot(o)} as ${tsType(this.g.types[o]!)})`;
  }

  /** Any operand as an abstract value for the engine. */
  private abstract(o: Operand): string {
    if (typeof o !== "number") return this.constant(o);
    const t = this.g.types[o]!;
    if (!this.greens[o] || isReference(t)) return `(${this.slot(o)} as AVal)`;
    return t === "i32[]" || t === "u8[]"
      ? `{ k: "a", arr: ${this.plain(o)}, type: "${t}" }`
      : `k(${this.plain(o)})`;
  }

  /** An operand in the representation of a target slot. */
  private as(o: Operand, green: boolean): string {
    return green ? this.plain(o) : this.abstract(o);
  }

  /** The source line an operation comes from, as a comment and as the engine's `line` (what
   *  the residual operations made from here carry, as in the abstract interpreter's walk);
   *  nothing while the line is the same. */
  private comment(pos: { line: number } | undefined): string[] {
    if (!pos || pos.line === this.line) return [];
    this.line = pos.line;
    return [`// ${pos.line}: ${this.src[pos.line - 1]?.trim() ?? ""}`, `e.line = ${pos.line};`];
  }

  block(b: Block, i: number): string[] {
    this.line = -1;
    const out = [`case ${i}: {`];
    // Segments end at calls: after a call the engine runs the callee, then resumes here.
    let start = 0;
    b.ops.forEach((op, k) => {
      if (op.op !== "call" || this.direct.has(op.imm as string)) return;
      out.push(`if (f.op < ${k + 1}) {`, ...this.segment(b.ops, start, k + 1), `}`);
      start = k + 1;
    });
    out.push(...this.segment(b.ops, start, b.ops.length));
    // (a segment may end at a call, whose callee's lines the engine saw last)
    this.line = -1;
    out.push(...this.comment(b.termPos), ...this.term(b));
    out.push(`}`);
    return out;
  }

  private segment(ops: Op[], from: number, to: number): string[] {
    const out: string[] = [];
    this.line = -1; // (after a call: the callee's lines came between)
    const body = ops.slice(from, to);
    const folded = body.filter((op) => op.dst >= 0 && this.greens[op.dst]).length;
    if (body.length) out.push(`e.tick(${body.length});`);
    if (folded) out.push(`e.folded(${folded});`);
    body.forEach((op, j) => out.push(...this.comment(op.pos), ...this.op(op, from + j)));
    return out;
  }

  private op(op: Op, k: number): string[] {
    const args = op.args;
    if (op.op === "merge_point") {
      const vars = args
        .map((a) => (typeof a === "number" ? String(a) : this.constant(a)))
        .join(", ");
      return [
        `f.op = ${k + 1};`,
        `if (!e.mergePoint(p, f, [${vars}], ${op.imm})) return false;`,
        `if (!f.code) return true; // generalised: the engine's walk goes on`,
        `env = f.env;`,
      ];
    }
    if (op.op === "call" && this.direct.has(op.imm as string)) {
      const call = `${ident(op.imm as string, "green")}(e, ${args.map((a) => this.plain(a)).join(", ")})`;
      return [
        `try {`,
        op.dst >= 0 ? `${this.slot(op.dst)} = ${call};` : `${call};`,
        `} catch (x) {`,
        `return e.raised(p, x);`,
        `}`,
      ];
    }
    if (op.op === "call")
      return [
        `f.op = ${k + 1};`,
        `e.call(p, ${JSON.stringify(op.imm)}, [${args.map((a) => this.abstract(a)).join(", ")}], ${op.dst});`,
        `return true;`,
      ];
    if (op.op === "promote" && !this.isGreen(args[0]!))
      return this.orWalk(op, k, "promoted", "promote", "a run-time value");
    if (op.op === "array_set" && this.isGreen(args[0]!))
      return [`e.store(${args.map((a) => this.plain(a)).join(", ")});`];
    if (op.op === "array_len" && this.greens[op.dst] && !this.isGreen(args[0]!))
      return this.orWalk(op, k, "length", "knownLength", "not known here");
    if (op.dst >= 0 && this.greens[op.dst]) return [`${this.slot(op.dst)} = ${this.green(op)};`];
    const a = args.map((x) => this.abstract(x)).join(", ");
    const dst = this.slot(op.dst);
    // (`ref_eq` goes through `op`: a virtual is itself, known without forcing it)
    if (OPS[op.op]!.fold && op.op !== "ref_eq")
      return [`${dst} = e.pure(p, "${op.op}", "${this.g.types[op.dst]}", ${a});`];
    switch (op.op) {
      case "array_len":
        return [`${dst} = e.len(p, ${a});`];
      case "array_get":
        return [`${dst} = e.get(p, ${a});`];
      case "array_set":
        return [`e.set(p, ${a});`];
      case "new_array":
        return [`${dst} = e.alloc(p, ${a}, "${op.imm}");`];
    }
    const type = op.dst >= 0 ? `"${this.g.types[op.dst]}"` : "undefined";
    const imm = op.imm === undefined ? "" : `, ${JSON.stringify(op.imm)}`;
    const call = `e.op(p, "${op.op}", [${a}], ${type}${imm})`;
    return [op.dst >= 0 ? `${dst} = ${call}!;` : `${call};`];
  }

  /** Operation `k`, green, of a red operand: the engine's `method` gives its plain value, or
   *  undefined (`why`) when it turns the frame generic for the walk to do the operation. */
  private orWalk(op: Op, k: number, name: string, method: string, why: string): string[] {
    return [
      `f.op = ${k};`,
      `const ${name}${k} = e.${method}(p, ${this.abstract(op.args[0]!)});`,
      `if (${name}${k} === undefined) return true; // ${why}: the engine's walk goes on`,
      `${this.slot(op.dst)} = ${name}${k};`,
    ];
  }

  /** A green operation as a TypeScript expression. */
  private green(op: Op): string {
    const a = op.args.map((o) => this.plain(o));
    if (op.args.some((o) => this.refersTo(o))) {
      // A read of a constant object, list or map, done by the engine at compile time.
      const type = op.dst >= 0 ? `"${this.g.types[op.dst]}"` : "undefined";
      const imm = op.imm === undefined ? "" : `, ${JSON.stringify(op.imm)}`;
      const args = op.args.map((o) => this.abstract(o)).join(", ");
      return `(e.readGreen("${op.op}", [${args}], ${type}${imm}) as ${tsType(this.g.types[op.dst]!)})`;
    }
    if (op.op === "array_len") return `${a[0]}.length`;
    if (op.op === "array_get") return `${a[0]}[${a[1]}]!`;
    if (op.op === "promote") return a[0]!;
    if (op.op === "new_array") return `e.allocate("${op.imm}", ${a[0]})`;
    const expr = OPS[op.op]!.expr;
    if (!expr) return unsupported(op.op);
    return `(${expr.replace(/\$(\d)/g, (_, i) => a[Number(i)]!)})`;
  }

  /** A side of a red branch for the engine: a module-level constant when it passes nothing. */
  private side(j: Jump): string {
    if (j.args.length) return this.target(j);
    const name = `${ident(this.g.name, "to")}_${j.block}`;
    this.sides.set(name, j.block);
    return name;
  }

  private target(j: Jump): string {
    const params = this.g.blocks[j.block]!.params;
    return `[${j.block}, [${j.args.map((a, i) => this.as(a, this.greens[params[i]!]!)).join(", ")}]]`;
  }

  /** A jump within the frame, done here (the engine's `jump`, without a call and an array):
   *  the target's parameters take the arguments, through temporaries where a parameter is
   *  also read by another argument. */
  private jump(j: Jump): string {
    const params = this.g.blocks[j.block]!.params;
    const values = j.args.map((a, i) => this.as(a, this.greens[params[i]!]!));
    const go = this.plainMode ? `b = ${j.block};` : `f.block = ${j.block}; f.op = 0;`;
    const clash = params.some((v, i) => j.args.some((a, k) => a === v && k !== i));
    if (!clash) return [...params.map((v, i) => `${this.slot(v)} = ${values[i]};`), go].join(" ");
    return [
      "{",
      ...values.map((x, i) => `const a${i} = ${x};`),
      ...params.map((v, i) => `${this.slot(v)} = a${i};`),
      go,
      "}",
    ].join(" ");
  }

  /** A two-way branch on a plain condition, taken here. */
  private choose(cond: string, t: { then: Jump; else: Jump }): string[] {
    return [`if (${cond}) { ${this.jump(t.then)} }`, `else { ${this.jump(t.else)} }`, `continue;`];
  }

  /** Whether operand `o` is a reference (of a reference type, or a constant object or null). */
  private refersTo(o: Operand): boolean {
    return typeof o === "number" ? isReference(this.g.types[o]) : o.k === "obj" || o.k === "null";
  }

  private isGreen(o: Operand): boolean {
    return typeof o !== "number" || this.greens[o]!;
  }

  private term(b: Block): string[] {
    const t = b.term;
    switch (t.k) {
      case "jump":
        return [this.jump(t.to), `continue;`];
      case "branch":
        if (this.isGreen(t.cond)) return this.choose(this.plain(t.cond), t);
        // A red condition is often a constant all the same (a bounds check on a virtual):
        // then the jump is done here, as for a green one.
        return [
          `const cond = ${this.abstract(t.cond)};`,
          `if (cond.k === "c") {`,
          ...this.choose("cond.v", t),
          `}`,
          `if (!e.branch(p, f, cond, ${this.side(t.then)}, ${this.side(t.else)})) return false;`,
          `env = f.env; // the engine keeps only the live slots where a side may be saved`,
          `continue;`,
        ];
      case "switch":
        if (this.isGreen(t.on))
          return [
            `switch (${this.plain(t.on)}) {`,
            ...t.cases.map((c) => `case ${c.value}: ${this.jump(c.to)} break;`),
            `default: ${this.jump(t.default)}`,
            `}`,
            `continue;`,
          ];
        return [
          `if (!e.switch(p, f, ${this.abstract(t.on)}, [${t.cases.map((c) => `[${c.value}, ${this.target(c.to).slice(1, -1)}]`).join(", ")}], ${this.side(t.default)})) return false;`,
          `env = f.env;`,
          `continue;`,
        ];
      case "return":
        if (this.plainMode)
          return [`return${t.value === undefined ? "" : ` ${this.plain(t.value)}`};`];
        return [
          `return e.ret(p, f, ${t.value === undefined ? "undefined" : this.abstract(t.value)});`,
        ];
      case "raise":
        if (this.plainMode) return [`throw new Raised(${JSON.stringify(t.msg)});`];
        return [`return e.raise(p, ${JSON.stringify(t.msg)});`];
      case "exit":
        return unsupported("exit");
    }
  }
}

function tsType(t: Type): string {
  if (isReference(t)) return "AVal";
  return t === "i32"
    ? "number"
    : t === "bool"
      ? "boolean"
      : t === "i32[]"
        ? "Int32Array"
        : t === "u8[]"
          ? "Uint8Array"
          : "never";
}

function unsupported(what: string): never {
  throw new Error(`the emitter cannot handle ${what}`);
}
