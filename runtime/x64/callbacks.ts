//! The JS functions compiled code calls: `io_read`/`io_write` (through whatever channel
//! `setIo` installed), `resolve`, which finds where an exit site goes on for the run under
//! way, and `heap`, which does a container operation on the run's objects (`objects.ts`). They are registered with koffi once per process (koffi has a fixed number of slots),
//! and each run installs its resolver for as long as it lasts.

import { createRequire } from "node:module";
import { readByte, writeByte } from "../hints.ts";
import { operate } from "./region.ts";

type Koffi = typeof import("koffi");
let koffiModule: Koffi | undefined;
const koffi = (): Koffi => (koffiModule ??= createRequire(import.meta.url)("koffi") as Koffi);

/** Finds where exit site `site` goes on with `value`, and puts the address where compiled code
 *  jumps to; must not throw (koffi cannot carry an exception through machine code). */
export type Resolver = (site: number, value: number) => void;

let resolver: Resolver | undefined;
/** What a failed `io_read`/`io_write` threw, for the run to rethrow once machine code has
 *  stopped (koffi cannot carry it through). */
let ioFailure: unknown;

/** Takes the failure an I/O callback kept, if there is one. */
export function takeIoFailure(): unknown {
  const e = ioFailure;
  ioFailure = undefined;
  return e;
}

/** Runs an I/O callback; on failure keeps what it threw and answers `failed`. */
function guarded<T>(f: () => T, failed: T): T {
  try {
    return f();
  } catch (e) {
    ioFailure = e;
    return failed;
  }
}
let addresses: { read: bigint; write: bigint; resolve: bigint; heap: bigint } | undefined;

/** The callbacks' addresses, for the state buffer. */
export function callbacks(): { read: bigint; write: bigint; resolve: bigint; heap: bigint } {
  if (addresses) return addresses;
  const k = koffi();
  const at = (f: (...a: number[]) => unknown, proto: string) =>
    BigInt(k.address(k.register(f, k.pointer(k.proto(proto)))));
  addresses = {
    // A byte, -1 at the end of input, -2 when reading failed.
    read: at(() => guarded(readByte, -2), "int32_t futamura_x64_read(void)"),
    // 0, or 1 when writing failed.
    write: at(
      (b) => guarded(() => (writeByte(b!), 0), 1),
      "int32_t futamura_x64_write(int32_t byte)",
    ),
    resolve: at(
      (site, value) => resolver!(site!, value!),
      "void futamura_x64_resolve(int32_t site, int32_t value)",
    ),
    // Must not throw either: a failure is in the state buffer's `heapFail`.
    heap: at(
      (op, a, b, c) => operate(op!, a!, b!, c!),
      "int32_t futamura_x64_heap(int32_t op, int32_t a, int32_t b, int32_t c)",
    ),
  };
  return addresses;
}

/** Runs `f` with `r` answering `resolve` (the previous resolver is back after). */
export function withResolver<T>(r: Resolver, f: () => T): T {
  const outer = resolver;
  resolver = r;
  try {
    return f();
  } finally {
    resolver = outer;
  }
}

/** Compiled code runs on koffi's stack for synchronous calls (JS callbacks need that); it may
 *  use all of it but a margin for koffi's own frames and the callbacks' relay. */
export function stackBudget(): number {
  const size = (koffi().config() as { sync_stack_size: number }).sync_stack_size;
  return size - (256 << 10);
}
