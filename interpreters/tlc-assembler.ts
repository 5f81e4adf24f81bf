//! TLC's assembler, in the style of PyPy's tlopcode.compile() for TLC: the shared assembler
//! (`asm.ts`) for the code, and TLC's named operands turned into the constant pool:
//!
//!   NEW foo,bar,meth=label    a class with attributes foo and bar and a method meth at label
//!                              (the operand is the class's index in the pool)
//!   GETATTR foo, SETATTR foo  the attribute's name (names are interned to small integers)
//!   SEND meth/2               the method's name and its argument count (the receiver apart)
//!
//! The program is the pool, then the code (the format `tlc.ts` reads: PyPy's
//! serialize_program); methods' addresses count from the code's first byte. Errors are
//! LoadErrors `file:line: message`, as the shared assembler's.

import { LoadError } from "../runtime/hints.ts";
import { assembleWithLabels, type Isa } from "./asm.ts";

interface ClassDescr {
  attributes: number[];
  methods: { name: number; label: string; line: number }[];
}

/** Assembles a TLC program; `file` only names the source in error messages. A text whose first
 *  line is `.program` is the program's bytes as written (its pool in `.byte`s: how a malformed
 *  program is written, and what the disassembler gives). */
export function assembleTlc(text: string, file: string, isa: Isa): Uint8Array {
  if (/^\.program\s*(#.*)?(\r?\n|$)/.test(text))
    return assembleWithLabels(text.replace(/^\.program/, ""), file, isa).code;
  const names = new Map<string, number>();
  const classes: ClassDescr[] = [];
  const intern = (name: string, where: string) => {
    if (!/^[A-Za-z_][\w]*$/.test(name)) fail(where, `bad name '${name}'`);
    let n = names.get(name);
    if (n === undefined) names.set(name, (n = names.size));
    if (n > 127) fail(where, "more than 128 names");
    return n;
  };
  const lines = text.split(/\r?\n/).map((line, i) => {
    const where = `${file}:${i + 1}`;
    const m = /^((?:\s*[^\s:#;/]+\s*:)*)\s*(\S+)?\s*(.*)$/.exec(stripComment(line))!;
    const [, labels, word, rest] = m;
    const mnemonic = word?.toUpperCase();
    const operand = rest!.trim();
    if (mnemonic === "NEW" && !/^-?\d+$/.test(operand)) {
      const descr: ClassDescr = { attributes: [], methods: [] };
      for (const part of operand ? operand.split(",").map((p) => p.trim()) : []) {
        const [name, label] = part.split("=");
        if (label === undefined) descr.attributes.push(intern(name!, where));
        else descr.methods.push({ name: intern(name!, where), label: label.trim(), line: i + 1 });
      }
      if (classes.length > 127) fail(where, "more than 128 classes");
      return `${labels} NEW ${classes.push(descr) - 1}`;
    }
    if ((mnemonic === "GETATTR" || mnemonic === "SETATTR") && !/^-?\d+$/.test(operand))
      return `${labels} ${mnemonic} ${intern(operand, where)}`;
    if (mnemonic === "SEND" && operand.includes("/")) {
      const [name, count] = operand.split("/").map((p) => p.trim());
      return `${labels} SEND ${intern(name!, where)} ${count}`;
    }
    return stripComment(line);
  });
  const { code, labels } = assembleWithLabels(lines.join("\n"), file, isa);
  const pool: number[] = [classes.length];
  for (const c of classes) {
    pool.push(c.attributes.length, ...c.attributes, c.methods.length);
    for (const { name, label, line } of c.methods) {
      const at = labels.get(label);
      if (at === undefined) fail(`${file}:${line}`, `unknown label '${label}'`);
      pool.push(name, at & 255, at >> 8);
    }
  }
  return Uint8Array.from([...pool, ...code]);
}

function fail(where: string, message: string): never {
  throw new LoadError(`${where}: ${message}`);
}

function stripComment(s: string): string {
  const m = /#|;|\/\//.exec(s);
  return m === null ? s : s.slice(0, m.index);
}
