//! The instruction sets of TLR, TL and TLC as the fuzzer sees them (mnemonic, and how many
//! one-byte operands follow, by opcode): the languages' own (`Lang.isa`, made from the
//! interpreters' opcode constants), indexed by opcode; and the disassembler that prints a
//! generated program as assembler text `futamura run` takes back: a failure is shown as text a
//! person can read and rerun, not only as bytes.

import { byOpcode, type Isa } from "../../interpreters/asm.ts";
import { langs, type Lang } from "../language.ts";

/** Mnemonic and how many one-byte operands it takes, indexed by opcode. */
export type OpTable = Record<number, readonly [string, number]>;

function tableOf(isa: Isa | undefined): OpTable {
  if (!isa) throw new Error("a language without an instruction set");
  return byOpcode(isa);
}

export const TLR_OPS: OpTable = tableOf(langs.tlr!.isa);
export const TL_OPS: OpTable = tableOf(langs.tl!.isa);
export const TLC_OPS: OpTable = tableOf(langs.tlc!.isa);

const OPS: Record<string, OpTable> = { tlr: TLR_OPS, tl: TL_OPS, tlc: TLC_OPS };

/** Opcode of a mnemonic. */
export function op(table: OpTable, name: string): number {
  for (const [k, [n]] of Object.entries(table)) if (n === name) return Number(k);
  throw new Error(`no opcode ${name}`);
}

/** `code` as assembler text that `lang.load` turns back into exactly `code`: one instruction a
 *  line with its address (and a branch's target) in a comment; bytes that are no instruction
 *  (an unknown opcode, an instruction cut short by the end) as `.byte`. A Brainfuck program is
 *  its own text (its bytes as latin1). */
export function disassemble(lang: string | Lang, code: Uint8Array): string {
  const name = typeof lang === "string" ? lang : lang.name;
  // A Brainfuck program is its text; a program of another language is shown as its bytes
  // (latin1), as `futamura run` reads a program file when the language has no loader.
  if (name === "bf" || (typeof lang !== "string" && langs[name] !== lang))
    return String.fromCharCode(...code);
  const table = OPS[name];
  if (!table) throw new Error(`no instruction set for ${name}`);
  if (name !== "tlc")
    return instructions(name, table, code, 0).join("\n") + (code.length ? "\n" : "");
  // TLC: `.program` (the bytes as written, no pool made from NEW operands), the pool's bytes
  // with what they say, then the code.
  const start = poolEnd(code);
  const pool = Array.from(code.subarray(0, start), (b, i) => `.byte ${b}`.padEnd(16) + `# ${i}`);
  const lines = [".program", ...pool, ...instructions(name, table, code, start)];
  return lines.join("\n") + "\n";
}

/** The instructions of `code` from `from`, a line each. */
function instructions(name: string, table: OpTable, code: Uint8Array, from: number): string[] {
  const lines: string[] = [];
  const signed = name !== "tlr";
  for (let pc = from; pc < code.length;) {
    const at = pc;
    const b = code[pc++]!;
    const info = table[b];
    let text: string;
    let note = "";
    if (!info) {
      text = `.byte ${b}`;
      note = " unknown opcode";
    } else if (pc + info[1] > code.length) {
      text = `.byte ${b}`;
      note = ` ${info[0]} without its operand`;
    } else {
      const vs = Array.from(code.subarray(pc, pc + info[1]), (raw) =>
        signed ? (raw << 24) >> 24 : raw,
      );
      pc += info[1];
      text = [info[0], ...vs].join(" ");
      const v = vs[0] ?? 0;
      if (info[0] === "JUMP_IF_A") note = ` -> ${v}`;
      if (["BR_COND", "CALL", "BR"].includes(info[0])) note = ` -> ${pc + v}`;
    }
    lines.push(`${text.padEnd(16)}# ${at}${note}`);
  }
  return lines;
}

/** Where a TLC program's code starts (after its pool), or its end if the pool is cut short. */
function poolEnd(code: Uint8Array): number {
  let at = 1;
  for (let c = 0; c < (code[0] ?? 0) && at < code.length; c++) {
    at += 1 + code[at]!;
    at += 1 + 3 * (code[at] ?? 0);
  }
  return Math.min(at, code.length);
}

export function hex(code: Uint8Array): string {
  return Array.from(code, (b) => b.toString(16).padStart(2, "0")).join(" ");
}
