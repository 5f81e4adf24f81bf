//! The verifier: a module is well formed when every graph is in SSA form (each variable defined
//! once, every use dominated by its definition), every operation and terminator is well typed
//! per the opcode table, every jump passes as many arguments as its target has parameters, and
//! every block ends in a terminator. Run after every pass under test (QBE's ssacheck). It also
//! checks that no code grew the empty list that new blocks and argument-less jumps share.

import { classNamed, fieldOf } from "./classes.ts";
import { elemOf, isList, isMap, isReference, isType, keyOf, valueOf } from "./containers.ts";
import { NONE } from "./build.ts";
import { OPS, type ArgType } from "./ops.ts";
import { printOperand } from "./print.ts";
import type { Const, Graph, Jump, ListType, MapType, Module, Operand, Type } from "./types.ts";
import { rootsOf, successors } from "./walk.ts";

export function verifyModule(m: Module): void {
  const errors = [...verifyObjects(m), ...m.graphs.flatMap((g) => verifyGraph(m, g))];
  if (errors.length) throw new Error(`invalid IR:\n  ${errors.join("\n  ")}`);
}

export function verifyGraph(m: Module, g: Graph): string[] {
  const errors: string[] = [];
  const where = (b: number) => `@${g.name} b${b}`;
  if (!g.blocks.length) return [`@${g.name}: no blocks`];
  if (NONE.length) return [`@${g.name}: the empty list blocks share (NONE) was grown in place`];

  const def = new Map<number, number>(); // variable -> defining block
  const note = (v: number, b: number) => {
    if (def.has(v)) errors.push(`${where(b)}: v${v} defined twice`);
    if (g.types[v] === undefined) errors.push(`${where(b)}: v${v} has no type`);
    def.set(v, b);
  };
  g.blocks.forEach((b, i) => {
    b.params.forEach((p) => note(p, i));
    b.ops.forEach((op) => op.dst >= 0 && note(op.dst, i));
  });

  const labels = g.labels ?? [];
  labels.forEach((l, i) => {
    if (!Number.isInteger(l) || l <= 0 || l >= g.blocks.length)
      errors.push(`@${g.name}: label ${i} is no block after the entry (b${l})`);
    else if (labels.indexOf(l) !== i) errors.push(`@${g.name}: b${l} is labelled twice`);
  });
  const dom = dominators(g);
  const typeOf = (o: Operand): Type | "null" | undefined =>
    typeof o === "number" ? g.types[o] : constType(m, o);

  g.blocks.forEach((b, bi) => {
    const seen = new Set(b.params);
    const use = (o: Operand, what: string, want?: ArgType) => {
      if (typeof o === "number") {
        const d = def.get(o);
        if (d === undefined) return errors.push(`${where(bi)}: ${what} uses undefined v${o}`);
        if (d === bi ? !seen.has(o) : !dom[bi]?.has(d))
          errors.push(
            `${where(bi)}: ${what} uses ${printOperand(g, o)} where its definition does not dominate`,
          );
      } else if (o.k === "data" && !m.data[o.v])
        errors.push(`${where(bi)}: ${what}: no data $d${o.v}`);
      else if (o.k === "obj" && !m.objects?.[o.v])
        errors.push(`${where(bi)}: ${what}: no object $o${o.v}`);
      const t = typeOf(o);
      if (want && !fits(t, want, container))
        errors.push(`${where(bi)}: ${what}: ${printOperand(g, o)} is ${t}, wants ${want}`);
    };
    const jump = (j: Jump, what: string) => {
      const target = g.blocks[j.block];
      if (!target) return errors.push(`${where(bi)}: ${what} to missing b${j.block}`);
      if (target.params.length !== j.args.length)
        return errors.push(
          `${where(bi)}: ${what} passes ${j.args.length} arguments to b${j.block}, which takes ${target.params.length}`,
        );
      j.args.forEach((a, k) => use(a, `${what} to b${j.block}`, g.types[target.params[k]!]));
    };

    let container: Type | "null" | undefined; // the type of the operation's first operand
    for (const op of b.ops) {
      const info = OPS[op.op];
      container = op.args.length ? typeOf(op.args[0]!) : undefined;
      if (!info) {
        errors.push(`${where(bi)}: unknown operation ${op.op}`);
        if (op.dst >= 0) seen.add(op.dst);
        continue;
      }
      if (info.args === "variadic") op.args.forEach((a) => use(a, op.op));
      else if (info.args.length !== op.args.length)
        errors.push(
          `${where(bi)}: ${op.op} takes ${info.args.length} arguments, has ${op.args.length}`,
        );
      else op.args.forEach((a, k) => use(a, op.op, (info.args as ArgType[])[k]));
      const ret = resultType(m, op.op, op.imm, container, (msg) =>
        errors.push(`${where(bi)}: ${msg}`),
      );
      if (op.op === "call")
        checkCall(m, g, op.imm, op.args.map(typeOf), (msg) => errors.push(`${where(bi)}: ${msg}`));
      if (op.op === "new_object" && classNamed(m, op.imm)?.abstract !== false)
        errors.push(`${where(bi)}: new_object of ${op.imm}, not a concrete class`);
      if (op.op === "set_field") {
        const f = fieldOf(m, op.imm);
        if (!f) errors.push(`${where(bi)}: set_field of unknown field <${op.imm}>`);
        else if (op.args.length === 2 && !fits(typeOf(op.args[1]!), f.field.type))
          errors.push(
            `${where(bi)}: set_field<${op.imm}> stores ${typeOf(op.args[1]!)}, wants ${f.field.type}`,
          );
      }
      if (op.op === "merge_point" && !(typeof op.imm === "number" && op.imm <= op.args.length))
        errors.push(`${where(bi)}: merge_point needs a greens count`);
      if ((ret === "none" || ret === "void") !== op.dst < 0)
        errors.push(`${where(bi)}: ${op.op} ${op.dst < 0 ? "needs" : "has no"} result`);
      else if (op.dst >= 0 && ret !== undefined && g.types[op.dst] !== ret)
        errors.push(`${where(bi)}: ${op.op} gives ${ret}, result is typed ${g.types[op.dst]}`);
      if (op.dst >= 0) seen.add(op.dst);
    }

    container = undefined;
    const t = b.term;
    switch (t.k) {
      case "jump":
        jump(t.to, "jump");
        break;
      case "branch":
        use(t.cond, "branch", "bool");
        jump(t.then, "branch");
        jump(t.else, "branch");
        break;
      case "switch":
        use(t.on, "switch", "i32");
        t.cases.forEach((c) => jump(c.to, "switch"));
        jump(t.default, "switch");
        if (new Set(t.cases.map((c) => c.value)).size !== t.cases.length)
          errors.push(`${where(bi)}: switch has duplicate cases`);
        break;
      case "return":
        if ((t.value === undefined) !== (g.ret === "void"))
          errors.push(`${where(bi)}: return does not match -> ${g.ret}`);
        if (t.value !== undefined) use(t.value, "return", g.ret);
        break;
      case "exit":
        t.args.forEach((a) => use(a, "exit"));
        break;
      case "raise":
        break;
    }
  });
  return errors;
}

/** Whether a value of type `t` may be an operand wanting `want` (`elem`, `key` and `value`
 *  read the type of the operation's first operand, `container`). */
function fits(t: Type | "null" | undefined, want: ArgType, container?: Type | "null"): boolean {
  switch (want) {
    case "any":
      return t !== undefined && t !== "void";
    case "arr":
      return t === "i32[]" || t === "u8[]";
    case "list":
      return isList(t);
    case "map":
      return isMap(t);
    case "reference":
      return t === "null" || isReference(t);
    case "elem":
      return isList(container) && t === elemOf(container);
    case "key":
      return isMap(container) && t === keyOf(container);
    case "value":
      return isMap(container) && t === valueOf(container);
    default:
      // null is a reference of every reference type
      return t === want || (t === "null" && isReference(want));
  }
}

/** The type of a constant operand (`null` fits every reference type: `fits`). */
function constType(m: Module, o: Exclude<Operand, number>): Type | "null" | undefined {
  switch (o.k) {
    case "int":
      return "i32";
    case "bool":
      return "bool";
    case "null":
      return "null";
    case "data":
      return m.data[o.v]?.type;
    case "obj": {
      const d = m.objects?.[o.v];
      return d === undefined ? undefined : d.k === "object" ? "ref" : d.type;
    }
  }
}

/** The constant objects: classes that exist and are concrete, contents of the right types. */
function verifyObjects(m: Module): string[] {
  const errors: string[] = [];
  (m.objects ?? []).forEach((d, i) => {
    const wrong = (c: Const, want: Type, what: string) => {
      if (!fits(constType(m, c), want)) errors.push(`$o${i}: ${what} is not ${want}`);
    };
    if (d.k === "object") {
      const cls = classNamed(m, d.cls);
      if (!cls || cls.abstract) return errors.push(`$o${i}: no concrete class ${d.cls}`);
      if (d.fields.length !== cls.fields.length)
        return errors.push(`$o${i}: ${d.cls} has ${cls.fields.length} fields`);
      d.fields.forEach((f, k) => wrong(f, cls.fields[k]!.type, `field ${cls.fields[k]!.name}`));
    } else if (!isType(d.type)) errors.push(`$o${i}: unknown type ${d.type}`);
    else if (d.k === "list") d.items.forEach((c, k) => wrong(c, elemOf(d.type), `item ${k}`));
    else
      d.entries.forEach(([k, v], n) => {
        wrong(k, keyOf(d.type), `key ${n}`);
        wrong(v, valueOf(d.type), `value ${n}`);
      });
  });
  return errors;
}

/** The result type of an operation, or undefined where it cannot be known (reported). */
export function resultType(
  m: Module,
  op: string,
  imm: string | number | undefined,
  container: Type | "null" | undefined,
  report: (msg: string) => void = () => {},
): Type | "none" | undefined {
  const ret = OPS[op]?.ret;
  if (ret === "imm") {
    const ok =
      op === "new_list"
        ? isList
        : op === "new_map"
          ? isMap
          : (t: unknown) => t === "i32[]" || t === "u8[]";
    if (typeof imm === "string" && isType(imm) && ok(imm)) return imm;
    report(
      `${op} needs ${op === "new_list" ? "a list" : op === "new_map" ? "a map" : "an array"} type, has <${imm}>`,
    );
    return undefined;
  }
  if (ret === "same") return container === "null" ? "ref" : container;
  if (ret === "elem" || ret === "value") {
    if (ret === "elem" ? isList(container) : isMap(container))
      return ret === "elem" ? elemOf(container as ListType) : valueOf(container as MapType);
    return undefined; // (the operand's check reports it)
  }
  if (ret === "callee") {
    const callee = m.graphs.find((c) => c.name === imm);
    if (!callee) report(`call to unknown @${imm}`);
    return callee?.ret;
  }
  if (ret === "field") {
    const f = fieldOf(m, imm);
    if (!f) report(`${op} of unknown field <${imm}>`);
    return f?.field.type;
  }
  return ret;
}

function checkCall(
  m: Module,
  g: Graph,
  name: unknown,
  args: (Type | "null" | undefined)[],
  report: (msg: string) => void,
) {
  const callee = m.graphs.find((c) => c.name === name);
  const params = callee?.blocks[0]?.params;
  if (!callee || !params) return;
  if (params.length !== args.length)
    return report(`call @${callee.name} passes ${args.length} arguments, takes ${params.length}`);
  params.forEach((p, k) => {
    if (!fits(args[k], callee.types[p]!))
      report(
        `call @${callee.name} argument ${k} is ${args[k]}, wants ${callee.types[p]} (in @${g.name})`,
      );
  });
}

/** Dominator sets by the classic iterative data-flow algorithm; unreachable blocks get none.
 *  The labels are entries as block 0 is (other graphs jump into them): each dominated by
 *  itself alone, so what reaches code after a label from the entry is not defined there. */
function dominators(g: Graph): Set<number>[] {
  const n = g.blocks.length;
  // Blocks no path from the entry reaches (a folded branch's other side, until prune-blocks
  // removes it) are dominated by every block, vacuously: they constrain no reachable block.
  const roots = new Set(rootsOf(g).filter((r) => g.blocks[r]));
  const reached = new Set(roots);
  for (const stack = [...roots]; stack.length;)
    for (const s of successors(g.blocks[stack.pop()!]!.term))
      if (g.blocks[s] && !reached.has(s)) (reached.add(s), stack.push(s));
  const preds: number[][] = g.blocks.map(() => []);
  g.blocks.forEach(
    (b, i) => reached.has(i) && successors(b.term).forEach((s) => preds[s]?.push(i)),
  );
  const all = new Set(g.blocks.map((_, i) => i));
  const dom: Set<number>[] = g.blocks.map((_, i) => (roots.has(i) ? new Set([i]) : new Set(all)));
  for (let changed = true; changed;) {
    changed = false;
    for (let i = 1; i < n; i++) {
      if (!reached.has(i) || roots.has(i)) continue;
      const ps = preds[i]!;
      let next = new Set<number>();
      if (ps.length) {
        next = new Set(dom[ps[0]!]);
        for (const p of ps.slice(1)) for (const d of next) if (!dom[p]!.has(d)) next.delete(d);
      }
      next.add(i);
      if (next.size !== dom[i]!.size) {
        dom[i] = next;
        changed = true;
      }
    }
  }
  return dom;
}
