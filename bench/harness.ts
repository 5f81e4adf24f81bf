//! `futamura bench` (`npm run bench`): the project's performance record. Speed is claimed only
//! from what this prints.
//!
//! For every workload (`bench/workloads.ts`) and every backend of the registry, plus `gcc -O2` on
//! a mechanical translation of the same bytecode to C (`bench/*2c.ts`):
//!   - every run is a child process (`futamura run … --stats=json`, or the C binary), killed at
//!     the cap, so a slow or hung backend cannot hang the bench; a backend over the cap on a run
//!     is reported "over cap" and not run again. `interp`, the reference, has a longer cap of its
//!     own (`--interp-cap`) so that the ratios exist, and is not repeated once over `--cap`;
//!   - repetitions are interleaved: repetition r runs every backend once, starting with a
//!     different one each time, so the machine's noise falls on all of them alike;
//!   - times are those the run reports of itself (the stats' `runMs`, the C binary's clock): the
//!     process start-up (node and tsx, or exec) is left out, and recorded apart as `procMs`.
//!     Compile time (`specialiseMs` + the backend's `compileMs`; gcc's own time for C) is
//!     reported apart from run time (`runMs` less the compile time). The figures are medians;
//!   - every run's result (exit status, stdout, error message) must equal the reference's:
//!     `interp`'s, or the known output of a Brainfuck program. A difference is printed loudly
//!     and makes the exit status 1.
//! Output: a table on stdout, `bench/results.json` and `bench/results.svg` (for a full run; a
//! `--quick` or partial run writes them under `bench/tmp/`).

import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { basename, resolve } from "node:path";
import { parseArgs } from "node:util";
import { bfToC } from "./bf2c.ts";
import { renderSvg } from "./svg.ts";
import { tlToC } from "./tl2c.ts";
import { tlrToC } from "./tlr2c.ts";
import { workloads, type Workload } from "./workloads.ts";
import { futamuraArgs } from "./command.ts";
import { builtin, language, type Lang, graphsOf } from "../generator/language.ts";
import { GraphBuilder } from "../runtime/ir/build.ts";
import { specialise } from "../runtime/specialiser/pe.ts";
import { SpecialisationLimit, defaultPolicy, type Policy } from "../runtime/specialiser/policy.ts";
import type { SpecStats } from "../runtime/specialiser/stats.ts";
import { backends } from "../generator/backends.ts";
import { entryArgs } from "../runtime/jit.ts";
import { makeConstants } from "../runtime/l3.ts";
import { generated } from "../generator/compiled.ts";
import { UsageError } from "../generator/cli/usage.ts";
import { measureMemory, memoryTable } from "./memory.ts";
import { measureStartup, startupTable } from "./startup.ts";
import type { BenchSettings, Entry, Report, SpecMs, SpecTimes, WorkloadResult } from "./report.ts";

export type { BenchSettings, Entry, Report, SpecMs, SpecTimes, WorkloadResult };

/** What `--only` names for the start-up table and the memory table alone. */
const STARTUP = "startup";
const MEMORY = "memory";

const root = new URL("../", import.meta.url).pathname;
const GCC = "gcc";
/** gcc faster than interp by more than this has taken the loop out (see runWorkload). */
const FOLDED = 5000;

// ---------------------------------------------------------------------------------------------
// The command.

export async function benchCommand(
  argv: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  let values, positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        quick: { type: "boolean", default: false },
        reps: { type: "string" },
        cap: { type: "string" },
        "interp-cap": { type: "string" },
        only: { type: "string", multiple: true },
        backends: { type: "string" },
        out: { type: "string" },
      },
    }));
  } catch (e) {
    throw new UsageError(`bench: ${(e as Error).message}`);
  }
  const quick = values.quick!;
  const cap = seconds(values.cap, quick ? 3 : 30, "--cap");
  const settings: BenchSettings = {
    quick,
    reps: values.reps === undefined ? (quick ? 1 : 5) : count(values.reps),
    cap,
    interpCap: Math.max(cap, seconds(values["interp-cap"], quick ? cap : 180, "--interp-cap")),
    only: (values.only ?? []).flatMap((s) => s.split(",")).filter(Boolean),
    backends: (values.backends ?? "").split(",").filter(Boolean),
  };
  const all = entrantNames();
  for (const b of settings.backends)
    if (!all.includes(b)) throw new UsageError(`bench: unknown backend '${b}' (${all.join(", ")})`);
  const startup = !settings.only.length || settings.only.includes(STARTUP);
  const memory = !settings.only.length || settings.only.includes(MEMORY);
  settings.only = settings.only.filter((o) => o !== STARTUP && o !== MEMORY);
  for (const o of settings.only)
    if (!workloads.some((w) => matches(w, o)))
      throw new UsageError(
        `bench: no workload '${o}' (${[...workloads.map((w) => w.name), STARTUP, MEMORY].join(", ")})`,
      );

  const given = positionals.length ? await givenWorkload(positionals) : undefined;
  if (given && settings.only.length) throw new UsageError("bench: --only or a program, not both");
  const tablesOnly = (startup || memory) && !settings.only.length && values.only;
  const chosen = given ? [given] : tablesOnly ? [] : workloads;
  const report = await runBench(settings, err, chosen);
  if (startup && !given) report.startup = measureStartup(Math.max(settings.reps, 5), err);
  if (memory && !given)
    report.memory = measureMemory(Math.max(settings.reps, 3), quick, report.failures, err);
  out.write(formatTable(report));
  const record = !quick && !settings.only.length && !settings.backends.length && !given;
  if (given && values.out === undefined) return report.failures.length ? 1 : 0;
  const dir = values.out ?? (record ? root + "bench/" : root + "bench/tmp/");
  mkdirSync(dir, { recursive: true });
  writeFileSync(dir + "/results.json", JSON.stringify(report, null, 2) + "\n");
  writeFileSync(dir + "/results.svg", renderSvg(report));
  out.write(`\nwrote ${rel(dir + "/results.json")} and ${rel(dir + "/results.svg")}\n`);
  if (report.failures.length) {
    out.write(
      `\n${"!".repeat(80)}\n${report.failures.length} FAILURE(S):\n${report.failures.map((f) => "  " + f).join("\n")}\n${"!".repeat(80)}\n`,
    );
    return 1;
  }
  return 0;
}

/** The workload of `futamura bench <interpreter> <program> [args...]`: any interpreter, the
 *  integers its entry takes. */
async function givenWorkload([spec, file, ...rest]: string[]): Promise<Workload> {
  if (file === undefined)
    throw new UsageError("bench [<interpreter> <program-file> [args...]] [options]");
  const lang = await language(spec!);
  if (rest.length !== lang.arity)
    throw new UsageError(`bench: ${lang.name} takes ${lang.arity} integer(s) after the program`);
  const args = rest.map((a) => {
    if (!/^-?\d+$/.test(a)) throw new UsageError(`bench: '${a}' is not an integer`);
    return Number(a) | 0;
  });
  return {
    name: basename(file),
    lang: builtin(spec!) ? spec! : lang.source, // (the children run in futamura's folder)
    file: resolve(file),
    args,
    about: "named on the command line",
  };
}

/** A short version for `npm start`: one quick run (small arguments, a 2 s cap) of a workload
 *  or two on every backend, as a few lines of text. Writes no file; progress goes to `log`. */
export async function benchSummary(
  opts: { only?: string[]; backends?: string[]; cap?: number; log?: NodeJS.WritableStream } = {},
): Promise<string> {
  const cap = opts.cap ?? 2;
  const settings = {
    quick: true,
    reps: 1,
    cap,
    interpCap: cap,
    only: opts.only ?? ["square", "loop"],
    backends: opts.backends ?? [],
  };
  const report = await runBench(settings, opts.log);
  const lines = [
    "bench, quick (small arguments, one run each; `npm run bench` is the record): run ms (+compile ms)",
  ];
  for (const w of report.workloads) {
    const cells = w.entries.map((e) => {
      if (e.status === "over cap") return `${e.backend} > ${cap} s`;
      if (e.runMs === undefined) return `${e.backend} ${e.status.toUpperCase()}`;
      const compile = e.compileMs ? ` (+${fmtMs(e.compileMs)})` : "";
      const folded = e.note?.includes("closed form") ? " closed form" : "";
      return `${e.backend} ${fmtMs(e.runMs)}${compile}${folded}${e.status === "ok" ? "" : " " + e.status.toUpperCase()}`;
    });
    lines.push(`  ${w.name} ${w.arg ?? w.args?.join(" ") ?? ""}: ${cells.join(", ")}`);
  }
  for (const s of report.skipped) lines.push(`  ${s.name}: skipped (${s.why})`);
  for (const f of report.failures) lines.push(`  FAILURE: ${f}`);
  return lines.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------------
// Running.

/** Runs the benchmark; progress goes to `log`. */
export async function runBench(
  settings: BenchSettings,
  log?: NodeJS.WritableStream,
  list: Workload[] = workloads,
): Promise<Report> {
  const report: Report = { machine: machine(), settings, workloads: [], skipped: [], failures: [] };
  const names = entrantNames().filter(
    (b) => !settings.backends.length || settings.backends.includes(b),
  );
  const gcc = names.includes("gcc") && gccVersion() !== undefined;
  if (names.includes("gcc") && !gcc) log?.write("gcc not found: the gcc -O2 baseline is skipped\n");
  const chosen = list.filter((w) =>
    settings.only.length ? settings.only.some((o) => matches(w, o)) : !(settings.quick && w.heavy),
  );
  for (const w of list)
    if (!chosen.includes(w) && settings.quick && w.heavy && !settings.only.length)
      report.skipped.push({ name: w.name, why: "heavy: left out of --quick" });
  for (const w of chosen) {
    if (w.text) {
      mkdirSync(root + "bench/tmp", { recursive: true });
      writeFileSync(resolve(root, w.file), w.text());
    }
    const why = unavailable(w);
    if (why) {
      log?.write(`${w.name}: skipped: ${why}\n`);
      report.skipped.push({ name: w.name, why });
      continue;
    }
    report.workloads.push(
      await runWorkload(
        w,
        names.filter(
          (n) =>
            (n !== "gcc" || (gcc && builtin(w.lang))) && (!w.backends || w.backends.includes(n)),
        ),
        settings,
        report.failures,
        log,
      ),
    );
  }
  report.machine.loadAverageEnd = os.loadavg().map((x) => Math.round(x * 100) / 100);
  return report;
}

/** Why a workload cannot run here, if it cannot. */
function unavailable(w: Workload): string | undefined {
  if (!existsSync(resolve(root, w.file))) return `${w.file} is absent`;
  return undefined;
}

interface Outcome {
  exit: number;
  md5: string;
  preview: string;
  error?: string;
}

interface Child {
  overCap: boolean;
  exit: number | null;
  stdout: Buffer;
  stderr: string;
  procMs: number;
}

async function runWorkload(
  w: Workload,
  names: string[],
  s: BenchSettings,
  failures: string[],
  log?: NodeJS.WritableStream,
): Promise<WorkloadResult> {
  const lang = await language(w.lang);
  const arg =
    lang.convention === "int" && !w.args ? ((s.quick ? w.quickArg : w.arg) ?? 0) : undefined;
  const ints = (w.args ?? (arg === undefined ? [] : [arg])).map(String);
  const code = lang.load(readFileSync(resolve(root, w.file), "latin1"), w.file);
  const title = `${w.name}${ints.length ? " " + ints.join(" ") : ""}`;
  const input = w.input === undefined ? undefined : readFileSync(root + w.input);
  log?.write(`\n== ${title}  (${w.about})\n`);

  const entries = new Map<string, Entry>(
    names.map((b) => [b, { backend: b, status: "ok", runs: 0, samples: [] }]),
  );
  const outcomes = new Map<string, Outcome[]>(names.map((b) => [b, []]));
  const done = new Set<string>(); // over the cap or failed: not run again

  // gcc: translate and compile once; the compile time is the entry's compile time.
  let gccCompileMs = 0;
  let binary = "";
  if (entries.has("gcc")) {
    const c = compileC(w, code, log);
    if ("error" in c) {
      const e = entries.get("gcc")!;
      e.status = "failed";
      e.note = c.error;
      failures.push(`${w.name} gcc: ${c.error}`);
      done.add("gcc");
    } else ((gccCompileMs = c.ms), (binary = c.binary));
  }

  for (let rep = 0; rep < s.reps; rep++) {
    const order = names.map((_, i) => names[(i + rep) % names.length]!).filter((b) => !done.has(b));
    if (!order.length) break;
    log?.write(`rep ${rep + 1}/${s.reps}:`);
    for (const b of order) {
      const capS = b === "interp" ? s.interpCap : s.cap;
      const child =
        b === "gcc"
          ? await runChild(binary, ints, capS, input)
          : await runChild(
              process.execPath,
              [
                ...futamuraArgs(root + "generator/futamura.mjs"),
                "run",
                w.lang,
                resolve(root, w.file),
                ...ints,
                "--backend",
                b,
                "--stats=json",
              ],
              capS,
              input,
            );
      const e = entries.get(b)!;
      if (child.overCap) {
        log?.write(` ${b} OVER CAP;`);
        e.note = e.runs ? `a later run went over the ${capS} s cap` : `over the ${capS} s cap`;
        if (!e.runs) e.status = "over cap";
        done.add(b);
        continue;
      }
      const stats = lastJson(child.stderr);
      const outcome: Outcome = {
        exit: child.exit ?? -1,
        md5: createHash("md5").update(child.stdout).digest("hex"),
        preview: preview(child.stdout),
        ...(errorLine(child.stderr) === undefined ? {} : { error: errorLine(child.stderr)! }),
      };
      if ((outcome.exit !== 0 && outcome.exit !== 1) || typeof stats?.runMs !== "number") {
        const why =
          outcome.error ?? (child.stderr.trim().split("\n").pop() || `exit status ${outcome.exit}`);
        log?.write(` ${b} FAILED (${why});`);
        e.status = "failed";
        e.note = why;
        failures.push(`${w.name} ${b}: failed: ${why}`);
        done.add(b);
        continue;
      }
      outcomes.get(b)!.push(outcome);
      const compileMs = b === "gcc" ? gccCompileMs : num(stats.specialiseMs) + num(stats.compileMs);
      const runMs = b === "gcc" ? stats.runMs : Math.max(0, stats.runMs - compileMs);
      e.samples.push({
        compileMs: round(compileMs),
        runMs: round(runMs),
        totalMs: round(compileMs + runMs),
        procMs: round(child.procMs),
        ...(typeof stats.nativeMs === "number" ? { nativeMs: stats.nativeMs } : {}),
      });
      e.runs++;
      if (b !== "gcc") e.stats = stats;
      if (typeof stats.fallback === "string")
        e.note = `specialisation gave up, ran on graph: ${stats.fallback}`;
      log?.write(` ${b} ${fmtMs(runMs)}${compileMs ? ` (+${fmtMs(compileMs)})` : ""};`);
      // The cap is for a run's whole process: over it once (interp's longer cap), run it no more.
      if (child.procMs > s.cap * 1000) {
        e.note =
          e.runs === 1
            ? `over the ${s.cap} s cap: measured once`
            : `run ${e.runs} went over the ${s.cap} s cap: not repeated`;
        done.add(b);
      }
    }
    log?.write("\n");
  }

  // The reference, and every run against it.
  let reference: Outcome | undefined;
  let refName: string;
  if (w.expect) {
    reference = { exit: 0, md5: w.expect.md5, preview: w.expect.what };
    refName = `the known output (${w.expect.what}, md5 ${w.expect.md5})`;
  } else {
    reference = outcomes.get("interp")?.[0];
    refName = "interp's result";
  }
  for (const [b, list] of outcomes) {
    const e = entries.get(b)!;
    const bad = reference ? list.find((o) => !same(o, reference!)) : undefined;
    if (bad) {
      e.status = "wrong";
      e.note = `WRONG RESULT: got ${show(bad)}, expected ${show(reference!)}`;
      failures.push(`${w.name} ${b}: ${e.note}`);
      log?.write(`\n${"!".repeat(80)}\n!!! ${w.name} on ${b}: ${e.note}\n${"!".repeat(80)}\n`);
    }
  }
  if (!reference) {
    refName = "none: interp did not finish, results unchecked";
    log?.write(
      `!!! ${w.name}: interp gave no result, so the other backends' results are unchecked\n`,
    );
  }

  // Medians and ratios.
  for (const e of entries.values()) {
    if (!e.samples.length) continue;
    e.compileMs = median(e.samples.map((x) => x.compileMs));
    e.runMs = median(e.samples.map((x) => x.runMs));
    e.totalMs = median(e.samples.map((x) => x.totalMs));
    const native = e.samples.flatMap((x) => (x.nativeMs === undefined ? [] : [x.nativeMs]));
    if (native.length) e.nativeMs = median(native);
    e.procMs = median(e.samples.map((x) => x.procMs));
    e.minRunMs = Math.min(...e.samples.map((x) => x.runMs));
    e.maxRunMs = Math.max(...e.samples.map((x) => x.runMs));
  }
  const base = (b: string) => (entries.get(b)?.samples.length ? entries.get(b)!.runMs : undefined);
  const interpMs = base("interp");
  let gccMs = base("gcc");
  // A mechanical translation keeps the program's loop, but gcc may still see through it (TLR's
  // square becomes one multiplication): a run that short is no measure of compiled code.
  if (gccMs !== undefined && interpMs !== undefined && gccMs < interpMs / FOLDED) {
    const e = entries.get("gcc")!;
    e.note = `under interp/${FOLDED}: gcc computed the result without running the loop (closed form); no /gcc ratios`;
    gccMs = undefined;
  }
  const interpProc = entries.get("interp")?.procMs;
  for (const e of entries.values()) {
    if (e.runMs === undefined) continue;
    if (w.cost && interpProc && e.procMs !== undefined) e.ratioProc = ratio(e.procMs, interpProc);
    if (interpMs) e.ratioInterp = ratio(e.runMs, interpMs);
    if (gccMs) e.ratioGcc = ratio(e.runMs, gccMs);
  }
  // (both specialisers side by side)
  const spec = names.includes("pe") ? await specTimes(lang, code, s.reps) : undefined;
  if (spec)
    log?.write(
      `specialisation, warm: ${"error" in spec ? spec.error : `abstract interpreter ${fmtMs(spec.pe.walkMs)} ms, generated ${fmtMs(spec.generated.walkMs)} ms (without clean-up)`}\n`,
    );
  const ref = reference
    ? reference.error !== undefined
      ? `error: ${reference.error}`
      : reference.preview
    : undefined;
  return {
    name: w.name,
    ...(w.cost ? { cost: true } : {}),
    lang: w.lang,
    file: w.file,
    ...(arg === undefined ? {} : { arg }),
    ...(w.args ? { args: w.args } : {}),
    about: w.about,
    ...(ref === undefined ? {} : { result: ref }),
    reference: refName!,
    entries: [...entries.values()],
    ...(spec ? { spec } : {}),
  };
}

const WARM_MS = 300;
const MAX_RUNS = 200;

/** See `SpecTimes`. */
async function specTimes(
  lang: Lang,
  code: Uint8Array,
  reps: number,
): Promise<SpecTimes | { error: string }> {
  const compiled = await generated(lang);
  if (!compiled) return { error: `no generated specialiser for ${lang.name}` };
  const graphs = graphsOf(lang);
  const made = lang.constants === undefined ? [] : [makeConstants(graphs, lang.constants, code)];
  const args = entryArgs(graphs, lang.entry, code, made);
  const policy: Policy = defaultPolicy;
  const runs = { pe: [] as SpecStats[], generated: [] as SpecStats[] };
  // One run of a small program is far from warm: V8 optimises the specialisers' code after it
  // has run a while. So both run for a while first, and timed runs go on for a while too.
  try {
    for (const timed of [false, true]) {
      const spent = { pe: 0, generated: 0 };
      for (let rep = 0; ; rep++) {
        for (const k of rep % 2 ? (["generated", "pe"] as const) : (["pe", "generated"] as const)) {
          const t0 = performance.now();
          const { stats } = specialise(
            graphs,
            lang.entry,
            args,
            policy,
            k === "pe" ? {} : compiled,
          );
          spent[k] += performance.now() - t0;
          if (timed) runs[k].push(stats);
        }
        const long = spent.pe >= WARM_MS && spent.generated >= WARM_MS;
        if (rep + 1 >= MAX_RUNS || (long && (!timed || rep + 1 >= reps))) break;
      }
    }
  } catch (e) {
    if (e instanceof SpecialisationLimit) return { error: `specialisation gave up: ${e.message}` };
    throw e;
  }
  const times = (xs: SpecStats[], of: (xs: number[]) => number): SpecMs => ({
    ms: round(of(xs.map((x) => x.specialiseMs))),
    walkMs: round(of(xs.map((x) => x.specialiseMs - x.cleanupMs))),
  });
  const fastest = (xs: number[]) => Math.min(...xs);
  const pe = times(runs.pe, median);
  const gen = times(runs.generated, median);
  const fast = { pe: times(runs.pe, fastest), generated: times(runs.generated, fastest) };
  const builderMs = round(
    builderAlone(() => specialise(graphs, lang.entry, args, policy, compiled), reps),
  );
  return {
    runs: runs.pe.length,
    keys: runs.pe[0]!.mergeKeys,
    pe,
    generated: gen,
    ratio: ratio(pe.ms, gen.ms),
    ratioWalk: ratio(pe.walkMs, gen.walkMs),
    fastest: { ...fast, ratioWalk: ratio(fast.pe.walkMs, fast.generated.walkMs) },
    builderMs,
    ceiling: ratio(pe.walkMs, builderMs),
  };
}

/** The median replay, after `WARM_MS` of them, of the residual builder's calls that `run`
 *  makes (recorded by wrapping the builder's methods for that one run): each call again on a
 *  fresh builder per recorded one, and nothing else. */
function builderAlone(run: () => void, reps: number): number {
  const proto = GraphBuilder.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const names = ["newBlock", "addParam", "setParams", "emit", "terminate"];
  const methods = names.map((m) => proto[m]!);
  const calls: [GraphBuilder, number, unknown[]][] = [];
  names.forEach((m, i) => {
    proto[m] = function (this: GraphBuilder, ...a: unknown[]) {
      calls.push([this, i, a]);
      return methods[i]!.apply(this, a);
    };
  });
  try {
    run();
  } finally {
    names.forEach((m, i) => (proto[m] = methods[i]!));
  }
  const replay = () => {
    const fresh = new Map<GraphBuilder, GraphBuilder>();
    for (const [b, i, a] of calls) {
      let c = fresh.get(b);
      if (!c) fresh.set(b, (c = new GraphBuilder(b.g.name, b.g.ret)));
      methods[i]!.apply(c, a);
    }
  };
  // As the specialisers: `WARM_MS` (or `MAX_RUNS` replays) first, then as many timed.
  const xs: number[] = [];
  for (const timed of [false, true]) {
    let spent = 0;
    for (let n = 0; n < MAX_RUNS && (spent < WARM_MS || (timed && n < reps)); n++) {
      const t0 = performance.now();
      replay();
      const ms = performance.now() - t0;
      spent += ms;
      if (timed) xs.push(ms);
    }
  }
  return median(xs);
}

/** Translates the workload to C and compiles it with gcc -O2 into bench/tmp/. */
function compileC(
  w: Workload,
  code: Uint8Array,
  log?: NodeJS.WritableStream,
): { binary: string; ms: number } | { error: string } {
  const dir = root + "bench/tmp/";
  mkdirSync(dir, { recursive: true });
  const base = dir + w.name.replace(/[^A-Za-z0-9_-]/g, "_");
  const translate: Record<string, (code: Uint8Array) => string> = {
    tlr: tlrToC,
    tl: tlToC,
    bf: bfToC,
  };
  if (!translate[w.lang]) return { error: `no translation of ${w.lang} to C` };
  writeFileSync(base + ".c", translate[w.lang]!(code));
  const t0 = performance.now();
  const r = spawnSync(GCC, ["-O2", "-w", "-o", base, base + ".c"], { encoding: "utf8" });
  const ms = performance.now() - t0;
  if (r.status !== 0)
    return {
      error: `gcc failed on ${rel(base)}.c: ${(r.stderr || r.error?.message || "").trim().split("\n").slice(0, 3).join(" / ")}`,
    };
  log?.write(`translated to ${rel(base)}.c; gcc -O2 took ${fmtMs(ms)} ms\n`);
  return { binary: base, ms };
}

/** Runs a child process with `input` (or none) on its stdin, killed (its whole process group)
 *  after `capS`. */
function runChild(cmd: string, args: string[], capS: number, input?: Buffer): Promise<Child> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const out: Buffer[] = [];
    const errs: Buffer[] = [];
    let overCap = false;
    // In a process group of its own, so that the kill reaches anything it started.
    const child = spawn(cmd, args, { cwd: root, stdio: ["pipe", "pipe", "pipe"], detached: true });
    const kill = () => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    };
    const timer = setTimeout(() => ((overCap = true), kill()), capS * 1000);
    // Interrupted, the bench takes its running child with it.
    const interrupted = () => (kill(), process.exit(130));
    process.once("SIGINT", interrupted);
    child.stdin.on("error", () => {}); // a program that stops reading early
    child.stdin.end(input);
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => errs.push(b));
    child.on("error", (e) => errs.push(Buffer.from(`error: cannot run ${cmd}: ${e.message}\n`)));
    child.on("close", (exit) => {
      clearTimeout(timer);
      process.off("SIGINT", interrupted);
      resolve({
        overCap,
        exit,
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(errs).toString("utf8"),
        procMs: performance.now() - t0,
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The table.

/** Specialisation microseconds per merge-point key, from a specialising backend's stats; with
 *  `walk`, without the clean-up passes (the same for both specialisers). */
function perKey(e: Entry, walk = false): string {
  const ms = e.stats?.specialiseMs;
  const clean = walk ? e.stats?.cleanupMs : 0;
  const keys = e.stats?.mergeKeys;
  return typeof ms === "number" && typeof clean === "number" && typeof keys === "number" && keys > 0
    ? (((ms - clean) * 1000) / keys).toFixed(0)
    : "";
}

export function formatTable(r: Report): string {
  const head = [
    "workload",
    "backend",
    "runs",
    "compile ms",
    "run ms",
    "native ms",
    "total ms",
    "/interp",
    "/gcc",
    "spec µs/key",
    "w/o clean-up",
    "note",
  ];
  const rows: string[][] = [];
  for (const w of r.workloads) {
    for (const e of w.entries) {
      const over = e.status === "over cap";
      rows.push([
        e === w.entries[0]
          ? `${w.name}${w.arg === undefined ? "" : " " + w.arg}${w.args?.length ? " " + w.args.join(" ") : ""}`
          : "",
        e.backend,
        String(e.runs),
        e.compileMs === undefined ? "" : e.compileMs ? fmtMs(e.compileMs) : "-",
        over ? `> ${fmtMs(capOf(r, e) * 1000)}` : e.runMs === undefined ? "" : fmtMs(e.runMs),
        e.nativeMs === undefined ? "" : fmtMs(e.nativeMs),
        e.totalMs === undefined ? "" : fmtMs(e.totalMs),
        e.ratioInterp === undefined ? "" : fmtRatio(e.ratioInterp),
        e.ratioGcc === undefined ? "" : fmtRatio(e.ratioGcc),
        perKey(e),
        perKey(e, true),
        e.status === "ok"
          ? (e.note ?? "")
          : `${e.status.toUpperCase()}${e.note && e.status !== "over cap" ? ": " + e.note : ""}`,
      ]);
    }
  }
  const m = r.machine;
  const s = r.settings;
  return (
    [
      `futamura bench, ${m.date}: ${m.cpu} (${m.cores} cores), node ${m.node}${m.gcc ? ", " + m.gcc : ""}`,
      `median of ${s.reps} run(s), interleaved; cap ${s.cap} s (interp ${s.interpCap} s)${s.quick ? "; --quick" : ""}; load average ${JSON.stringify(m.loadAverage)} -> ${JSON.stringify(m.loadAverageEnd)}`,
      "run ms: the run without compilation (specialisation, the backend's compilation); total ms: both;",
      "native ms: the machine code's own part of run ms (x64's nativeMs: the rest is loading graphs, set-up)",
      "/interp, /gcc: run ms divided by interp's and gcc's run ms (below 1 is faster)",
      "spec µs/key: specialisation time per merge-point key (a bytecode position specialised in one state);",
      "w/o clean-up: the same without the clean-up passes, which take the same residual graphs in both specialisers",
      "",
      ...(rows.length ? columns(head, rows, (i) => i >= 2 && i <= 10) : []),
      ...r.skipped.map((x) => `skipped ${x.name}: ${x.why}`),
      ...costTable(r),
      ...specTable(r),
      ...startupTable(r.startup ?? []),
      ...memoryTable(r.memory ?? []),
    ].join("\n") + "\n"
  );
}

/** The compile-cost workloads by whole process: each backend's time and its ratio to interp's,
 *  with the compile time and the compile work (steps, `runtime/work.ts`) it reported. */
function costTable(r: Report): string[] {
  const measured = r.workloads.filter((w) => w.cost);
  if (!measured.length) return [];
  const head = ["workload", "backend", "process ms", "/interp", "compile ms", "work steps", "note"];
  const rows = measured.flatMap((w) =>
    w.entries.map((e) => [
      e === w.entries[0] ? w.name : "",
      e.backend,
      e.status === "over cap"
        ? `> ${fmtMs(capOf(r, e) * 1000)}`
        : e.procMs === undefined
          ? ""
          : fmtMs(e.procMs),
      e.ratioProc === undefined ? "" : `${e.ratioProc.toFixed(2)}x`,
      e.compileMs ? fmtMs(e.compileMs) : "",
      typeof e.stats?.work === "number" ? String(e.stats.work) : "",
      e.status === "ok" ? (e.note ?? "") : e.status.toUpperCase(),
    ]),
  );
  return [
    "",
    "compile cost (issue 22): programs that are large to compile and quick to run; whole process (start-up,",
    "compilation, run), median; /interp: over interp's whole process; work: compile steps over the program's life",
    "",
    ...columns(head, rows, (i) => i >= 2 && i <= 5),
  ];
}

/** The warm specialisation section (`SpecTimes`), if the bench measured it. */
function specTable(r: Report): string[] {
  const measured = r.workloads.filter((w) => w.spec);
  if (!measured.length) return [];
  const head = [
    "workload",
    "keys",
    "abstract interp ms",
    "generated ms",
    "ratio",
    "fastest",
    "µs/key",
    "builder alone ms",
    "ceiling",
  ];
  const rows = measured.map((w) => {
    const s = w.spec!;
    if ("error" in s) return [w.name, "", "", "", "", "", s.error, "", ""];
    return [
      w.name,
      String(s.keys),
      `${fmtMs(s.pe.walkMs)} (${fmtMs(s.pe.ms)})`,
      `${fmtMs(s.generated.walkMs)} (${fmtMs(s.generated.ms)})`,
      `${s.ratioWalk.toFixed(1)}x (${s.ratio.toFixed(1)}x)`,
      `${s.fastest.ratioWalk.toFixed(1)}x`,
      ((s.generated.walkMs * 1000) / s.keys).toFixed(1),
      fmtMs(s.builderMs),
      `${s.ceiling.toFixed(1)}x`,
    ];
  });
  return [
    "",
    `specialisation, warm: eager, both specialisers in the bench's process, interleaved, each ${WARM_MS} ms first, then at least`,
    `${r.settings.reps} runs and ${WARM_MS} ms (at most ${MAX_RUNS}); medians;`,
    "ms without the clean-up passes (with them); ratio: the abstract interpreter's time over the generated specialiser's;",
    "fastest: the same ratio of the fastest runs, without clean-up (they leave out collections that only some runs pay for);",
    "µs/key: the generated specialiser's, without clean-up, per merge-point key (a bytecode position in one state);",
    "builder alone: the residual builder's calls of one specialisation replayed and nothing else (the least any specialiser",
    "giving the same residual graphs through the shared builder spends); ceiling: the abstract interpreter's ms over it",
    "",
    ...columns(head, rows, (i) => i > 0 && i !== 6),
  ];
}

/** A text table: the head, a rule, the rows; columns padded to their widest cell, on the
 *  right where `right` says so. */
function columns(head: string[], rows: string[][], right: (column: number) => boolean): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    row
      .map((c, i) => (right(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(head), line(widths.map((n) => "-".repeat(n))), ...rows.map(line)];
}

function capOf(r: Report, e: Entry): number {
  return e.backend === "interp" ? r.settings.interpCap : r.settings.cap;
}

// ---------------------------------------------------------------------------------------------
// Helpers.

/** The registry's backends, then gcc. */
function entrantNames(): string[] {
  return [...Object.keys(backends), "gcc"];
}

function matches(w: Workload, name: string): boolean {
  return w.name === name || w.file.split("/").pop() === name;
}

function machine(): Record<string, unknown> {
  let cpu = os.cpus()[0]?.model ?? "unknown";
  try {
    cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpu;
  } catch {
    // not Linux: os.cpus() it is
  }
  const git = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" });
  return {
    cpu,
    cores: os.cpus().length,
    memoryGB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    gcc: gccVersion(),
    commit: git.status === 0 ? git.stdout.trim() : undefined,
    date: new Date().toISOString(),
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

let gccSeen: string | undefined | null = null;
function gccVersion(): string | undefined {
  if (gccSeen === null) {
    const r = spawnSync(GCC, ["--version"], { encoding: "utf8" });
    gccSeen = r.status === 0 ? r.stdout.split("\n")[0]!.trim() : undefined;
  }
  return gccSeen;
}

/** The last line of stderr that is a JSON object: the run's stats. */
function lastJson(stderr: string): Record<string, unknown> | undefined {
  for (const l of stderr.trim().split("\n").reverse()) {
    if (!l.startsWith("{")) continue;
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function errorLine(stderr: string): string | undefined {
  const m = /^(?:internal )?error: (.*)$/m.exec(stderr);
  return m?.[1];
}

function same(a: Outcome, b: Outcome): boolean {
  return a.exit === b.exit && a.md5 === b.md5 && a.error === b.error;
}

function show(o: Outcome): string {
  return o.error !== undefined
    ? `error: ${o.error}`
    : `exit ${o.exit}, output ${JSON.stringify(o.preview)} (md5 ${o.md5})`;
}

function preview(b: Buffer): string {
  const s = b.toString("latin1");
  return s.length > 60 ? s.slice(0, 60) + "…" : s.trimEnd();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : round((s[h - 1]! + s[h]!) / 2);
}

function ratio(a: number, b: number): number {
  return Number((a / b).toPrecision(3));
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function num(x: unknown): number {
  return typeof x === "number" ? x : 0;
}

export function fmtMs(ms: number): string {
  if (ms >= 100) return String(Math.round(ms));
  if (ms >= 10) return ms.toFixed(1);
  return ms.toFixed(2);
}

function fmtRatio(x: number): string {
  if (x >= 100) return Math.round(x) + "";
  if (x >= 10) return x.toFixed(1);
  if (x >= 0.1) return x.toFixed(2);
  return x.toPrecision(2);
}

function seconds(s: string | undefined, dflt: number, what: string): number {
  if (s === undefined) return dflt;
  const n = Number(s);
  if (!(n > 0))
    throw new UsageError(`bench: ${what} takes a positive number of seconds, not '${s}'`);
  return n;
}

function count(s: string): number {
  if (!/^[1-9]\d*$/.test(s))
    throw new UsageError(`bench: --reps takes a positive integer, not '${s}'`);
  return Number(s);
}

function rel(path: string): string {
  return path.startsWith(root) ? path.slice(root.length).replace(/\/\//g, "/") : path;
}
