//! A program's standard input and output as byte streams, for interpreters that do I/O through
//! `readByte`/`writeByte` (Brainfuck).
//!
//! Neither is ever held whole in memory: input is read from its file descriptor as the program
//! asks for it, a chunk at a time (a program that never reads never touches stdin, so
//! `< /dev/zero` costs nothing), and output goes through a bounded buffer that is written out
//! whenever it fills (and at the end of the run), so a program writing without end runs in
//! constant memory and its first bytes appear while it runs.
//!
//! Reads and writes are synchronous, because the interpreter (and machine code calling back into
//! JS) asks for one byte and wants it now. A descriptor some other program left non-blocking (a
//! pipe Node or a shell set `O_NONBLOCK` on) answers `EAGAIN` when it has nothing yet: the
//! stream waits a moment and asks again, rather than failing the run.
//!
//! Failures are values the runner can report: `IoFailure` carries the system's code (`EPIPE`
//! when the reader of our output went away, `ENOSPC` on a full disk).

import { closeSync, openSync, readSync, writeSync } from "node:fs";

/** Where a program's bytes come from: `read` gives the next byte, or -1 at the end. */
export interface ByteSource {
  read(): number;
}

/** Where a program's bytes go, a chunk at a time; may throw `IoFailure`. */
export type ChunkSink = (chunk: Uint8Array) => void;

/** Reading the input or writing the output failed; `code` is the system's (`EPIPE`, ...). */
export class IoFailure extends Error {
  constructor(
    readonly stream: "input" | "output",
    readonly code: string,
    detail: string,
  ) {
    super(`cannot ${stream === "input" ? "read input" : "write output"}: ${detail}`);
    this.name = "IoFailure";
  }
}

/** Bytes held in memory (tests, the fuzzer, and the benchmark give inputs this way). */
export class BufferSource implements ByteSource {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}
  read(): number {
    return this.at < this.bytes.length ? this.bytes[this.at++]! : -1;
  }
}

const CHUNK = 1 << 16;

/** A source whose bytes read so far are kept (up to `limit`), so that a run can be replayed
 *  from its start with the same input (`replay`), then goes on with the rest of the source. */
export class RecordingSource implements ByteSource {
  private kept: Uint8Array = new Uint8Array(256);
  private n = 0;
  /** False once more than `limit` bytes were read: the run cannot be replayed. */
  complete = true;

  constructor(
    private readonly source: ByteSource,
    private readonly limit: number,
  ) {}

  read(): number {
    const b = this.source.read();
    if (b < 0 || !this.complete) return b;
    if (this.n === this.limit) {
      this.complete = false;
      this.kept = new Uint8Array(0);
      return b;
    }
    if (this.n === this.kept.length) {
      const bigger = new Uint8Array(Math.min(2 * this.n, this.limit));
      bigger.set(this.kept);
      this.kept = bigger;
    }
    this.kept[this.n++] = b;
    return b;
  }

  /** The bytes read so far again, then the rest of the source. */
  replay(): ByteSource {
    const again = new BufferSource(this.kept.subarray(0, this.n));
    return {
      read: () => {
        const b = again.read();
        return b >= 0 ? b : this.source.read();
      },
    };
  }
}

/** Sleeps about `ms` milliseconds without spinning (a descriptor answered EAGAIN). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Retries `f` while it fails with EAGAIN (a non-blocking descriptor with nothing ready). */
function retryingAgain<T>(f: () => T): T {
  for (let wait = 1; ; wait = Math.min(2 * wait, 50)) {
    try {
      return f();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      pause(wait);
    }
  }
}

function failure(stream: "input" | "output", e: unknown): IoFailure {
  const err = e as NodeJS.ErrnoException;
  const code = err.code ?? "EIO";
  return new IoFailure(stream, code, err.code ? `${err.code} (${describe(err)})` : err.message);
}

/** The part of a system error's message after its code: "no space left on device". */
function describe(e: NodeJS.ErrnoException): string {
  const m = /^[A-Z]+: ([^,]*)/.exec(e.message);
  return m ? m[1]! : e.message;
}

/** A file descriptor's bytes, read a chunk at a time as they are asked for. The end of input is
 *  final: once a read gives nothing, every later read gives -1. */
export class FdSource implements ByteSource {
  private readonly buf = new Uint8Array(CHUNK);
  private at = 0;
  private end = 0;
  private done = false;

  constructor(private readonly fd: number) {}

  /** Standard input, opened afresh where the system allows (`/dev/stdin`: its own blocking
   *  open of the same pipe or file), else descriptor 0 as it is. */
  static stdin(): FdSource {
    try {
      return new FdSource(openSync("/dev/stdin", "r"));
    } catch {
      return new FdSource(0);
    }
  }

  read(): number {
    if (this.at < this.end) return this.buf[this.at++]!;
    if (this.done) return -1;
    this.fill();
    return this.at < this.end ? this.buf[this.at++]! : -1;
  }

  private fill(): void {
    try {
      this.end = retryingAgain(() => readSync(this.fd, this.buf, 0, CHUNK, null));
    } catch (e) {
      this.done = true;
      throw failure("input", e);
    }
    this.at = 0;
    if (this.end === 0) this.done = true;
  }

  close(): void {
    if (this.fd > 2) closeSync(this.fd);
  }
}

/** Writes chunks to a file descriptor whole (a pipe may take part of one at a time). */
export function fdSink(fd: number): ChunkSink {
  return (chunk) => {
    try {
      for (let at = 0; at < chunk.length;)
        at += retryingAgain(() => writeSync(fd, chunk, at, chunk.length - at));
    } catch (e) {
      throw failure("output", e);
    }
  };
}

/** A program's output: bytes gathered in a buffer of bounded size, handed to the sink when it
 *  fills and at `flush`. After the sink has failed, the stream is closed: every later write
 *  throws the same failure, so whatever is running stops at its next write. */
export class OutputBuffer {
  private readonly buf: Uint8Array;
  private n = 0;
  private failed: IoFailure | undefined;
  /** Bytes handed to the sink so far. */
  written = 0;
  /** Bytes still to drop: a replayed run writes again what it wrote before. */
  private skipping = 0;

  constructor(
    private readonly sink: ChunkSink,
    size = CHUNK,
  ) {
    this.buf = new Uint8Array(size);
  }

  write(byte: number): void {
    if (this.skipping > 0) return void this.skipping--;
    if (this.n === this.buf.length || this.failed) this.flush();
    this.buf[this.n++] = byte;
  }

  /** Starts a replay of the run: flushes, then drops as many bytes as it has taken so far. */
  replay(): void {
    this.flush();
    this.skipping = this.written;
  }

  flush(): void {
    if (this.failed) throw this.failed;
    if (this.n === 0) return;
    const chunk = this.buf.subarray(0, this.n);
    this.n = 0;
    try {
      this.sink(chunk);
      this.written += chunk.length;
    } catch (e) {
      this.failed = e instanceof IoFailure ? e : failure("output", e);
      throw this.failed;
    }
  }
}

/** A sink that keeps every chunk (tests and the fuzzer compare a run's whole output). */
export function collector(): { sink: ChunkSink; bytes(): Uint8Array } {
  const chunks: Uint8Array[] = [];
  let size = 0;
  return {
    sink: (chunk) => (chunks.push(chunk.slice()), (size += chunk.length)),
    bytes() {
      const all = new Uint8Array(size);
      let at = 0;
      for (const c of chunks) (all.set(c, at), (at += c.length));
      return all;
    },
  };
}
