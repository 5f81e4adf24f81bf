// perf's jitdump (runtime/x64/jitdump.ts): the file holds every byte of the run's machine code,
// a record per graph's function (and the runtime routines) at the address it runs at, named
// `@graph`; where `perf record` works on this machine, perf itself reads it: `perf inject
// --jit` turns the records into symbols that `perf report` counts and `perf annotate`
// disassembles.

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { nativeFactory } from "../generator/compiled.ts";
import { graphsOf, langs } from "../generator/language.ts";
import { Program as Jit } from "../runtime/jit.ts";
import { defaultPolicy } from "../runtime/specialiser/policy.ts";
import { jitdump } from "../runtime/x64/jitdump.ts";
import { x64Supported } from "../runtime/x64/memory.ts";

const root = new URL("../", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "futamura-jitdump-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Load {
  name: string;
  address: bigint;
  code: Uint8Array;
}

/** The header's fields and the code-load records of a jitdump file. */
function parse(bytes: Uint8Array) {
  const b = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const loads: Load[] = [];
  const debug: { address: bigint; entries: number }[] = [];
  for (let at = b.getUint32(8, true); at < bytes.length;) {
    const [id, size] = [b.getUint32(at, true), b.getUint32(at + 4, true)];
    if (id === 2) {
      // (debug info: the code's address, then that many entries of address, line, file)
      const address = b.getBigUint64(at + 16, true);
      debug.push({ address, entries: Number(b.getBigUint64(at + 24, true)) });
      at += size;
      continue;
    }
    expect(id).toBe(0);
    const codeSize = Number(b.getBigUint64(at + 40, true));
    const nameEnd = bytes.indexOf(0, at + 56);
    loads.push({
      name: new TextDecoder().decode(bytes.subarray(at + 56, nameEnd)),
      address: b.getBigUint64(at + 24, true),
      code: bytes.slice(nameEnd + 1, nameEnd + 1 + codeSize),
    });
    expect(nameEnd + 1 + codeSize).toBe(at + size);
    at += size;
  }
  const [magic, version, pid] = [0, 4, 20].map((o) => b.getUint32(o, true));
  return { magic, version, pid, loads, debug };
}

/** Whether `perf record` can sample here (a container may forbid it). */
function perfWorks(): boolean {
  const r = spawnSync("perf", [
    "record",
    "-q",
    "-e",
    "cpu-clock",
    "-o",
    join(dir, "probe"),
    "--",
    "true",
  ]);
  return r.status === 0;
}

describe.runIf(x64Supported)("perf's jitdump of the machine code", () => {
  it("holds every byte of every compilation, a record per graph, at its address", () => {
    const tl = langs.tl!;
    const code = tl.load(readFileSync(root + "interpreters/programs/call.tl", "latin1"), "call.tl");
    const jit = new Jit(
      graphsOf(tl),
      tl.entry,
      code,
      { policy: defaultPolicy, target: "x64" },
      nativeFactory,
    );
    try {
      expect(jit.run(1000).k).toBe("return");
      const native = jit.nativeModule!;
      const { bytes, sources } = jitdump(native, 4242, "/src");
      const dump = parse(bytes);
      expect([dump.magic, dump.version, dump.pid]).toEqual([0x4a695444, 1, 4242]);
      // every compilation's bytes, in order, under a name per function
      const joined = (loads: Load[]) => Buffer.concat(loads.map((l) => l.code));
      const made = native.compilations.map((c) => c.code.read(c.at, c.size));
      expect(joined(dump.loads).equals(Buffer.concat(made))).toBe(true);
      const names = new Set(dump.loads.map((l) => l.name));
      for (const f of native.compilations.flatMap((c) => c.marks.map((m) => m.f?.name)))
        if (f !== undefined) expect(names).toContain(`@${f}`);
      // a debug record before each load, a line per residual operation in its source file
      expect(dump.debug.map((d) => d.address)).toEqual(dump.loads.map((l) => l.address));
      const files = [...sources.values()];
      expect(dump.debug.map((d) => d.entries)).toEqual(files.map((t) => t.split("\n").length - 1));
      expect(files.join("")).toMatch(/int_add|jump|return/);
      // (each record's code is what is at its address)
      for (const l of dump.loads) {
        const c = native.compilations.find(
          (c) =>
            l.address >= c.code.address + BigInt(c.at) &&
            l.address < c.code.address + BigInt(c.at + c.size),
        )!;
        const off = Number(l.address - c.code.address);
        expect(Buffer.from(c.code.read(off, l.code.length)).equals(Buffer.from(l.code))).toBe(true);
      }
    } finally {
      jit.free();
    }
  });

  it.runIf(x64Supported && perfWorks())(
    "perf inject --jit names the samples in compiled code, and perf annotate disassembles it",
    () => {
      const data = join(dir, "perf.data");
      const injected = join(dir, "perf.jit.data");
      const run = spawnSync(
        "perf",
        [
          "record",
          "-q",
          "-k",
          "1",
          "-e",
          "cpu-clock",
          "-o",
          data,
          "--",
          process.execPath,
          root + "generator/futamura.mjs",
          "run",
          "tl",
          root + "interpreters/programs/loop.tl",
          "300000000",
          "--backend",
          "x64",
        ],
        { env: { ...process.env, FUTAMURA_JITDUMP: "1" }, encoding: "utf8" },
      );
      expect(run.status, run.stderr).toBe(0);
      execFileSync("perf", ["inject", "--jit", "-i", data, "-o", injected], { cwd: dir });
      expect(existsSync(injected)).toBe(true);
      const report = execFileSync(
        "perf",
        ["report", "-i", injected, "--stdio", "--sort", "symbol"],
        {
          encoding: "utf8",
          maxBuffer: 1 << 26,
        },
      );
      const line = report.split("\n").find((l) => /@execute\$\d+/.test(l));
      expect(line, report.slice(0, 2000)).toBeDefined();
      const symbol = /(@execute\$\d+)/.exec(line!)![1]!;
      const annotated = execFileSync(
        "perf",
        ["annotate", "-i", injected, "--stdio", "-s", symbol],
        { encoding: "utf8", maxBuffer: 1 << 26 },
      );
      expect(annotated).toContain(`<${symbol}>:`);
      expect(annotated).toMatch(/\badd\b/);
      // (the residual operations above their instructions, as source lines)
      expect(annotated).toMatch(/int_add/);
    },
    120_000,
  );
});
