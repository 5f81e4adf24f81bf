//! Executable and raw memory outside the V8 heap, through libc's mmap/mprotect/munmap via koffi.
//!
//! - `CodeBlock` holds machine code. Its pages are never writable and executable at once
//!   (W^X): they are mapped read-write, filled, then flipped to read-execute; `patch` flips
//!   the touched pages back to read-write for the duration of the write.
//! - `DataBlock` is zero-filled read-write memory that machine code addresses (a tape, a
//!   state buffer), with typed-array views over it from JS (`koffi.view`, no copying).
//!
//! Both are released by `free()`, or by a FinalizationRegistry once unreachable. koffi is
//! loaded lazily, so this module imports cleanly on hosts where `x64Supported` is false.

import { createRequire } from "node:module";

type Koffi = typeof import("koffi");

/** True only where generated code can run: x86-64 Linux. */
export const x64Supported: boolean = process.arch === "x64" && process.platform === "linux";

const PROT_READ = 1;
const PROT_WRITE = 2;
const PROT_EXEC = 4;
const MAP_PRIVATE = 0x02;
const MAP_ANONYMOUS = 0x20;
const MAP_FAILED = 0xffff_ffff_ffff_ffffn;
const _SC_PAGESIZE = 30;

const RW = PROT_READ | PROT_WRITE;
const RX = PROT_READ | PROT_EXEC;

interface Libc {
  koffi: Koffi;
  mmap: (
    addr: null,
    len: number,
    prot: number,
    flags: number,
    fd: number,
    off: number,
  ) => bigint | null;
  mprotect: (addr: bigint, len: number, prot: number) => number;
  munmap: (addr: bigint, len: number) => number;
  pageSize: number;
}

let libc: Libc | undefined;

/** The native stack compiled code runs on (koffi's largest). */
export const NATIVE_STACK_BYTES = 16 << 20;

/** koffi and the libc functions, loaded on first use. */
function sys(): Libc {
  if (libc) return libc;
  if (!x64Supported)
    throw new Error(`native code needs x86-64 Linux (this is ${process.arch} ${process.platform})`);
  const koffi = createRequire(import.meta.url)("koffi") as Koffi;
  // Compiled code runs on koffi's stack for synchronous calls: the largest koffi allows (pages
  // untouched cost nothing), so that deep recursion of the program's own rarely runs out.
  koffi.config({ ...koffi.config(), sync_stack_size: NATIVE_STACK_BYTES });
  const lib = koffi.load("libc.so.6");
  const sysconf = lib.func("long sysconf(int name)");
  libc = {
    koffi,
    mmap: lib.func("void *mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off)"),
    mprotect: lib.func("int mprotect(void *addr, size_t len, int prot)"),
    munmap: lib.func("int munmap(void *addr, size_t len)"),
    pageSize: Number(sysconf(_SC_PAGESIZE)),
  };
  return libc;
}

/** Maps the first page of the open file `fd` readable and executable, and leaves it mapped:
 *  how a JIT tells `perf record` where its jitdump file is (perf notes the executable mapping;
 *  `perf inject --jit` then reads the file). */
export function mapForPerf(fd: number): void {
  const p = sys().mmap(null, sys().pageSize, RX, MAP_PRIVATE, fd, 0);
  if (p === null || p === MAP_FAILED) fail("mmap of the jitdump file");
}

/** The system page size in bytes. */
export function pageSize(): number {
  return sys().pageSize;
}

export function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

function fail(what: string): never {
  const { koffi } = sys();
  const errno = koffi.errno();
  const name = Object.entries(koffi.os.errno).find(([, v]) => v === errno)?.[0] ?? "?";
  throw new Error(`${what} failed: errno ${errno} (${name})`);
}

/** Maps `len` bytes (a multiple of the page size) of zeroed private memory. */
function mapPages(len: number, prot: number): bigint {
  const p = sys().mmap(null, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p === null || p === MAP_FAILED) fail(`mmap(${len})`);
  return p;
}

function protect(addr: bigint, len: number, prot: number): void {
  if (sys().mprotect(addr, len, prot) !== 0) fail("mprotect");
}

/** A mapping to release: what the finalization registries hold. */
interface Mapping {
  addr: bigint;
  len: number;
}

/** Unmaps what the program dropped without calling `free()`. */
const unmapDropped = new FinalizationRegistry<Mapping>((m) => {
  sys().munmap(m.addr, m.len);
});

// --------------------------------------------------------------------- code

/** Argument kinds of a native function: int32, int64, or a pointer (bigint or number). */
export type ArgKind = "i32" | "i64" | "ptr";
/** Result kinds: int32 (a number), int64 (a number when it is a safe integer, else a bigint), none. */
export type RetKind = "i32" | "i64" | "void";

/** An argument value as JS passes it. */
export type NativeArg = number | bigint;

const C_TYPE: Record<ArgKind | RetKind, string> = {
  i32: "int32_t",
  i64: "int64_t",
  ptr: "uintptr_t",
  void: "void",
};

/** koffi prototypes, one per signature. */
const protos = new Map<string, ReturnType<Koffi["proto"]>>();

function prototype(ret: RetKind, args: readonly ArgKind[]): ReturnType<Koffi["proto"]> {
  const key = `${ret}(${args.join(",")})`;
  let p = protos.get(key);
  if (p === undefined) {
    p = sys().koffi.proto(
      C_TYPE[ret],
      args.map((a) => C_TYPE[a]),
    );
    protos.set(key, p);
  }
  return p;
}

/** Machine code in executable memory. */
export class CodeBlock {
  /** Address of the first byte. */
  readonly address: bigint;
  /** Bytes of code written at construction. */
  readonly size: number;
  /** Bytes mapped (page-rounded, at least `size`). */
  readonly capacity: number;
  private freed = false;
  /** Objects kept alive as long as this code is (see `retain`). */
  private readonly retained: unknown[] = [];

  /**
   * Maps `code` read-execute.
   * @param minCapacity reserve at least this many bytes (for code patched in later)
   */
  constructor(code: Uint8Array, minCapacity = 0) {
    const { pageSize } = sys();
    this.size = code.length;
    this.capacity = roundUp(Math.max(code.length, minCapacity, 1), pageSize);
    this.address = mapPages(this.capacity, RW);
    new Uint8Array(sys().koffi.view(this.address, this.capacity)).set(code);
    protect(this.address, this.capacity, RX);
    unmapDropped.register(this, { addr: this.address, len: this.capacity }, this);
  }

  /** Whether `free()` was called. */
  get isFreed(): boolean {
    return this.freed;
  }

  /** Overwrites code at `offset`: the touched pages go RX → RW → RX. */
  patch(offset: number, bytes: Uint8Array | readonly number[]): void {
    this.check();
    if (!Number.isInteger(offset) || offset < 0 || offset + bytes.length > this.capacity) {
      throw new RangeError(`patch [${offset}, ${offset + bytes.length}) outside the block`);
    }
    if (bytes.length === 0) return;
    const { pageSize, koffi } = sys();
    const first = Math.floor(offset / pageSize) * pageSize;
    const len = roundUp(offset + bytes.length, pageSize) - first;
    const pages = this.address + BigInt(first);
    protect(pages, len, RW);
    try {
      new Uint8Array(koffi.view(pages, len)).set(bytes, offset - first);
    } finally {
      protect(pages, len, RX);
    }
  }

  /** A copy of `len` bytes of code from `offset` (reading is always allowed). */
  read(offset = 0, len = this.size - offset): Uint8Array {
    this.check();
    if (offset < 0 || len < 0 || offset + len > this.capacity)
      throw new RangeError("read outside the block");
    return new Uint8Array(sys().koffi.view(this.address + BigInt(offset), len)).slice();
  }

  /**
   * The code at `offset` as a JS function with the System V signature `ret(args...)`.
   * The function keeps this block alive, and throws rather than jump into freed memory.
   */
  fn(ret: "i32", args: readonly ArgKind[], offset?: number): (...a: NativeArg[]) => number;
  fn(ret: "i64", args: readonly ArgKind[], offset?: number): (...a: NativeArg[]) => number | bigint;
  fn(ret: "void", args: readonly ArgKind[], offset?: number): (...a: NativeArg[]) => void;
  fn(ret: RetKind, args: readonly ArgKind[], offset = 0): (...a: NativeArg[]) => unknown {
    this.check();
    if (offset < 0 || offset >= this.capacity)
      throw new RangeError(`entry ${offset} outside the block`);
    const raw = sys().koffi.decode(this.address + BigInt(offset), prototype(ret, args)) as (
      ...a: NativeArg[]
    ) => unknown;
    // Fixed-arity wrappers for the common cases; rest arguments cost a little more.
    const block = this;
    const dead = () => new Error("call into a freed CodeBlock");
    switch (args.length) {
      case 0:
        return () => {
          if (block.freed) throw dead();
          return raw();
        };
      case 1:
        return (a) => {
          if (block.freed) throw dead();
          return raw(a!);
        };
      case 2:
        return (a, b) => {
          if (block.freed) throw dead();
          return raw(a!, b!);
        };
      case 3:
        return (a, b, c) => {
          if (block.freed) throw dead();
          return raw(a!, b!, c!);
        };
      case 4:
        return (a, b, c, d) => {
          if (block.freed) throw dead();
          return raw(a!, b!, c!, d!);
        };
      default:
        return (...a) => {
          if (block.freed) throw dead();
          return raw(...a);
        };
    }
  }

  /** Keeps `obj` (e.g. a DataBlock whose address the code embeds) alive while this block is. */
  retain(obj: object): void {
    this.retained.push(obj);
  }

  /** Unmaps the code. Functions made by `fn` throw from now on. */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    unmapDropped.unregister(this);
    if (sys().munmap(this.address, this.capacity) !== 0) fail("munmap");
    this.retained.length = 0;
  }

  private check(): void {
    if (this.freed) throw new Error("CodeBlock used after free()");
  }
}

// --------------------------------------------------------------------- data

/**
 * Zero-filled read-write memory outside the V8 heap, for machine code to address.
 *
 * The views share one ArrayBuffer over the mapping, and the mapping lives as long as that
 * buffer is reachable (through the block or any view). After an explicit `free()` the views
 * point at unmapped memory and touching them crashes the process: free only when no view
 * escapes, or leave it to the garbage collector.
 */
export class DataBlock {
  /** Address of the first byte. */
  readonly address: bigint;
  /** Bytes requested. */
  readonly size: number;
  /** Bytes mapped (page-rounded). */
  readonly capacity: number;
  /** The memory as an ArrayBuffer (external, no copy). */
  readonly buffer: ArrayBuffer;
  private freed = false;

  constructor(size: number) {
    if (!Number.isInteger(size) || size <= 0) throw new RangeError(`bad DataBlock size ${size}`);
    this.size = size;
    this.capacity = roundUp(size, sys().pageSize);
    this.address = mapPages(this.capacity, RW);
    this.buffer = sys().koffi.view(this.address, this.size);
    // The buffer is the finalization target: views keep it, and so the memory, alive.
    unmapDropped.register(this.buffer, { addr: this.address, len: this.capacity }, this);
  }

  /** Whether `free()` was called. */
  get isFreed(): boolean {
    return this.freed;
  }

  /** The address of byte `offset` (for embedding in code or passing as an argument). */
  addr(offset = 0): bigint {
    return this.address + BigInt(offset);
  }

  /** A byte view over `[offset, offset + length)`, the whole block by default. */
  u8(offset = 0, length = this.size - offset): Uint8Array {
    this.check();
    return new Uint8Array(this.buffer, offset, length);
  }

  /** An int32 view starting at byte `offset` (a multiple of 4), to the end by default. */
  i32(offset = 0, length = Math.floor((this.size - offset) / 4)): Int32Array {
    this.check();
    return new Int32Array(this.buffer, offset, length);
  }

  /** A float64 view starting at byte `offset` (a multiple of 8), to the end by default. */
  f64(offset = 0, length = Math.floor((this.size - offset) / 8)): Float64Array {
    this.check();
    return new Float64Array(this.buffer, offset, length);
  }

  /** A BigInt64 view starting at byte `offset` (a multiple of 8), to the end by default. */
  i64(offset = 0, length = Math.floor((this.size - offset) / 8)): BigInt64Array {
    this.check();
    return new BigInt64Array(this.buffer, offset, length);
  }

  /** Unmaps the memory. Every view made earlier becomes invalid (see the class comment). */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    unmapDropped.unregister(this);
    if (sys().munmap(this.address, this.capacity) !== 0) fail("munmap");
  }

  private check(): void {
    if (this.freed) throw new Error("DataBlock used after free()");
  }
}
