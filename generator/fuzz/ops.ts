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
  const { start, notes } = poolOf(code);
  const pool = Array.from(
    code.subarray(0, start),
    (b, i) => `.byte ${b}`.padEnd(16) + `# ${i}${notes[i] ? " " + notes[i] : ""}`,
  );
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

/** Where a TLC program's code starts (after its pool, or at its end if the pool is cut short),
 *  and what each byte of the pool says (`interpreters/tlc.ts`, `readPool`). */
function poolOf(code: Uint8Array): { start: number; notes: string[] } {
  const notes: string[] = [];
  notes[0] = `${code[0] ?? 0} classes`;
  let at = 1;
  for (let c = 0; c < (code[0] ?? 0) && at < code.length; c++) {
    const attrs = code[at]!;
    notes[at] = `class ${c}: ${attrs} attributes`;
    for (let i = 1; i <= attrs; i++) notes[at + i] = `attribute name ${code[at + i] ?? "?"}`;
    at += 1 + attrs;
    const methods = code[at] ?? 0;
    notes[at] = `class ${c}: ${methods} methods`;
    for (let i = 0; i < methods; i++) {
      const m = at + 1 + 3 * i;
      notes[m] = `method name ${code[m] ?? "?"}, at`;
      notes[m + 1] = `(${(code[m + 1] ?? 0) | ((code[m + 2] ?? 0) << 8)} bytes into the code)`;
    }
    at += 1 + 3 * methods;
  }
  return { start: Math.min(at, code.length), notes };
}

export function hex(code: Uint8Array): string {
  return Array.from(code, (b) => b.toString(16).padStart(2, "0")).join(" ");
}
