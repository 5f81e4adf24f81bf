//! `--dump asm`: the compiled module disassembled by binutils' objdump, each instruction
//! annotated with the residual operation it comes from (a function or block header where one
//! starts). Only for reading: nothing depends on objdump being installed but this listing.

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { printOp, printTerm } from "../ir/print.ts";
import type { Compiled, Mark, NativeModule } from "./native.ts";

export function listing(native: NativeModule): string {
  const out: string[] = [];
  native.compilations.forEach((b, i) => {
    if (i > 0) out.push("", `; continuation ${i}`);
    out.push(...blockListing(b));
  });
  return out.join("\n").trimStart() + "\n";
}

function blockListing({ code, at: start, size, marks }: Compiled): string[] {
  const out: string[] = [];
  let m = -1;
  let func: string | undefined;
  for (const { at, text } of objdump(code.read(start, size))) {
    while (m + 1 < marks.length && marks[m + 1]!.at <= at) m++;
    const mark = marks[m];
    const name = mark?.f ? `func @${mark.f.name}:` : "runtime:";
    if (name !== func) out.push("", (func = name));
    out.push(`${at.toString(16).padStart(6)}:  ${text.padEnd(44)} ; ${located(mark)}`);
  }
  return out;
}

/** The code of `native` as a perf map (`/tmp/perf-<pid>.map` lines: start, size, name), one
 *  symbol per stretch of code from one residual operation, so that `perf report` shows the hot
 *  operations of compiled code. */
export function perfMap(native: NativeModule): string {
  const out: string[] = [];
  for (const b of native.compilations) {
    const marks = b.marks;
    marks.forEach((m, i) => {
      const end = i + 1 < marks.length ? marks[i + 1]!.at : b.size;
      if (end <= m.at) return;
      const where = m.f ? `@${m.f.name} ` : "runtime ";
      const start = (b.code.address + BigInt(b.at + m.at)).toString(16);
      out.push(`${start} ${(end - m.at).toString(16)} ${where}${located(m).replace(/\s+/g, " ")}`);
    });
  }
  return out.join("\n") + "\n";
}

/** What the code from `mark` on comes from, with where: for a residual operation, the program
 *  position it was made at (the merge point's greens) and the interpreter's line, then the
 *  operation. */
export function located(mark: Mark | undefined): string {
  const o = mark?.origin;
  const op = typeof o === "object" && "op" in o ? o : undefined;
  const where = [op?.at && `at ${op.at}`, op?.pos && `line ${op.pos.line}`].filter(Boolean);
  return [...where, describe(mark)].join("  ");
}

/** What the code from `mark` on comes from: a residual operation or terminator, printed, or a
 *  runtime routine's name. */
function describe(mark: Mark | undefined): string {
  if (!mark) return "";
  const o = mark.origin;
  if (typeof o === "string") return o;
  return "op" in o ? printOp(mark.f!.graph, o) : printTerm(mark.f!.graph, o);
}

/** The instructions of `code`: offset and Intel-syntax text. */
export function objdump(code: Uint8Array): { at: number; text: string }[] {
  const dir = mkdtempSync(join(tmpdir(), "futamura-x64-"));
  try {
    const file = join(dir, "code.bin");
    writeFileSync(file, code);
    const text = execFileSync(
      "objdump",
      ["-D", "-b", "binary", "-m", "i386:x86-64", "-M", "intel", file],
      { encoding: "utf8", maxBuffer: 1 << 28 },
    );
    const out: { at: number; text: string }[] = [];
    for (const line of text.split("\n")) {
      const m = /^\s*([0-9a-f]+):\t[0-9a-f ]+\t(.*)$/.exec(line);
      if (m) out.push({ at: parseInt(m[1]!, 16), text: m[2]!.replace(/\s+/g, " ").trim() });
    }
    return out;
  } catch (e) {
    throw new Error(`--dump asm needs binutils' objdump: ${(e as Error).message}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
