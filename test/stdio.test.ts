// A program's standard input and output through the real command (runtime/stdio.ts,
// generator/cli/main.ts): what only a real process with real pipes shows. Input is read as the
// program asks (a pipe still open, an endless input), output is streamed through a bounded
// buffer (memory stays bounded, the first bytes arrive while the program runs), program files
// have a size limit, write failures have their own exit code, and messages never carry raw
// control bytes. Every check runs on every backend: the CLI's I/O is the same for all.

import { spawn, type StdioOptions } from "node:child_process";
import { mkdtempSync, openSync, rmSync, writeFileSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "../generator/backends.ts";
import { MAX_PROGRAM_BYTES } from "../generator/cli/args.ts";

const root = new URL("../", import.meta.url).pathname;
const BACKENDS = Object.keys(backends);
const HELLO = root + "interpreters/programs/hello.b";
const CAT = root + "interpreters/programs/cat.b";

interface Child {
  code: number;
  out: Buffer;
  err: string;
  /** Bytes of stdout that arrived before the process ended. */
  early: number;
}

/** `futamura ...argv` as a real process; `feed` drives its stdin (a pipe) while it runs. */
function futamura(
  argv: string[],
  opts: { stdio?: StdioOptions; feed?: (stdin: NodeJS.WritableStream) => void } = {},
): Promise<Child> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [root + "generator/futamura.mjs", ...argv], {
      cwd: root,
      stdio: opts.stdio ?? ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    let err = "";
    let early = 0;
    let ended = false;
    child.stdout?.on("data", (b: Buffer) => (out.push(b), ended || (early += b.length)));
    child.stderr?.on("data", (b: Buffer) => (err += b.toString()));
    child.on("error", reject);
    child.on("exit", () => (ended = true));
    child.on("close", (code) => resolve({ code: code ?? -1, out: Buffer.concat(out), err, early }));
    if (opts.feed && child.stdin) opts.feed(child.stdin);
  });
}

let dir = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "futamura-stdio-"));
  writeFileSync(join(dir, "forever.b"), "+[.]"); // writes byte 1 without end
  writeFileSync(join(dir, "large.b"), Buffer.alloc(MAX_PROGRAM_BYTES + 1, "+"));
  writeFileSync(join(dir, "limit.b"), Buffer.alloc(MAX_PROGRAM_BYTES, " "));
  writeFileSync(join(dir, "esc.tl"), "PUSH 1\nBR_COND l\x1b[31mred\x07\nRETURN\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("input is read as the program asks", () => {
  it.each(BACKENDS)(
    "%s: a program that never reads ends while its stdin pipe is still open",
    async (b) => {
      let stdin: NodeJS.WritableStream | undefined;
      const r = await futamura(["run", "bf", HELLO, "--backend", b], { feed: (s) => (stdin = s) });
      stdin?.end();
      expect([r.code, r.err, r.out.toString()]).toEqual([0, "", "Hello World!\n"]);
    },
  );

  it.each(BACKENDS)("%s: a filter reads a pipe that is written to later", async (b) => {
    const r = await futamura(["run", "bf", CAT, "--backend", b], {
      feed: (s) => setTimeout(() => (s.write("ab"), setTimeout(() => s.end("c\n"), 300)), 300),
    });
    expect([r.code, r.err, r.out.toString()]).toEqual([0, "", "abc\n"]);
  });

  it("an endless input is not read by a program that does not read", async () => {
    const zero = openSync("/dev/zero", "r");
    try {
      const r = await futamura(["run", "bf", HELLO, "--stats=json"], {
        stdio: [zero, "pipe", "pipe"],
      });
      expect(r.code).toBe(0);
      expect(r.out.toString()).toBe("Hello World!\n");
      expect(JSON.parse(r.err).maxRssMB).toBeLessThan(400);
    } finally {
      closeSync(zero);
    }
  });
});

describe("output is streamed through a bounded buffer", () => {
  /** Runs the endless writer for `fuel` steps (a byte each two); its peak memory in MB. */
  async function writer(backend: string, fuel: number): Promise<number> {
    const r = await futamura([
      ...["run", "bf", join(dir, "forever.b"), "--backend", backend],
      ...["--fuel", String(fuel), "--stats=json"],
    ]);
    const [stats, message] = r.err.trim().split("\n");
    expect([r.code, message]).toEqual([1, "error: step limit exceeded"]);
    // Each trip of the loop is two steps (the loop's merge point and its body's) and one byte.
    expect(r.out.length).toBe(fuel / 2 - 1);
    expect(r.out.every((x) => x === 1)).toBe(true);
    return JSON.parse(stats!).maxRssMB as number;
  }

  it.each(BACKENDS)("%s: every byte written, once", async (b) => {
    await writer(b, 400_000);
  });

  it.each(["interp", "jit"])("%s: 25 MB of output take no more memory than 1 MB", async (b) => {
    const small = await writer(b, 2_000_000);
    const large = await writer(b, 50_000_000);
    expect(large - small).toBeLessThan(25);
  });

  it.each(BACKENDS)("%s: a reader that goes away (EPIPE) ends the run quietly", async (b) => {
    const r = await new Promise<Child>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [root + "generator/futamura.mjs", "run", "bf", join(dir, "forever.b"), "--backend", b],
        { cwd: root, stdio: ["ignore", "pipe", "pipe"] },
      );
      let err = "";
      child.stderr.on("data", (x: Buffer) => (err += x.toString()));
      child.stdout.once("data", () => child.stdout.destroy());
      child.on("error", reject);
      child.on("close", (code) =>
        resolve({ code: code ?? -1, out: Buffer.alloc(0), err, early: 0 }),
      );
    });
    expect([r.code, r.err]).toEqual([0, ""]);
  });

  it.each(BACKENDS)("%s: a full disk is one line and exit 4", async (b) => {
    const full = openSync("/dev/full", "w");
    try {
      const r = await futamura(["run", "bf", HELLO, "--backend", b], {
        stdio: ["ignore", full, "pipe"],
      });
      expect([r.code, r.err]).toEqual([
        4,
        "error: cannot write output: ENOSPC (no space left on device)\n",
      ]);
    } finally {
      closeSync(full);
    }
  });
});

describe("program files", () => {
  it("are refused past the size limit, and an endless file is never read whole", async () => {
    for (const file of [join(dir, "large.b"), "/dev/zero"]) {
      const r = await futamura(["run", "bf", file]);
      expect([r.code, r.err]).toEqual([
        2,
        `${file}: too large (the limit for a program is ${MAX_PROGRAM_BYTES} bytes)\n`,
      ]);
    }
  });

  it("are read up to the limit", async () => {
    const r = await futamura(["run", "bf", join(dir, "limit.b"), "--backend", "interp"]);
    expect([r.code, r.err, r.out.length]).toEqual([0, "", 0]);
  });

  it("never send their control bytes to the terminal in a message", async () => {
    const r = await futamura(["run", "tl", join(dir, "esc.tl"), "1"]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`${join(dir, "esc.tl")}:2: bad operand 'l\\x1b[31mred\\x07'\n`);
    expect(r.err).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
  });
});
