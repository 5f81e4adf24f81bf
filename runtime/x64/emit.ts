//! Emission: one allocated machine function to x86-64 code through `Asm`.
//!
//! Every decision of substance is already made (instructions by `isel`, locations and moves by
//! `regalloc`); what is left is x86's two-address forms and reaching spilled values, for which
//! the two scratch registers exist: an operand in memory is loaded into one, a result bound for
//! memory is computed in one and stored. Every instruction is recorded with the residual
//! operation it comes from, for `--dump asm`.
//!
//! Frame (rsp is 16-byte aligned at every call):
//!   [rsp, +8·outArgs)         stack arguments of the calls this function makes
//!   then 8·slots              spill slots
//!   then 8 (if it allocates)  the heap's bump pointer on entry, restored on return
//!   then 8 (if it calls graphs) the bump pointer before such a call, restored after it
//!   then padding, the saved callee-saved registers, the return address, stack arguments in.
//! Arrays allocated by a function that returns no array are dead once it returns (arrays are
//! only ever held in variables, never stored in arrays), so such a function gives their memory
//! back: the heap is a stack of frames' arrays, and a long loop of calls does not fill it.
//!
//! Cost: linear in the instructions and moves, plus, per block, the empty blocks it falls
//! through into (each looked at by the blocks just before it).

import { countWork } from "../work.ts";
import { ARRAY_HEADER, S, SCRATCH1, SCRATCH2, STATE, Status } from "./abi.ts";
import { Asm, Cond, Reg, Shift, Alu, invert, type Label, type Mem } from "./encode.ts";
import type { Allocation } from "./regalloc.ts";
import { isLoc, type Loc, type Move } from "./loc.ts";
import {
  isVReg,
  type AluOp,
  type Edge,
  type MConst,
  type MFunc,
  type MInst,
  type MOperand,
  type MTerm,
  type Origin,
  type VReg,
  type Width,
} from "./mir.ts";
import { ROOT_BYTES } from "./roots.ts";

/** What emitted code refers to outside the function. */
export interface Context {
  /** A graph of the same code block, or the absolute address of one in another. */
  graph(name: string): Label | bigint;
  /** Offset from the arena's start of data constant `i`'s array header. */
  dataOffset(i: number): number;
  /** Registers exit site `site` of `f` with its thunk (where its cell first points); gives
   *  the site's number in the module and the absolute address of its cell (the 8 bytes it
   *  jumps through). */
  site(f: MFunc, site: number, thunk: Label): { id: number; cell: bigint };
  stubs: {
    unwind: Label;
    raise: Label;
    exitThunk: Label;
    fuelOut: Label;
    stackOut: Label;
    ioFailed: Label;
    alloc: Record<1 | 4, Label>;
    object: Label;
    list: Label;
    push: Label;
    pop: Label;
    heapFailed: Label;
  };
  /** Listing annotations: code offset → what it comes from. */
  mark(at: number, f: MFunc | undefined, origin: Origin | string): void;
  /** Where the code of label `label` of `f` (`MFunc.labels`: the block its entry jumps to)
   *  starts: code offset `at`. */
  labelAt(f: MFunc, label: number, at: number): void;
}

/** Where the state buffer holds what call-likes call through memory. */
const CALLBACK = {
  io_read: S.ioRead,
  io_write: S.ioWrite,
  heap: S.heapOp,
} as const;

/** The ALU operations (multiplication is imul, apart). */
const ALU: Record<Exclude<AluOp, "mul">, Alu> = {
  add: Alu.add,
  sub: Alu.sub,
  and: Alu.and,
  or: Alu.or,
  xor: Alu.xor,
};
const SHIFT = { shl: Shift.shl, sar: Shift.sar, shr: Shift.shr } as const;
const COMMUTATIVE = new Set<AluOp>(["add", "mul", "and", "or", "xor"]);

/** Emits `f`, but for the entries of its labels, which cost code only once something jumps
 *  into one (`emitLabelEntry`). */
export function emitFunc(a: Asm, f: MFunc, alloc: Allocation, ctx: Context): void {
  new Emitter(a, f, alloc, ctx).run();
}

/** The entry of label `label` of `f` (compiled before, its label's code at `target`): a frame
 *  as the function's own, the label's parameters from where an exit's tail call put them, a
 *  jump to the label's code. */
export function emitLabelEntry(
  a: Asm,
  f: MFunc,
  alloc: Allocation,
  ctx: Context,
  label: number,
  target: bigint,
): void {
  new Emitter(a, f, alloc, ctx).labelEntry(label, target);
}

class Emitter {
  private labels = new Map<number, Label>();
  /** Edges with moves, emitted after the function: label, moves, target. */
  private stubs: { label: Label; moves: Move[]; to: number }[] = [];
  private pushes: Reg[];
  private frameSize: number;
  private bumpSlot: number | undefined;
  /** Where a call that gives the heap back after it keeps the bump pointer (see `call`). */
  private callBumpSlot: number | undefined;
  /** The value whose result the flags hold, and the code offset where that is so: a test of it
   *  against zero right there needs no instruction (add/sub/and/or/xor set ZF by the result). */
  private flags: { v: VReg; at: number } | undefined;
  /** Per exit site: its number, the cell its jump goes through, and its thunk. */
  private sites: { id: number; cell: bigint; thunk: Label }[] = [];
  /** Work counted (`runtime/work.ts`): instructions, moves and blocks looked at. */
  private steps = 0;

  constructor(
    private a: Asm,
    private f: MFunc,
    private alloc: Allocation,
    private ctx: Context,
  ) {
    this.pushes = alloc.calleeSaved;
    const allocates = f.blocks.some((b) =>
      b.insts.some((i) => i.k === "call" && i.callee.k === "alloc"),
    );
    let size = 8 * (alloc.outArgs + alloc.slots);
    if (allocates && f.ret !== 64) {
      this.bumpSlot = size;
      size += 8;
    }
    if (f.blocks.some((b) => b.insts.some((i) => this.freesAfter(i)))) {
      this.callBumpSlot = size;
      size += 8;
    }
    // On entry rsp is 8 mod 16 (the return address); after the pushes and the frame, 0.
    if ((8 + 8 * this.pushes.length + size) % 16 !== 0) size += 8;
    this.frameSize = size;
  }

  run(): void {
    this.sites = this.f.sites.map((_, i) => {
      const thunk = this.a.label();
      return { ...this.ctx.site(this.f, i, thunk), thunk };
    });
    this.ctx.mark(this.a.size, this.f, "prologue");
    this.prologue();
    const order = this.alloc.order;
    const entries = new Set(this.f.labels);
    order.forEach((b, k) => {
      // (a label's entry is emitted when first needed; nothing falls or jumps into it)
      if (entries.has(b)) return;
      const next = this.fallsInto(k);
      this.a.bind(this.label(b));
      this.flags = undefined; // other predecessors may jump here
      const blk = this.f.blocks[b]!;
      this.steps += 1 + blk.insts.length + (this.alloc.edgeMoves[b]?.flat().length ?? 0);
      blk.insts.forEach((inst, j) => {
        this.ctx.mark(this.a.size, this.f, blk.origins[j] ?? `b${b}`);
        this.inst(inst);
      });
      this.ctx.mark(this.a.size, this.f, blk.origins[blk.insts.length] ?? `b${b}`);
      this.term(b, blk.term, next);
    });
    this.f.labels.forEach((e, i) => {
      const to = this.f.blocks[e]!.term;
      if (to.k === "jmp") this.ctx.labelAt(this.f, i, this.label(to.to.block).pos);
    });
    for (const s of this.stubs) {
      this.ctx.mark(this.a.size, this.f, `edge to b${s.to}`);
      this.a.bind(s.label);
      this.moves(s.moves);
      this.a.jmp(this.label(s.to));
    }
    this.exitSites();
    countWork("emit", this.steps + this.stubs.length + this.sites.length);
  }

  /** The entry of label `label` (see `emitLabelEntry`). */
  labelEntry(label: number, target: bigint): void {
    const a = this.a;
    const b = this.f.labels[label]!;
    this.ctx.mark(a.size, this.f, `label ${label} entry`);
    this.prologue();
    for (const inst of this.f.blocks[b]!.insts) this.inst(inst);
    // (its jump to the label's block: the moves of the parameters into the block's)
    this.moves(this.alloc.edgeMoves[b]![0]!);
    a.movabs(SCRATCH1, target).jmpR(SCRATCH1);
  }

  /** Each exit site's thunk: its number, then the shared thunk. */
  private exitSites(): void {
    const a = this.a;
    this.sites.forEach((s, i) => {
      this.ctx.mark(a.size, this.f, `exit site ${s.id} (status ${this.f.sites[i]}) unresolved`);
      a.bind(s.thunk);
      a.movRI(32, SCRATCH2, s.id);
      a.jmp(this.ctx.stubs.exitThunk);
    });
  }

  /** The blocks whose code starts where block `order[k]`'s ends: the next one, and past it
   *  any that emit nothing (no operations, a jump to the block after it, no moves). */
  private fallsInto(k: number): Set<number> {
    const order = this.alloc.order;
    const next = new Set<number>();
    for (let j = k + 1; j < order.length; j++) {
      const b = order[j]!;
      this.steps++;
      next.add(b);
      const blk = this.f.blocks[b]!;
      const empty =
        blk.insts.length === 0 &&
        blk.term.k === "jmp" &&
        blk.term.to.block === order[j + 1] &&
        this.alloc.edgeMoves[b]![0]!.length === 0;
      if (!empty) break;
    }
    return next;
  }

  /** Whether block `b` only leaves (raises or exits): a side the code rarely takes. */
  private cold(b: number): boolean {
    const blk = this.f.blocks[b]!;
    return blk.insts.length === 0 && (blk.term.k === "raise" || blk.term.k === "exit");
  }

  /** Block `b`, or where it jumps when it does nothing else (no operations, no moves): a jump
   *  to it may go there at once. */
  private through(b: number): number {
    for (let n = 0; n < 8; n++) {
      const blk = this.f.blocks[b]!;
      if (blk.insts.length || blk.term.k !== "jmp" || this.alloc.edgeMoves[b]![0]!.length) break;
      b = blk.term.to.block;
    }
    return b;
  }

  private label(b: number): Label {
    let l = this.labels.get(b);
    if (!l) this.labels.set(b, (l = this.a.label()));
    return l;
  }

  // ------------------------------------------------------------------ frame

  private prologue(): void {
    const a = this.a;
    for (const r of this.pushes) a.push(r);
    if (this.frameSize) a.subRI(64, Reg.rsp, this.frameSize);
    a.cmpRM(64, Reg.rsp, { base: STATE, disp: S.stackLimit });
    a.jcc(Cond.b, this.ctx.stubs.stackOut);
    if (this.bumpSlot !== undefined) {
      a.movRM(64, SCRATCH1, { base: STATE, disp: S.bump });
      a.movMR(64, { base: Reg.rsp, disp: this.bumpSlot }, SCRATCH1);
    }
  }

  /** Leaves the frame: returns, or for a tail call only pops it (the arrays of this frame
   *  may be the continuation's arguments, so the heap is not given back). */
  private epilogue(tail?: bigint): void {
    const a = this.a;
    if (this.bumpSlot !== undefined && tail === undefined) {
      a.movRM(64, SCRATCH1, { base: Reg.rsp, disp: this.bumpSlot });
      a.movMR(64, { base: STATE, disp: S.bump }, SCRATCH1);
    }
    if (this.frameSize) a.addRI(64, Reg.rsp, this.frameSize);
    for (const r of [...this.pushes].reverse()) a.pop(r);
    if (tail === undefined) a.ret();
    else a.movabs(SCRATCH1, tail).jmpM({ base: SCRATCH1, disp: 0 });
  }

  /** The memory a stack location stands for. */
  private mem(l: Loc): Mem {
    switch (l.k) {
      case "slot":
        return { base: Reg.rsp, disp: 8 * (this.alloc.outArgs + l.n) };
      case "out":
        return { base: Reg.rsp, disp: 8 * l.n };
      case "in":
        return { base: Reg.rsp, disp: this.frameSize + 8 * this.pushes.length + 8 + 8 * l.n };
      case "state":
        return { base: STATE, disp: S.args + 8 * l.n };
      case "reg":
        throw new Error("a register is no memory");
    }
  }

  // ------------------------------------------------------------------ operands

  private locOf(v: VReg): Loc {
    const l = this.alloc.loc[v];
    if (!l) throw new Error(`x64: v${v} of @${this.f.name} has no location`);
    return l;
  }

  private regOf(v: MOperand): Reg | undefined {
    if (!isVReg(v)) return undefined;
    const l = this.locOf(v);
    return l.k === "reg" ? l.n : undefined;
  }

  private width(o: MOperand): Width {
    return isVReg(o) ? this.f.widths[o]! : o.k === "data" ? 64 : 32;
  }

  /** Puts operand `o` into register `r`. */
  private load(r: Reg, o: MOperand): void {
    if (isVReg(o)) this.move({ dst: { k: "reg", n: r }, src: this.locOf(o), w: this.width(o) });
    else this.move({ dst: { k: "reg", n: r }, src: o, w: this.width(o) });
  }

  /** The register holding `o`, loading it into `scratch` when it is in memory or a constant. */
  private use(o: MOperand, scratch: Reg): Reg {
    const r = this.regOf(o);
    if (r !== undefined) return r;
    this.load(scratch, o);
    return scratch;
  }

  /** Where to compute `v`: its register, or `scratch` when it lives in memory. */
  private target(v: VReg, scratch: Reg = SCRATCH1): Reg {
    return this.regOf(v) ?? scratch;
  }

  /** Stores `v`, computed in `r`, to its location if that is not `r`. */
  private commit(v: VReg, r: Reg): void {
    this.move({ dst: this.locOf(v), src: { k: "reg", n: r }, w: this.width(v) });
  }

  /** One move of `regalloc`'s kind; memory to memory goes through SCRATCH2. */
  private move(m: Move): void {
    const a = this.a;
    const { dst, src, w } = m;
    if (dst.k === "reg") {
      if (!isLoc(src)) this.constant(dst.n, src);
      else if (src.k === "reg") {
        if (src.n !== dst.n) a.movRR(w, dst.n, src.n);
      } else a.movRM(w, dst.n, this.mem(src));
      return;
    }
    const to = this.mem(dst);
    if (!isLoc(src)) {
      if (src.k === "imm") a.movMI(32, to, src.v);
      else (this.constant(SCRATCH2, src), a.movMR(64, to, SCRATCH2));
    } else if (src.k === "reg") a.movMR(w, to, src.n);
    else if (src.k !== dst.k || src.n !== dst.n)
      a.movRM(w, SCRATCH2, this.mem(src)).movMR(w, to, SCRATCH2);
  }

  private constant(r: Reg, c: MConst): void {
    if (c.k === "imm") this.a.movRI(32, r, c.v);
    else this.a.lea(r, { base: STATE, disp: this.ctx.dataOffset(c.v) });
  }

  private moves(ms: readonly Move[]): void {
    for (const m of ms) this.move(m);
  }

  // ------------------------------------------------------------------ operations

  private inst(i: MInst): void {
    const a = this.a;
    switch (i.k) {
      case "params":
        return this.moves(
          i.label === undefined ? this.alloc.entryMoves : this.alloc.callMoves.get(i)!,
        );
      case "mov":
        return this.move({
          dst: this.locOf(i.dst),
          src: isVReg(i.src) ? this.locOf(i.src) : i.src,
          w: this.width(i.dst),
        });
      case "alu":
        return this.alu(i.op, i.dst, i.a, i.b);
      case "neg":
      case "not":
      case "bnot": {
        const d = this.target(i.dst);
        this.load(d, i.a);
        if (i.k === "neg") a.neg(32, d);
        else if (i.k === "not") a.not(32, d);
        else a.xorRI(32, d, 1);
        return this.commit(i.dst, d);
      }
      case "shift":
        return this.shift(i.op, i.dst, i.a, i.b);
      case "div":
        return this.div(i.op, i.dst, i.a, i.b);
      case "set": {
        this.compare(i.cond, i.a, i.b);
        const d = this.target(i.dst);
        a.setcc(i.cond, d);
        return this.commit(i.dst, d);
      }
      case "load": {
        const m = this.element(i.arr, i.idx, i.elem);
        const d = this.target(i.dst);
        if (i.elem === 4) a.movRM(32, d, m);
        else a.movzxRM8(d, m);
        return this.commit(i.dst, d);
      }
      case "store":
        return this.storeAt(this.element(i.arr, i.idx, i.elem), i.val, i.elem);
      case "len": {
        const r = this.use(i.arr, SCRATCH1);
        const d = this.target(i.dst);
        a.movRM(32, d, { base: r });
        return this.commit(i.dst, d);
      }
      case "ldo": {
        const m = this.objectMem(i.ref, i.idx, i.disp);
        const d = this.target(i.dst);
        a.movRM(32, d, m);
        return this.commit(i.dst, d);
      }
      case "sto":
        return this.storeAt(this.objectMem(i.ref, i.idx, i.disp), i.val, 4);
      case "call":
        return this.call(i);
      case "roots_push":
        return this.rootsPush(i.refs, i.types);
      case "roots_pop":
        return this.rootsPop(i.refs);
      case "fuel":
        a.subMI(64, { base: STATE, disp: S.fuel }, 1);
        a.jcc(Cond.b, this.ctx.stubs.fuelOut);
        return;
      case "setvalue": {
        const to: Mem = { base: STATE, disp: S.value };
        if (!isVReg(i.v)) return void a.movMI(32, to, (i.v as MConst).v);
        a.movMR(32, to, this.use(i.v, SCRATCH1));
        return;
      }
    }
  }

  private alu(op: AluOp, dst: VReg, x: VReg, y: MOperand): void {
    const a = this.a;
    const d = this.target(dst);
    if (!isVReg(y)) {
      if (op === "mul") a.imulRRI(32, d, this.use(x, SCRATCH2), y.v);
      else {
        this.load(d, x);
        a.aluRI(ALU[op], 32, d, (y as MConst).v);
      }
      this.commit(dst, d);
      if (op !== "mul") this.flags = { v: dst, at: this.a.size };
      return;
    }
    if (this.regOf(y) === d) {
      if (!COMMUTATIVE.has(op))
        throw new Error(`x64: ${op} result in its right operand's register`);
      this.binary(op, d, this.use(x, SCRATCH2));
    } else {
      this.load(d, x);
      this.binary(op, d, this.use(y, SCRATCH2));
    }
    this.commit(dst, d);
    if (op !== "mul") this.flags = { v: dst, at: this.a.size };
  }

  private binary(op: AluOp, d: Reg, s: Reg): void {
    if (op === "mul") this.a.imulRR(32, d, s);
    else this.a.aluRR(ALU[op], 32, d, s);
  }

  /** A variable count goes in cl (the allocator keeps every operand out of rcx). */
  private shift(op: "shl" | "sar" | "shr", dst: VReg, x: VReg, count: MOperand): void {
    const a = this.a;
    if (!isVReg(count)) {
      const d = this.target(dst);
      this.load(d, x);
      if (count.v & 31) a.shiftRI(SHIFT[op], 32, d, count.v & 31);
      return this.commit(dst, d);
    }
    this.load(Reg.rcx, count);
    const r = this.regOf(dst);
    const d = r !== undefined && r !== Reg.rcx ? r : SCRATCH1;
    this.load(d, x);
    a.shiftCL(SHIFT[op], 32, d);
    this.commit(dst, d);
  }

  /** Guarded division: a zero divisor gives 0, a divisor of -1 negates (INT_MIN stays INT_MIN,
   *  where idiv would fault) and leaves no remainder. Operands are never in rax or rdx. */
  private div(op: "div" | "mod", dst: VReg, x: VReg, y: MOperand): void {
    const a = this.a;
    const zero = () => this.move({ dst: this.locOf(dst), src: { k: "imm", v: 0 }, w: 32 });
    const negate = () => {
      const d = this.target(dst);
      this.load(d, x);
      a.neg(32, d);
      this.commit(dst, d);
    };
    const idiv = (divisor: Reg) => {
      this.load(Reg.rax, x);
      a.cdq().idiv(32, divisor);
      this.commit(dst, op === "div" ? Reg.rax : Reg.rdx);
    };
    if (!isVReg(y)) {
      if (y.v === 0 || (y.v === -1 && op === "mod")) return zero();
      if (y.v === -1) return negate();
      a.movRI(32, SCRATCH2, y.v);
      return idiv(SCRATCH2);
    }
    const b = this.use(y, SCRATCH2);
    const done = a.label();
    const toZero = a.label();
    const minusOne = a.label();
    a.testRR(32, b, b).jcc(Cond.e, toZero);
    a.cmpRI(32, b, -1).jcc(Cond.e, op === "div" ? minusOne : toZero);
    idiv(b);
    a.jmp(done);
    a.bind(toZero);
    zero();
    if (op === "div") {
      a.jmp(done);
      a.bind(minusOne);
      negate();
    }
    a.bind(done);
  }

  /** Sets the flags for `x cond y` (test for a comparison with 0, nothing when the last
   *  instruction computed x and the condition is only about zero). */
  private compare(cond: Cond, x: VReg, y: MOperand): void {
    const zeroOnly = cond === Cond.e || cond === Cond.ne;
    if (
      zeroOnly &&
      !isVReg(y) &&
      y.k === "imm" &&
      y.v === 0 &&
      this.flags?.v === x &&
      this.flags.at === this.a.size
    )
      return;
    const r = this.use(x, SCRATCH1);
    if (!isVReg(y) && y.k === "imm") {
      if (y.v === 0) this.a.testRR(32, r, r);
      else this.a.cmpRI(32, r, y.v);
    } else this.a.cmpRR(32, r, this.use(y, SCRATCH2));
  }

  /** The memory of item `idx` of `arr` (arrays in SCRATCH1, indexes in SCRATCH2 if spilled). */
  private element(arr: MOperand, idx: MOperand, elem: 1 | 4): Mem {
    let base: Reg;
    let disp = ARRAY_HEADER;
    if (!isVReg(arr) && arr.k === "data") {
      base = STATE;
      disp += this.ctx.dataOffset(arr.v);
    } else base = this.use(arr, SCRATCH1);
    if (!isVReg(idx) && idx.k === "imm" && Math.abs(disp + idx.v * elem) < 2 ** 31)
      return { base, disp: disp + idx.v * elem };
    return { base, index: this.use(idx, SCRATCH2), scale: elem, disp };
  }

  /** The memory `[r15 + ref + 4·idx + disp]` of the object region (a reference in SCRATCH1, an
   *  index in SCRATCH2 if spilled; with both, their sum in SCRATCH1). */
  private objectMem(ref: VReg | undefined, idx: MOperand | undefined, disp: number): Mem {
    if (ref === undefined) return { base: STATE, disp };
    const r = this.use(ref, SCRATCH1);
    if (idx === undefined || (!isVReg(idx) && Math.abs(disp + 4 * idx.v) < 2 ** 31))
      return {
        base: STATE,
        index: r,
        scale: 1,
        disp: disp + (idx === undefined ? 0 : 4 * (idx as MConst).v),
      };
    this.a.lea(SCRATCH1, { base: r, index: this.use(idx, SCRATCH2), scale: 4 });
    return { base: STATE, index: SCRATCH1, scale: 1, disp };
  }

  /** Stores `val` (`elem` bytes of it) at `m`; an address using both scratches is folded into
   *  SCRATCH1 first when the value must be loaded into one. */
  private storeAt(m: Mem, val: MOperand, elem: 1 | 4): void {
    const a = this.a;
    if (!isVReg(val) && val.k === "imm") {
      if (elem === 4) a.movMI(32, m, val.v);
      else a.movMI8(m, val.v & 255);
      return;
    }
    let r = this.regOf(val);
    if (r === undefined) {
      a.lea(SCRATCH1, m);
      m = { base: SCRATCH1 };
      r = SCRATCH2;
      this.load(r, val);
    }
    if (elem === 4) a.movMR(32, m, r);
    else a.movMR8(m, r);
  }

  /** Whether `i` is a call of a graph that returns no array: what the callee allocated (and
   *  whatever it tail-called, which keeps the heap for its continuation) is dead once it
   *  returns, and the heap is given back then. (The callee's own epilogue cannot: a graph a tier
   *  exit tail-calls saves the bump pointer after its caller's arrays were made; before this,
   *  TL's calls through tier exits filled the arena.) */
  private freesAfter(i: MInst): boolean {
    return i.k === "call" && i.callee.k === "graph" && (i.dst < 0 || this.f.widths[i.dst] !== 64);
  }

  /** Pushes `refs` with their types' numbers onto the root stack (`roots.ts`); past its end,
   *  the run stops as on a native stack overflow. */
  private rootsPush(refs: VReg[], types: number[]): void {
    const a = this.a;
    const top: Mem = { base: STATE, disp: S.rootTop };
    a.movRM(32, SCRATCH2, top);
    a.lea(SCRATCH1, { base: SCRATCH2, disp: refs.length * ROOT_BYTES });
    a.cmpRM(32, SCRATCH1, { base: STATE, disp: S.rootEnd });
    a.jcc(Cond.a, this.ctx.stubs.stackOut);
    a.movMR(32, top, SCRATCH1);
    refs.forEach((v, k) => {
      const entry: Mem = { base: STATE, index: SCRATCH2, scale: 1, disp: k * ROOT_BYTES };
      a.movMR(32, entry, this.use(v, SCRATCH1));
      a.movMI(32, { ...entry, disp: entry.disp! + 4 }, types[k]!);
    });
  }

  /** Pops the entries `rootsPush` pushed for `refs`, loading each back (a collection may have
   *  moved what it refers to). */
  private rootsPop(refs: VReg[]): void {
    const a = this.a;
    const top: Mem = { base: STATE, disp: S.rootTop };
    a.movRM(32, SCRATCH2, top);
    a.lea(SCRATCH2, { base: SCRATCH2, disp: -refs.length * ROOT_BYTES });
    a.movMR(32, top, SCRATCH2);
    refs.forEach((v, k) => {
      const d = this.target(v);
      a.movRM(32, d, { base: STATE, index: SCRATCH2, scale: 1, disp: k * ROOT_BYTES });
      this.commit(v, d);
    });
  }

  private call(i: Extract<MInst, { k: "call" }>): void {
    const a = this.a;
    this.moves(this.alloc.callMoves.get(i) ?? []);
    const frees = this.freesAfter(i);
    if (frees) {
      a.movRM(64, SCRATCH1, { base: STATE, disp: S.bump });
      a.movMR(64, { base: Reg.rsp, disp: this.callBumpSlot! }, SCRATCH1);
    }
    const c = i.callee;
    if (c.k === "graph") {
      const target = this.ctx.graph(c.name);
      if (typeof target === "bigint") a.movabs(SCRATCH1, target).callR(SCRATCH1);
      else a.call(target);
    } else if (c.k === "alloc") a.call(this.ctx.stubs.alloc[c.elem]);
    else if (c.k === "new_object") a.call(this.ctx.stubs.object);
    else if (c.k === "new_list") a.call(this.ctx.stubs.list);
    else if (c.k === "list_push") a.call(this.ctx.stubs.push);
    else if (c.k === "list_pop") a.call(this.ctx.stubs.pop);
    else a.callM({ base: STATE, disp: CALLBACK[c.k] });
    if (frees) {
      a.movRM(64, SCRATCH1, { base: Reg.rsp, disp: this.callBumpSlot! });
      a.movMR(64, { base: STATE, disp: S.bump }, SCRATCH1);
    }
    // A JS callback's int32 result says nothing of rax's upper half: clear it. A failed read
    // answers -2, a failed write non-zero: the run stops (the callback kept the failure).
    if (c.k === "io_read") {
      a.movRR(32, Reg.rax, Reg.rax);
      a.cmpRI(32, Reg.rax, -2);
      a.jcc(Cond.e, this.ctx.stubs.ioFailed);
    } else if (c.k === "io_write") {
      a.testRR(32, Reg.rax, Reg.rax);
      a.jcc(Cond.ne, this.ctx.stubs.ioFailed);
    } else if (c.k === "heap" || c.k === "list_push") {
      a.movRR(32, Reg.rax, Reg.rax);
      a.cmpMI(32, { base: STATE, disp: S.heapFail }, 0);
      a.jcc(Cond.ne, this.ctx.stubs.heapFailed);
    }
    if (i.dst >= 0) this.commit(i.dst, Reg.rax);
  }

  // ------------------------------------------------------------------ control

  private term(b: number, t: MTerm, next: Set<number>): void {
    const a = this.a;
    const edges = this.alloc.edgeMoves[b]!;
    switch (t.k) {
      case "jmp":
        return this.follow(t.to, edges[0]!, next);
      case "br": {
        this.compare(t.cond, t.a, t.b);
        const [thenMoves, elseMoves] = [edges[0]!, edges[1]!];
        if (next.has(t.then.block) && thenMoves.length === 0) {
          a.jcc(invert(t.cond), this.entryOf(t.else, elseMoves));
        } else if (!next.has(t.else.block) && this.cold(t.then.block)) {
          // Neither side comes next: the conditional jump takes the likely side, so that the
          // usual path runs one jump, not a jump not taken and then one taken.
          a.jcc(invert(t.cond), this.entryOf(t.else, elseMoves));
          this.follow(t.then, thenMoves, next);
        } else {
          a.jcc(t.cond, this.entryOf(t.then, thenMoves));
          this.follow(t.else, elseMoves, next);
        }
        return;
      }
      case "switch": {
        const r = this.use(t.on, SCRATCH1);
        t.cases.forEach((c, j) => {
          a.cmpRI(32, r, c.value);
          a.jcc(Cond.e, this.entryOf(c.to, edges[j]!));
        });
        return this.follow(t.default, edges[t.cases.length]!, next);
      }
      case "ret":
        if (t.value !== undefined) this.load(Reg.rax, t.value);
        return this.epilogue();
      case "raise":
        a.movMI(32, { base: STATE, disp: S.payload }, t.msg);
        a.jmp(this.ctx.stubs.raise);
        return;
      case "exit":
        t.args.forEach((arg, j) => {
          const to: Mem = { base: STATE, disp: S.args + 8 * j };
          if (!isVReg(arg) && arg.k === "imm") a.movMI(64, to, arg.v);
          else a.movMR(64, to, this.use(arg, SCRATCH1));
        });
        a.movMI(32, { base: STATE, disp: S.payload }, t.status);
        a.movMI(32, { base: STATE, disp: S.count }, t.args.length);
        a.movRI(32, Reg.rax, Status.exited);
        a.jmp(this.ctx.stubs.unwind);
        return;
      case "tailcall":
        this.moves(this.alloc.callMoves.get(t) ?? []);
        return this.epilogue(this.sites[t.site]!.cell);
    }
  }

  /** Takes an edge in line: its moves, then a jump unless the target comes next. */
  private follow(e: Edge, moves: Move[], next: Set<number>): void {
    this.moves(moves);
    if (!next.has(e.block)) this.a.jmp(this.label(this.through(e.block)));
  }

  /** Where a conditional jump along `e` goes: the target, or a stub doing the edge's moves. */
  private entryOf(e: Edge, moves: Move[]): Label {
    if (moves.length === 0) return this.label(this.through(e.block));
    const label = this.a.label();
    this.stubs.push({ label, moves, to: e.block });
    return label;
  }
}
