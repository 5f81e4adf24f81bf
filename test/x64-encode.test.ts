// The encoder against GNU as: every form, every register, every kind of memory operand.
// All cases go into one assembly file, assembled once; a table of per-case lengths appended
// to the same section splits gas's bytes back into cases.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  Alu,
  Asm,
  Cond,
  COND_NAMES,
  invert,
  Label,
  patchRel32,
  readRel32,
  Reg,
  REG32,
  REG64,
  REG8,
  rel32Bytes,
  Shift,
  swapOperands,
  type Mem,
  type W,
} from "../runtime/x64/encode.ts";

function onPath(tool: string): boolean {
  try {
    execFileSync(tool, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const haveBinutils = onPath("as") && onPath("objcopy");

/** One instruction (or a few): our emitter and the same in GNU Intel syntax. */
interface Case {
  gas: string;
  emit: (a: Asm) => void;
}

const REGS = Array.from({ length: 16 }, (_, i) => i as Reg);
const rn = (w: W, r: Reg) => (w === 32 ? REG32[r] : REG64[r]);
const ptr = { 8: "byte ptr ", 32: "dword ptr ", 64: "qword ptr ", 0: "" } as const;

function fmtMem(m: Mem, size: 0 | 8 | 32 | 64): string {
  let s = REG64[m.base]!;
  if (m.index !== undefined) s += `+${REG64[m.index]}*${m.scale ?? 1}`;
  const d = m.disp ?? 0;
  if (d > 0) s += `+${d}`;
  if (d < 0) s += `-${-d}`;
  return `${ptr[size]}[${s}]`;
}

// --------------------------------------------------------------- operands

const DISPS_ALL = [0, 1, -1, 127, -128, 128, -129, 0x12345678, -0x80000000, 0x7fffffff];
const SCALES = [1, 2, 4, 8] as const;
const INDEXES = REGS.filter((r) => r !== Reg.rsp);

/** Every base, with and without every index at every scale, at every kind of displacement. */
function allMems(): Mem[] {
  const out: Mem[] = [];
  for (const base of REGS) {
    for (const disp of DISPS_ALL) {
      out.push({ base, disp });
      for (const index of INDEXES)
        for (const scale of SCALES) out.push({ base, index, scale, disp });
    }
  }
  return out;
}

/** Every base with disp 0/disp8/disp32 (positive and negative), with and without an index. */
function someMems(): Mem[] {
  const out: Mem[] = [];
  for (const base of REGS) {
    [0, 8, -128, 0x1000, -0x12345].forEach((disp, k) => {
      out.push({ base, disp });
      // A spread of indexes (r12, r13 and rbp included) and scales.
      out.push({
        base,
        index: INDEXES[(base * 3 + k) % 15]!,
        scale: SCALES[(base + k) % 4]!,
        disp,
      });
    });
  }
  return out;
}
const MEMS = someMems();

/** reg × mem cases: every mem once (with rotating registers), plus every reg with two mems. */
function regMem(f: (r: Reg, m: Mem) => Case): Case[] {
  const out = MEMS.map((m, i) => f(REGS[(i * 7) % 16]!, m));
  for (const r of REGS) {
    out.push(f(r, { base: Reg.rsp, disp: 8 }));
    out.push(f(r, { base: Reg.r13, index: Reg.r12, scale: 8, disp: -300 }));
  }
  return out;
}

const pairs = (f: (a: Reg, b: Reg) => Case): Case[] =>
  REGS.flatMap((a) => REGS.map((b) => f(a, b)));
const each = (f: (r: Reg) => Case): Case[] => REGS.map(f);
const widths = (f: (w: W) => Case[]): Case[] => [...f(32), ...f(64)];

const IMM32 = [0, 1, -1, 127, -128, 128, -129, 1000, 0x7fffffff, -0x80000000];
const ALU_NAMES: [Alu, string][] = [
  [Alu.add, "add"],
  [Alu.sub, "sub"],
  [Alu.and, "and"],
  [Alu.or, "or"],
  [Alu.xor, "xor"],
  [Alu.cmp, "cmp"],
  [Alu.adc, "adc"],
  [Alu.sbb, "sbb"],
];
const CONDS = COND_NAMES.map((n, i) => [i as Cond, n] as const);

// ------------------------------------------------------------------ cases

const families: Record<string, Case[]> = {
  "mov r, r": widths((w) =>
    pairs((d, s) => ({ gas: `mov ${rn(w, d)}, ${rn(w, s)}`, emit: (a) => a.movRR(w, d, s) })),
  ),
  "mov r, imm32": widths((w) =>
    REGS.flatMap((r) =>
      [...IMM32, ...(w === 32 ? [0xffffffff, 0x80000000] : [])].map((v) => ({
        gas: `mov ${rn(w, r)}, ${v}`,
        emit: (a: Asm) => a.movRI(w, r, v),
      })),
    ),
  ),
  "movabs r64, imm64": REGS.flatMap((r) =>
    [0n, 1n, -1n, 0x123456789abcdef0n, 0x8000000000000000n, -0x80000001n].map((v) => ({
      gas: `movabs ${REG64[r]}, ${BigInt.asUintN(64, v)}`,
      emit: (a: Asm) => a.movabs(r, v),
    })),
  ),
  "movImm (shortest)": REGS.flatMap((r) =>
    [0n, 5n, 0xffffffffn, 0x100000000n, -1n, -0x80000000n, -0x80000001n, 1n << 62n].map((v) => ({
      gas:
        v >= 0n && v <= 0xffffffffn
          ? `mov ${REG32[r]}, ${v}`
          : v >= -0x80000000n
            ? `mov ${REG64[r]}, ${v}`
            : `movabs ${REG64[r]}, ${BigInt.asUintN(64, v)}`,
      emit: (a: Asm) => a.movImm(r, v),
    })),
  ),
  "mov r64, [mem]: all addressing modes": allMems().map((m, i) => {
    const r = REGS[(i * 7) % 16]!;
    return { gas: `mov ${REG64[r]}, ${fmtMem(m, 64)}`, emit: (a) => a.movRM(64, r, m) };
  }),
  "mov r, [mem]": widths((w) =>
    regMem((r, m) => ({ gas: `mov ${rn(w, r)}, ${fmtMem(m, w)}`, emit: (a) => a.movRM(w, r, m) })),
  ),
  "mov [mem], r": widths((w) =>
    regMem((r, m) => ({ gas: `mov ${fmtMem(m, w)}, ${rn(w, r)}`, emit: (a) => a.movMR(w, m, r) })),
  ),
  "mov [mem], imm32": widths((w) =>
    MEMS.map((m, i) => {
      const v = IMM32[i % IMM32.length]!;
      return { gas: `mov ${fmtMem(m, w)}, ${v}`, emit: (a: Asm) => a.movMI(w, m, v) };
    }),
  ),
  "mov byte [mem], r8": regMem((r, m) => ({
    gas: `mov ${fmtMem(m, 8)}, ${REG8[r]}`,
    emit: (a) => a.movMR8(m, r),
  })),
  "mov byte [mem], imm8": MEMS.map((m, i) => {
    const v = [0, 1, -1, 127, -128, 255][i % 6]!;
    return { gas: `mov ${fmtMem(m, 8)}, ${v}`, emit: (a: Asm) => a.movMI8(m, v) };
  }),
  "movzx r32, byte [mem]": regMem((r, m) => ({
    gas: `movzx ${REG32[r]}, ${fmtMem(m, 8)}`,
    emit: (a) => a.movzxRM8(r, m),
  })),
  "movzx r32, r8": pairs((d, s) => ({
    gas: `movzx ${REG32[d]}, ${REG8[s]}`,
    emit: (a) => a.movzxRR8(d, s),
  })),
  "movsxd r64, r32": pairs((d, s) => ({
    gas: `movsxd ${REG64[d]}, ${REG32[s]}`,
    emit: (a) => a.movsxd(d, s),
  })),
  "movsxd r64, dword [mem]": regMem((r, m) => ({
    gas: `movsxd ${REG64[r]}, ${fmtMem(m, 32)}`,
    emit: (a) => a.movsxdRM(r, m),
  })),
  "lea r64, [mem]": regMem((r, m) => ({
    gas: `lea ${REG64[r]}, ${fmtMem(m, 0)}`,
    emit: (a) => a.lea(r, m),
  })),

  "alu r, r": ALU_NAMES.flatMap(([op, name]) =>
    widths((w) =>
      pairs((d, s) => ({
        gas: `${name} ${rn(w, d)}, ${rn(w, s)}`,
        emit: (a) => a.aluRR(op, w, d, s),
      })),
    ),
  ),
  "alu r, imm": ALU_NAMES.flatMap(([op, name]) =>
    widths((w) =>
      REGS.flatMap((r) =>
        IMM32.map((v) => ({
          gas: `${name} ${rn(w, r)}, ${v}`,
          emit: (a: Asm) => a.aluRI(op, w, r, v),
        })),
      ),
    ),
  ),
  "alu r, [mem]": ALU_NAMES.flatMap(([op, name]) =>
    widths((w) =>
      regMem((r, m) => ({
        gas: `${name} ${rn(w, r)}, ${fmtMem(m, w)}`,
        emit: (a) => a.aluRM(op, w, r, m),
      })),
    ),
  ),
  "alu [mem], r": ALU_NAMES.flatMap(([op, name]) =>
    widths((w) =>
      regMem((r, m) => ({
        gas: `${name} ${fmtMem(m, w)}, ${rn(w, r)}`,
        emit: (a) => a.aluMR(op, w, m, r),
      })),
    ),
  ),
  "alu [mem], imm": ALU_NAMES.flatMap(([op, name]) =>
    widths((w) =>
      MEMS.map((m, i) => {
        const v = IMM32[i % IMM32.length]!;
        return { gas: `${name} ${fmtMem(m, w)}, ${v}`, emit: (a: Asm) => a.aluMI(op, w, m, v) };
      }),
    ),
  ),
  "named alu wrappers": widths((w) => {
    const m: Mem = { base: Reg.r12, index: Reg.rbp, scale: 4, disp: -4 };
    const M = fmtMem(m, w);
    const [x, y] = [Reg.r9, Reg.rsi];
    const [X, Y] = [rn(w, x), rn(w, y)];
    return [
      { gas: `add ${X}, ${Y}`, emit: (a) => a.addRR(w, x, y) },
      { gas: `add ${X}, 200`, emit: (a) => a.addRI(w, x, 200) },
      { gas: `add ${X}, ${M}`, emit: (a) => a.addRM(w, x, m) },
      { gas: `add ${M}, ${Y}`, emit: (a) => a.addMR(w, m, y) },
      { gas: `add ${M}, 3`, emit: (a) => a.addMI(w, m, 3) },
      { gas: `sub ${X}, ${Y}`, emit: (a) => a.subRR(w, x, y) },
      { gas: `sub ${X}, 2`, emit: (a) => a.subRI(w, x, 2) },
      { gas: `sub ${X}, ${M}`, emit: (a) => a.subRM(w, x, m) },
      { gas: `sub ${M}, ${Y}`, emit: (a) => a.subMR(w, m, y) },
      { gas: `sub ${M}, 1`, emit: (a) => a.subMI(w, m, 1) },
      { gas: `and ${X}, ${Y}`, emit: (a) => a.andRR(w, x, y) },
      { gas: `and ${X}, 255`, emit: (a) => a.andRI(w, x, 255) },
      { gas: `and ${X}, ${M}`, emit: (a) => a.andRM(w, x, m) },
      { gas: `and ${M}, ${Y}`, emit: (a) => a.andMR(w, m, y) },
      { gas: `and ${M}, -16`, emit: (a) => a.andMI(w, m, -16) },
      { gas: `or ${X}, ${Y}`, emit: (a) => a.orRR(w, x, y) },
      { gas: `or ${X}, 1`, emit: (a) => a.orRI(w, x, 1) },
      { gas: `or ${X}, ${M}`, emit: (a) => a.orRM(w, x, m) },
      { gas: `or ${M}, ${Y}`, emit: (a) => a.orMR(w, m, y) },
      { gas: `or ${M}, 4096`, emit: (a) => a.orMI(w, m, 4096) },
      { gas: `xor ${X}, ${Y}`, emit: (a) => a.xorRR(w, x, y) },
      { gas: `xor ${X}, -1`, emit: (a) => a.xorRI(w, x, -1) },
      { gas: `xor ${X}, ${M}`, emit: (a) => a.xorRM(w, x, m) },
      { gas: `xor ${M}, ${Y}`, emit: (a) => a.xorMR(w, m, y) },
      { gas: `xor ${M}, 7`, emit: (a) => a.xorMI(w, m, 7) },
      { gas: `cmp ${X}, ${Y}`, emit: (a) => a.cmpRR(w, x, y) },
      { gas: `cmp ${X}, 100000`, emit: (a) => a.cmpRI(w, x, 100000) },
      { gas: `cmp ${X}, ${M}`, emit: (a) => a.cmpRM(w, x, m) },
      { gas: `cmp ${M}, ${Y}`, emit: (a) => a.cmpMR(w, m, y) },
      { gas: `cmp ${M}, 0`, emit: (a) => a.cmpMI(w, m, 0) },
    ];
  }),
  "test r, r": widths((w) =>
    pairs((x, y) => ({ gas: `test ${rn(w, x)}, ${rn(w, y)}`, emit: (a) => a.testRR(w, x, y) })),
  ),
  "test r, imm": widths((w) =>
    REGS.flatMap((r) =>
      [1, -1, 0x12345].map((v) => ({
        gas: `test ${rn(w, r)}, ${v}`,
        emit: (a: Asm) => a.testRI(w, r, v),
      })),
    ),
  ),
  "imul r, r": widths((w) =>
    pairs((d, s) => ({ gas: `imul ${rn(w, d)}, ${rn(w, s)}`, emit: (a) => a.imulRR(w, d, s) })),
  ),
  "imul r, r, imm": widths((w) =>
    pairs((d, s) => {
      const v = [3, -128, 127, 128, -100000][(d + s) % 5]!;
      return {
        gas: `imul ${rn(w, d)}, ${rn(w, s)}, ${v}`,
        emit: (a: Asm) => a.imulRRI(w, d, s, v),
      };
    }),
  ),
  "neg / not / idiv / div": widths((w) =>
    REGS.flatMap((r) => [
      { gas: `neg ${rn(w, r)}`, emit: (a: Asm) => a.neg(w, r) },
      { gas: `not ${rn(w, r)}`, emit: (a: Asm) => a.not(w, r) },
      { gas: `idiv ${rn(w, r)}`, emit: (a: Asm) => a.idiv(w, r) },
      { gas: `div ${rn(w, r)}`, emit: (a: Asm) => a.div(w, r) },
    ]),
  ),
  "cdq / cqo / ret / int3 / nop": [
    { gas: "cdq", emit: (a) => a.cdq() },
    { gas: "cqo", emit: (a) => a.cqo() },
    { gas: "ret", emit: (a) => a.ret() },
    { gas: "int3", emit: (a) => a.int3() },
    { gas: "nop", emit: (a) => a.nop() },
  ],
  "shifts by imm": widths((w) =>
    [
      ["shl", Shift.shl],
      ["shr", Shift.shr],
      ["sar", Shift.sar],
      ["rol", Shift.rol],
      ["ror", Shift.ror],
    ].flatMap(([name, op]) =>
      REGS.flatMap((r) =>
        [0, 1, 2, 31, w === 64 ? 63 : 17].map((n) => ({
          gas: `${name} ${rn(w, r)}, ${n}`,
          emit: (a: Asm) => a.shiftRI(op as Shift, w, r, n),
        })),
      ),
    ),
  ),
  "shifts by cl": widths((w) =>
    REGS.flatMap((r) => [
      { gas: `shl ${rn(w, r)}, cl`, emit: (a: Asm) => a.shlCL(w, r) },
      { gas: `shr ${rn(w, r)}, cl`, emit: (a: Asm) => a.shrCL(w, r) },
      { gas: `sar ${rn(w, r)}, cl`, emit: (a: Asm) => a.sarCL(w, r) },
      { gas: `shl ${rn(w, r)}, 3`, emit: (a: Asm) => a.shlRI(w, r, 3) },
      { gas: `shr ${rn(w, r)}, 1`, emit: (a: Asm) => a.shrRI(w, r, 1) },
      { gas: `sar ${rn(w, r)}, 31`, emit: (a: Asm) => a.sarRI(w, r, 31) },
    ]),
  ),
  "setcc r8": CONDS.flatMap(([c, n]) =>
    each((r) => ({ gas: `set${n} ${REG8[r]}`, emit: (a) => a.setcc8(c, r) })),
  ),
  "setcc r32 (set + movzx)": CONDS.flatMap(([c, n]) =>
    each((r) => ({
      gas: `set${n} ${REG8[r]}\nmovzx ${REG32[r]}, ${REG8[r]}`,
      emit: (a) => a.setcc(c, r),
    })),
  ),
  "cmovcc r, r": [
    ...widths((w) =>
      pairs((d, s) => ({
        gas: `cmovl ${rn(w, d)}, ${rn(w, s)}`,
        emit: (a) => a.cmov(Cond.l, w, d, s),
      })),
    ),
    ...widths((w) =>
      CONDS.flatMap(([c, n]) =>
        each((d) => {
          const s = ((d * 5 + 3) % 16) as Reg;
          return { gas: `cmov${n} ${rn(w, d)}, ${rn(w, s)}`, emit: (a) => a.cmov(c, w, d, s) };
        }),
      ),
    ),
  ],
  "jmp / call indirect": [
    ...each((r) => ({ gas: `jmp ${REG64[r]}`, emit: (a) => a.jmpR(r) })),
    ...each((r) => ({ gas: `call ${REG64[r]}`, emit: (a) => a.callR(r) })),
    ...MEMS.map((m) => ({ gas: `jmp ${fmtMem(m, 64)}`, emit: (a: Asm) => a.jmpM(m) })),
    ...MEMS.map((m) => ({ gas: `call ${fmtMem(m, 64)}`, emit: (a: Asm) => a.callM(m) })),
  ],
  "push / pop": [
    ...each((r) => ({ gas: `push ${REG64[r]}`, emit: (a) => a.push(r) })),
    ...each((r) => ({ gas: `pop ${REG64[r]}`, emit: (a) => a.pop(r) })),
  ],
  "jmp / jcc / call rel32 to labels": (() => {
    // Targets more than 127 bytes away, so gas must choose rel32 too. Each case is self-contained.
    const gap = 200;
    const pad = `.fill ${gap}, 1, 0x90`;
    const nops = (a: Asm) => a.emit(...new Array<number>(gap).fill(0x90));
    const out: Case[] = [];
    CONDS.forEach(([c, n], i) => {
      out.push({
        gas: `.Lb${i}:\n${pad}\nj${n} .Lb${i}\nj${n} .Lf${i}\n${pad}\n.Lf${i}:`,
        emit: (a) => {
          const back = a.label();
          const fwd = a.label();
          a.bind(back);
          nops(a);
          a.jcc(c, back);
          a.jcc(c, fwd);
          nops(a);
          a.bind(fwd);
        },
      });
    });
    out.push({
      gas: `.Ljb:\n${pad}\njmp .Ljb\njmp .Ljf\ncall .Ljf\ncall .Ljb\n${pad}\n.Ljf:\nret`,
      emit: (a) => {
        const back = a.label();
        const fwd = a.label();
        a.bind(back);
        nops(a);
        a.jmp(back);
        a.jmp(fwd);
        a.call(fwd);
        a.call(back);
        nops(a);
        a.bind(fwd);
        a.ret();
      },
    });
    return out;
  })(),
};

// ----------------------------------------------------------------- gas

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");

/** Assembles every case of every family in one `as` run; returns each case's bytes. */
function assembleAll(cases: Case[]): Uint8Array[] {
  const dir = mkdtempSync(join(tmpdir(), "x64-encode-"));
  try {
    const lines = [".intel_syntax noprefix", ".text"];
    cases.forEach((c, i) => lines.push(`.Lc${i}:`, c.gas));
    lines.push(`.Lc${cases.length}:`);
    // The length table: one .long per case, read back from the end of the section.
    for (let i = 0; i < cases.length; i++) lines.push(`.long .Lc${i + 1} - .Lc${i}`);
    writeFileSync(join(dir, "t.s"), lines.join("\n") + "\n");
    execFileSync("as", ["--64", "-o", join(dir, "t.o"), join(dir, "t.s")], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    execFileSync("objcopy", ["-O", "binary", "-j", ".text", join(dir, "t.o"), join(dir, "t.bin")]);
    const bin = new Uint8Array(readFileSync(join(dir, "t.bin")));
    const table = new DataView(bin.buffer, bin.byteOffset + bin.length - 4 * cases.length);
    const out: Uint8Array[] = [];
    let at = 0;
    for (let i = 0; i < cases.length; i++) {
      const n = table.getUint32(4 * i, true);
      out.push(bin.subarray(at, at + n));
      at += n;
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const gasTitle = haveBinutils
  ? "x64 encoder vs GNU as"
  : "x64 encoder vs GNU as: SKIPPED, `as`/`objcopy` not on PATH";
describe.skipIf(!haveBinutils)(gasTitle, () => {
  const names = Object.keys(families);
  const refs = new Map<string, Uint8Array[]>();

  beforeAll(() => {
    const all = names.flatMap((n) => families[n]!);
    const bytes = assembleAll(all);
    let k = 0;
    for (const n of names) {
      refs.set(n, bytes.slice(k, k + families[n]!.length));
      k += families[n]!.length;
    }
  });

  for (const name of names) {
    it(`${name} (${families[name]!.length} cases)`, () => {
      const cases = families[name]!;
      const want = refs.get(name)!;
      const bad: string[] = [];
      cases.forEach((c, i) => {
        const a = new Asm();
        c.emit(a);
        const got = hex(a.bytes());
        if (got !== hex(want[i]!))
          bad.push(`${c.gas.replace(/\n/g, "; ")}: gas ${hex(want[i]!)}, ours ${got}`);
      });
      expect(bad.slice(0, 20)).toEqual([]);
    });
  }
});

// ------------------------------------------------------ without binutils

describe("labels and fix-ups", () => {
  it("resolves forward and backward rel32 jumps", () => {
    const a = new Asm();
    const top = a.label();
    const end = a.label();
    a.bind(top); // 0
    const j1 = a.jcc(Cond.e, end); // 0f 84 rel32 at 2, next 6
    a.nop(); // 6
    const j2 = a.jmp(top); // e9 rel32 at 8, next 12
    a.bind(end); // 12
    const j3 = a.jmp(end); // e9 at 12, rel32 at 13, next 17
    const b = a.bytes();
    expect([j1, j2, j3]).toEqual([2, 8, 13]);
    expect(hex(b)).toBe("0f 84 06 00 00 00 90 e9 f4 ff ff ff e9 fb ff ff ff");
    expect(readRel32(b, j1)).toBe(6);
    expect(readRel32(b, j2)).toBe(-12);
  });

  it("resolves many jumps to one label, before and after binding", () => {
    const a = new Asm();
    const l = a.label();
    const before = [a.jmp(l), a.jcc(Cond.l, l), a.call(l)];
    a.bind(l);
    const target = a.size;
    const after = [a.jmp(l), a.jcc(Cond.ne, l)];
    const b = a.bytes();
    for (const at of [...before, ...after]) expect(at + 4 + readRel32(b, at)).toBe(target);
  });

  it("jumps to a label bound before the code, as code placed after other code reaches it", () => {
    const stub = Label.at(-16); // 16 bytes before this code's start
    const a = new Asm();
    a.nop(); // 0
    const j = a.jmp(stub); // e9 at 1, rel32 at 2, next 6: -16 - 6 = -22
    const c = a.call(stub); // e8 at 6, rel32 at 7, next 11: -27
    const b = a.bytes();
    expect(hex(b)).toBe("90 e9 ea ff ff ff e8 e5 ff ff ff");
    expect([j + 4 + readRel32(b, j), c + 4 + readRel32(b, c)]).toEqual([-16, -16]);
    expect(() => a.bind(stub)).toThrow(/twice/);
  });

  it("refuses unbound labels and double binding", () => {
    const a = new Asm();
    const l = a.label();
    a.jmp(l);
    expect(() => a.bytes()).toThrow(/not bound/);
    a.bind(l);
    expect(() => a.bind(l)).toThrow(/twice/);
    expect(a.bytes().length).toBe(5);
  });

  it("patches a rel32 in a byte array", () => {
    const a = new Asm();
    const l = a.label();
    const at = a.jmp(l);
    a.nop().nop().nop();
    a.bind(l);
    a.ret();
    const b = a.bytes();
    expect(readRel32(b, at)).toBe(3);
    patchRel32(b, at, 0); // jump to itself
    expect(hex(b.subarray(0, 5))).toBe("e9 fb ff ff ff");
    expect(hex(rel32Bytes(at, 1000))).toBe(hex(new Uint8Array([0xe3, 0x03, 0, 0])));
    expect(() => rel32Bytes(0, 2 ** 32)).toThrow(RangeError);
  });
});

describe("encoder details", () => {
  it("grows its buffer", () => {
    const a = new Asm();
    for (let i = 0; i < 10_000; i++) a.movRI(32, Reg.r9, i);
    const b = a.bytes();
    expect(b.length).toBe(60_000);
    expect(hex(b.subarray(6 * 9999, 6 * 10000))).toBe("41 b9 0f 27 00 00");
  });

  it("aligns with nops", () => {
    const a = new Asm().ret().align(8);
    expect(hex(a.bytes())).toBe("c3 90 90 90 90 90 90 90");
    expect(new Asm().align(16).size).toBe(0);
  });

  it("rejects bad operands", () => {
    const a = new Asm();
    expect(() => a.movRM(64, Reg.rax, { base: Reg.rax, index: Reg.rsp })).toThrow(/rsp/);
    expect(() => a.movRM(64, Reg.rax, { base: Reg.rax, disp: 2 ** 31 })).toThrow(RangeError);
    expect(() => a.addRI(64, Reg.rax, 0x80000000)).toThrow(RangeError);
    expect(() => a.addRI(32, Reg.rax, 2 ** 32)).toThrow(RangeError);
    expect(() => a.movRR(64, 16 as Reg, Reg.rax)).toThrow(RangeError);
  });

  it("inverts and swaps conditions", () => {
    expect(invert(Cond.e)).toBe(Cond.ne);
    expect(invert(Cond.l)).toBe(Cond.ge);
    expect(invert(Cond.a)).toBe(Cond.be);
    expect(swapOperands(Cond.l)).toBe(Cond.g);
    expect(swapOperands(Cond.ae)).toBe(Cond.be);
    expect(() => swapOperands(Cond.s)).toThrow();
  });
});
