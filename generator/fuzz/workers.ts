//! Worker processes: jobs run in children (`futamura fuzz-worker`), one job at a time each, so
//! that a backend that kills its process (machine code gone wrong) or never returns is reported
//! with the program's seed and index instead of ending the run or losing it, and so that the
//! fuzzer uses every core.
//!
//! The protocol is JSON lines. The parent writes a `Job` (a slot keeps two under way, so that
//! the child never waits for the parent); the child answers `{ready}` once at start, then one
//! `{done, results, ms}` per job. Before each backend of a job it also writes the results so far
//! into its progress file, in place: if it dies, the parent reads there which backend was
//! running (that backend gets the crash, interp's result stands, the backends after it are not
//! run). A file and not a line on the pipe: a line per backend woke the parent seven times per
//! program, and on a busy machine each wake-up cost the child its core (13% of the time).
//! A watchdog gives the job that is running `timeoutMs` of wall-clock time (generous: a hang,
//! not a slow program, is what it catches); past it the child is killed and the job reported
//! like a crash. A dead child is replaced, and the jobs queued behind go to the new one.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { language, type Lang } from "../language.ts";
import type { Backend } from "../backends.ts";
import { UsageError } from "../cli/usage.ts";
import { ProgramCache, programDigest } from "./generators.ts";
import { jobParts, resolveBackends, runOne, type Job, type Ran, type Result } from "./run.ts";

/** The wall-clock limit of one job in a worker, by default. */
export const DEFAULT_TIMEOUT_MS = 60_000;

/** What a crash result of a worker begins with (minimisation does not retry these). */
export const WORKER_CRASH = "crash: the worker process";

type Reply = { ready: true } | { done: string; results: Result[]; ms: number[] };

/** What a progress file holds: the results so far of the child's job `seq` (its count of jobs
 *  before this one), as one line of JSON at the start of the file. */
interface Progress {
  seq: number;
  results: Result[];
  ms: number[];
}

// ---------------------------------------------------------------------------------------------
// The child

/** `futamura fuzz-worker <lang> <fuel> <backends> [<progress file>]`: runs the jobs it reads
 *  from stdin (see the header). FUTAMURA_FUZZ_CRASH=<index> makes it kill itself (SIGSEGV), and
 *  FUTAMURA_FUZZ_HANG=<index> makes it hang, on program `index` of any seed just after interp
 *  has run: tests of a backend that dies or never returns. */
export async function fuzzWorker(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const [name, fuel, names, progressFile] = argv;
  const lang = name === undefined ? undefined : await language(name);
  if (!lang || fuel === undefined)
    throw new UsageError("fuzz-worker <lang> <fuel> <backends> [<progress file>]");
  const others = resolveBackends(names ? names.split(",") : []);
  const cache = new ProgramCache(lang);
  const progress = progressFile === undefined ? undefined : openSync(progressFile, "w");
  // Through the stream, which writes a long line whole (a program's output can make a result
  // of hundreds of kilobytes; a pipe takes 64 KiB at a time).
  const send = (reply: Reply) => void out.write(JSON.stringify(reply) + "\n");
  send({ ready: true });
  let seq = 0;
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === "") continue;
    const job = JSON.parse(line) as Job;
    const { program: p, backends } = jobParts(job, cache, others);
    const fault = "seed" in job ? injectedFault(job.index) : undefined;
    const now: Progress = { seq, results: [], ms: [] };
    const note = () => progress !== undefined && writeSync(progress, JSON.stringify(now) + "\n", 0);
    note();
    await runOne(
      lang,
      p.code,
      p.args ?? p.arg,
      backends,
      Number(fuel),
      p.input,
      (k, result, ms) => {
        now.results.push(result);
        now.ms.push(ms);
        note();
        if (k === 0) fault?.();
      },
    );
    send({ done: programDigest(p), results: now.results, ms: now.ms });
    seq++;
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
    return r && typeof r === "object" && ("ready" in r || "done" in r) ? r : undefined;
  } catch {
    return undefined;
  }
}

/** Worker processes, one slot each. */
export class WorkerPool {
  readonly slots: number;
  /** Jobs a slot may have sent ahead: the child starts the next as it sends a result, without
   *  waiting for the parent to be scheduled and answer. */
  readonly depth = 2;
  private workers: WorkerProcess[];
  /** The children's progress files. */
  private dir: string;

  constructor(lang: Lang, fuel: number, others: Backend[], slots: number, timeoutMs: number) {
    this.slots = slots;
    this.dir = mkdtempSync(join(tmpdir(), "futamura-fuzz-"));
    const args = ["fuzz-worker", lang.spec, String(fuel), others.map((b) => b.name).join(",")];
    this.workers = Array.from({ length: slots }, (_, slot) => {
      const progress = join(this.dir, `worker-${slot}`);
      return new WorkerProcess([...args, progress], progress, others.length, timeoutMs);
    });
  }

  run(slot: number, job: Job): Promise<Ran> {
    return this.workers[slot]!.run(job);
  }

  close(): void {
    for (const w of this.workers) w.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A job sent to a worker: its results so far, and what to do with the rest. */
interface Pending {
  job: Job;
  backends: number;
  timer?: NodeJS.Timeout;
  settle: (ran: Ran) => void;
  fail: (e: unknown) => void;
}

/** One child at a time, started when a job needs it and again after it dies. The jobs sent to
 *  it are queued in order; the first is the one running, the only one the watchdog times. */
class WorkerProcess {
  private child: ChildProcess | undefined;
  private ready: Promise<void> | undefined;
  private queue: Pending[] = [];
  /** Jobs the child has finished: the number of the one it is running. */
  private finished = 0;
  /** Why the watchdog stopped the child, when it did. */
  private stopped: string | undefined;
  private closed = false;

  constructor(
    private args: string[],
    private progressFile: string,
    private backends: number,
    private timeoutMs: number,
  ) {}

  async run(job: Job): Promise<Ran> {
    if (this.closed) throw new Error("the worker pool is closed");
    await (this.ready ??= this.start());
    return new Promise<Ran>((settle, fail) => {
      const backends = "seed" in job ? this.backends : job.backends.length;
      const p: Pending = { job, backends, settle, fail };
      this.queue.push(p);
      this.send(p);
    });
  }

  close(): void {
    this.closed = true;
    this.child?.stdin?.end();
  }

  private send(p: Pending): void {
    this.child!.stdin!.write(JSON.stringify(p.job) + "\n");
    if (p === this.queue[0]) this.arm(p);
  }

  /** The watchdog of the running job. */
  private arm(p: Pending): void {
    p.timer = setTimeout(() => this.stop(), this.timeoutMs);
  }

  private start(): Promise<void> {
    const bin = new URL("../futamura.mjs", import.meta.url).pathname;
    const child = spawn(process.execPath, [bin, ...this.args], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    this.child = child;
    this.stopped = undefined;
    this.finished = 0;
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
    if (!this.queue[0]) return;
    this.finished++;
    this.finish({
      expected: reply.results[0]!,
      got: reply.results.slice(1),
      ms: reply.ms,
      digest: reply.done,
    });
  }

  /** The watchdog: no result in time, so the child is killed and the job reported. */
  private stop(): void {
    this.stopped = `was stopped: no result within ${this.timeoutMs / 1000} s`;
    this.child?.kill("SIGKILL");
  }

  /** The child is gone: the backend it was running gets a crash, the ones after it nothing;
   *  the jobs queued behind go to a new child. */
  private died(why: string): void {
    this.child = undefined;
    this.ready = undefined;
    const p = this.queue[0];
    if (p) {
      const before = this.progress();
      const crash = `${WORKER_CRASH} ${this.stopped ?? `died (${why})`}`;
      const results: (Result | undefined)[] = [...before.results, crash];
      while (results.length < p.backends + 1) results.push(undefined);
      const ms = [...before.ms];
      while (ms.length < p.backends + 1) ms.push(0);
      this.finish({ expected: results[0]!, got: results.slice(1, p.backends + 1), ms });
    }
    if (this.queue.length) this.restart();
  }

  /** The results of the running job before the child died, from its progress file. */
  private progress(): Pick<Progress, "results" | "ms"> {
    try {
      const text = readFileSync(this.progressFile, "utf8");
      const p = JSON.parse(text.slice(0, text.indexOf("\n"))) as Progress;
      if (p.seq === this.finished) return p;
    } catch {
      // not written yet
    }
    return { results: [], ms: [] };
  }

  private restart(): void {
    this.ready = this.start();
    this.ready.then(
      () => this.queue.forEach((q) => this.send(q)),
      (e: unknown) => this.queue.splice(0).forEach((q) => q.fail(e)),
    );
  }

  /** The running job is done: the next one runs, under the watchdog. */
  private finish(ran: Ran): void {
    const p = this.queue.shift()!;
    clearTimeout(p.timer);
    p.settle(ran);
    if (this.queue[0] && this.child) this.arm(this.queue[0]);
  }
}
