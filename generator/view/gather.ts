//! `futamura view`'s data from one run of a program (`data.ts`): the run goes through
//! `runProgram` as `futamura run` does, with its events, its residual graphs as they are made
//! and its machine code at the end heard (`RunOptions.inspect`); the program is disassembled,
//! the interpreter's source coloured by the binding-time analysis, and what was made counted by
//! position. Nothing is measured that a plain run does not measure (the `leave` event's time is
//! the stats' `compiledCodeMs`, split by entry).

import { readFileSync } from "node:fs";
import type { LoggedEvent } from "../../runtime/events.ts";
import { printOp, printTerm } from "../../runtime/ir/print.ts";
import type { Graph, Module, Op, Term } from "../../runtime/ir/types.ts";
import { objdump } from "../../runtime/x64/disasm.ts";
import type { NativeModule } from "../../runtime/x64/native.ts";
import { runProgram, type Backend, type RunOptions } from "../backends.ts";
import { analyse } from "../bta.ts";
import { disassemble } from "../fuzz/ops.ts";
import { graphsOf, langs, type Lang } from "../language.ts";
import {
  MAX_EVENTS,
  MAX_OUTPUT,
  type ListingLine,
  type PositionCounts,
  type ViewData,
} from "./data.ts";

export interface ViewRun {
  lang: Lang;
  /** The program file's name, as the page titles it. */
  program: string;
  code: Uint8Array;
  args: number[];
  backend: Backend;
  input?: Uint8Array;
  /** Options of the run besides what the view hears (fuel, threshold, heap). */
  options?: RunOptions;
}

/** Runs the program and gathers what the page shows. */
export async function gather(r: ViewRun): Promise<ViewData> {
  const events: LoggedEvent[] = [];
  let eventsLeft = 0;
  const residual = new Residual();
  let native: NativeModule | undefined;
  const stats: Record<string, unknown> = {};
  const outcome = await runProgram(r.backend, r.lang, r.code, r.args, {
    ...r.options,
    input: r.input,
    stats,
    events: (e) => (events.length < MAX_EVENTS ? events.push(e) : eventsLeft++),
    inspect: {
      onGraphs: (graphs) => residual.add(graphs),
      onNative: (n) => (native = n),
    },
  });
  const code = native ? machineCode(native, residual) : [];
  const output = outcome.output;
  return {
    title: `${r.program} on ${r.backend.name}`,
    run: {
      lang: r.lang.name,
      program: r.program,
      args: r.args,
      backend: r.backend.name,
      ...(outcome.value !== undefined ? { value: outcome.value } : {}),
      ...(outcome.error !== undefined ? { error: outcome.error } : {}),
      output: Buffer.from(output.subarray(0, MAX_OUTPUT)).toString("latin1"),
      outputBytes: output.length,
    },
    listing: listingOf(r.lang, r.code),
    positions: countsByPosition(residual, code, events),
    source: sourceOf(r.lang),
    graphs: residual.graphs,
    rlines: residual.lines,
    code,
    events,
    eventsLeft,
    stats,
  };
}

/** The residual graphs as lines, each operation and terminator one, numbered in the order
 *  they were made; `idOf` finds the line of an operation or terminator object (machine code's
 *  marks point at them). */
class Residual {
  readonly graphs: ViewData["graphs"] = [];
  readonly lines: ViewData["rlines"] = [];
  private blocks = 0;
  private ids = new Map<Op | Term, number>();

  add(graphs: Graph[]): void {
    for (const g of graphs) {
      const blocks = g.blocks.map((b, i) => {
        const block = this.blocks++;
        const line = (text: string, position: number, at: number, o: Op | Term) => {
          this.ids.set(o, this.lines.length);
          this.lines.push([text, position, at, block]);
          return this.lines.length - 1;
        };
        const ops = b.ops.map((op) =>
          line(printOp(g, op), positionOf(op.at), op.pos?.line ?? 0, op),
        );
        const term = line(printTerm(g, b.term), positionOf(b.termAt), b.termPos?.line ?? 0, b.term);
        return { head: `b${i}`, lines: [...ops, term] };
      });
      this.graphs.push({ name: g.name, blocks });
    }
  }

  idOf(o: Op | Term): number {
    return this.ids.get(o) ?? -1;
  }
}

/** The program position of a residual operation's `at` (`0,16`: the last green, a TL pc or a
 *  Brainfuck offset; the greens before it are the bytecode's), or -1. */
export function positionOf(at: string | undefined): number {
  if (at === undefined) return -1;
  const n = Number(at.slice(at.lastIndexOf(",") + 1));
  return Number.isInteger(n) ? n : -1;
}

/** The machine code of every compilation, a run of instructions per function, each tied to
 *  the residual line its code comes from. One objdump for all of it. */
function machineCode(native: NativeModule, residual: Residual): ViewData["code"] {
  const all = native.compilations;
  const whole = new Uint8Array(all.reduce((n, c) => n + c.size, 0));
  let from = 0;
  for (const c of all) whole.set(c.code.read(c.at, c.size), (from += c.size) - c.size);
  const instrs = objdump(whole);
  const out: ViewData["code"] = [];
  let i = 0;
  let start = 0;
  for (const c of all) {
    const end = start + c.size;
    let m = -1;
    let run: ViewData["code"][number] | undefined;
    let runAt = 0;
    for (; i < instrs.length && instrs[i]!.at < end; i++) {
      const at = instrs[i]!.at - start;
      const size = Math.min(instrs[i + 1]?.at ?? end, end) - instrs[i]!.at;
      while (m + 1 < c.marks.length && c.marks[m + 1]!.at <= at) m++;
      const mark = c.marks[m];
      const name = mark?.f?.name ?? "(runtime)";
      if (run?.graph !== name) {
        const address = c.code.address + BigInt(c.at + at);
        out.push((run = { graph: name, address: address.toString(16), instrs: [] }));
        runAt = at;
      }
      const origin = mark?.origin;
      const id = origin && typeof origin === "object" ? residual.idOf(origin) : -1;
      run.instrs.push([at - runAt, size, addressed(instrs[i]!.text, start, c), id]);
    }
    start = end;
  }
  return out;
}

/** An instruction's text with a branch's or call's target (objdump's offset into all the code
 *  disassembled at once, which starts with this compilation at `start`) as the address it has. */
function addressed(text: string, start: number, c: NativeModule["compilations"][number]): string {
  const m = /^(j\w+|call) 0x([0-9a-f]+)$/.exec(text);
  if (!m) return text;
  const target = c.code.address + BigInt(c.at - start + parseInt(m[2]!, 16));
  return `${m[1]} 0x${target.toString(16)}`;
}

/** The program as the page lists it. */
function listingOf(lang: Lang, code: Uint8Array): ViewData["listing"] {
  if (!lang.isa || langs[lang.name] !== lang) {
    const lines = Array.from(code, (b, i): ListingLine => ({
      position: i,
      text: String.fromCharCode(b),
    }));
    return { kind: "bytes", lines };
  }
  // (the disassembler's lines end with `# pc`, or `# i` for a TLC pool byte: its position)
  const lines = disassemble(lang, code)
    .split("\n")
    .filter((l) => l !== "")
    .map((text): ListingLine => {
      const m = /#\s*(\d+)/.exec(text);
      return { position: m ? Number(m[1]) : -1, text };
    });
  return { kind: "instructions", lines };
}

/** Residual operations, machine code, hot offers, compilations and time in compiled code, by
 *  position. */
function countsByPosition(
  residual: Residual,
  code: ViewData["code"],
  events: readonly LoggedEvent[],
): Record<string, PositionCounts> {
  const out: Record<string, PositionCounts> = {};
  const at = (p: number) => (out[p] ??= { ops: 0, bytes: 0, hot: 0, compiles: 0, ms: 0 });
  for (const [, p] of residual.lines) if (p >= 0) at(p).ops++;
  for (const run of code)
    for (const [, size, , id] of run.instrs) {
      const p = id >= 0 ? residual.lines[id]![1] : -1;
      if (p >= 0) at(p).bytes += size;
    }
  const positionOfGraph = new Map<string, number>();
  for (const e of events) {
    if (e.ev === "hot") at(e.position).hot++;
    if (e.ev === "compile") {
      at(e.position).compiles++;
      positionOfGraph.set(e.graph, e.position);
    }
    if (e.ev === "leave") {
      const p = positionOfGraph.get(e.graph);
      if (p !== undefined) at(p).ms = Math.round((at(p).ms + e.ms) * 1000) / 1000;
    }
  }
  return out;
}

/** The interpreter's source with each line's binding time, from its graphs' operations (their
 *  positions) and the binding-time analysis. */
function sourceOf(lang: Lang): ViewData["source"] {
  const lines = readFileSync(lang.source, "utf8").split("\n");
  const m: Module = graphsOf(lang);
  const bt = analyse(m, lang.entry);
  const seen: { g: boolean; r: boolean }[] = lines.map(() => ({ g: false, r: false }));
  for (const g of m.graphs) {
    const greens = bt.greens.get(g.name)!;
    const green = (o: number | object) => typeof o !== "number" || greens[o] !== false;
    for (const b of g.blocks)
      for (const op of b.ops) {
        const s = op.pos && seen[op.pos.line - 1];
        if (!s) continue;
        const isGreen = op.dst >= 0 ? green(op.dst) : op.args.every(green);
        if (isGreen) s.g = true;
        else s.r = true;
      }
  }
  const bts = seen.map(
    (s) => (s.g && s.r ? "m" : s.g ? "g" : s.r ? "r" : "") as "g" | "r" | "m" | "",
  );
  return { file: lang.source, lines, bt: bts };
}
