// futamura as a package a project depends on. `npm pack` makes the package of this checkout (its
// JavaScript built by `npm run build`); a project in a temporary folder outside this repository
// installs it, and docs/GUIDE.md is run there as it is written: its files written, its shell
// commands run line by line (each must succeed; one whose comment starts with numbers must
// print them). Then the same project's interpreter, which is in none of futamura's files, is
// run with and without its loader on every backend against `interp`, made stale, and fuzzed.

import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "../generator/backends.ts";

const root = new URL("../", import.meta.url).pathname;
const guide = readFileSync(root + "docs/GUIDE.md", "utf8");
const version = (JSON.parse(readFileSync(root + "package.json", "utf8")) as { version: string })
  .version;
const dir = mkdtempSync(join(tmpdir(), "futamura-package-"));
/** The project the guide makes. */
const project = join(dir, "acc");

/** The guide's code blocks, in order. */
const blocks = [...guide.matchAll(/```(ts|js|sh)\n([\s\S]*?)```/g)].map((m) => ({
  lang: m[1]!,
  text: m[2]!,
}));

interface Result {
  code: number;
  out: string;
  err: string;
}

/** A shell command line in `cwd`: its exit status, output and errors (run asynchronously, so
 *  that the test's worker goes on answering vitest meanwhile). */
function sh(cwd: string, command: string): Promise<Result> {
  return new Promise((resolve) => {
    execFile("bash", ["-ec", command], { cwd, timeout: 300_000 }, (e, out, err) =>
      resolve({ code: e ? (typeof e.code === "number" ? e.code : -1) : 0, out, err }),
    );
  });
}

beforeAll(() => {
  // The checkout the guide names, `../futamura`, holds the package's tarball.
  mkdirSync(join(dir, "futamura"));
  execFileSync("npm", ["pack", "--silent", "--pack-destination", join(dir, "futamura")], {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
  });
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a project depending on the packed futamura", () => {
  it("runs every command of docs/GUIDE.md as written", async () => {
    expect(guide).toContain(`futamura-${version}.tgz`);
    let cwd = dir;
    let commands = 0;
    for (const b of blocks) {
      if (b.lang !== "sh") {
        // The first line names the file: `// acc.ts: ...`, `// futamura.ts`, `// main.js`.
        const file = /^\/\/ ([\w.-]+\.[jt]s)\b/.exec(b.text)?.[1];
        expect(file, b.text.slice(0, 60)).toBeDefined();
        writeFileSync(join(cwd, file!), b.text);
        continue;
      }
      for (const line of b.text.split("\n").filter((l) => l.trim() !== "")) {
        const [command, comment] = line.split(/\s+#\s+/);
        // The folder a command ends in is where the next runs (`cd` in the guide).
        const r = await sh(cwd, `${command}\necho "@@$(pwd)"`);
        expect(r.code, `${line}\n${r.err}`).toBe(0);
        const at = r.out.lastIndexOf("@@");
        cwd = r.out.slice(at + 2).trim();
        const expected = /^(\d+(?: \d+)*)/.exec(comment ?? "")?.[1];
        if (expected !== undefined)
          expect(r.out.slice(0, at).split("\n")[0]!.startsWith(expected), line).toBe(true);
        commands++;
      }
    }
    expect(commands).toBeGreaterThan(10);
    expect(cwd).toBe(project);
  }, 600_000);

  // The project as the guide left it: acc.ts, its descriptor (a loader), generated/.
  const run = (...argv: string[]) => sh(project, `npx futamura ${argv.join(" ")}`);

  it("gives interp's answers on every backend, with the loader and without", async () => {
    // Without a loader: the interpreter alone in a folder of its own, its files' bytes the code.
    const plain = join(project, "plain");
    mkdirSync(plain);
    writeFileSync(join(plain, "acc.ts"), readFileSync(join(project, "acc.ts")));
    writeFileSync(join(plain, "count.bin"), Uint8Array.of(1, 1, 2, 3, 4));
    expect((await run("generate", "plain/acc.ts")).code).toBe(0);
    for (const [interpreter, program, n] of [
      ["acc.ts", "sum.acc", "1000"],
      ["acc.ts", "sum.acc", "3"],
      ["plain/acc.ts", "plain/count.bin", "77"],
      ["plain/acc.ts", "sum.bin", "2000000"],
    ] as const) {
      const want = await run("run", interpreter, program, n, "--backend", "interp");
      expect(want.code, want.err).toBe(0);
      for (const b of Object.keys(backends))
        expect(await run("run", interpreter, program, n, "--backend", b), b).toEqual(want);
    }
    // The view of a run: its page whole (the script and style the package carries inlined).
    const viewed = await run("view", "acc.ts", "sum.acc", "1000", "-o", "sum.html");
    expect(viewed).toEqual({ code: 0, out: "wrote sum.html\n", err: "" });
    const html = readFileSync(join(project, "sum.html"), "utf8");
    expect(html).toMatch(/<script>\n\/\/ futamura view[^]*function h\(/);
    expect(html).toMatch(/<style>\n[^]*--green:/);
    // A loader's error, the same from every backend: exit 2, file and word named.
    writeFileSync(join(project, "bad.acc"), "ADD JUMP");
    for (const b of ["interp", "jit"])
      expect(await run("run", "acc.ts", "bad.acc", "1", "--backend", b)).toEqual({
        code: 2,
        out: "",
        err: "bad.acc: word 2: unknown 'JUMP'\n",
      });
  }, 300_000);

  it("refuses stale build products on every backend, and check says so, until generate", async () => {
    const source = join(project, "acc.ts");
    const before = readFileSync(source, "utf8");
    // The reliability issue's edit: a changed result, not regenerated.
    writeFileSync(
      source,
      before.replace("return acc;\n      default", "return (acc + 1) | 0;\n      default"),
    );
    try {
      for (const b of Object.keys(backends)) {
        const r = await run("run", "acc.ts", "sum.acc", "10", "--backend", b);
        expect(r.code, b).toBe(2);
        expect(r.out, b).toBe("");
        expect(r.err, b).toMatch(/another version of .*acc\.ts.*futamura generate/);
      }
      const check = await run("check", "acc.ts");
      expect(check.code).toBe(1);
      expect(check.err).toMatch(/stale: generated\/.* run `futamura generate acc.ts`/);
      expect((await run("generate", "acc.ts")).code).toBe(0);
      for (const b of Object.keys(backends))
        expect((await run("run", "acc.ts", "sum.acc", "10", "--backend", b)).out, b).toBe("56\n");
    } finally {
      writeFileSync(source, before);
      expect((await run("generate", "acc.ts")).code).toBe(0);
    }
  }, 300_000);

  it("is fuzzed: 300 programs agree on every backend", async () => {
    const r = await run("fuzz", "acc.ts", "--count", "300", "--seed", "7");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/: 300 programs, seed 7, .*: all agree/);
  }, 600_000);

  it("runs as JavaScript: no TypeScript transformer is installed or needed", async () => {
    expect(existsSync(join(project, "node_modules/tsx"))).toBe(false);
    expect(await run("--version")).toEqual({ code: 0, out: `futamura ${version}\n`, err: "" });
    expect(existsSync(join(project, "generated/js/acc.js"))).toBe(true);
    expect(existsSync(join(project, "generated/js/futamura.js"))).toBe(true);
  }, 60_000);
});
