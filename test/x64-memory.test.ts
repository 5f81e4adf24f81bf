// Running hand-assembled machine code inside Node: CodeBlock, DataBlock, W^X and unmapping.

import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { ARG_REGS, Asm, Cond, Reg, rel32Bytes } from "../runtime/x64/encode.ts";
import { CodeBlock, DataBlock, pageSize, x64Supported } from "../runtime/x64/memory.ts";

const [A0, A1, A2, A3] = ARG_REGS as [Reg, Reg, Reg, Reg];

interface MapLine {
  start: bigint;
  end: bigint;
  perms: string;
}

function maps(): MapLine[] {
  return readFileSync("/proc/self/maps", "utf8")
    .trim()
    .split("\n")
    .map((line) => {
      const [range, perms] = line.split(/\s+/) as [string, string];
      const [s, e] = range.split("-") as [string, string];
      return { start: BigInt("0x" + s), end: BigInt("0x" + e), perms };
    });
}

/** The mappings overlapping `[addr, addr + len)`. */
function mappingsOf(addr: bigint, len: number): MapLine[] {
  const end = addr + BigInt(len);
  return maps().filter((m) => m.start < end && m.end > addr);
}

const code = (build: (a: Asm) => void) => {
  const a = new Asm();
  build(a);
  return new CodeBlock(a.bytes());
};

const title = x64Supported ? "native code" : "native code: SKIPPED, needs x86-64 Linux";
describe.skipIf(!x64Supported)(title, () => {
  it("returns a constant", () => {
    const b = code((a) => a.movRI(32, Reg.rax, 42).ret());
    expect(b.fn("i32", [])()).toBe(42);
    expect(b.capacity).toBe(pageSize());
    b.free();
  });

  it("adds two arguments (int32 and int64)", () => {
    const b32 = code((a) => a.movRR(32, Reg.rax, A0).addRR(32, Reg.rax, A1).ret());
    const add32 = b32.fn("i32", ["i32", "i32"]);
    expect(add32(2, 3)).toBe(5);
    expect(add32(0x7fffffff, 1)).toBe(-0x80000000); // wraps like (a + b) | 0
    const b64 = code((a) => a.lea(Reg.rax, { base: A0, index: A1, scale: 1 }).ret());
    const add64 = b64.fn("i64", ["i64", "i64"]);
    expect(add64(2, 3)).toBe(5);
    expect(add64(2n ** 60n, 2n ** 60n)).toBe(2n ** 61n);
    b32.free();
    b64.free();
  });

  it("takes four arguments", () => {
    // a - b + c * d
    const b = code((a) =>
      a
        .movRR(64, Reg.rax, A2)
        .imulRR(64, Reg.rax, A3)
        .addRR(64, Reg.rax, A0)
        .subRR(64, Reg.rax, A1)
        .ret(),
    );
    const f = b.fn("i64", ["i64", "i64", "i64", "i64"]);
    expect(f(100, 1, 6, 7)).toBe(141);
    expect(f(-5n, 5n, -3n, 3n)).toBe(-19);
    b.free();
  });

  it("runs a loop summing 1..n", () => {
    const b = code((a) => {
      const top = a.label();
      const done = a.label();
      a.xorRR(32, Reg.rax, Reg.rax);
      a.testRR(32, A0, A0);
      a.jcc(Cond.le, done);
      a.bind(top);
      a.addRR(32, Reg.rax, A0);
      a.subRI(32, A0, 1);
      a.jcc(Cond.ne, top);
      a.bind(done);
      a.ret();
    });
    const sum = b.fn("i32", ["i32"]);
    expect(sum(0)).toBe(0);
    expect(sum(-3)).toBe(0);
    expect(sum(10)).toBe(55);
    expect(sum(50_000)).toBe((50_000 * 50_001) / 2);
    b.free();
  });

  it("divides and compares with setcc / cmov", () => {
    const div = code((a) => a.movRR(32, Reg.rax, A0).cdq().idiv(32, A1).ret());
    expect(div.fn("i32", ["i32", "i32"])(-17, 5)).toBe(-3);
    const lt = code((a) => a.cmpRR(32, A0, A1).setcc(Cond.l, Reg.rax).ret());
    expect(lt.fn("i32", ["i32", "i32"])(-1, 0)).toBe(1);
    expect(lt.fn("i32", ["i32", "i32"])(3, 3)).toBe(0);
    const max = code((a) =>
      a.movRR(32, Reg.rax, A0).cmpRR(32, A0, A1).cmov(Cond.l, 32, Reg.rax, A1).ret(),
    );
    expect(max.fn("i32", ["i32", "i32"])(4, 9)).toBe(9);
    expect(max.fn("i32", ["i32", "i32"])(9, -4)).toBe(9);
    for (const b of [div, lt, max]) b.free();
  });

  it("reads and writes a DataBlock from machine code", () => {
    const data = new DataBlock(64);
    const ints = data.i32();
    ints.set([10, 20, 30, 40]);
    // f(p, i): p[i] += 1; the counter at byte 32 -= 1; byte 40 = 0xab; return p[0] + p[1]
    const b = code((a) => {
      a.movsxd(A1, A1);
      a.addMI(32, { base: A0, index: A1, scale: 4 }, 1);
      a.subMI(32, { base: A0, disp: 32 }, 1);
      a.movRM(32, Reg.rax, { base: A0 });
      a.addRM(32, Reg.rax, { base: A0, disp: 4 });
      a.movMI8({ base: A0, disp: 40 }, 0xab);
      a.ret();
    });
    const f = b.fn("i32", ["ptr", "i32"]);
    expect(f(data.address, 1)).toBe(10 + 21);
    expect(f(data.addr(), 3)).toBe(31);
    expect(Array.from(ints.subarray(0, 4))).toEqual([10, 21, 30, 41]);
    expect(ints[8]).toBe(-2);
    expect(data.u8()[40]).toBe(0xab);

    // The address can also be baked into the code.
    const c = code((a) =>
      a.movabs(Reg.rcx, data.address).movRM(32, Reg.rax, { base: Reg.rcx, disp: 12 }).ret(),
    );
    c.retain(data);
    expect(c.fn("i32", [])()).toBe(41);
    b.free();
    c.free();
    data.free();
  });

  it("patches a jump in live code", () => {
    // jmp L1; L1: mov eax, 1; ret; L2: mov eax, 2; ret
    const a = new Asm();
    const l1 = a.label();
    const l2 = a.label();
    const at = a.jmp(l1);
    a.bind(l1).movRI(32, Reg.rax, 1).ret();
    a.bind(l2).movRI(32, Reg.rax, 2).ret();
    const b = new CodeBlock(a.bytes());
    const f = b.fn("i32", []);
    expect(f()).toBe(1);
    b.patch(at, rel32Bytes(at, l2.pos));
    expect(f()).toBe(2);
    expect(b.read(at, 4)).toEqual(rel32Bytes(at, l2.pos));
    b.patch(at, rel32Bytes(at, l1.pos));
    expect(f()).toBe(1);
    expect(() => b.patch(b.capacity - 2, [0, 0, 0, 0])).toThrow(RangeError);
    b.free();
  });

  it("patches across a page boundary", () => {
    const page = pageSize();
    // A function at the very end of page 0 whose immediate straddles into page 1.
    const a = new Asm();
    while (a.size < page - 3) a.int3();
    const entry = a.size;
    a.movRI(32, Reg.rax, 7).ret();
    const b = new CodeBlock(a.bytes());
    const f = b.fn("i32", [], entry);
    expect(f()).toBe(7);
    b.patch(entry + 1, [0x78, 0x56, 0x34, 0x12]);
    expect(f()).toBe(0x12345678);
    for (const m of mappingsOf(b.address, b.capacity)) expect(m.perms.slice(0, 3)).toBe("r-x");
    b.free();
  });

  it("never has our pages writable and executable; free() unmaps them", () => {
    const blocks = [
      code((a) => a.movRI(32, Reg.rax, 1).ret()),
      new CodeBlock(new Asm().ret().bytes(), 3 * pageSize() + 1),
    ];
    const data = new DataBlock(100_000);
    blocks[1]!.patch(2 * pageSize() + 5, [0xcc]);

    for (const b of blocks) {
      const ms = mappingsOf(b.address, b.capacity);
      expect(ms.length).toBeGreaterThan(0);
      for (const m of ms) {
        expect(m.perms).toMatch(/^r-x/);
      }
    }
    const dm = mappingsOf(data.address, data.capacity);
    expect(dm.length).toBeGreaterThan(0);
    for (const m of dm) expect(m.perms).toMatch(/^rw-/);
    // And in general: none of our ranges is ever mapped w and x together.
    for (const { address, capacity } of [...blocks, data]) {
      for (const m of mappingsOf(address, capacity))
        expect(/w.x/.test(m.perms.slice(0, 3))).toBe(false);
    }

    expect(blocks[0]!.fn("i32", [])()).toBe(1);
    const f = blocks[0]!.fn("i32", []);
    const ranges = [...blocks, data].map((b) => [b.address, b.capacity] as const);
    for (const b of blocks) b.free();
    data.free();
    for (const [addr, len] of ranges) expect(mappingsOf(addr, len)).toEqual([]);
    expect(() => f()).toThrow(/freed/); // not attempted: the wrapper refuses
    expect(() => blocks[0]!.patch(0, [0x90])).toThrow(/after free/);
    expect(() => data.u8()).toThrow(/after free/);
    blocks[0]!.free(); // idempotent
  });

  it("unmaps blocks the program drops (FinalizationRegistry)", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const settle = async (gone: () => boolean, rounds = 100) => {
      for (let i = 0; i < rounds && !gone(); i++) {
        gc();
        await new Promise((r) => setTimeout(r, 10));
      }
    };

    // A dropped CodeBlock is unmapped, but not while a function made from it is alive.
    let f: (() => number) | undefined;
    const codeRange = (() => {
      const b = code((a) => a.movRI(32, Reg.rax, 5).ret());
      f = b.fn("i32", []);
      return [b.address, b.capacity] as const;
    })();
    await settle(() => false, 5);
    expect(mappingsOf(...codeRange).length).toBeGreaterThan(0);
    expect(f!()).toBe(5);
    f = undefined;
    await settle(() => mappingsOf(...codeRange).length === 0);
    expect(mappingsOf(...codeRange)).toEqual([]);

    // A dropped DataBlock is unmapped, but not while a view over it is alive.
    let view: Int32Array | undefined;
    const dataRange = (() => {
      const d = new DataBlock(4096);
      view = d.i32();
      return [d.address, d.capacity] as const;
    })();
    await settle(() => false, 5);
    expect(mappingsOf(...dataRange).length).toBeGreaterThan(0);
    view![0] = 1;
    view = undefined;
    await settle(() => mappingsOf(...dataRange).length === 0);
    expect(mappingsOf(...dataRange)).toEqual([]);
  });

  it("measures the call overhead", () => {
    const b = code((a) => a.movRR(32, Reg.rax, A0).ret());
    const id = b.fn("i32", ["i32"]);
    const n = 200_000;
    for (let i = 0; i < 20_000; i++) id(i);
    const t0 = process.hrtime.bigint();
    let s = 0;
    for (let i = 0; i < n; i++) s += id(i);
    const ns = Number(process.hrtime.bigint() - t0) / n;
    expect(s).toBe(((n - 1) * n) / 2);
    console.log(`native call overhead: ${ns.toFixed(0)} ns per call (i32(i32))`);
    expect(ns).toBeLessThan(10_000);
    b.free();
  });
});
