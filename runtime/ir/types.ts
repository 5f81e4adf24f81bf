//! The low-level flow-graph IR: plain data, nothing else.
//!
//! A module is a list of graphs (functions). A graph is a list of blocks in SSA form; values
//! flow between blocks only through block parameters (PyPy's Link args, Cranelift's BlockCall),
//! so there are no phi nodes. Variables are numbered per graph; `types[v]` is the type of
//! variable `v`. Block 0 is the entry, and its parameters are the graph's parameters.
//!
//! The opcode table (`ops.ts`) says what each operation means; every stage reads it.

/** `i32` is a 32-bit signed integer, `bool` a truth value, `i32[]`/`u8[]` references to
 *  fixed-length arrays, `ref` a reference to an object of one of the module's classes or
 *  null, `list<T>` a reference to a growable list of `T`s, `map<K,V>` to a map from `K` (`i32`
 *  or `ref`) to `V` (`containers.ts`), `void` the result of a graph that returns nothing. */
export type Type = "i32" | "bool" | "i32[]" | "u8[]" | "ref" | ListType | MapType | "void";
export type ListType = `list<${string}>`;
export type MapType = `map<${string}>`;

/** A constant operand. Integers are int32; arrays are the compile-time-known data of
 *  `Module.data`; `null` is the reference to no object; `obj` one of the module's constant
 *  objects, lists and maps (`Module.objects`). */
export type Const =
  | { k: "int"; v: number }
  | { k: "bool"; v: boolean }
  | { k: "data"; v: number }
  | { k: "null"; v: null }
  | { k: "obj"; v: number };

/** An operand: a variable number, or a constant. */
export type Operand = number | Const;

/** A source position: 1-based line and column in the graph's file. */
export interface Pos {
  line: number;
  col: number;
}

/** One operation. `dst` is -1 for operations without a result. `imm` carries what is not an
 *  operand: a callee name, an error message, the greens count of a merge point. */
export interface Op {
  op: string;
  dst: number;
  args: Operand[];
  imm?: string | number;
  /** Where in the interpreter's source it comes from (a residual operation: the line of the
   *  interpreter's operation it was made for; column 0). */
  pos?: Pos;
  /** A residual operation: the program position it was made at, the greens of the last merge
   *  point its path passed (`@0,57`: a TL pc, a Brainfuck offset; `positionKey`). */
  at?: string;
}

/** A control transfer with the values passed to the target's parameters. */
export interface Jump {
  block: number;
  args: Operand[];
}

export type Term =
  | { k: "jump"; to: Jump }
  | { k: "branch"; cond: Operand; then: Jump; else: Jump }
  | { k: "switch"; on: Operand; cases: { value: number; to: Jump }[]; default: Jump }
  | { k: "return"; value?: Operand }
  /** An interpreter error: leaves the graph with the message. */
  | { k: "raise"; msg: string }
  /** Leaves the graph to its driver with a status and the state it needs to resume
   *  (a lazy branch, a promotion miss, a fallback). */
  | { k: "exit"; status: number; args: Operand[] };

export interface Block {
  params: number[];
  ops: Op[];
  term: Term;
  termPos?: Pos;
  /** A residual terminator's program position, as `Op.at`. */
  termAt?: string;
}

export interface Graph {
  name: string;
  ret: Type;
  blocks: Block[];
  types: Type[];
  /** Source-level names of variables, for readable printing; may be sparse. */
  names: (string | undefined)[];
  /** Labels: blocks other graphs may jump into (PyPy's labels; `@name#i` is label `i`), with
   *  their parameters as arguments, as block 0 takes the graph's. Each is a root of the graph
   *  as the entry is: it has a predecessor no pass sees, so facts do not flow into it, it is
   *  never fused into a block before it, and its parameters are never pruned. Passes that
   *  renumber blocks renumber these. */
  labels?: number[];
}

/** Compile-time-constant array contents referenced by `data` constants. */
export interface Data {
  type: "i32[]" | "u8[]";
  values: number[];
}

/** The interpreter's JitDriver: the names of its greens and reds at the merge point (the order
 *  of `merge_point`'s arguments), and which greens are immutable arrays (the bytecode). */
export interface Driver {
  greens: string[];
  reds: string[];
  immutable: string[];
  /** Reds that are the interpreter's frame (PyPy's virtualizables): unpacked into virtuals
   *  where compiled code is entered, written back where they are forced. */
  virtualizables?: string[];
}

/** A class of the interpreter (PyPy's instance layout): its fields, inherited ones first, so
 *  that a field is at the same index in every subclass. Classes are numbered in preorder of
 *  the inheritance tree: a class's subclasses are the ids after it up to `last`, so a class
 *  test is one range check. */
export interface ClassDecl {
  name: string;
  id: number;
  /** The id of its last descendant (itself when it has none). */
  last: number;
  parent?: string;
  /** Abstract classes have no instances. */
  abstract: boolean;
  fields: Field[];
}

export interface Field {
  name: string;
  type: Type;
  /** Set only in the constructor (PyPy's `_immutable_fields_`). */
  readonly: boolean;
}

/** A constant object, list or map (`Module.objects`): made once, before anything runs, and
 *  never changed (the frontend's module-level constants, PyPy's prebuilt instances; a loader's
 *  constant pool). Its contents are constants, so constant objects may refer to each other and
 *  to themselves. */
export type ObjectData =
  /** `name`: the module-level constant it is (`const nil = new Nil()`), if it is one; the
   *  first tier's heap takes the first tier's own object for it (`runtime/heap.ts`). */
  | { k: "object"; cls: string; fields: Const[]; name?: string }
  | { k: "list"; type: ListType; items: Const[] }
  | { k: "map"; type: MapType; entries: [Const, Const][] };

export interface Module {
  /** The file the graphs were built from, for positions. */
  file?: string;
  driver?: Driver;
  /** The classes, by id (absent: none). */
  classes?: ClassDecl[];
  graphs: Graph[];
  data: Data[];
  /** The constant objects, lists and maps `obj` constants name (absent: none). */
  objects?: ObjectData[];
}

export const int = (v: number): Const => ({ k: "int", v: v | 0 });
export const bool = (v: boolean): Const => ({ k: "bool", v });
export const NULL: Const = { k: "null", v: null };
export const isConst = (o: Operand): o is Const => typeof o !== "number";
