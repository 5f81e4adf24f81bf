//! The L3 interpreter: runs low-level graphs from a compact, register-based encoding. It is the
//! portable reference backend (the seed's "L3 interpreter"): the `graph` backend runs an
//! interpreter's own graphs on it, `pe` and `jit-graph` run residual graphs on it.
//!
//! Each graph compiles to one Int32Array. Every variable and every constant is a register of
//! the frame (constants are preloaded), so every operand is a register number. Block arguments
//! become move lists on edges, done in parallel (all sources read before any target written).
//! Leaving a graph is a status, never a JS exception: `RETURN`, `RAISE` (an interpreter error,
//! with its message) or `EXIT` (to the driver, with a status and the state to resume).
//!
//! It is not written in the interpreter subset: frames hold arrays and integers side by side.

import { STEP_LIMIT, VmError, readByte, spend, writeByte } from "./hints.ts";
import { classNamed, fieldOf } from "./ir/classes.ts";
import { OPS } from "./ir/ops.ts";
import { zeroOf } from "./ir/containers.ts";
import { constantsOf } from "./objects.ts";
import { Heap, type HeapObject } from "./heap.ts";
import type { Graph, Jump, Module, Operand } from "./ir/types.ts";

type Value = number | boolean | Int32Array | Uint8Array;
/** What a register holds: objects of the heap's classes (`heap.ts`), lists (JavaScript arrays)
 *  and maps (JavaScript Maps) besides integers, booleans and arrays. */
export type Reg = Value | HeapObject | Reg[] | Map<Reg, Reg> | null;

/** Operation numbers: the opcode table's pure operations first (their `fold` is the meaning),
 *  then the rest, then control. */
const PURE = Object.keys(OPS).filter((k) => OPS[k]!.fold);
const FOLD = PURE.map((k) => OPS[k]!.fold!);
const WIDTH = PURE.map((k) => 2 + (OPS[k]!.args as unknown[]).length);
const N = PURE.length;
const enum C {
  NEW_I32 = 1000,
  NEW_U8,
  GET,
  SET,
  LEN,
  NEW_OBJ,
  GET_FIELD,
  SET_FIELD,
  CLASS_OF,
  NEW_LIST,
  LIST_GET,
  LIST_SET,
  LIST_LEN,
  LIST_PUSH,
  LIST_POP,
  LIST_INSERT,
  LIST_REMOVE,
  NEW_MAP,
  MAP_GET,
  MAP_HAS,
  MAP_SET,
  MAP_DELETE,
  MAP_SIZE,
  CALL,
  FUEL,
  COPY,
  READ,
  WRITE,
  JUMP,
  EDGE,
  BRANCH,
  SWITCH,
  RETURN,
  RETURN_VOID,
  RAISE,
  EXIT,
  /** A patched exit: TAIL graph n value args… (the value is not passed on). */
  TAIL,
}
/** The list and map operations whose code is their result (if any) and operands. */
const CONTAINER_OPS: Record<string, C> = {
  new_list: C.NEW_LIST,
  list_get: C.LIST_GET,
  list_set: C.LIST_SET,
  list_len: C.LIST_LEN,
  list_push: C.LIST_PUSH,
  list_insert: C.LIST_INSERT,
  list_remove: C.LIST_REMOVE,
  new_map: C.NEW_MAP,
  map_has: C.MAP_HAS,
  map_set: C.MAP_SET,
  map_delete: C.MAP_DELETE,
  map_size: C.MAP_SIZE,
};

const RETURNED = 0;
const RAISED = 1;
const EXITED = 2;
const ADD = PURE.indexOf("int_add");
const SUB = PURE.indexOf("int_sub");
const LT = PURE.indexOf("int_lt");
const EQ = PURE.indexOf("int_eq");
const ULT = PURE.indexOf("uint_lt");

interface Code {
  graph: Graph;
  code: Int32Array;
  /** Where each operation of each block starts (the terminator's at the end). */
  opAt: number[][];
  /** The frame's initial contents: constants in their registers. */
  template: Reg[];
  params: number[];
  /** Where a run starts: 0, or for a label's entry (`Graph.labels`) its block's code. */
  start: number;
}

/** Where an exit goes on (see the constructor). */
export type ExitTo =
  { graph: string; args: Value[]; fixed: boolean } | { done: Status } | { leave: Value[] };

/** A frame to go on from (see `L3.resume`). */
export interface Resumption {
  graph: string;
  block: number;
  op: number;
  env: (Value | undefined)[];
  ret: number;
}

/** Values leaving L3 (a run's result, an exit's state) may be objects, lists and maps: the
 *  drivers give them back to L3 (a continuation's arguments, a fallback's frames) or to the
 *  first tier, whose objects they are (the heap of the tiers is its classes: `heap.ts`). */
const leaving = (vs: Reg[]): Value[] => vs as Value[];

/** A program's constants, made by the interpreter's function `name` on L3 (`Descriptor.
 *  constants`); an interpreter error there is the program's: a VmError, as the interpreter
 *  itself would raise it. */
export function makeConstants(graphs: Module, name: string, code: Uint8Array): unknown {
  const s = new L3(graphs).evaluate(name, [code]);
  if (s.k === "raise") throw new VmError(s.msg);
  return s.value;
}

/** How a run of a graph ended. */
export type Status =
  | { k: "return"; value: Value | undefined }
  | { k: "raise"; msg: string }
  | { k: "exit"; status: number; state: Value[] };

export class L3 {
  private codes: Code[];
  private messages: string[] = [];

  private index: Map<string, number>;

  /** `onExit`, when given, handles an `exit` where it happens: it names the graph to go on in
   *  (a continuation) and its arguments; the exiting graph's frame becomes that graph's (a tail
   *  call), so callers further up go on as if it returned, and a loop through exits keeps the JS
   *  stack flat. With `fixed`, the exit goes there whatever its value, and the exit instruction
   *  is patched into a tail call. Or it gives the exited graph's outcome (`done`: JS ran the
   *  rest of it, a fallback). Or, for an exit of the graph `run` started (not `nested`), it
   *  ends the run (`leave`): `run` gives an exit with status -1 and those values (tiers: the
   *  first tier goes on from them). */
  constructor(
    readonly module: Module,
    private onExit?: (status: number, state: Value[]) => ExitTo,
    /** Where its objects live: the first tier's classes for the tiers, else the module's own. */
    readonly heap: Heap = Heap.of(module),
  ) {
    this.index = new Map();
    this.codes = [];
    this.add(module.graphs);
  }

  /** Adds graphs (those made after the start: a continuation and the graphs it calls); they
   *  may call each other and the others. Each label of a graph (`Graph.labels`) is an entry
   *  of its own, `@name#i`, that starts at its block. */
  add(gs: Graph[]): void {
    gs.forEach((g, i) => this.index.set(g.name, this.codes.length + i));
    const codes = gs.map((g) => this.compile(g, this.index));
    this.codes.push(...codes);
    codes.forEach(({ graph: g, code, template, opAt }) =>
      g.labels?.forEach((l, i) => {
        this.index.set(`${g.name}#${i}`, this.codes.length);
        const params = g.blocks[l]!.params;
        this.codes.push({ graph: g, code, template, params, opAt, start: opAt[l]![0]! });
      }),
    );
  }

  // How the last exec ended, beside its status code (no allocation per call).
  private result: Reg | undefined;
  private error = "";
  private exitStatus = 0;
  private exitState: Reg[] = [];

  /** Runs the graph named `name` with `args` to its value as L3 holds it, objects included
   *  (the frontend makes a module's constant objects so: `generator/frontend/constants.ts`). */
  evaluate(
    name: string,
    args: Reg[],
  ): { k: "return"; value: Reg | undefined } | { k: "raise"; msg: string } {
    const s = this.call(this.index.get(name)!, args);
    if (s === RETURNED) return { k: "return", value: this.result };
    if (s === RAISED) return { k: "raise", msg: this.error };
    throw new Error("L3: an exit while evaluating a constant");
  }

  /** Runs the graph named `name` with `args`. */
  run(name: string, args: Value[]): Status {
    const i = this.index.get(name);
    if (i === undefined) throw new Error(`no graph @${name}`);
    return this.status(this.call(i, args));
  }

  private arrays: (Int32Array | Uint8Array)[] = [];
  /** The names of the fields the code reads and writes (`GET_FIELD`'s operand is an index). */
  private fieldNames: string[] = [];
  private fieldIndex = new Map<string, number>();
  /** Per graph's code and exit instruction: the graph each value seen there went on in. */
  private cases = new WeakMap<Int32Array, Map<number, Map<number, number>>>();

  /** A data constant as an array, made once per module (data is never written). */
  private data(i: number): Int32Array | Uint8Array {
    const d = this.module.data[i]!;
    return (this.arrays[i] ??=
      d.type === "u8[]" ? Uint8Array.from(d.values) : Int32Array.from(d.values));
  }

  /** The number of the field an operation's immediate names (`Class.field`). */
  private field(imm: unknown): number {
    const name = fieldOf(this.module, imm)!.field.name;
    let i = this.fieldIndex.get(name);
    if (i === undefined) this.fieldIndex.set(name, (i = this.fieldNames.push(name) - 1));
    return i;
  }

  private compile(g: Graph, index: Map<string, number>): Code {
    const out: number[] = [];
    const template: Reg[] = new Array(g.types.length);
    const consts = new Map<string, number>();
    const reg = (o: Operand): number => {
      if (typeof o === "number") return o;
      const key = `${o.k}:${o.v}`;
      let r = consts.get(key);
      if (r === undefined) {
        r = template.length;
        template.push(
          o.k === "data"
            ? this.data(o.v)
            : o.k === "obj"
              ? constantsOf(this.module, this.heap, (i) => this.data(i))[o.v]!
              : o.k === "null"
                ? null
                : o.v,
        );
        consts.set(key, r);
      }
      return r;
    };
    const blockAt: number[] = [];
    const opAt: number[][] = [];
    const fixups: [number, number][] = []; // code position -> block it jumps to
    let edges: { at: number; j: Jump }[] = []; // this block's edges that carry arguments
    const target = (j: Jump) => {
      if (j.args.length) edges.push({ at: out.length, j });
      else fixups.push([out.length, j.block]);
      out.push(-1);
    };
    const msg = (m: string) => {
      let i = this.messages.indexOf(m);
      if (i < 0) i = this.messages.push(m) - 1;
      return i;
    };
    g.blocks.forEach((b, bi) => {
      blockAt[bi] = out.length;
      opAt[bi] = [];
      edges = [];
      for (const op of b.ops) {
        opAt[bi]!.push(out.length);
        const p = PURE.indexOf(op.op);
        if (p >= 0) out.push(p, op.dst, ...op.args.map(reg));
        else
          switch (op.op) {
            case "new_array":
              out.push(op.imm === "u8[]" ? C.NEW_U8 : C.NEW_I32, op.dst, reg(op.args[0]!));
              break;
            case "array_get":
              out.push(C.GET, op.dst, reg(op.args[0]!), reg(op.args[1]!));
              break;
            case "array_set":
              out.push(C.SET, reg(op.args[0]!), reg(op.args[1]!), reg(op.args[2]!));
              break;
            case "array_len":
              out.push(C.LEN, op.dst, reg(op.args[0]!));
              break;
            case "new_object":
              out.push(C.NEW_OBJ, op.dst, classNamed(this.module, op.imm)!.id);
              break;
            case "get_field":
              out.push(C.GET_FIELD, op.dst, reg(op.args[0]!), this.field(op.imm));
              break;
            case "set_field":
              out.push(C.SET_FIELD, reg(op.args[0]!), this.field(op.imm));
              out.push(reg(op.args[1]!));
              break;
            case "class_of":
              out.push(C.CLASS_OF, op.dst, reg(op.args[0]!));
              break;
            case "list_pop": // (the register of the item type's zero, for an empty list)
              out.push(C.LIST_POP, op.dst, reg(op.args[0]!), reg(zeroOf(g.types[op.dst]!)));
              break;
            case "map_get": // (the value type's zero, for a missing key)
              out.push(C.MAP_GET, op.dst, reg(op.args[0]!), reg(op.args[1]!));
              out.push(reg(zeroOf(g.types[op.dst]!)));
              break;
            case "call":
              if (!index.has(op.imm as string)) throw new Error(`L3: call to unknown @${op.imm}`);
              out.push(
                C.CALL,
                op.dst,
                index.get(op.imm as string)!,
                op.args.length,
                ...op.args.map(reg),
              );
              break;
            case "merge_point":
            case "fuel":
              out.push(C.FUEL);
              break;
            case "promote":
              out.push(C.COPY, op.dst, reg(op.args[0]!));
              break;
            case "io_read":
              out.push(C.READ, op.dst);
              break;
            case "region_low": // (L3's objects are JavaScript's: never low)
              out.push(C.COPY, op.dst, reg({ k: "bool", v: false }));
              break;
            case "io_write":
              out.push(C.WRITE, reg(op.args[0]!));
              break;
            default: {
              const code = CONTAINER_OPS[op.op];
              if (code === undefined) throw new Error(`L3 cannot run ${op.op}`);
              out.push(code, ...(op.dst >= 0 ? [op.dst] : []), ...op.args.map(reg));
            }
          }
      }
      const t = b.term;
      opAt[bi]!.push(out.length);
      switch (t.k) {
        case "jump":
          out.push(C.JUMP);
          target(t.to);
          break;
        case "branch":
          out.push(C.BRANCH, reg(t.cond));
          target(t.then);
          target(t.else);
          break;
        case "switch":
          out.push(C.SWITCH, reg(t.on), t.cases.length);
          for (const c of t.cases) (out.push(c.value), target(c.to));
          target(t.default);
          break;
        case "return":
          if (t.value === undefined) out.push(C.RETURN_VOID);
          else out.push(C.RETURN, reg(t.value));
          break;
        case "raise":
          out.push(C.RAISE, msg(t.msg));
          break;
        case "exit":
          out.push(C.EXIT, t.status, t.args.length, ...t.args.map(reg));
          break;
      }
      // Each edge with arguments jumps to its move list, placed after the block:
      // EDGE n (src dst)* target
      for (const { at, j } of edges) {
        out[at] = out.length;
        const params = g.blocks[j.block]!.params;
        out.push(C.EDGE, j.args.length);
        j.args.forEach((a, i) => out.push(reg(a), params[i]!));
        fixups.push([out.length, j.block]);
        out.push(-1);
      }
    });
    const code = Int32Array.from(out);
    for (const [at, b] of fixups) code[at] = blockAt[b]!;
    return { graph: g, code, template, params: g.blocks[0]!.params, opAt, start: 0 };
  }

  private raise(msg: string): number {
    this.error = msg;
    return RAISED;
  }

  /** Goes on from a state in the middle of graphs (a fallback from compiled code): frames
   *  outermost first, each at an operation of a block with its variables' values (`ret`: the
   *  caller's variable that receives the frame's result). */
  resume(frames: Resumption[]): Status {
    let s = RETURNED;
    for (let i = frames.length - 1; i >= 0 && s === RETURNED; i--) {
      const f = frames[i]!;
      const gi = this.index.get(f.graph)!;
      const c = this.codes[gi]!;
      const r = c.template.slice();
      f.env.forEach((v, k) => v !== undefined && (r[k] = v));
      const callee = frames[i + 1];
      if (callee && callee.ret >= 0) r[callee.ret] = this.result!;
      s = this.exec(gi, r, c.opAt[f.block]![f.op]!);
    }
    return this.status(s);
  }

  private status(s: number): Status {
    switch (s) {
      case RETURNED:
        return {
          k: "return",
          value: this.result === undefined ? undefined : leaving([this.result])[0],
        };
      case RAISED:
        return { k: "raise", msg: this.error };
      default:
        return { k: "exit", status: this.exitStatus, state: leaving(this.exitState) };
    }
  }

  /** Graph calls under way (the one `run` made included). */
  private depth = 0;

  /** Whether the exit being handled is in a graph another graph called (it cannot `leave`). */
  get nested(): boolean {
    return this.depth > 1;
  }

  private call(gi: number, args: Reg[]): number {
    const { template, params, start } = this.codes[gi]!;
    const r = template.slice();
    params.forEach((p, i) => (r[p] = args[i]!));
    this.depth++;
    try {
      return this.exec(gi, r, start);
    } finally {
      this.depth--;
    }
  }

  private exec(gi: number, r: Reg[], pc: number): number {
    let { code, template, params } = this.codes[gi]!;
    const scratch: Reg[] = [];
    for (;;) {
      const op = code[pc]!;
      if (op < N) {
        const a = r[code[pc + 2]!] as number;
        const b = r[code[pc + 3]!] as number;
        // The common operations inline; the rest through the opcode table's meaning.
        r[code[pc + 1]!] =
          op === ADD
            ? (a + b) | 0
            : op === SUB
              ? (a - b) | 0
              : op === LT
                ? a < b
                : op === EQ
                  ? a === b
                  : op === ULT
                    ? a >>> 0 < b >>> 0
                    : FOLD[op]!(a, b);
        pc += WIDTH[op]!;
        continue;
      }
      switch (op) {
        case C.NEW_I32:
        case C.NEW_U8: {
          const n = r[code[pc + 2]!] as number;
          if (n < 0) return this.raise("invalid array length");
          r[code[pc + 1]!] = op === C.NEW_U8 ? new Uint8Array(n) : new Int32Array(n);
          pc += 3;
          break;
        }
        case C.GET:
          r[code[pc + 1]!] = (r[code[pc + 2]!] as Int32Array)[r[code[pc + 3]!] as number]!;
          pc += 4;
          break;
        case C.SET:
          (r[code[pc + 1]!] as Int32Array)[r[code[pc + 2]!] as number] = r[code[pc + 3]!] as number;
          pc += 4;
          break;
        case C.LEN:
          r[code[pc + 1]!] = (r[code[pc + 2]!] as Int32Array).length;
          pc += 3;
          break;
        case C.NEW_OBJ:
          r[code[pc + 1]!] = this.heap.make(code[pc + 2]!);
          pc += 3;
          break;
        case C.GET_FIELD:
          r[code[pc + 1]!] = (r[code[pc + 2]!] as HeapObject)[
            this.fieldNames[code[pc + 3]!]!
          ] as Reg;
          pc += 4;
          break;
        case C.SET_FIELD:
          (r[code[pc + 1]!] as HeapObject)[this.fieldNames[code[pc + 2]!]!] = r[code[pc + 3]!]!;
          pc += 4;
          break;
        case C.CLASS_OF:
          r[code[pc + 1]!] = this.heap.classOf(r[code[pc + 2]!] as HeapObject);
          pc += 3;
          break;
        case C.NEW_LIST: {
          const n = r[code[pc + 2]!] as number;
          if (n < 0) return this.raise("invalid array length");
          r[code[pc + 1]!] = new Array<Reg>(n).fill(r[code[pc + 3]!]!);
          pc += 4;
          break;
        }
        case C.LIST_GET:
          r[code[pc + 1]!] = (r[code[pc + 2]!] as Reg[])[r[code[pc + 3]!] as number]!;
          pc += 4;
          break;
        case C.LIST_SET:
          (r[code[pc + 1]!] as Reg[])[r[code[pc + 2]!] as number] = r[code[pc + 3]!]!;
          pc += 4;
          break;
        case C.LIST_LEN:
          r[code[pc + 1]!] = (r[code[pc + 2]!] as Reg[]).length;
          pc += 3;
          break;
        case C.LIST_PUSH:
          (r[code[pc + 1]!] as Reg[]).push(r[code[pc + 2]!]!);
          pc += 3;
          break;
        case C.LIST_POP: {
          const list = r[code[pc + 2]!] as Reg[];
          r[code[pc + 1]!] = list.length ? list.pop()! : r[code[pc + 3]!]!;
          pc += 4;
          break;
        }
        case C.LIST_INSERT:
          (r[code[pc + 1]!] as Reg[]).splice(r[code[pc + 2]!] as number, 0, r[code[pc + 3]!]!);
          pc += 4;
          break;
        case C.LIST_REMOVE:
          (r[code[pc + 1]!] as Reg[]).splice(r[code[pc + 2]!] as number, 1);
          pc += 3;
          break;
        case C.NEW_MAP:
          r[code[pc + 1]!] = new Map();
          pc += 2;
          break;
        case C.MAP_GET: {
          const map = r[code[pc + 2]!] as Map<Reg, Reg>;
          const key = r[code[pc + 3]!]!;
          r[code[pc + 1]!] = map.has(key) ? map.get(key)! : r[code[pc + 4]!]!;
          pc += 5;
          break;
        }
        case C.MAP_HAS:
          r[code[pc + 1]!] = (r[code[pc + 2]!] as Map<Reg, Reg>).has(r[code[pc + 3]!]!);
          pc += 4;
          break;
        case C.MAP_SET:
          (r[code[pc + 1]!] as Map<Reg, Reg>).set(r[code[pc + 2]!]!, r[code[pc + 3]!]!);
          pc += 4;
          break;
        case C.MAP_DELETE:
          r[code[pc + 1]!] = (r[code[pc + 2]!] as Map<Reg, Reg>).delete(r[code[pc + 3]!]!);
          pc += 4;
          break;
        case C.MAP_SIZE:
          r[code[pc + 1]!] = (r[code[pc + 2]!] as Map<Reg, Reg>).size;
          pc += 3;
          break;
        case C.CALL: {
          const n = code[pc + 3]!;
          const callArgs: Reg[] = [];
          for (let i = 0; i < n; i++) callArgs.push(r[code[pc + 4 + i]!]!);
          const s = this.call(code[pc + 2]!, callArgs);
          if (s !== RETURNED) return s;
          if (code[pc + 1]! >= 0) r[code[pc + 1]!] = this.result!;
          pc += 4 + n;
          break;
        }
        case C.FUEL:
          if (!spend()) return this.raise(STEP_LIMIT);
          pc += 1;
          break;
        case C.COPY:
          r[code[pc + 1]!] = r[code[pc + 2]!]!;
          pc += 3;
          break;
        case C.READ:
          r[code[pc + 1]!] = readByte();
          pc += 2;
          break;
        case C.WRITE:
          writeByte(r[code[pc + 1]!] as number);
          pc += 2;
          break;
        case C.JUMP:
          pc = code[pc + 1]!;
          break;
        case C.EDGE: {
          const n = code[pc + 1]!;
          for (let i = 0; i < n; i++) scratch[i] = r[code[pc + 2 + 2 * i]!]!;
          for (let i = 0; i < n; i++) r[code[pc + 3 + 2 * i]!] = scratch[i]!;
          pc = code[pc + 2 + 2 * n]!;
          break;
        }
        case C.BRANCH:
          pc = r[code[pc + 1]!] ? code[pc + 2]! : code[pc + 3]!;
          break;
        case C.SWITCH: {
          const v = r[code[pc + 1]!] as number;
          const n = code[pc + 2]!;
          let next = code[pc + 3 + 2 * n]!;
          for (let i = 0; i < n; i++)
            if (code[pc + 3 + 2 * i] === v) {
              next = code[pc + 4 + 2 * i]!;
              break;
            }
          pc = next;
          break;
        }
        case C.RETURN:
          this.result = r[code[pc + 1]!];
          return RETURNED;
        case C.RETURN_VOID:
          this.result = undefined;
          return RETURNED;
        case C.RAISE:
          return this.raise(this.messages[code[pc + 1]!]!);
        case C.EXIT: {
          const n = code[pc + 2]!;
          this.exitState = [];
          for (let i = 0; i < n; i++) this.exitState.push(r[code[pc + 3 + i]!]!);
          this.exitStatus = code[pc + 1]!;
          if (!this.onExit) return EXITED;
          // A promotion's cases so far (PyPy's flexswitch): a value seen before goes on at once.
          let cases = this.cases.get(code);
          if (!cases) this.cases.set(code, (cases = new Map()));
          let here = cases.get(pc);
          if (!here) cases.set(pc, (here = new Map()));
          const seen = here.get(this.exitState[0] as number);
          if (seen !== undefined) {
            const args = this.exitState.slice(1);
            ({ code, template, params, start: pc } = this.codes[seen]!);
            r = template.slice();
            params.forEach((p, i) => (r[p] = args[i]!));
            break;
          }
          // (Objects in the state go to the driver, which gives them back to L3, a continuation's
          // arguments, a fallback's frames, or to the first tier: they are its objects.)
          const next = this.onExit(this.exitStatus, this.exitState as Value[]);
          if ("leave" in next) {
            if (this.nested) throw new Error("L3: a nested graph cannot leave the run");
            this.exitStatus = -1;
            this.exitState = next.leave;
            return EXITED;
          }
          if ("done" in next) {
            const d = next.done;
            if (d.k === "raise") return this.raise(d.msg);
            if (d.k === "exit") throw new Error("L3: a fallback ended in an exit");
            this.result = d.value;
            return RETURNED;
          }
          const gi = this.index.get(next.graph)!;
          if (next.fixed) {
            code[pc] = C.TAIL;
            code[pc + 1] = gi;
          } else here.set(this.exitState[0] as number, gi);
          ({ code, template, params, start: pc } = this.codes[gi]!);
          r = template.slice();
          params.forEach((p, i) => (r[p] = next.args[i]!));
          break;
        }
        case C.TAIL: {
          const n = code[pc + 2]!;
          const next = this.codes[code[pc + 1]!]!;
          const args: Reg[] = [];
          for (let i = 1; i < n; i++) args.push(r[code[pc + 3 + i]!]!);
          ({ code, template, params, start: pc } = next);
          r = template.slice();
          params.forEach((p, i) => (r[p] = args[i]!));
          break;
        }
        default:
          throw new Error(`L3: bad code ${op} at ${pc}`);
      }
    }
  }
}
