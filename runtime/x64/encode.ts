//! A small x86-64 assembler: `Asm` appends machine code to a growable byte buffer.
//!
//! Every instruction goes through one helper, `op()`, which lays out the parts of an
//! instruction in their fixed order: REX prefix, opcode bytes, ModRM, SIB, displacement.
//! The caller then appends any immediate. Method names follow the operand forms of the
//! Intel manual: `RR` register ← register, `RI` register ← immediate, `RM` register ← memory,
//! `MR` memory ← register, `MI` memory ← immediate. Where a form exists in 32- and 64-bit
//! sizes, the first argument `w` chooses (32 for int32 values, 64 for pointers); 32-bit
//! results written to a register zero the upper half, as the hardware does.
//!
//! Where the instruction set offers a shorter equivalent form (imm8 instead of imm32, the
//! accumulator forms `op eax, imm32`, `shl r, 1`), the shorter one is chosen, the same choice
//! GNU as makes, so the tests compare our bytes with binutils' byte for byte.

/** The sixteen general-purpose registers, numbered as in the instruction encoding. */
export const Reg = {
  rax: 0,
  rcx: 1,
  rdx: 2,
  rbx: 3,
  rsp: 4,
  rbp: 5,
  rsi: 6,
  rdi: 7,
  r8: 8,
  r9: 9,
  r10: 10,
  r11: 11,
  r12: 12,
  r13: 13,
  r14: 14,
  r15: 15,
} as const;
export type Reg = (typeof Reg)[keyof typeof Reg];

/** Register names by number, in their 64-, 32- and 8-bit spellings (for listings and tests). */
export const REG64 = [
  "rax",
  "rcx",
  "rdx",
  "rbx",
  "rsp",
  "rbp",
  "rsi",
  "rdi",
  "r8",
  "r9",
  "r10",
  "r11",
  "r12",
  "r13",
  "r14",
  "r15",
] as const;
export const REG32 = [
  "eax",
  "ecx",
  "edx",
  "ebx",
  "esp",
  "ebp",
  "esi",
  "edi",
  "r8d",
  "r9d",
  "r10d",
  "r11d",
  "r12d",
  "r13d",
  "r14d",
  "r15d",
] as const;
export const REG8 = [
  "al",
  "cl",
  "dl",
  "bl",
  "spl",
  "bpl",
  "sil",
  "dil",
  "r8b",
  "r9b",
  "r10b",
  "r11b",
  "r12b",
  "r13b",
  "r14b",
  "r15b",
] as const;

/** The System V AMD64 argument registers, in order. */
export const ARG_REGS: readonly Reg[] = [Reg.rdi, Reg.rsi, Reg.rdx, Reg.rcx, Reg.r8, Reg.r9];

/** Condition codes (the low nibble of Jcc/SETcc/CMOVcc). `l/le/g/ge` are signed,
 *  `b/be/a/ae` unsigned. Flipping bit 0 negates a condition (see `invert`). */
export const Cond = {
  o: 0x0,
  no: 0x1,
  b: 0x2,
  ae: 0x3,
  e: 0x4,
  ne: 0x5,
  be: 0x6,
  a: 0x7,
  s: 0x8,
  ns: 0x9,
  p: 0xa,
  np: 0xb,
  l: 0xc,
  ge: 0xd,
  le: 0xe,
  g: 0xf,
  // Aliases.
  z: 0x4,
  nz: 0x5,
  c: 0x2,
  nc: 0x3,
  nae: 0x2,
  nb: 0x3,
  nge: 0xc,
  nl: 0xd,
  ng: 0xe,
  nle: 0xf,
} as const;
export type Cond = (typeof Cond)[keyof typeof Cond];

/** The canonical mnemonic suffix of each condition code, by number. */
export const COND_NAMES = [
  "o",
  "no",
  "b",
  "ae",
  "e",
  "ne",
  "be",
  "a",
  "s",
  "ns",
  "p",
  "np",
  "l",
  "ge",
  "le",
  "g",
] as const;

/** The negation of a condition. */
export function invert(c: Cond): Cond {
  return (c ^ 1) as Cond;
}

/** The condition that holds after `cmp b, a` exactly when `c` holds after `cmp a, b`. */
export function swapOperands(c: Cond): Cond {
  const swapped: Partial<Record<number, Cond>> = {
    [Cond.l]: Cond.g,
    [Cond.g]: Cond.l,
    [Cond.le]: Cond.ge,
    [Cond.ge]: Cond.le,
    [Cond.b]: Cond.a,
    [Cond.a]: Cond.b,
    [Cond.be]: Cond.ae,
    [Cond.ae]: Cond.be,
    [Cond.e]: Cond.e,
    [Cond.ne]: Cond.ne,
  };
  const r = swapped[c];
  if (r === undefined) throw new Error(`condition ${COND_NAMES[c]} has no swapped form`);
  return r;
}

/** The eight classic ALU operations; the value is the /digit of opcodes 80/81/83 and
 *  bits 3..5 of the `op r/m, r` opcodes (00, 08, ..., 38). */
export const Alu = { add: 0, or: 1, adc: 2, sbb: 3, and: 4, sub: 5, xor: 6, cmp: 7 } as const;
export type Alu = (typeof Alu)[keyof typeof Alu];

/** The shifts; the value is the /digit of opcodes C1/D1/D3. */
export const Shift = { rol: 0, ror: 1, shl: 4, shr: 5, sar: 7 } as const;
export type Shift = (typeof Shift)[keyof typeof Shift];

/** Operand size in bits. */
export type W = 32 | 64;

/** A memory operand `[base + index*scale + disp]`. RIP-relative and base-less forms are not
 *  supported. rsp cannot be an index. */
export interface Mem {
  base: Reg;
  index?: Reg;
  scale?: 1 | 2 | 4 | 8;
  disp?: number;
}

/** Shorthand for a memory operand. */
export function mem(base: Reg, disp = 0, index?: Reg, scale: 1 | 2 | 4 | 8 = 1): Mem {
  return index === undefined ? { base, disp } : { base, index, scale, disp };
}

/** A jump target. Create with `Asm.label()`, place with `Asm.bind()`; or made bound with
 *  `Label.at()`. */
export class Label {
  /** Offset in the code once bound. */
  pos = 0;
  bound = false;
  /** Offsets of rel32 fields waiting for this label to be bound. */
  readonly fixups: number[] = [];

  /** A label bound at offset `pos` from the start of the code being assembled, which may lie
   *  before it (negative): code already in the memory this code will be placed in. */
  static at(pos: number): Label {
    const l = new Label();
    l.pos = pos;
    l.bound = true;
    return l;
  }
}

const isInt8 = (v: number) => v >= -128 && v <= 127;
const isInt32 = (v: number) => Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff;

/** An immediate for a 32-bit operation: any int32 or uint32, returned as int32. */
function imm32(v: number): number {
  if (!Number.isInteger(v) || v < -0x80000000 || v > 0xffffffff) {
    throw new RangeError(`immediate ${v} does not fit in 32 bits`);
  }
  return v | 0;
}

/** An immediate for a 64-bit operation: sign-extended from 32 bits, so it must be an int32. */
function simm32(v: number): number {
  if (!isInt32(v)) throw new RangeError(`immediate ${v} is not a sign-extended 32-bit value`);
  return v;
}

/** The immediate for operand size `w`. */
const immW = (w: W, v: number) => (w === 32 ? imm32(v) : simm32(v));

function checkReg(r: number): void {
  if (!Number.isInteger(r) || r < 0 || r > 15) throw new RangeError(`bad register ${r}`);
}

/** Writes `v` as a little-endian int32 at `at`. */
function writeI32(buf: Uint8Array, at: number, v: number): void {
  buf[at] = v & 0xff;
  buf[at + 1] = (v >>> 8) & 0xff;
  buf[at + 2] = (v >>> 16) & 0xff;
  buf[at + 3] = (v >>> 24) & 0xff;
}

/** Reads a little-endian int32 at `at`. */
export function readRel32(buf: Uint8Array, at: number): number {
  return buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24) | 0;
}

/** The four bytes of a rel32 field at offset `at` that make it jump to `target` (both offsets
 *  in the same code block); feed them to a code block's `patch(at, ...)`. */
export function rel32Bytes(at: number, target: number): Uint8Array {
  const rel = target - (at + 4);
  if (!isInt32(rel)) throw new RangeError(`jump distance ${rel} does not fit in rel32`);
  const b = new Uint8Array(4);
  writeI32(b, 0, rel);
  return b;
}

/** Re-targets the rel32 field at offset `at` of `buf` to jump to offset `target`. */
export function patchRel32(buf: Uint8Array, at: number, target: number): void {
  buf.set(rel32Bytes(at, target), at);
}

/** An x86-64 assembler writing into a growable buffer. */
export class Asm {
  private buf = new Uint8Array(256);
  private len = 0;
  /** Labels with fix-ups still waiting for a `bind`. */
  private readonly pending = new Set<Label>();

  // ---------------------------------------------------------------- buffer

  /** The current offset: the number of bytes emitted so far. */
  get size(): number {
    return this.len;
  }

  /** A copy of the code; throws if a jump targets a label that was never bound. */
  bytes(): Uint8Array {
    if (this.pending.size > 0) throw new Error(`${this.pending.size} label(s) used but not bound`);
    return this.buf.slice(0, this.len);
  }

  /** Appends raw bytes. */
  emit(...bytes: number[]): this {
    this.reserve(bytes.length);
    for (const b of bytes) this.buf[this.len++] = b & 0xff;
    return this;
  }

  /** Appends one byte. */
  private byte(b: number): void {
    if (this.len === this.buf.length) this.reserve(1);
    this.buf[this.len++] = b & 0xff;
  }

  /** Appends a little-endian int32. */
  private i32(v: number): void {
    this.reserve(4);
    writeI32(this.buf, this.len, v);
    this.len += 4;
  }

  /** Makes room for `n` more bytes. */
  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** Pads with `fill` bytes (nop by default) up to a multiple of `n`. */
  align(n: number, fill = 0x90): this {
    while (this.len % n !== 0) this.byte(fill);
    return this;
  }

  // ------------------------------------------------------- the one encoder

  /**
   * Emits REX, opcode, ModRM, SIB and displacement.
   * @param opcode the opcode bytes (including any 0F escape)
   * @param reg    the ModRM.reg field: a register, or the /digit opcode extension
   * @param rm     the ModRM.rm operand: a register (mod=11) or a memory operand
   * @param w      64 sets REX.W
   * @param byteReg which operand, if any, is an 8-bit register: registers 4..7 there need a
   *                REX prefix to mean spl/bpl/sil/dil rather than ah/ch/dh/bh
   */
  private op(
    opcode: readonly number[],
    reg: number,
    rm: Reg | Mem,
    w: W = 32,
    byteReg?: "reg" | "rm",
  ): void {
    checkReg(reg);
    let rex = (w === 64 ? 8 : 0) | ((reg & 8) >> 1);
    let force = byteReg === "reg" && reg >= 4 && reg <= 7;
    if (typeof rm === "number") {
      checkReg(rm);
      rex |= rm >> 3;
      force ||= byteReg === "rm" && rm >= 4 && rm <= 7;
      if (rex !== 0 || force) this.byte(0x40 | rex);
      for (const b of opcode) this.byte(b);
      this.byte(0xc0 | ((reg & 7) << 3) | (rm & 7));
      return;
    }

    const { base, index, scale = 1, disp = 0 } = rm;
    checkReg(base);
    if (!isInt32(disp)) throw new RangeError(`displacement ${disp} does not fit in 32 bits`);
    rex |= base >> 3;
    if (index !== undefined) {
      checkReg(index);
      if (index === Reg.rsp) throw new Error("rsp cannot be an index register");
      rex |= (index & 8) >> 2;
    }
    if (rex !== 0 || force) this.byte(0x40 | rex);
    for (const b of opcode) this.byte(b);

    // mod: 00 no displacement, 01 disp8, 10 disp32. rbp/r13 (low bits 101) as a base with
    // mod=00 would mean "RIP-relative" or "no base", so they always carry a displacement.
    const mod = disp === 0 && (base & 7) !== 5 ? 0 : isInt8(disp) ? 1 : 2;
    if (index === undefined && (base & 7) !== 4) {
      this.byte((mod << 6) | ((reg & 7) << 3) | (base & 7));
    } else {
      // rsp/r12 (low bits 100) in rm mean "a SIB byte follows"; index 100 means "no index".
      const ss = { 1: 0, 2: 1, 4: 2, 8: 3 }[scale];
      if (ss === undefined) throw new RangeError(`bad scale ${scale}`);
      this.byte((mod << 6) | ((reg & 7) << 3) | 4);
      this.byte((index === undefined ? 0 : ss << 6) | (((index ?? 4) & 7) << 3) | (base & 7));
    }
    if (mod === 1) this.byte(disp);
    else if (mod === 2) this.i32(disp);
  }

  /** Emits a single-byte opcode with the register in its low 3 bits (push, pop, mov imm). */
  private opReg(opcode: number, r: Reg, w: W = 32): void {
    checkReg(r);
    const rex = (w === 64 ? 8 : 0) | (r >> 3);
    if (rex !== 0) this.byte(0x40 | rex);
    this.byte(opcode | (r & 7));
  }

  // ------------------------------------------------------------------ moves

  /** mov dst, src */
  movRR(w: W, dst: Reg, src: Reg): this {
    this.op([0x89], src, dst, w);
    return this;
  }

  /** mov dst, imm: 32-bit `mov r32, imm32` (zero-extends); 64-bit `mov r/m64, imm32` (sign-extends). */
  movRI(w: W, dst: Reg, imm: number): this {
    if (w === 32) {
      this.opReg(0xb8, dst);
      this.i32(imm32(imm));
    } else {
      this.op([0xc7], 0, dst, 64);
      this.i32(simm32(imm));
    }
    return this;
  }

  /** movabs dst, imm64 (always the 10-byte form; a later stage may patch the constant). */
  movabs(dst: Reg, imm: bigint | number): this {
    const v = BigInt.asUintN(64, BigInt(imm));
    this.opReg(0xb8, dst, 64);
    this.i32(Number(v & 0xffffffffn));
    this.i32(Number(v >> 32n));
    return this;
  }

  /** Loads a 64-bit constant into dst with the shortest of mov r32 / mov r64 sx / movabs. */
  movImm(dst: Reg, imm: bigint | number): this {
    const v = BigInt.asIntN(64, BigInt(imm));
    if (v >= 0n && v <= 0xffffffffn) return this.movRI(32, dst, Number(v));
    if (v >= -0x80000000n && v < 0n) return this.movRI(64, dst, Number(v));
    return this.movabs(dst, v);
  }

  /** mov dst, [mem] */
  movRM(w: W, dst: Reg, m: Mem): this {
    this.op([0x8b], dst, m, w);
    return this;
  }

  /** mov [mem], src */
  movMR(w: W, m: Mem, src: Reg): this {
    this.op([0x89], src, m, w);
    return this;
  }

  /** mov dword/qword [mem], imm32 (the qword form sign-extends) */
  movMI(w: W, m: Mem, imm: number): this {
    this.op([0xc7], 0, m, w);
    this.i32(immW(w, imm));
    return this;
  }

  /** mov byte [mem], src8 */
  movMR8(m: Mem, src: Reg): this {
    this.op([0x88], src, m, 32, "reg");
    return this;
  }

  /** mov byte [mem], imm8 */
  movMI8(m: Mem, imm: number): this {
    if (!Number.isInteger(imm) || imm < -128 || imm > 255) throw new RangeError(`bad imm8 ${imm}`);
    this.op([0xc6], 0, m);
    this.byte(imm);
    return this;
  }

  /** movzx dst32, byte [mem] */
  movzxRM8(dst: Reg, m: Mem): this {
    this.op([0x0f, 0xb6], dst, m);
    return this;
  }

  /** movzx dst32, src8 */
  movzxRR8(dst: Reg, src: Reg): this {
    this.op([0x0f, 0xb6], dst, src, 32, "rm");
    return this;
  }

  /** movsxd dst64, src32 (sign-extends an int32, e.g. an array index) */
  movsxd(dst: Reg, src: Reg): this {
    this.op([0x63], dst, src, 64);
    return this;
  }

  /** movsxd dst64, dword [mem] */
  movsxdRM(dst: Reg, m: Mem): this {
    this.op([0x63], dst, m, 64);
    return this;
  }

  /** lea dst64, [mem] */
  lea(dst: Reg, m: Mem): this {
    this.op([0x8d], dst, m, 64);
    return this;
  }

  // ------------------------------------------------------------- arithmetic

  /** op dst, src for an ALU operation (add/or/adc/sbb/and/sub/xor/cmp) */
  aluRR(op: Alu, w: W, dst: Reg, src: Reg): this {
    this.op([(op << 3) | 0x01], src, dst, w);
    return this;
  }

  /** op dst, imm: imm8 form when it fits, else the accumulator form for rax, else imm32 */
  aluRI(op: Alu, w: W, dst: Reg, imm: number): this {
    const v = immW(w, imm);
    if (isInt8(v)) {
      this.op([0x83], op, dst, w);
      this.byte(v);
    } else if (dst === Reg.rax) {
      if (w === 64) this.byte(0x48);
      this.byte((op << 3) | 0x05);
      this.i32(v);
    } else {
      this.op([0x81], op, dst, w);
      this.i32(v);
    }
    return this;
  }

  /** op dst, [mem] */
  aluRM(op: Alu, w: W, dst: Reg, m: Mem): this {
    this.op([(op << 3) | 0x03], dst, m, w);
    return this;
  }

  /** op [mem], src */
  aluMR(op: Alu, w: W, m: Mem, src: Reg): this {
    this.op([(op << 3) | 0x01], src, m, w);
    return this;
  }

  /** op dword/qword [mem], imm (imm8 form when it fits) */
  aluMI(op: Alu, w: W, m: Mem, imm: number): this {
    const v = immW(w, imm);
    this.op([isInt8(v) ? 0x83 : 0x81], op, m, w);
    if (isInt8(v)) this.byte(v);
    else this.i32(v);
    return this;
  }

  /** add dst, src */
  addRR(w: W, dst: Reg, src: Reg): this {
    return this.aluRR(Alu.add, w, dst, src);
  }
  /** add dst, imm */
  addRI(w: W, dst: Reg, imm: number): this {
    return this.aluRI(Alu.add, w, dst, imm);
  }
  /** add dst, [mem] */
  addRM(w: W, dst: Reg, m: Mem): this {
    return this.aluRM(Alu.add, w, dst, m);
  }
  /** add [mem], src */
  addMR(w: W, m: Mem, src: Reg): this {
    return this.aluMR(Alu.add, w, m, src);
  }
  /** add [mem], imm */
  addMI(w: W, m: Mem, imm: number): this {
    return this.aluMI(Alu.add, w, m, imm);
  }

  /** sub dst, src */
  subRR(w: W, dst: Reg, src: Reg): this {
    return this.aluRR(Alu.sub, w, dst, src);
  }
  /** sub dst, imm */
  subRI(w: W, dst: Reg, imm: number): this {
    return this.aluRI(Alu.sub, w, dst, imm);
  }
  /** sub dst, [mem] */
  subRM(w: W, dst: Reg, m: Mem): this {
    return this.aluRM(Alu.sub, w, dst, m);
  }
  /** sub [mem], src */
  subMR(w: W, m: Mem, src: Reg): this {
    return this.aluMR(Alu.sub, w, m, src);
  }
  /** sub [mem], imm */
  subMI(w: W, m: Mem, imm: number): this {
    return this.aluMI(Alu.sub, w, m, imm);
  }

  /** and dst, src */
  andRR(w: W, dst: Reg, src: Reg): this {
    return this.aluRR(Alu.and, w, dst, src);
  }
  /** and dst, imm */
  andRI(w: W, dst: Reg, imm: number): this {
    return this.aluRI(Alu.and, w, dst, imm);
  }
  /** and dst, [mem] */
  andRM(w: W, dst: Reg, m: Mem): this {
    return this.aluRM(Alu.and, w, dst, m);
  }
  /** and [mem], src */
  andMR(w: W, m: Mem, src: Reg): this {
    return this.aluMR(Alu.and, w, m, src);
  }
  /** and [mem], imm */
  andMI(w: W, m: Mem, imm: number): this {
    return this.aluMI(Alu.and, w, m, imm);
  }

  /** or dst, src */
  orRR(w: W, dst: Reg, src: Reg): this {
    return this.aluRR(Alu.or, w, dst, src);
  }
  /** or dst, imm */
  orRI(w: W, dst: Reg, imm: number): this {
    return this.aluRI(Alu.or, w, dst, imm);
  }
  /** or dst, [mem] */
  orRM(w: W, dst: Reg, m: Mem): this {
    return this.aluRM(Alu.or, w, dst, m);
  }
  /** or [mem], src */
  orMR(w: W, m: Mem, src: Reg): this {
    return this.aluMR(Alu.or, w, m, src);
  }
  /** or [mem], imm */
  orMI(w: W, m: Mem, imm: number): this {
    return this.aluMI(Alu.or, w, m, imm);
  }

  /** xor dst, src */
  xorRR(w: W, dst: Reg, src: Reg): this {
    return this.aluRR(Alu.xor, w, dst, src);
  }
  /** xor dst, imm */
  xorRI(w: W, dst: Reg, imm: number): this {
    return this.aluRI(Alu.xor, w, dst, imm);
  }
  /** xor dst, [mem] */
  xorRM(w: W, dst: Reg, m: Mem): this {
    return this.aluRM(Alu.xor, w, dst, m);
  }
  /** xor [mem], src */
  xorMR(w: W, m: Mem, src: Reg): this {
    return this.aluMR(Alu.xor, w, m, src);
  }
  /** xor [mem], imm */
  xorMI(w: W, m: Mem, imm: number): this {
    return this.aluMI(Alu.xor, w, m, imm);
  }

  /** cmp a, b */
  cmpRR(w: W, a: Reg, b: Reg): this {
    return this.aluRR(Alu.cmp, w, a, b);
  }
  /** cmp a, imm */
  cmpRI(w: W, a: Reg, imm: number): this {
    return this.aluRI(Alu.cmp, w, a, imm);
  }
  /** cmp a, [mem] */
  cmpRM(w: W, a: Reg, m: Mem): this {
    return this.aluRM(Alu.cmp, w, a, m);
  }
  /** cmp [mem], b */
  cmpMR(w: W, m: Mem, b: Reg): this {
    return this.aluMR(Alu.cmp, w, m, b);
  }
  /** cmp [mem], imm */
  cmpMI(w: W, m: Mem, imm: number): this {
    return this.aluMI(Alu.cmp, w, m, imm);
  }

  /** test a, b */
  testRR(w: W, a: Reg, b: Reg): this {
    this.op([0x85], b, a, w);
    return this;
  }

  /** test a, imm32 (accumulator form for rax) */
  testRI(w: W, a: Reg, imm: number): this {
    const v = immW(w, imm);
    if (a === Reg.rax) {
      if (w === 64) this.byte(0x48);
      this.byte(0xa9);
    } else {
      this.op([0xf7], 0, a, w);
    }
    this.i32(v);
    return this;
  }

  /** imul dst, src (dst = low bits of dst * src) */
  imulRR(w: W, dst: Reg, src: Reg): this {
    this.op([0x0f, 0xaf], dst, src, w);
    return this;
  }

  /** imul dst, src, imm (dst = src * imm; imm8 form when it fits) */
  imulRRI(w: W, dst: Reg, src: Reg, imm: number): this {
    const v = immW(w, imm);
    this.op([isInt8(v) ? 0x6b : 0x69], dst, src, w);
    if (isInt8(v)) this.byte(v);
    else this.i32(v);
    return this;
  }

  /** neg r (two's complement negation) */
  neg(w: W, r: Reg): this {
    this.op([0xf7], 3, r, w);
    return this;
  }

  /** not r (bitwise complement) */
  not(w: W, r: Reg): this {
    this.op([0xf7], 2, r, w);
    return this;
  }

  /** cdq: sign-extend eax into edx:eax (before a 32-bit idiv) */
  cdq(): this {
    return this.emit(0x99);
  }

  /** cqo: sign-extend rax into rdx:rax (before a 64-bit idiv) */
  cqo(): this {
    return this.emit(0x48, 0x99);
  }

  /** idiv r: signed edx:eax / r → quotient eax, remainder edx (faults on 0 and MIN/-1) */
  idiv(w: W, r: Reg): this {
    this.op([0xf7], 7, r, w);
    return this;
  }

  /** div r: unsigned edx:eax / r → quotient eax, remainder edx */
  div(w: W, r: Reg): this {
    this.op([0xf7], 6, r, w);
    return this;
  }

  // ----------------------------------------------------------------- shifts

  /** shift r by an immediate count (the 1-count form for 1) */
  shiftRI(op: Shift, w: W, r: Reg, count: number): this {
    if (!Number.isInteger(count) || count < 0 || count > 255)
      throw new RangeError(`bad shift ${count}`);
    if (count === 1) {
      this.op([0xd1], op, r, w);
    } else {
      this.op([0xc1], op, r, w);
      this.byte(count);
    }
    return this;
  }

  /** shift r by cl */
  shiftCL(op: Shift, w: W, r: Reg): this {
    this.op([0xd3], op, r, w);
    return this;
  }

  /** shl r, imm8 */
  shlRI(w: W, r: Reg, count: number): this {
    return this.shiftRI(Shift.shl, w, r, count);
  }
  /** shr r, imm8 (logical) */
  shrRI(w: W, r: Reg, count: number): this {
    return this.shiftRI(Shift.shr, w, r, count);
  }
  /** sar r, imm8 (arithmetic) */
  sarRI(w: W, r: Reg, count: number): this {
    return this.shiftRI(Shift.sar, w, r, count);
  }
  /** shl r, cl */
  shlCL(w: W, r: Reg): this {
    return this.shiftCL(Shift.shl, w, r);
  }
  /** shr r, cl (logical) */
  shrCL(w: W, r: Reg): this {
    return this.shiftCL(Shift.shr, w, r);
  }
  /** sar r, cl (arithmetic) */
  sarCL(w: W, r: Reg): this {
    return this.shiftCL(Shift.sar, w, r);
  }

  // ------------------------------------------------------------ conditions

  /** setcc r8 (sets only the low byte) */
  setcc8(c: Cond, r: Reg): this {
    this.op([0x0f, 0x90 | c], 0, r, 32, "rm");
    return this;
  }

  /** r32 = condition ? 1 : 0 (setcc r8; movzx r32, r8). Flags are read before being clobbered. */
  setcc(c: Cond, r: Reg): this {
    return this.setcc8(c, r).movzxRR8(r, r);
  }

  /** cmovcc dst, src */
  cmov(c: Cond, w: W, dst: Reg, src: Reg): this {
    this.op([0x0f, 0x40 | c], dst, src, w);
    return this;
  }

  // ---------------------------------------------------------- control flow

  /** A new, unbound label. */
  label(): Label {
    return new Label();
  }

  /** Binds `l` to the current offset and resolves the jumps already aimed at it. */
  bind(l: Label): this {
    if (l.bound) throw new Error("label bound twice");
    l.pos = this.len;
    l.bound = true;
    for (const at of l.fixups) patchRel32(this.buf, at, l.pos);
    l.fixups.length = 0;
    this.pending.delete(l);
    return this;
  }

  /** Emits a rel32 field aimed at `l` (now if bound, at `bind` otherwise); returns its offset. */
  private rel32(l: Label): number {
    const at = this.len;
    this.i32(0);
    if (l.bound) {
      patchRel32(this.buf, at, l.pos);
    } else {
      l.fixups.push(at);
      this.pending.add(l);
    }
    return at;
  }

  /** jmp rel32 to `l`; returns the offset of the rel32 field (for `patchRel32`/`rel32Bytes`). */
  jmp(l: Label): number {
    this.byte(0xe9);
    return this.rel32(l);
  }

  /** jcc rel32 to `l`; returns the offset of the rel32 field. */
  jcc(c: Cond, l: Label): number {
    this.byte(0x0f);
    this.byte(0x80 | c);
    return this.rel32(l);
  }

  /** call rel32 to `l`; returns the offset of the rel32 field. */
  call(l: Label): number {
    this.byte(0xe8);
    return this.rel32(l);
  }

  /** jmp r64 (indirect) */
  jmpR(r: Reg): this {
    this.op([0xff], 4, r);
    return this;
  }

  /** jmp qword [mem] (indirect through memory, e.g. a jump table) */
  jmpM(m: Mem): this {
    this.op([0xff], 4, m);
    return this;
  }

  /** call r64 (indirect) */
  callR(r: Reg): this {
    this.op([0xff], 2, r);
    return this;
  }

  /** call qword [mem] (indirect through memory) */
  callM(m: Mem): this {
    this.op([0xff], 2, m);
    return this;
  }

  /** ret */
  ret(): this {
    return this.emit(0xc3);
  }

  /** push r64 */
  push(r: Reg): this {
    this.opReg(0x50, r);
    return this;
  }

  /** pop r64 */
  pop(r: Reg): this {
    this.opReg(0x58, r);
    return this;
  }

  /** int3 (breakpoint trap) */
  int3(): this {
    return this.emit(0xcc);
  }

  /** nop (one byte) */
  nop(): this {
    return this.emit(0x90);
  }
}
