//! A small mutable helper for constructing graphs: fresh variables, blocks, appended operations.
//! Used by the frontend and by passes that rebuild graphs; it does no folding (the residual
//! builder of the specialisation runtime does).

import type { Graph, Op, Operand, Pos, Term, Type } from "./types.ts";

/** A terminator standing in until a block is finished (a block is open while it has this
 *  very object); the verifier never sees it. */
const OPEN: Term = { k: "raise", msg: "<open block>" };

/** The empty list every new block starts with as its parameters and operations, and a side of a
 *  residual branch has as its arguments: lists of the IR are replaced, never grown in place
 *  (see `append`), so one serves (mandelbrot's residual graph had 43,000 empty lists, a sixth
 *  of its objects). The verifier checks that it stays empty. (Frozen, it made the clean-up
 *  passes 17% slower on bench.b: V8 treats frozen arrays apart.) */
export const NONE: readonly never[] = [];

export class GraphBuilder {
  readonly g: Graph;
  /** Blocks not terminated yet (`finish` looks for them only if there are any: a residual
   *  graph has tens of thousands of blocks). */
  private open = 0;

  constructor(name: string, ret: Type) {
    this.g = { name, ret, blocks: [], types: [], names: [] };
  }

  newVar(type: Type, name?: string): number {
    const v = this.g.types.length;
    this.g.types.push(type);
    // Most variables of a residual graph have no name: none is stored (`names` may be sparse).
    if (name !== undefined) this.g.names[v] = name;
    return v;
  }

  newBlock(): number {
    this.open++;
    return this.g.blocks.push({ params: NONE as never[], ops: NONE as never[], term: OPEN }) - 1;
  }

  addParam(block: number, type: Type, name?: string): number {
    const v = this.newVar(type, name);
    const b = this.g.blocks[block]!;
    b.params = append(b.params, v);
    return v;
  }

  /** Gives a new block all its parameters at once (`addParam` grows the list by one). */
  setParams(block: number, params: number[]): void {
    this.g.blocks[block]!.params = params;
  }

  /** Appends an operation; returns its result variable, or -1 when `type` is undefined. */
  emit(
    block: number,
    op: string,
    args: Operand[],
    type?: Type,
    imm?: string | number,
    pos?: Pos,
    at?: string,
  ): number {
    const dst = type === undefined ? -1 : this.newVar(type);
    const o: Op = { op, dst, args };
    if (imm !== undefined) o.imm = imm;
    if (pos) o.pos = pos;
    if (at !== undefined) o.at = at;
    const b = this.g.blocks[block]!;
    b.ops = append(b.ops, o);
    return dst;
  }

  terminate(block: number, term: Term, pos?: Pos, at?: string): void {
    const b = this.g.blocks[block]!;
    if (b.term !== OPEN) throw new Error(`block b${block} terminated twice`);
    b.term = term;
    this.open--;
    if (pos) b.termPos = pos;
    if (at !== undefined) b.termAt = at;
  }

  isOpen(block: number): boolean {
    return this.g.blocks[block]!.term === OPEN;
  }

  finish(): Graph {
    if (this.open === 0) return this.g;
    const open: string[] = [];
    this.g.blocks.forEach((b, i) => b.term === OPEN && open.push(`b${i}`));
    throw new Error(`blocks left open: ${open.join(", ")}`);
  }
}

/** `xs` with `x` appended (a new array while it is short). `push` reserves 17 slots at once,
 *  and a residual graph has tens of thousands of blocks with a parameter or two and a few
 *  operations, which garbage collection would copy, unused slots and all. */
function append<T>(xs: T[], x: T): T[] {
  if (xs.length >= 4) {
    xs.push(x);
    return xs;
  }
  const ys = new Array<T>(xs.length + 1);
  for (let i = 0; i < xs.length; i++) ys[i] = xs[i]!;
  ys[xs.length] = x;
  return ys;
}
