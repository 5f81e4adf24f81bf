//! The `futamura` command line. Its contract, fixed for every backend:
//!   stdout carries only the program's output; stats and dumps go to stderr.
//!   exit 0 success, 1 an interpreter error (`error: <message>`, the same on every backend),
//!   2 a usage or load error, 3 an internal failure of the tool (`internal error: ...`),
//!   4 the program's input or output failed (`error: cannot write output: ENOSPC (...)`).
//!   A reader of the output that goes away (`| head -c 1`, EPIPE) ends the run quietly, exit 0,
//!   as other filters do.
//! Every message is printed with control bytes escaped: a program file's bytes (a label, a
//! path) never reach the terminal raw.

import { existsSync, readFileSync } from "node:fs";
import { relative } from "node:path";
import { parseArgs } from "node:util";
import { LoadError, graphsOf, language, langs, packaged } from "../language.ts";
import { VmError } from "../../runtime/hints.ts";
import { FUTAMURA_VERSION, StaleBuild } from "../../runtime/stamp.ts";
import { FdSource, IoFailure, fdSink, type ChunkSink } from "../../runtime/stdio.ts";
import { DEFAULT_BACKEND, backends, runProgram } from "../backends.ts";

import { UsageError } from "./usage.ts";
import {
  cannotRead,
  hideNegatives,
  programInts,
  readProgram,
  RUN_OPTIONS,
  runOptionsOf,
  unhidden,
  unhiddenValues,
} from "./args.ts";
import { VIEW_USAGE } from "./view.ts";
import { eventLog } from "./event-log.ts";

export { UsageError };

/** Each command's usage: `futamura <command> --help` prints its own, `futamura --help` all. */
const COMMANDS: Record<string, string> = {
  run: `run <interpreter> <program-file> [args...] [options]
      --backend NAME   ${Object.keys(backends).join(", ")} (default: ${DEFAULT_BACKEND})
      --fuel N         stop with "step limit exceeded" after N steps (merge-point passes)
      --threshold N    passes through a position before the JIT compiles from it, with no warm-up
                       (jit, jit-graph; default 10,000 after ~2,000,000 passes in all)
      --heap-mb N      MiB of machine code's object region (x64, jit; default 64), which loops
                       collect at their safepoints when it is nearly full
      --stats[=json]   print statistics to stderr
      --log FILE       write the JIT's events to FILE, a JSON object a line (docs/ARCHITECTURE.md)
      --dump WHAT      print an intermediate form to stderr (see the backend)`,
  graphs: `graphs <interpreter.ts> [--entry NAME]
                       print the interpreter's graphs, or its subset violations (exit 1)`,
  fuzz: `fuzz <interpreter> [--seed S] [--count N] [--index I] [--backends a,b,...] [--fuel N] [--workers N]
                       [--timeout S] [--progress S] [--minutes M | --seeds N] [--ledger FILE] [--gc-stress]:
                       differential testing (--gc-stress: machine code collects its objects at every
                       safepoint after an allocation)`,
  bta: `bta <interpreter>
                       print the interpreter's graphs with every value marked green or red`,
  explain: `explain <interpreter> <function> <variable>
                       say why a value is red: the chain of operations that made it so`,
  bench: `bench [<interpreter> <program-file> [args...]] [--quick] [--reps N] [--cap S]
        [--interp-cap S] [--only NAME,...] [--backends a,b,...] [--out DIR]
                       the performance record (bench/; written with --out for a program
                       named here): every backend side by side, medians, whole process too`,
  generate: `generate [<interpreter.ts>]
                       remake what is stale of the interpreter's build products (the
                       generated/ folder beside it; without one, this repository's)`,
  check: `check [<interpreter.ts>]
                       fail if any of them is stale`,
  view: VIEW_USAGE,
  start: `start        regenerate what is stale, run every example program on every
                       backend and print a table`,
};

const HELP = `futamura ${FUTAMURA_VERSION}: a specialiser generator for interpreters written in TypeScript

usage:
${Object.values(COMMANDS)
  .map((u) => "  futamura " + u)
  .join("\n")}
  futamura <command> --help
  futamura --version

<interpreter>: the path of an interpreter's .ts file, or one of ${Object.keys(langs).join(", ")}
  (a futamura.ts beside it may describe it: entry, loader, convention; see docs/GUIDE.md)
exit status: 0 success, 1 interpreter error, 2 usage or load error, 3 internal error,
  4 the program's input or output failed (EPIPE, a reader gone, ends quietly with 0)`;

/** Runs `futamura argv`; gives the exit status. Without `out`, a program's output goes straight
 *  to descriptor 1 as it is written (and everything else to process.stdout). */
export async function main(
  argv: string[],
  outArg?: NodeJS.WritableStream,
  errArg?: NodeJS.WritableStream,
): Promise<number> {
  const err = errArg ?? process.stderr;
  const out = outArg ?? process.stdout;
  try {
    const [command, ...rest] = argv;
    const usage = command === undefined ? undefined : COMMANDS[command];
    if (usage && (rest.includes("--help") || rest.includes("-h")))
      return (out.write(`usage: futamura ${usage}\n`), 0);
    switch (command) {
      case undefined:
        err.write(HELP + "\n");
        return 2;
      case "--help":
      case "-h":
      case "help":
        out.write(HELP + "\n");
        return 0;
      case "--version":
      case "-v":
      case "version":
        out.write(`futamura ${FUTAMURA_VERSION}\n`);
        return 0;
      case "run":
        return await run(rest, outArg ? chunkWriter(outArg) : fdSink(1), err);
      case "start":
        return await (await import("./start.ts")).start(out);
      case "view":
        return await (await import("./view.ts")).viewCommand(rest, out);
      case "generate":
      case "check":
        return await buildCommand(command, rest, out, err);
      case "graphs":
        return await graphsCommand(rest, out, err);
      case "explain":
      case "bta":
        return await btaCommand(command, rest, out);
      case "fuzz":
        return await (await import("../fuzz/command.ts")).fuzzCommand(rest, out, err); // differential fuzzing
      case "fuzz-worker":
        return await (await import("../fuzz/workers.ts")).fuzzWorker(rest, out);
      case "bench":
        return await (await import("../../bench/harness.ts")).benchCommand(rest, out, err); // the performance record
      default:
        throw new UsageError(`unknown command '${command}' (see futamura --help)`);
    }
  } catch (e) {
    return failed(e, err);
  }
}

/** The exit status of what `main` caught, with its message on `err`. */
function failed(e: unknown, err: NodeJS.WritableStream): number {
  const say = (line: string) => err.write(printable(line) + "\n");
  if (e instanceof VmError) return (say(`error: ${e.message}`), 1);
  if (e instanceof UsageError || e instanceof LoadError || e instanceof StaleBuild)
    return (say(`${e instanceof UsageError ? "usage: " : ""}${e.message}`), 2);
  if (e instanceof IoFailure) {
    if (e.stream === "output" && e.code === "EPIPE") return 0;
    return (say(`error: ${e.message}`), 4);
  }
  const text = e instanceof Error ? (process.env.FUTAMURA_DEBUG ? e.stack : e.message) : String(e);
  say(`internal error: ${text}`);
  return 3;
}

/** A message with its control bytes (and DEL, and C1 controls) as `\xNN`; line breaks of a
 *  multi-line message stay. */
export function printable(text: string): string {
  return text.replace(
    /[\x00-\x09\x0b-\x1f\x7f-\x9f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/** A program's output chunks written to a stream (in-process callers: tests). */
function chunkWriter(out: NodeJS.WritableStream): ChunkSink {
  return (chunk) => void out.write(chunk.slice());
}

async function run(argv: string[], out: ChunkSink, err: NodeJS.WritableStream): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: hideNegatives(argv).map((a) => (a === "--stats" ? "--stats=text" : a)),
      allowPositionals: true,
      options: {
        backend: { type: "string" },
        ...RUN_OPTIONS,
        stats: { type: "string" },
        dump: { type: "string" },
        log: { type: "string" },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const values = unhiddenValues(parsed.values);
  const [langName, file, ...args] = parsed.positionals.map(unhidden);
  if (!langName || !file) throw new UsageError("run <interpreter> <program-file> [args...]");
  const lang = await language(langName);
  values.backend ??= DEFAULT_BACKEND;
  const backend = backends[values.backend];
  if (!backend)
    throw new UsageError(
      `unknown backend '${values.backend}' (${Object.keys(backends).join(", ")})`,
    );
  if (values.dump !== undefined && !backend.dumps.includes(values.dump))
    throw new UsageError(
      `backend ${backend.name} can dump ${backend.dumps.join(", ") || "nothing"}, not '${values.dump}'`,
    );
  const options = runOptionsOf(values);
  const statsFormat =
    values.stats === undefined ? undefined : values.stats === "json" ? "json" : "text";
  if (values.stats !== undefined && !["json", "text"].includes(values.stats))
    throw new UsageError(`--stats takes no value or =json`);

  const code = lang.load(readProgram(file), file);
  const bytes = lang.convention === "bytes";
  const ints = programInts(lang, args);
  // Read as the program asks: a program that never reads never touches stdin.
  const input = FdSource.stdin();

  const stats: Record<string, unknown> = {};
  const log = values.log === undefined ? undefined : eventLog(values.log);
  try {
    // Output written before an error is part of the run (a Brainfuck program may have
    // printed): it has gone to `out` as it was written.
    const result = await runProgram(backend, lang, code, ints, {
      ...options,
      dump: values.dump,
      log: err,
      input,
      output: out,
      stats,
      events: log?.event,
    });
    if (result.error !== undefined) throw new VmError(result.error);
    if (!bytes) out(new TextEncoder().encode(`${result.value}\n`));
  } finally {
    input.close();
    log?.close();
    // The whole process's peak memory: what a user sees (output and input are streamed).
    stats.maxRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
    if (statsFormat)
      err.write(statsFormat === "json" ? JSON.stringify(stats) + "\n" : formatStats(stats));
  }
  return 0;
}

/** A file's text, or a load error naming it. */
function readText(file: string, encoding: "latin1" | "utf8"): string {
  try {
    return readFileSync(file, encoding);
  } catch (e) {
    throw cannotRead(file, e);
  }
}

function formatStats(stats: Record<string, unknown>): string {
  return (
    Object.entries(stats)
      .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`)
      .join("\n") + "\n"
  );
}

async function buildCommand(
  command: "generate" | "check",
  argv: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  if (argv.length > 1) throw new UsageError(`${command} [<interpreter.ts>]`);
  if (!argv[0] && packaged)
    throw new UsageError(`${command} <interpreter.ts> (futamura's own interpreters come built)`);
  const { artifacts, generate, generateInterpreter, interpreterArtifacts, stale, SubsetError } =
    await import("../build.ts");
  const shown = (path: string) => relative(process.cwd(), path);
  const upToDate = argv[0] ? "the build products are up to date\n" : "generated/ is up to date\n";
  const fix = argv[0] ? `futamura generate ${argv[0]}` : "npm run generate";
  /** `check`'s verdict on the products found stale (none: up to date). */
  const reportStale = (old: string[]) => {
    if (!old.length) return (out.write(upToDate), 0);
    const line = (p: string) => `stale: ${shown(p)} does not match its source; run \`${fix}\`\n`;
    return (err.write(old.map(line).join("")), 1);
  };
  try {
    if (command === "generate") {
      const changed = argv[0]
        ? await generateInterpreter(argv[0])
        : generate(await artifacts()).map((a) => a.path);
      const line = (p: string) => `${existsSync(p) ? "wrote" : "removed"} ${shown(p)}\n`;
      return (out.write(changed.length ? changed.map(line).join("") : upToDate), 0);
    }
    if (argv[0]) {
      const steps = interpreterArtifacts(argv[0]);
      const old = [...stale(steps.sources).map((a) => a.path), ...steps.strays];
      return reportStale(old.length ? old : stale(await steps.products()).map((a) => a.path));
    }
    return reportStale(stale(await artifacts()).map((a) => a.path));
  } catch (e) {
    if (!(e instanceof SubsetError)) throw e;
    err.write(e.message + "\n");
    return 1;
  }
}

async function graphsCommand(
  argv: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { entry: { type: "string" } },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError("graphs <interpreter.ts> [--entry NAME]");
  const lang = await language(positionals[0]!);
  const { buildGraphs } = await import("../frontend/index.ts");
  const { printModule } = await import("../../runtime/ir/print.ts");
  const text = readText(lang.source, "utf8");
  const roots = lang.constants === undefined || values.entry ? [] : [lang.constants];
  const r = buildGraphs(lang.source, values.entry ?? lang.entry, { text, roots });
  if (!r.module) return (err.write(r.violations.join("\n") + "\n"), 1);
  out.write(printModule(r.module));
  return 0;
}

async function btaCommand(
  command: "bta" | "explain",
  argv: string[],
  out: NodeJS.WritableStream,
): Promise<number> {
  const [name, fn, variable] = argv;
  if (name === undefined || (command === "explain" ? argv.length !== 3 : argv.length !== 1))
    throw new UsageError(
      command === "explain" ? "explain <interpreter> <function> <variable>" : "bta <interpreter>",
    );
  const lang = await language(name);
  const { analyse, explain, printBinding } = await import("../bta.ts");
  const m = graphsOf(lang);
  const bt = analyse(m, lang.entry);
  if (command === "bta") return (out.write(printBinding(m, bt) + "\n"), 0);
  const lines = explain(m, bt, fn!, variable!);
  if (lines[0]?.startsWith("no ")) throw new UsageError(lines[0]);
  out.write(lines.join("\n") + "\n");
  return 0;
}
