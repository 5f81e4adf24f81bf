//! Worker processes: programs run in a child (`futamura fuzz-worker`), so that a backend that
//! kills its process (machine code gone wrong) is reported with the program's seed and index
//! instead of ending the run.

import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { langs, type Lang } from "../../interpreters/lang.ts";
import { backends as registry, type Backend } from "../backends.ts";
import { programs } from "./generators.ts";
import { resolveBackends } from "./harness.ts";
import { runOn, runOne, type Result } from "./run.ts";

/** A child process that runs programs of one seed by index (`futamura fuzz-worker`); when it
 *  dies, the program it was running gets `crash:` results and a new child takes the next. */
export class Worker {
  private child: ChildProcess | undefined;
  private pending: ((line: string | undefined) => void) | undefined;

  constructor(
    private lang: Lang,
    private seed: number,
    private count: number,
    private fuel: number,
    private others: Backend[],
  ) {}

  private start(): ChildProcess {
    const bin = new URL("../futamura.mjs", import.meta.url).pathname;
    const names = this.others.map((b) => b.name).join(",");
    const child = spawn(
      process.execPath,
      [
        bin,
        "fuzz-worker",
        this.lang.name,
        String(this.seed),
        String(this.count),
        String(this.fuel),
        names,
      ],
      { stdio: ["pipe", "pipe", "inherit"] },
    );
    createInterface({ input: child.stdout! }).on("line", (line) => this.settle(line));
    child.on("exit", (code, signal) => {
      this.child = undefined;
      this.settle(undefined, signal ?? `exit code ${code}`);
    });
    return child;
  }

  private death = "";

  private settle(line: string | undefined, why?: string): void {
    if (why) this.death = why;
    const p = this.pending;
    this.pending = undefined;
    p?.(line);
  }

  async run(
    index: number,
    others: Backend[],
  ): Promise<{ expected: Result; got: Result[]; ms: number[] }> {
    this.child ??= this.start();
    const line = await new Promise<string | undefined>((resolve) => {
      this.pending = resolve;
      this.child!.stdin!.write(`${index}\n`);
    });
    if (line !== undefined) return JSON.parse(line);
    // The worker died on this program: interp's result from here, a crash for the others.
    const p = programs(this.lang.name, this.seed, index + 1)[index]!;
    const expected = await runOn(registry.interp!, this.lang, p.code, p.arg, this.fuel, p.input);
    return {
      expected,
      got: others.map(() => `crash: the worker process died (${this.death})`),
      ms: [0, ...others.map(() => 0)],
    };
  }

  close(): void {
    this.child?.stdin?.end();
  }
}

/** `futamura fuzz-worker <lang> <seed> <count> <fuel> <backends>`: reads program indexes from
 *  stdin and writes each one's results as a JSON line (see Worker). FUTAMURA_FUZZ_CRASH=<index>
 *  makes it kill itself on that program, to test that a dying backend is reported. */
export async function fuzzWorker(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const [name, seed, count, fuel, names] = argv;
  const lang = langs[name!]!;
  const progs = programs(lang.name, Number(seed), Number(count));
  const others = resolveBackends(names ? names.split(",") : []);
  const crashAt = process.env.FUTAMURA_FUZZ_CRASH;
  for await (const line of createInterface({ input: process.stdin })) {
    const index = Number(line);
    if (crashAt !== undefined && Number(crashAt) === index) process.kill(process.pid, "SIGSEGV");
    const p = progs[index]!;
    out.write(
      JSON.stringify(await runOne(lang, p.code, p.arg, others, Number(fuel), p.input)) + "\n",
    );
  }
  return 0;
}
