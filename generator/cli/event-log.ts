//! `futamura run --log FILE`: the run's JIT events (`runtime/events.ts`) written to FILE as JSON
//! lines, through a 64 KiB buffer (a run of millions of exits must not hold them all), the
//! rest when the run ends, however it ends.

import { closeSync, openSync, writeSync } from "node:fs";
import type { LoggedEvent } from "../../runtime/events.ts";
import { UsageError } from "./usage.ts";

const BUFFER = 64 << 10;

/** A writer of `file`'s event lines: `event` for the run, `close` after it. */
export function eventLog(file: string): { event: (e: LoggedEvent) => void; close: () => void } {
  let fd: number;
  try {
    fd = openSync(file, "w");
  } catch (e) {
    throw new UsageError(`--log ${file}: cannot write: ${(e as NodeJS.ErrnoException).code}`);
  }
  let pending = "";
  const flush = () => {
    if (pending) writeSync(fd, pending);
    pending = "";
  };
  return {
    event: (e) => {
      pending += JSON.stringify(e) + "\n";
      if (pending.length >= BUFFER) flush();
    },
    close: () => {
      flush();
      closeSync(fd);
    },
  };
}
