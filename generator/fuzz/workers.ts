//! Worker processes: jobs run in children (`futamura fuzz-worker`), one job at a time each, so
//! that a backend that kills its process (machine code gone wrong) or never returns is reported
//! with the program's seed and index instead of ending the run or losing it, and so that the
//! fuzzer uses every core.
//!
//! The protocol is JSON lines. The parent writes a `Job`; the child answers `{ready}` once at
//! start, then for each job one `{k, result, ms}` per backend as it finishes (k = 0 is interp)
//! and `{done: digest}`. Streaming the results one by one tells the parent which backend was
//! running when the child died: that backend gets the crash, interp's result stands, and the
//! backends after it are not run. A watchdog gives each job `timeoutMs` of wall-clock time
//! (generous: a hang, not a slow program, is what it catches); past it the child is killed and
//! the job reported like a crash. A dead child is replaced for the next job.

import { spawn, type ChildProcess } from "node:child_process";
import { writeSync } from "node:fs";
import { createInterface } from "node:readline";
import { langs, type Lang } from "../../interpreters/lang.ts";
import type { Backend } from "../backends.ts";
import { UsageError } from "../cli.ts";
import { ProgramCache, programDigest } from "./generators.ts";
import { jobParts, resolveBackends, runOne, type Job, type Ran, type Result } from "./run.ts";

/** The wall-clock limit of one job in a worker, by default. */
export const DEFAULT_TIMEOUT_MS = 60_000;

/** What a crash result of a worker begins with (minimisation does not retry these). */
export const WORKER_CRASH = "crash: the worker process";

type Reply = { ready: true } | { k: number; result: Result; ms: number } | { done: string };

// ---------------------------------------------------------------------------------------------
// The child

/** `futamura fuzz-worker <lang> <fuel> <backends>`: runs the jobs it reads from stdin (see the
 *  header). FUTAMURA_FUZZ_CRASH=<index> makes it kill itself (SIGSEGV), and
 *  FUTAMURA_FUZZ_HANG=<index> makes it hang, on program `index` of any seed just after interp
 *  has run: tests of a backend that dies or never returns. */
export async function fuzzWorker(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const [name, fuel, names] = argv;
  const lang = langs[name ?? ""];
  if (!lang || fuel === undefined) throw new UsageError("fuzz-worker <lang> <fuel> <backends>");
  const others = resolveBackends(names ? names.split(",") : []);
  const cache = new ProgramCache(lang.name);
  // Written at once (not buffered): a result sent just before a crash must reach the parent.
  const send = (reply: Reply) => {
    const line = JSON.stringify(reply) + "\n";
    if (out === process.stdout) writeSync(1, line);
    else out.write(line);
  };
  send({ ready: true });
  for await (const line of createInterface({ input: process.stdin })) {
    const job = JSON.parse(line) as Job;
    const { program: p, backends } = jobParts(job, cache, others);
    const fault = "seed" in job ? injectedFault(job.index) : undefined;
    await runOne(lang, p.code, p.arg, backends, Number(fuel), p.input, (k, result, ms) => {
      send({ k, result, ms });
      if (k === 0) fault?.();
    });
    send({ done: programDigest(p) });
  }
  return 0;
}

/** The fault a test asked for on program `index`, if any. */
function injectedFault(index: number): (() => void) | undefined {
  const at = (name: string) =>
    process.env[name] !== undefined && Number(process.env[name]) === index;
  if (at("FUTAMURA_FUZZ_CRASH")) return () => process.kill(process.pid, "SIGSEGV");
  if (at("FUTAMURA_FUZZ_HANG"))
    return () => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // forever
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The parent

/** A line of the protocol, or undefined for anything else a child printed. */
function parseReply(line: string): Reply | undefined {
  try {
    const r = JSON.parse(line) as Reply | null;
    return r && typeof r === "object" && ("ready" in r || "k" in r || "done" in r) ? r : undefined;
  } catch {
    return undefined;
  }
}

/** Worker processes, one slot each. */
export class WorkerPool {
  readonly slots: number;
  private workers: WorkerProcess[];

  constructor(lang: Lang, fuel: number, others: Backend[], slots: number, timeoutMs: number) {
    this.slots = slots;
    const args = ["fuzz-worker", lang.name, String(fuel), others.map((b) => b.name).join(",")];
    this.workers = Array.from(
      { length: slots },
      () => new WorkerProcess(args, others.length, timeoutMs),
    );
  }

  run(slot: number, job: Job): Promise<Ran> {
    return this.workers[slot]!.run(job);
  }

  close(): void {
    for (const w of this.workers) w.close();
  }
}

/** The job a worker is running: the results so far, and what to do with the rest. */
interface Pending {
  results: Result[];
  ms: number[];
  backends: number;
  timer: NodeJS.Timeout;
  settle: (ran: Ran) => void;
}

/** One child at a time, started when a job needs it and again after it dies. */
class WorkerProcess {
  private child: ChildProcess | undefined;
  private ready: Promise<void> | undefined;
  private pending: Pending | undefined;
  /** Why the watchdog stopped the child, when it did. */
  private stopped: string | undefined;
  private closed = false;

  constructor(
    private args: string[],
    private backends: number,
    private timeoutMs: number,
  ) {}

  async run(job: Job): Promise<Ran> {
    if (this.closed) throw new Error("the worker pool is closed");
    await (this.ready ??= this.start());
    return new Promise<Ran>((settle) => {
      const timer = setTimeout(() => this.stop(), this.timeoutMs);
      const backends = "seed" in job ? this.backends : job.backends.length;
      this.pending = { results: [], ms: [], backends, timer, settle };
      this.child!.stdin!.write(JSON.stringify(job) + "\n");
    });
  }

  close(): void {
    this.closed = true;
    this.child?.stdin?.end();
  }

  private start(): Promise<void> {
    const bin = new URL("../futamura.mjs", import.meta.url).pathname;
    const child = spawn(process.execPath, [bin, ...this.args], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    this.child = child;
    this.stopped = undefined;
    child.stdin!.on("error", () => {}); // a child that died: its exit says so
    return new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on("line", (line) => {
        const reply = parseReply(line);
        if (!reply)
          process.stderr.write(`fuzz worker: ${line}\n`); // not ours: a stray print
        else if ("ready" in reply) resolve();
        else this.hear(reply);
      });
      child.on("close", (code, signal) => {
        const why = signal ?? `exit code ${code}`;
        reject(new Error(`a fuzz worker process ended before it was ready (${why})`));
        this.died(why);
      });
    });
  }

  private hear(reply: Exclude<Reply, { ready: true }>): void {
    const p = this.pending;
    if (!p) return;
    if ("k" in reply) {
      p.results.push(reply.result);
      p.ms.push(reply.ms);
      return;
    }
    this.finish(p, {
      expected: p.results[0]!,
      got: p.results.slice(1),
      ms: p.ms,
      digest: reply.done,
    });
  }

  /** The watchdog: no result in time, so the child is killed and the job reported. */
  private stop(): void {
    this.stopped = `was stopped: no result within ${this.timeoutMs / 1000} s`;
    this.child?.kill("SIGKILL");
  }

  /** The child is gone: the backend it was running gets a crash, the ones after it nothing. */
  private died(why: string): void {
    this.child = undefined;
    this.ready = undefined;
    const p = this.pending;
    if (!p) return;
    const crash = `${WORKER_CRASH} ${this.stopped ?? `died (${why})`}`;
    const results: (Result | undefined)[] = [...p.results, crash];
    while (results.length < p.backends + 1) results.push(undefined);
    const ms = [...p.ms];
    while (ms.length < p.backends + 1) ms.push(0);
    this.finish(p, { expected: results[0]!, got: results.slice(1, p.backends + 1), ms });
  }

  private finish(p: Pending, ran: Ran): void {
    clearTimeout(p.timer);
    this.pending = undefined;
    p.settle(ran);
  }
}
