// The `futamura` command-line contract (generator/cli/main.ts):
//   exit 0: stdout is exactly the value and a newline, stderr is empty;
//   exit 1: an interpreter error, stderr is exactly `error: <message>\n`, stdout is empty;
//   exit 2: a usage error (`usage: ...`) or a load error (`file:line: message`);
//   exit 3: an internal failure of the tool (`internal error: ...`).
// Most cases call `main` in-process with fake streams; a few spawn the real bin shim, for what
// only a real process shows: its exit status and the separation of stdout from stderr.

import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_BACKEND, backends, runProgram, type Backend } from "../generator/backends.ts";
import { main } from "../generator/cli/main.ts";
import { examples } from "../generator/cli/start.ts";
import { langs, graphsOf } from "../generator/language.ts";
import { parseModule } from "../runtime/ir/parse.ts";
import { printModule } from "../runtime/ir/print.ts";

const root = new URL("../", import.meta.url).pathname;
const SQUARE = root + "interpreters/programs/square.tlr"; // example: 7 -> 49
const LOOP = root + "interpreters/programs/loop.tl"; // 1 + 2 + ... + arg
const CALL = root + "interpreters/programs/call.tl"; // arg * 42 by nested CALLs
const BACKENDS = Object.keys(backends);

/** A stream that remembers what was written to it (strings, or bytes as latin1). */
function capture(): { stream: NodeJS.WritableStream; text: () => string } {
  let text = "";
  const stream = {
    write(chunk: string | Uint8Array) {
      text += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("latin1");
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  return { stream, text: () => text };
}

interface Result {
  code: number;
  out: string;
  err: string;
}

/** `futamura ...argv`, in-process. */
async function cli(...argv: string[]): Promise<Result> {
  const out = capture();
  const err = capture();
  const code = await main(argv, out.stream, err.stream);
  return { code, out: out.text(), err: err.text() };
}

/** `futamura ...argv` as a real process through the bin shim. */
function spawnCli(...argv: string[]): Promise<Result> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [root + "generator/futamura.mjs", ...argv],
      { cwd: root, timeout: 60_000 },
      (e, out, err) => {
        if (e && typeof e.code !== "number") return reject(e);
        resolve({ code: e ? (e.code as number) : 0, out, err });
      },
    );
  });
}

let dir = "";
/** Program files written to the temporary directory; `file(name)` is the path. */
const programs: Record<string, string> = {
  "bad-op.tlr": ".byte 99 # not an opcode\n",
  "bad-op.tl": ".byte 99 # not an opcode\n",
  "neg.tl": "PUSHARG\nPUSH 10\nSUB\nRETURN\n", // arg - 10
  "neg.tlr": "NEG_A\nRETURN_A\n", // -arg
  "inf.tl": "top: PUSH 1\nBR_COND top\n",
  "inf.tlr": "SET_A 1\ntop: JUMP_IF_A top\n",
  "three.tlr": "SET_A 5\nNEG_A\nRETURN_A\n", // 3 steps, -5
  "call.tl": "CALL f\nRETURN\nf: PUSH 7\nRETURN\n", // CALL, PUSH 7, RETURN (callee), RETURN: 4 steps, 7
  "bad-asm.tl": "PUSH 1\nFROB 2\nRETURN\n",
  "bad-operand.tlr": "SET_A 300\n",
};
const file = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "futamura-cli-"));
  for (const [name, text] of Object.entries(programs)) writeFileSync(file(name), text);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("exit 0: success", () => {
  it("stdout is exactly the value and a newline; stderr is empty", async () => {
    expect(await cli("run", "tlr", SQUARE, "7")).toEqual({ code: 0, out: "49\n", err: "" });
    expect(await cli("run", "tl", LOOP, "100")).toEqual({ code: 0, out: "5050\n", err: "" });
  });

  it("on every backend", async () => {
    for (const b of BACKENDS) {
      expect(await cli("run", "tlr", SQUARE, "7", "--backend", b), b).toEqual({
        code: 0,
        out: "49\n",
        err: "",
      });
      expect(await cli("run", "tl", CALL, "5", `--backend=${b}`), b).toEqual({
        code: 0,
        out: "210\n",
        err: "",
      });
    }
  });

  it("negative arguments are arguments, not options, before or after the options", async () => {
    expect(await cli("run", "tl", file("neg.tl"), "-2")).toEqual({
      code: 0,
      out: "-12\n",
      err: "",
    });
    expect(await cli("run", "tlr", file("neg.tlr"), "-2")).toEqual({
      code: 0,
      out: "2\n",
      err: "",
    });
    for (const b of BACKENDS) {
      expect(await cli("run", "tl", file("neg.tl"), "-2", "--backend", b), b).toEqual({
        code: 0,
        out: "-12\n",
        err: "",
      });
      expect(await cli("run", "--backend", b, "tl", file("neg.tl"), "-2"), b).toEqual({
        code: 0,
        out: "-12\n",
        err: "",
      });
    }
  });

  it("the 32-bit range is inclusive at both ends", async () => {
    expect(await cli("run", "tlr", file("neg.tlr"), "2147483647")).toEqual({
      code: 0,
      out: "-2147483647\n",
      err: "",
    });
    // -INT_MIN wraps to INT_MIN
    expect(await cli("run", "tlr", file("neg.tlr"), "-2147483648")).toEqual({
      code: 0,
      out: "-2147483648\n",
      err: "",
    });
    expect(await cli("run", "tl", file("neg.tl"), "-2147483648")).toEqual({
      code: 0,
      out: "2147483638\n",
      err: "",
    });
  });

  it("--help prints the usage to stdout", async () => {
    const r = await cli("--help");
    expect(r.code).toBe(0);
    expect(r.err).toBe("");
    expect(r.out).toMatch(/^futamura \d+\.\d+\.\d+: /);
    expect(r.out).toContain("futamura run <interpreter> <program-file>");
    for (const b of BACKENDS) expect(r.out).toContain(b);
    expect((await cli("-h")).code).toBe(0);
  });

  it("--help after any command prints that command's usage and does nothing else", async () => {
    for (const command of [
      "run",
      "graphs",
      "fuzz",
      "bta",
      "explain",
      "bench",
      "generate",
      "check",
      "start",
    ])
      for (const flag of ["--help", "-h"]) {
        const r = await cli(command, flag);
        expect(r, `${command} ${flag}`).toEqual({
          code: 0,
          out: expect.stringMatching(new RegExp(`^usage: futamura ${command}\\b`)),
          err: "",
        });
      }
    // Even with other arguments: `generate --help` writes nothing.
    const r = await cli("run", "tlr", SQUARE, "7", "--backend", "jit", "--help");
    expect(r.out).toMatch(/^usage: futamura run /);
  });

  it("--version prints the package's version", async () => {
    const { version } = JSON.parse(readFileSync(root + "package.json", "utf8")) as {
      version: string;
    };
    for (const flag of ["--version", "-v"])
      expect(await cli(flag)).toEqual({ code: 0, out: `futamura ${version}\n`, err: "" });
  });
});

describe("exit 1: interpreter errors", () => {
  it("malformed bytecode (an unknown opcode) in TLR and TL, on every backend", async () => {
    for (const b of BACKENDS) {
      for (const name of ["bad-op.tlr", "bad-op.tl"]) {
        const lang = name.endsWith(".tl") ? "tl" : "tlr";
        expect(await cli("run", lang, file(name), "0", "--backend", b), `${name} on ${b}`).toEqual({
          code: 1,
          out: "",
          err: "error: unknown opcode\n",
        });
      }
    }
  });
});

describe("exit 2: usage errors", () => {
  /** Expects exit 2, nothing on stdout, and exactly one stderr line starting with `prefix`. */
  async function usage(argv: string[], prefix: string): Promise<void> {
    const r = await cli(...argv);
    expect(r.code, argv.join(" ")).toBe(2);
    expect(r.out, argv.join(" ")).toBe("");
    expect(r.err.startsWith(prefix), `${argv.join(" ")}: ${r.err}`).toBe(true);
    expect(r.err.endsWith("\n") && r.err.indexOf("\n") === r.err.length - 1, r.err).toBe(true);
  }

  it("unknown language: neither a shorthand nor a file", async () => {
    await usage(
      ["run", "cobol", SQUARE, "7"],
      "cobol: no such interpreter (neither a file nor one of ",
    );
    expect((await cli("run", "cobol", SQUARE, "7")).err).toContain(Object.keys(langs).join(", "));
  });

  it("unknown backend, naming the known ones", async () => {
    await usage(
      ["run", "tlr", SQUARE, "7", "--backend", "llvm"],
      "usage: unknown backend 'llvm' (",
    );
    expect((await cli("run", "tlr", SQUARE, "7", "--backend", "llvm")).err).toContain(
      BACKENDS.join(", "),
    );
  });

  it("missing arguments", async () => {
    await usage(["run", "tlr", SQUARE], "usage: tlr programs take one integer argument");
    await usage(["run", "tlr"], "usage: run <interpreter> <program-file>");
    await usage(["run"], "usage: run <interpreter> <program-file>");
    await usage(["run", "tlr", SQUARE, "1", "2"], "usage: tlr programs take one integer argument");
  });

  it("non-integer arguments", async () => {
    for (const a of ["abc", "1.5", "0x10", "1e3", "", "7a", "+7"])
      await usage(["run", "tlr", SQUARE, a], `usage: argument '${a}' is not an integer`);
  });

  it("arguments out of the 32-bit range", async () => {
    await usage(
      ["run", "tlr", SQUARE, "2147483648"],
      "usage: argument 2147483648 is out of the 32-bit range",
    );
    await usage(
      ["run", "tlr", SQUARE, "-2147483649"],
      "usage: argument -2147483649 is out of the 32-bit range",
    );
    await usage(
      ["run", "tlr", SQUARE, "99999999999999999999"],
      "usage: argument 99999999999999999999 is out of the 32-bit range",
    );
  });

  it("bad --fuel", async () => {
    for (const f of ["abc", "1.5", "-1", "1e3", "", "9007199254740992"])
      await usage(
        ["run", "tlr", SQUARE, "7", "--fuel", f],
        "usage: --fuel takes a non-negative integer",
      );
    await usage(
      ["run", "tlr", SQUARE, "7", "--fuel=x"],
      "usage: --fuel takes a non-negative integer, not 'x'",
    );
    await usage(["run", "tlr", SQUARE, "7", "--fuel"], "usage: ");
  });

  it("a bad --fuel value is quoted as given", async () => {
    // Fails today: negative numbers are hidden from parseArgs behind a NUL marker, which leaks
    // into the value of an option: "usage: --fuel takes a non-negative integer, not '\0-1'".
    const r = await cli("run", "tlr", SQUARE, "7", "--fuel", "-1");
    expect(r.err).toBe("usage: --fuel takes a non-negative integer, not '-1'\n");
  });

  it("unknown options, commands and --stats values", async () => {
    await usage(["run", "tlr", SQUARE, "7", "--frob"], "usage: Unknown option '--frob'");
    await usage(
      ["run", "tlr", SQUARE, "7", "--stats=xml"],
      "usage: --stats takes no value or =json",
    );
    await usage(["frobnicate"], "usage: unknown command 'frobnicate'");
  });

  it("an unknown option of `graphs` is a usage error too", async () => {
    // Fails today: graphsCommand calls parseArgs without turning its TypeError into a
    // UsageError, so this exits 3 with "internal error: Unknown option '--bogus'...".
    const r = await cli("graphs", "interpreters/tlr.ts", "--bogus");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^usage: /);
  });

  it("a dump the backend does not have", async () => {
    await usage(
      ["run", "tlr", SQUARE, "7", "--backend", "graph", "--dump", "residual"],
      "usage: backend graph can dump graphs, not 'residual'",
    );
    await usage(
      ["run", "tlr", SQUARE, "7", "--backend", "pe", "--dump", "bytes"],
      "usage: backend pe can dump residual, not 'bytes'",
    );
    await usage(
      ["run", "tlr", SQUARE, "7", "--dump", "graphs"],
      `usage: backend ${DEFAULT_BACKEND} can dump residual${DEFAULT_BACKEND === "jit" ? ", asm" : ""}, not 'graphs'`,
    );
  });

  it("no command prints the usage and exits 2", async () => {
    const r = await cli();
    expect(r.code).toBe(2);
    expect(r.out + r.err).toContain("futamura run <interpreter> <program-file>");
  });
});

describe("exit 2: load errors", () => {
  it("an unreadable program file", async () => {
    expect(await cli("run", "tl", file("missing.tl"), "1")).toEqual({
      code: 2,
      out: "",
      err: `${file("missing.tl")}: cannot read: ENOENT\n`,
    });
    expect(await cli("run", "tl", dir, "1")).toEqual({
      code: 2,
      out: "",
      err: `${dir}: cannot read: EISDIR\n`,
    });
  });

  it("bad assembly, as file:line: message", async () => {
    expect(await cli("run", "tl", file("bad-asm.tl"), "1")).toEqual({
      code: 2,
      out: "",
      err: `${file("bad-asm.tl")}:2: unknown mnemonic 'FROB'\n`,
    });
    expect(await cli("run", "tlr", file("bad-operand.tlr"), "1")).toEqual({
      code: 2,
      out: "",
      err: `${file("bad-operand.tlr")}:1: operand 300 out of range 0..255\n`,
    });
  });
});

describe("exit 3: internal errors", () => {
  it("a backend that fails with a plain Error", async () => {
    const boom: Backend = {
      name: "boom",
      dumps: [],
      run() {
        throw new Error("the backend broke");
      },
    };
    const debug = process.env.FUTAMURA_DEBUG;
    delete process.env.FUTAMURA_DEBUG;
    backends.boom = boom;
    try {
      expect(await cli("run", "tlr", SQUARE, "7", "--backend", "boom")).toEqual({
        code: 3,
        out: "",
        err: "internal error: the backend broke\n",
      });
    } finally {
      delete backends.boom;
      if (debug !== undefined) process.env.FUTAMURA_DEBUG = debug;
    }
    expect(Object.keys(backends)).toEqual(BACKENDS);
  });

  it("FUTAMURA_DEBUG adds the stack", async () => {
    const debug = process.env.FUTAMURA_DEBUG;
    process.env.FUTAMURA_DEBUG = "1";
    backends.boom = {
      name: "boom",
      dumps: [],
      run: () => Promise.reject(new Error("async failure")),
    };
    try {
      const r = await cli("run", "tlr", SQUARE, "7", "--backend", "boom");
      expect(r.code).toBe(3);
      expect(r.out).toBe("");
      expect(r.err).toMatch(/^internal error: Error: async failure\n\s+at /);
    } finally {
      delete backends.boom;
      if (debug === undefined) delete process.env.FUTAMURA_DEBUG;
      else process.env.FUTAMURA_DEBUG = debug;
    }
  });
});

describe("--fuel", () => {
  it("an infinite loop stops with `step limit exceeded` on every backend", async () => {
    for (const b of BACKENDS) {
      for (const [lang, name] of [
        ["tl", "inf.tl"],
        ["tlr", "inf.tlr"],
      ] as const) {
        expect(
          await cli("run", lang, file(name), "0", "--fuel", "1000", "--backend", b),
          `${name} on ${b}`,
        ).toEqual({
          code: 1,
          out: "",
          err: "error: step limit exceeded\n",
        });
      }
    }
  });

  // Each executed instruction passes the merge point once; in TL a callee's instructions pass
  // its own merge point too.
  const counted: { lang: string; path: () => string; arg: string; steps: number; value: string }[] =
    [
      { lang: "tlr", path: () => file("three.tlr"), arg: "0", steps: 3, value: "-5" },
      // CALL, PUSH 7 and RETURN in the callee, RETURN
      { lang: "tl", path: () => file("call.tl"), arg: "0", steps: 4, value: "7" },
      // 5 instructions before the loop, 9 per trip, 2 after it
      { lang: "tlr", path: () => SQUARE, arg: "2", steps: 5 + 9 * 2 + 2, value: "4" },
      // 4 before the loop, 8 per trip, POP and RETURN
      { lang: "tl", path: () => LOOP, arg: "3", steps: 4 + 8 * 3 + 2, value: "6" },
      // 2 before the loop; per trip PICK, BR_COND, SWAP, CALL answer, then in answer CALL six,
      // (PUSH 6, RETURN in six), PUSH 7, MUL, RETURN, then ADD, SWAP, PUSH, SUB, PUSH, BR_COND;
      // PICK, BR_COND, POP, RETURN at the end
      { lang: "tl", path: () => CALL, arg: "2", steps: 2 + (4 + 6 + 6) * 2 + 4, value: "84" },
    ];
  for (const c of counted) {
    it(`${c.lang} ${c.path().split("/").pop() ?? ""} ${c.arg}: ${c.steps} steps succeed, ${c.steps - 1} do not, on every backend`, async () => {
      for (const b of BACKENDS) {
        const run = (fuel: number) =>
          cli("run", c.lang, c.path(), c.arg, "--fuel", String(fuel), "--backend", b);
        expect(await run(c.steps), b).toEqual({ code: 0, out: `${c.value}\n`, err: "" });
        expect(await run(c.steps - 1), b).toEqual({
          code: 1,
          out: "",
          err: "error: step limit exceeded\n",
        });
      }
    });
  }

  it("--fuel 0 stops before the first instruction; a large budget changes nothing", async () => {
    for (const b of BACKENDS) {
      expect(
        await cli("run", "tlr", file("three.tlr"), "0", "--fuel", "0", "--backend", b),
        b,
      ).toEqual({
        code: 1,
        out: "",
        err: "error: step limit exceeded\n",
      });
      expect(await cli("run", "tlr", SQUARE, "7", "--fuel=1000000", "--backend", b), b).toEqual({
        code: 0,
        out: "49\n",
        err: "",
      });
    }
  });
});

describe("--stats and --dump go to stderr", () => {
  it("--stats prints name: value lines; stdout is unchanged", async () => {
    const r = await cli("run", "tlr", SQUARE, "7", "--stats");
    expect(r.code).toBe(0);
    expect(r.out).toBe("49\n");
    expect(r.err).toMatch(new RegExp(`^backend: ${DEFAULT_BACKEND}\n`, "m"));
    expect(r.err).toMatch(/^lang: tlr$/m);
    expect(r.err).toMatch(/^runMs: [\d.]+$/m);
  });

  it("--stats=json prints one JSON object, on every backend", async () => {
    for (const b of BACKENDS) {
      const r = await cli("run", "tl", LOOP, "100", "--stats=json", "--backend", b);
      expect(r.code, b).toBe(0);
      expect(r.out, b).toBe("5050\n");
      expect(r.err.endsWith("\n") && r.err.indexOf("\n") === r.err.length - 1, r.err).toBe(true);
      const stats = JSON.parse(r.err);
      expect(stats).toMatchObject({ backend: b, lang: "tl" });
      expect(typeof stats.runMs).toBe("number");
    }
  });

  it("--stats on an interpreter error still prints the stats, then the error", async () => {
    const r = await cli("run", "tl", file("bad-op.tl"), "0", "--stats=json");
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    const [json, error, ...rest] = r.err.split("\n");
    expect(JSON.parse(json!)).toMatchObject({ backend: DEFAULT_BACKEND, lang: "tl" });
    expect(error).toBe("error: unknown opcode");
    expect(rest).toEqual([""]);
  });

  it("when the first specialisation gives up, --stats counts what it did", async () => {
    // 2.2 million commands: more operations than one specialisation may process (maxOps).
    const big = "+-<>".repeat(550_000) + ">";
    writeFileSync(join(dir, "long.b"), big);
    for (const b of ["pe", "x64"].filter((x) => BACKENDS.includes(x))) {
      const r = await cli(
        ...["run", "bf", join(dir, "long.b"), "--stats=json", "--backend", b],
        ...["--fuel", "1000000"],
      );
      const stats = JSON.parse(r.err.split("\n")[0]!);
      expect(stats.fallback, b).toMatch(/more than \d+ operations/);
      expect(stats.opsSeen, b).toBeGreaterThan(100_000);
      expect(stats.specialiseMs, b).toBeGreaterThan(0);
      expect(stats.interpreterMs, b).toBeGreaterThan(0);
      expect(stats.nativeMs, b).toBeUndefined();
    }
  });

  it("--dump graphs (backend graph) prints the interpreter's graphs", async () => {
    const r = await cli("run", "tlr", SQUARE, "7", "--backend", "graph", "--dump", "graphs");
    expect(r.code).toBe(0);
    expect(r.out).toBe("49\n");
    expect(r.err).toBe(printModule(graphsOf(langs.tlr!)));
    expect(r.err).toContain("merge_point");
  });

  it("--dump residual prints the residual graphs: the same for pe and x64 (eager), and for jit-graph those made as the run got hot", async () => {
    const pe = await cli("run", "tl", LOOP, "100", "--backend", "pe", "--dump", "residual");
    expect(pe.code).toBe(0);
    expect(pe.out).toBe("5050\n");
    expect(pe.err).toContain("func @interpret");
    const m = parseModule(pe.err);
    expect(printModule(m, { at: true })).toBe(pe.err);
    if (backends.x64) {
      const x64 = await cli("run", "tl", LOOP, "100", "--backend", "x64", "--dump=residual");
      expect(x64).toEqual({ code: 0, out: "5050\n", err: pe.err });
    }
    const tiered = await cli(
      "run",
      ...["tl", LOOP, "100", "--backend", "jit-graph", "--dump=residual", "--threshold", "10"],
    );
    expect(tiered.out).toBe("5050\n");
    const graphs = parseModule(tiered.err).graphs.map((g) => g.name);
    // The loop got hot in the first tier: a graph entering it there.
    expect(graphs[0]).toBe("execute$h1");
    // Nothing compiles in a run shorter than the threshold.
    const cold = await cli("run", "tl", LOOP, "100", "--backend", "jit-graph", "--dump=residual");
    expect(cold).toEqual({ code: 0, out: "5050\n", err: "" });
  });
});

describe("every example program gives its expected result on every backend", () => {
  const list = examples();
  it("there are examples for TLR and TL", () => {
    expect(list.some((e) => e.lang === "tlr")).toBe(true);
    expect(list.some((e) => e.lang === "tl")).toBe(true);
  });
  for (const ex of list) {
    it(`${ex.file} ${ex.arg} -> ${ex.expect}`, async () => {
      const lang = langs[ex.lang]!;
      const code = lang.load(readFileSync(root + ex.file, "latin1"), ex.file);
      for (const b of BACKENDS) {
        const r = await runProgram(backends[b]!, lang, code, ex.arg);
        expect(r.error !== undefined ? `error: ${r.error}` : String(r.value), b).toBe(ex.expect);
      }
    });
  }
});

describe("the bin shim, as a real process", () => {
  it("exit 0: the value on stdout, --stats=json on stderr", async () => {
    const r = await spawnCli("run", "tlr", SQUARE, "7", "--stats=json", "--backend", "jit-graph");
    expect(r.code).toBe(0);
    expect(r.out).toBe("49\n");
    expect(JSON.parse(r.err)).toMatchObject({ backend: "jit-graph", lang: "tlr" });
  });

  it("exit 1: the error on stderr only", async () => {
    expect(await spawnCli("run", "tl", file("bad-op.tl"), "-3")).toEqual({
      code: 1,
      out: "",
      err: "error: unknown opcode\n",
    });
  });

  it("exit 2: a usage error on stderr only", async () => {
    const r = await spawnCli("run", "tlr", SQUARE, "7", "--backend", "llvm");
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/^usage: unknown backend 'llvm' \(.*\)\n$/);
  });
});
