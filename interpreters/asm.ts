//! The assembler shared by the bytecode languages, in the style of PyPy's tlopcode.compile().
//!
//! One instruction per line: `MNEMONIC [operand]`. Comments run from `#`, `;` or `//` to the end
//! of the line. `name:` defines a label, alone on its line or before an instruction. Mnemonics
//! are case-insensitive, labels are not. An operand is an integer literal (decimal or 0x hex) or
//! a label. `.byte N ...` emits raw bytes (0..255 or -128..-1), so malformed bytecode can be
//! written too. Every error is a LoadError `file:line: message`.

import { LoadError } from "../runtime/hints.ts";

/** A language's instruction set, as far as the assembler is concerned. */
export interface Isa {
  /** Upper-case mnemonic → [opcode, how many one-byte operands it takes (0, 1 or 2)]. */
  opcodes: Record<string, readonly [number, number]>;
  /** The range of a literal operand: 0..255 for unsigned operands, -128..127 for signed. */
  min: number;
  max: number;
  /** A label operand is the label's address ("absolute", TLR), or its offset from the byte
   *  after the operand, label - (operand position + 1) ("relative", PyPy's TL convention). */
  labels: "absolute" | "relative";
}

/** An instruction set from what an interpreter exports: its opcodes are its exported
 *  upper-case integer constants (`export const HALT = 0;`), so that the numbers are written
 *  once, in the interpreter; `withOperand` names those taking a one-byte operand, `withTwo`
 *  those taking two. */
export function instructionSet(
  exports: Record<string, unknown>,
  withOperand: string[],
  operands: Omit<Isa, "opcodes">,
  withTwo: string[] = [],
): Isa {
  const opcodes: Record<string, readonly [number, number]> = {};
  for (const [name, v] of Object.entries(exports))
    if (/^[A-Z][A-Z0-9_]*$/.test(name) && Number.isInteger(v))
      opcodes[name] = [
        v as number,
        withTwo.includes(name) ? 2 : withOperand.includes(name) ? 1 : 0,
      ];
  for (const name of [...withOperand, ...withTwo])
    if (!(name in opcodes)) throw new Error(`the interpreter exports no opcode ${name}`);
  return { opcodes, ...operands };
}

/** An instruction set indexed by opcode: each opcode's mnemonic and how many one-byte
 *  operands it takes (for readers of bytecode: disassemblers, translators). */
export function byOpcode(isa: Isa): Record<number, readonly [string, number]> {
  const table: Record<number, readonly [string, number]> = {};
  for (const [name, [opcode, operand]] of Object.entries(isa.opcodes))
    table[opcode] = [name, operand];
  return table;
}

const LABEL = /^[A-Za-z_][A-Za-z0-9_.]*$/;
const INTEGER = /^[+-]?(?:0[xX][0-9a-fA-F]+|[0-9]+)$/;
const LABEL_DEF = /^([^\s:]+)\s*:/;

/** Assembles `text`; `file` only names the source in error messages. */
export function assemble(text: string, file: string, isa: Isa): Uint8Array {
  return assembleWithLabels(text, file, isa).code;
}

/** Assembles `text`, giving the labels' addresses too (a loader that keeps addresses apart
 *  from the code, as TLC's method tables, reads them). */
export function assembleWithLabels(
  text: string,
  file: string,
  isa: Isa,
): { code: Uint8Array; labels: Map<string, number> } {
  const bytes: number[] = [];
  const labels = new Map<string, { address: number; line: number }>();
  const uses: { label: string; at: number; line: number }[] = [];

  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const where = `${file}:${index + 1}`;
    let s = stripComment(lines[index]).trim();
    // Leading `name:` labels.
    for (let m = LABEL_DEF.exec(s); m !== null; m = LABEL_DEF.exec(s)) {
      const name = m[1];
      if (!LABEL.test(name)) fail(where, `bad label name '${name}'`);
      const first = labels.get(name);
      if (first) fail(where, `duplicate label '${name}' (first defined at line ${first.line})`);
      labels.set(name, { address: bytes.length, line: index + 1 });
      s = s.slice(m[0].length).trim();
    }
    if (s === "") continue;

    const [word, ...args] = s.split(/\s+/);
    const mnemonic = word.toUpperCase();
    if (mnemonic === ".BYTE") {
      if (args.length === 0) fail(where, "missing operand for .byte");
      for (const arg of args) bytes.push(integer(arg, -128, 255, where) & 255);
      continue;
    }
    if (!Object.hasOwn(isa.opcodes, mnemonic)) fail(where, `unknown mnemonic '${word}'`);
    const [opcode, operands] = isa.opcodes[mnemonic];
    bytes.push(opcode);
    if (args.length < operands) fail(where, `missing operand for ${mnemonic}`);
    if (args.length > operands) fail(where, `extra operand '${args[operands]}' for ${mnemonic}`);
    for (const arg of args) {
      if (LABEL.test(arg)) {
        uses.push({ label: arg, at: bytes.length, line: index + 1 });
        bytes.push(0); // patched below, once every label is known
      } else {
        bytes.push(integer(arg, isa.min, isa.max, where) & 255);
      }
    }
  }

  for (const { label, at, line } of uses) {
    const where = `${file}:${line}`;
    const def = labels.get(label);
    if (!def) fail(where, `unknown label '${label}'`);
    if (isa.labels === "absolute") {
      if (def.address > 255) fail(where, `label '${label}' at ${def.address} does not fit a byte`);
      bytes[at] = def.address;
    } else {
      const offset = def.address - (at + 1);
      if (offset < -128 || offset > 127) {
        fail(where, `branch offset ${offset} to label '${label}' does not fit a signed byte`);
      }
      bytes[at] = offset & 255;
    }
  }
  const addresses = new Map([...labels].map(([name, def]) => [name, def.address]));
  return { code: Uint8Array.from(bytes), labels: addresses };
}

/** Throws the LoadError `where: message`. */
function fail(where: string, message: string): never {
  throw new LoadError(`${where}: ${message}`);
}

/** `s` up to its first `#`, `;` or `//`. */
function stripComment(s: string): string {
  const m = /#|;|\/\//.exec(s);
  return m === null ? s : s.slice(0, m.index);
}

/** Parses the integer literal `arg`, which must lie in min..max. */
function integer(arg: string, min: number, max: number, where: string): number {
  if (!INTEGER.test(arg)) fail(where, `bad operand '${arg}'`);
  const value = Number(arg.replace(/^[+-]/, "")) * (arg.startsWith("-") ? -1 : 1);
  if (value < min || value > max) fail(where, `operand ${arg} out of range ${min}..${max}`);
  return value;
}
