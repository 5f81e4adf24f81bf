//! perf's jitdump format (`tools/perf/Documentation/jitdump-specification.txt` in Linux): the
//! machine code a run compiled, so that `perf record -k 1` then `perf inject --jit` and
//! `perf report`/`perf annotate` show it instruction by instruction under the names of its
//! residual graphs (the perf map beside it, `disasm.ts` `perfMap`, names each residual
//! operation's stretch but holds no code, so `perf annotate` cannot show it).
//!
//! The file: a header (magic `JiTD`, version 1, the header's size, the machine EM_X86_64, the
//! process id, a timestamp, flags), then a `JIT_CODE_LOAD` record per function of each
//! compilation (a residual graph's code, or the runtime routines at a chunk's start): its
//! timestamp (when the compilation was made, on CLOCK_MONOTONIC, which `perf record -k 1`
//! uses), process and thread ids, address, size, an index, a name, and the code's bytes. perf
//! finds the file because the process maps it executable (`memory.ts` `mapForPerf`).
//!
//! Before each, a `JIT_CODE_DEBUG_INFO` record maps the function's code to lines of a source
//! file: the function's residual operations, a line each in code order, each with the program
//! position it was made at and the interpreter's line it comes from (`sources`, written beside
//! the dump), so that `perf annotate` shows each operation above the instructions made from
//! it, as it shows C above gcc's.

import { located } from "./disasm.ts";
import type { Compiled, NativeModule } from "./native.ts";

const MAGIC = 0x4a695444;
const VERSION = 1;
const HEADER_BYTES = 40;
const EM_X86_64 = 62;
const JIT_CODE_LOAD = 0;
const JIT_CODE_DEBUG_INFO = 2;

/** A stretch of code under one name: a graph's function, or the runtime routines; where each
 *  residual operation's code starts in it (offset) and the operation, printed. */
interface Symbol {
  name: string;
  address: bigint;
  code: Uint8Array;
  madeAt: bigint;
  lines: { at: number; text: string }[];
}

/** The functions of `native`'s compilations, in address order. */
export function symbolsOf(native: NativeModule): Symbol[] {
  return native.compilations.flatMap((c) => symbolsOfCompilation(c));
}

function symbolsOfCompilation(c: Compiled): Symbol[] {
  const out: Symbol[] = [];
  const bytes = c.code.read(c.at, c.size);
  let start = 0;
  let name: string | undefined;
  let lines: Symbol["lines"] = [];
  const close = (end: number) => {
    if (name !== undefined && end > start)
      out.push({
        name,
        address: c.code.address + BigInt(c.at + start),
        code: bytes.slice(start, end),
        madeAt: c.madeAt,
        lines,
      });
  };
  for (const m of c.marks) {
    const here = m.f ? `@${m.f.name}` : "futamura runtime";
    if (here !== name) {
      close(m.at);
      [start, name, lines] = [m.at, here, []];
    }
    lines.push({ at: m.at - start, text: located(m).replace(/\s+/g, " ") });
  }
  close(c.size);
  return out;
}

/** The source file of symbol `s` in `dir`: its operations, a line each. */
function sourceOf(s: Symbol, dir: string, index: number): string {
  return `${dir}/${index}-${s.name.replace(/[^\w$.-]/g, "_")}.txt`;
}

/** The jitdump file of `native`'s code, for process `pid` (and its thread), with the source
 *  files its debug records name in `dir` (path to text). */
export function jitdump(
  native: NativeModule,
  pid: number,
  dir: string,
): { bytes: Uint8Array; sources: Map<string, string> } {
  const symbols = symbolsOf(native);
  const chunks: Uint8Array[] = [header(pid)];
  const sources = new Map<string, string>();
  symbols.forEach((s, i) => {
    const file = sourceOf(s, dir, i);
    sources.set(file, s.lines.map((l) => l.text).join("\n") + "\n");
    chunks.push(debugInfo(s, file), codeLoad(s, pid, i));
  });
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) (bytes.set(c, at), (at += c.length));
  return { bytes, sources };
}

/** A `JIT_CODE_DEBUG_INFO` record: the code's address, then per operation the address its
 *  code starts at, its line in `file` (from 1), a discriminator, and the file's name. */
function debugInfo(s: Symbol, file: string): Uint8Array {
  const name = new TextEncoder().encode(file + "\0");
  const entry = 16 + name.length;
  const size = 16 + 16 + s.lines.length * entry;
  const out = new Uint8Array(size);
  const b = new DataView(out.buffer);
  b.setUint32(0, JIT_CODE_DEBUG_INFO, true);
  b.setUint32(4, size, true);
  b.setBigUint64(8, s.madeAt, true);
  b.setBigUint64(16, s.address, true);
  b.setBigUint64(24, BigInt(s.lines.length), true);
  s.lines.forEach((l, i) => {
    const at = 32 + i * entry;
    b.setBigUint64(at, s.address + BigInt(l.at), true);
    b.setUint32(at + 8, i + 1, true);
    b.setUint32(at + 12, 0, true);
    out.set(name, at + 16);
  });
  return out;
}

function header(pid: number): Uint8Array {
  const b = new DataView(new ArrayBuffer(HEADER_BYTES));
  b.setUint32(0, MAGIC, true);
  b.setUint32(4, VERSION, true);
  b.setUint32(8, HEADER_BYTES, true);
  b.setUint32(12, EM_X86_64, true);
  b.setUint32(16, 0, true);
  b.setUint32(20, pid, true);
  b.setBigUint64(24, process.hrtime.bigint(), true);
  b.setBigUint64(32, 0n, true);
  return new Uint8Array(b.buffer);
}

/** A `JIT_CODE_LOAD` record: its header (id, size, timestamp), the process and thread, the
 *  code's address twice (where it runs, where it was loaded), its size and index, the name
 *  (NUL-terminated), then the bytes. */
function codeLoad(s: Symbol, pid: number, index: number): Uint8Array {
  const name = new TextEncoder().encode(s.name + "\0");
  const fixed = 16 + 8 + 8 * 4;
  const size = fixed + name.length + s.code.length;
  const out = new Uint8Array(size);
  const b = new DataView(out.buffer);
  b.setUint32(0, JIT_CODE_LOAD, true);
  b.setUint32(4, size, true);
  b.setBigUint64(8, s.madeAt, true);
  b.setUint32(16, pid, true);
  b.setUint32(20, pid, true); // (the main thread: compiled code runs on it)
  b.setBigUint64(24, s.address, true);
  b.setBigUint64(32, s.address, true);
  b.setBigUint64(40, BigInt(s.code.length), true);
  b.setBigUint64(48, BigInt(index), true);
  out.set(name, fixed);
  out.set(s.code, fixed + name.length);
  return out;
}
