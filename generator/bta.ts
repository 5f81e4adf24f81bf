//! Binding-time analysis: which values of an interpreter are known when the specialiser runs
//! (green) and which exist only at run time (red), over all graphs reachable from the entry, to a
//! fixpoint. The generator emits green operations as plain TypeScript and red ones as calls on the
//! specialisation engine, which still folds red values that happen to be constants, so the
//! analysis may be conservative without changing the residual code.
//!
//! Rules. Start with everything green and make red, until nothing changes:
//! - the entry's parameters, except the driver's immutable greens (the bytecode);
//! - the driver's reds at the merge point (a call depth or a counter green there would make the
//!   keys grow without bound);
//! - a parameter that some call site passes a red value to; a block parameter that some jump
//!   passes a red value to;
//! - a pure operation with a red operand; `array_get`/`array_len` on a red array; every
//!   allocation (it may stay virtual, but its contents are run-time state); input; the result of
//!   a portal call (a residual call). `promote` makes its result green whatever its operand;
//! - a call's result when some return of the callee is red.
//! A driver green that comes out red is an error the author must see (`explain` says why).

import { OPS } from "../runtime/ir/ops.ts";
import { printOp, printTerm, varName } from "../runtime/ir/print.ts";
import type { Graph, Module, Operand } from "../runtime/ir/types.ts";
import { jumpsOf } from "../runtime/ir/walk.ts";

export interface Binding {
  /** Per graph, per variable: green? */
  greens: Map<string, boolean[]>;
  /** Why a variable is red: the operation that made it so and the red operand it used. */
  why: Map<string, Map<number, { reason: string; from?: { graph: string; v: number } }>>;
  /** Graphs holding a merge point: calls to them stay residual. */
  portals: Set<string>;
  /** Driver greens that came out red: `graph: name`. */
  errors: string[];
}

export function analyse(m: Module, entry: string): Binding {
  const graphs = new Map(m.graphs.map((g) => [g.name, g]));
  const portals = new Set(
    m.graphs
      .filter((g) => g.blocks.some((b) => b.ops.some((o) => o.op === "merge_point")))
      .map((g) => g.name),
  );
  // (`Array.from`: a variable number a graph does not use is a hole in `types`, which `map`
  // would keep, and the emitted bits would be off by one from there.)
  const greens = new Map(m.graphs.map((g) => [g.name, Array.from(g.types, () => true)]));
  const why = new Map(
    m.graphs.map((g) => [
      g.name,
      new Map<number, { reason: string; from?: { graph: string; v: number } }>(),
    ]),
  );
  const immutable = new Set(m.driver?.immutable ?? []);
  let changed = true;
  const red = (g: string, v: number, reason: string, from?: { graph: string; v: number }) => {
    const gs = greens.get(g)!;
    if (!gs[v]) return;
    gs[v] = false;
    why.get(g)!.set(v, from ? { reason, from } : { reason });
    changed = true;
    // A run-time array makes every alias of it one: generated code holds a green array as a
    // plain typed array, which the engine could not tell from an array of run-time values.
    if (isArray(graphs.get(g)!, v)) redArray(g, v, reason, from);
  };
  const isGreen = (g: string, o: Operand) => typeof o !== "number" || greens.get(g)![o]!;
  const firstRed = (g: string, args: Operand[]) =>
    args.find((a) => !isGreen(g, a)) as number | undefined;

  // Arrays alias through jumps, calls and returns: an array is green only if no alias of it is
  // used in a red way (indexed or written by a run-time value, passed to the portal, a red of
  // the driver). Such an array (a bracket table) is computed at compile time.
  const classes = aliasClasses(m, graphs);
  const redClass = new Map<string, { reason: string; from?: { graph: string; v: number } }>();
  const redArray = (g: string, a: Operand, reason: string, from?: { graph: string; v: number }) => {
    if (typeof a !== "number") return;
    const c = classes.find(`${g}:${a}`);
    if (!redClass.has(c)) {
      redClass.set(c, from ? { reason, from } : { reason });
      changed = true;
    }
  };

  // A red array's length is known at compile time where every array of its class is allocated
  // with a green length (a stack as long as the bytecode, a tape): `array_len` of it is green.
  // (The engine may not know it all the same, after a generalised merge point: generated code
  // then goes on generically.) Classes of arrays from elsewhere are not.
  const unknownLength = new Set<string>();
  const lengthUnknown = (g: string, a: Operand) => {
    if (typeof a !== "number") return;
    const c = classes.find(`${g}:${a}`);
    if (unknownLength.has(c)) return;
    unknownLength.add(c);
    changed = true;
  };
  const lengthKnown = (g: string, a: Operand) =>
    typeof a === "number" && !unknownLength.has(classes.find(`${g}:${a}`));

  const e = graphs.get(entry)!;
  for (const p of e.blocks[0]!.params)
    if (!immutable.has(e.names[p] ?? ""))
      red(entry, p, `a run-time argument of the entry @${entry}`);

  while (changed) {
    changed = false;
    for (const g of m.graphs) {
      const gn = g.name;
      // Arrays that come in from run time: their lengths are not known.
      if (gn === entry || portals.has(gn))
        for (const v of g.blocks[0]!.params)
          if (!greens.get(gn)![v] && isArray(g, v)) lengthUnknown(gn, v);
      for (const b of g.blocks) {
        for (const op of b.ops) {
          const text = `${printOp(g, op)}${op.pos ? ` @${op.pos.line}:${op.pos.col}` : ""}`;
          const r = firstRed(gn, op.args);
          const from = r === undefined ? undefined : { graph: gn, v: r };
          if (op.op === "call") {
            const callee = graphs.get(op.imm as string)!;
            callee.blocks[0]!.params.forEach((p, i) => {
              if (!isGreen(gn, op.args[i]!))
                red(callee.name, p, `passed a red value by ${text} in @${gn}`, {
                  graph: gn,
                  v: op.args[i] as number,
                });
            });
            if (op.dst < 0) continue;
            if (portals.has(callee.name))
              red(gn, op.dst, `the result of a residual call to the portal: ${text}`);
            else {
              const ret = redReturn(callee, greens.get(callee.name)!);
              if (ret !== undefined)
                red(gn, op.dst, `the callee @${callee.name} returns a red value: ${text}`, {
                  graph: callee.name,
                  v: ret,
                });
            }
            continue;
          }
          if (op.op === "merge_point")
            op.args.slice(op.imm as number).forEach((a, i) => {
              if (typeof a !== "number") return;
              red(gn, a, `declared red by the driver ('${m.driver?.reds[i]}'): ${text}`);
              redArray(gn, a, `declared red by the driver ('${m.driver?.reds[i]}'): ${text}`);
            });
          if (op.op === "array_set" || op.op === "array_get") {
            const bad = op.args.slice(1).find((a) => !isGreen(gn, a));
            if (bad !== undefined)
              redArray(gn, op.args[0]!, `indexed or written with a red value: ${text}`, {
                graph: gn,
                v: bad as number,
              });
          }
          if (op.op === "call" && portals.has(op.imm as string)) {
            op.args.forEach((a) => redArray(gn, a, `passed to the portal: ${text}`));
            if (op.dst >= 0) lengthUnknown(gn, op.dst);
          }
          if (op.dst < 0) continue;
          const info = OPS[op.op]!;
          if (op.op === "new_array") {
            if (from) {
              red(gn, op.dst, `an allocation of a red length: ${text}`, from);
              lengthUnknown(gn, op.dst);
            }
          } else if (op.op === "io_read") red(gn, op.dst, `input: ${text}`);
          else if (op.op === "promote")
            continue; // green by definition: that is what promotion is for
          else if (op.op === "array_len" && lengthKnown(gn, op.args[0]!)) continue;
          else if (info.effect === "pure" || op.op === "array_get" || readsConstant(op.op)) {
            if (from) red(gn, op.dst, `uses a red operand: ${text}`, from);
          } else red(gn, op.dst, `an operation with effects: ${text}`);
        }
        g.types.forEach((_, v) => {
          if (!isArray(g, v)) return;
          const why = redClass.get(classes.find(`${gn}:${v}`));
          if (why) red(gn, v, `an alias of a run-time array: ${why.reason}`, why.from);
        });
        for (const j of jumpsOf(b.term)) {
          const target = g.blocks[j.block]!;
          j.args.forEach((a, i) => {
            if (!isGreen(gn, a))
              red(gn, target.params[i]!, `a jump passes a red value: ${printTerm(g, b.term)}`, {
                graph: gn,
                v: a as number,
              });
          });
        }
      }
    }
  }

  const errors: string[] = [];
  for (const g of m.graphs)
    for (const b of g.blocks)
      for (const op of b.ops)
        if (op.op === "merge_point")
          op.args.slice(0, op.imm as number).forEach((a, i) => {
            if (!isGreen(g.name, a))
              errors.push(
                `@${g.name}: the green '${m.driver?.greens[i]}' (${varName(g, a as number)}) is red`,
              );
          });
  return { greens, why, portals, errors };
}

/** Union-find over `graph:var` names of array values. */
class UnionFind {
  private parent = new Map<string, string>();
  find(x: string): string {
    let p = this.parent.get(x) ?? x;
    while (p !== (this.parent.get(p) ?? p)) p = this.parent.get(p)!;
    if (p !== x) this.parent.set(x, p);
    return p;
  }
  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(ra, rb);
  }
}

/** The classes of array values that may be the same array. */
function aliasClasses(m: Module, graphs: Map<string, Graph>): UnionFind {
  const uf = new UnionFind();
  for (const g of m.graphs)
    for (const b of g.blocks) {
      for (const j of jumpsOf(b.term))
        j.args.forEach(
          (a, i) =>
            isArray(g, a) &&
            uf.union(`${g.name}:${a}`, `${g.name}:${g.blocks[j.block]!.params[i]}`),
        );
      for (const op of b.ops) {
        if (op.op !== "call") continue;
        const callee = graphs.get(op.imm as string)!;
        op.args.forEach(
          (a, i) =>
            isArray(g, a) &&
            uf.union(`${g.name}:${a}`, `${callee.name}:${callee.blocks[0]!.params[i]}`),
        );
        if (op.dst >= 0 && isArray(g, op.dst))
          for (const cb of callee.blocks)
            if (cb.term.k === "return" && typeof cb.term.value === "number")
              uf.union(`${g.name}:${op.dst}`, `${callee.name}:${cb.term.value}`);
      }
    }
  return uf;
}

function isArray(g: Graph, o: Operand): o is number {
  return typeof o === "number" && (g.types[o] === "i32[]" || g.types[o] === "u8[]");
}

/** A red value some `return` of `g` gives, if any. */
function redReturn(g: Graph, greens: boolean[]): number | undefined {
  for (const b of g.blocks)
    if (b.term.k === "return" && typeof b.term.value === "number" && !greens[b.term.value])
      return b.term.value;
  return undefined;
}

/** Why `v` of `graph` is red: the chain of operations back to where it started. */
export function explain(m: Module, bt: Binding, graph: string, name: string): string[] {
  const g = m.graphs.find((x) => x.name === graph);
  if (!g) return [`no function '${graph}'`];
  // `pc.6` names one variable; `pc` the one at the merge point, else its first definition.
  const all = g.types.map((_, v) => v).filter((v) => varName(g, v) === name || g.names[v] === name);
  const merge = g.blocks.flatMap((b) =>
    b.ops.filter((o) => o.op === "merge_point").flatMap((o) => o.args),
  );
  const vars = all.length > 1 ? [all.find((v) => merge.includes(v)) ?? all[0]!] : all;
  if (!vars.length) return [`no variable '${name}' in @${graph}`];
  const lines: string[] = [];
  for (const v of vars) {
    let at: { graph: string; v: number } | undefined = { graph, v };
    const seen = new Set<string>();
    if (bt.greens.get(graph)![v]) {
      lines.push(`${varName(g, v)} in @${graph} is green`);
      continue;
    }
    while (at && !seen.has(`${at.graph}:${at.v}`)) {
      seen.add(`${at.graph}:${at.v}`);
      const gg = m.graphs.find((x) => x.name === at!.graph)!;
      const w = bt.why.get(at.graph)!.get(at.v);
      lines.push(`${varName(gg, at.v)} in @${at.graph} is red: ${w?.reason ?? "?"}`);
      at = w?.from;
    }
  }
  return lines;
}

/** The annotated graphs: every value marked G (green) or R (red). */
export function printBinding(m: Module, bt: Binding): string {
  const out: string[] = [];
  for (const g of m.graphs) {
    const gs = bt.greens.get(g.name)!;
    const mark = (v: number) => `${varName(g, v)}:${gs[v] ? "G" : "R"}`;
    const kind = bt.portals.has(g.name)
      ? "portal: calls stay residual"
      : gs.every(Boolean)
        ? "all green: runs at compile time"
        : "inlined";
    out.push(`func @${g.name} (${kind})`);
    g.blocks.forEach((b, i) => {
      out.push(b.params.length ? `b${i}(${b.params.map(mark).join(", ")}):` : `b${i}:`);
      for (const op of b.ops)
        out.push(`  ${op.dst >= 0 ? (gs[op.dst] ? "G " : "R ") : "  "}${printOp(g, op)}`);
      out.push(`    ${printTerm(g, b.term)}`);
    });
    out.push("");
  }
  return out.join("\n");
}

/** A read of an object, list or map: green where its operands are, for a green reference is a
 *  constant (the program's constants, a module's constant object, a promoted one), which never
 *  changes. */
function readsConstant(op: string): boolean {
  return OPS[op]!.effect === "read" && op !== "io_read";
}
