//! The instruction sets of TLR and TL as the fuzzer sees them (mnemonic, and whether a one-byte
//! operand follows, by opcode), and the disassembler that prints a generated program as
//! assembler text `futamura run` takes back: a failure is shown as text a person can read and
//! rerun, not only as bytes. Numbered as in interpreters/tlr.ts and tl.ts; test/fuzz.test.ts
//! checks the tables against the assembler.

/** Mnemonic and whether it takes a one-byte operand, indexed by opcode. */
export type OpTable = Record<number, readonly [string, boolean]>;

export const TLR_OPS: OpTable = {
  1: ["MOV_A_R", true],
  2: ["MOV_R_A", true],
  3: ["JUMP_IF_A", true],
  4: ["SET_A", true],
  5: ["ADD_R_TO_A", true],
  6: ["RETURN_A", false],
  7: ["ALLOCATE", true],
  8: ["NEG_A", false],
};

export const TL_OPS: OpTable = {
  1: ["NOP", false],
  2: ["PUSH", true],
  3: ["POP", false],
  4: ["SWAP", false],
  5: ["ROLL", true],
  6: ["PICK", true],
  7: ["PUT", true],
  8: ["ADD", false],
  9: ["SUB", false],
  10: ["MUL", false],
  11: ["DIV", false],
  12: ["EQ", false],
  13: ["NE", false],
  14: ["LT", false],
  15: ["LE", false],
  16: ["GT", false],
  17: ["GE", false],
  18: ["BR_COND", true],
  19: ["BR_COND_STK", false],
  20: ["CALL", true],
  21: ["RETURN", false],
  22: ["PUSHARG", false],
  23: ["INVALID", false],
};

const OPS: Record<string, OpTable> = { tlr: TLR_OPS, tl: TL_OPS };

/** Opcode of a mnemonic. */
export function op(table: OpTable, name: string): number {
  for (const [k, [n]] of Object.entries(table)) if (n === name) return Number(k);
  throw new Error(`no opcode ${name}`);
}

/** `code` as assembler text that `lang.load` turns back into exactly `code`: one instruction a
 *  line with its address (and a branch's target) in a comment; bytes that are no instruction
 *  (an unknown opcode, an instruction cut short by the end) as `.byte`. A Brainfuck program is
 *  its own text (its bytes as latin1). */
export function disassemble(lang: string, code: Uint8Array): string {
  if (lang === "bf") return String.fromCharCode(...code); // the program text (latin1)
  const table = OPS[lang];
  if (!table) throw new Error(`no instruction set for ${lang}`);
  const lines: string[] = [];
  for (let pc = 0; pc < code.length;) {
    const at = pc;
    const b = code[pc++]!;
    const info = table[b];
    let text: string;
    let note = "";
    if (!info) {
      text = `.byte ${b}`;
      note = " unknown opcode";
    } else if (!info[1]) {
      text = info[0];
    } else if (pc >= code.length) {
      text = `.byte ${b}`;
      note = ` ${info[0]} without its operand`;
    } else {
      const raw = code[pc++]!;
      const v = lang === "tl" ? (raw << 24) >> 24 : raw;
      text = `${info[0]} ${v}`;
      if (info[0] === "JUMP_IF_A") note = ` -> ${v}`;
      if (info[0] === "BR_COND" || info[0] === "CALL") note = ` -> ${pc + v}`;
    }
    lines.push(`${text.padEnd(16)}# ${at}${note}`);
  }
  return lines.join("\n") + (lines.length ? "\n" : "");
}

export function hex(code: Uint8Array): string {
  return Array.from(code, (b) => b.toString(16).padStart(2, "0")).join(" ");
}
