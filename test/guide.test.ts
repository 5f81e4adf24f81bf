// docs/GUIDE.md is run as it is written: its TypeScript blocks are written to the files their
// first line names, its shell blocks run line by line in a temporary folder outside this
// repository (beside a `futamura` link to this checkout, as the guide's imports expect), each
// command must succeed, and a command whose comment starts with a number must print it.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";

const root = new URL("../", import.meta.url).pathname;
const guide = readFileSync(root + "docs/GUIDE.md", "utf8");
const dir = mkdtempSync(join(tmpdir(), "futamura-guide-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The guide's code blocks, in order. */
const blocks = [...guide.matchAll(/```(ts|sh)\n([\s\S]*?)```/g)].map((m) => ({
  lang: m[1]!,
  text: m[2]!,
}));

it("every command of docs/GUIDE.md runs as written", () => {
  symlinkSync(root.replace(/\/$/, ""), join(dir, "futamura"));
  let cwd = dir;
  let commands = 0;
  for (const b of blocks) {
    if (b.lang === "ts") {
      // The first line names the file: `// acc.ts: ...` or `// futamura.ts`.
      const file = /^\/\/ ([\w.-]+\.ts)\b/.exec(b.text)?.[1];
      expect(file, b.text.slice(0, 60)).toBeDefined();
      writeFileSync(join(cwd, file!), b.text);
      continue;
    }
    for (const line of b.text.split("\n").filter((l) => l.trim() !== "")) {
      const [command, comment] = line.split(/\s+#\s+/);
      // The folder a command ends in is where the next runs (`cd` in the guide).
      const out = execFileSync(
        "bash",
        [
          "-ec",
          `futamura() { node ${JSON.stringify(root + "generator/futamura.mjs")} "$@"; }\n${command}\necho "@@$(pwd)"`,
        ],
        { cwd, encoding: "utf8", timeout: 120_000 },
      );
      const at = out.lastIndexOf("@@");
      cwd = out.slice(at + 2).trim();
      const printed = out.slice(0, at);
      const expected = /^(\d+)/.exec(comment ?? "")?.[1];
      if (expected !== undefined) expect(printed.split("\n")[0], line).toBe(expected);
      commands++;
    }
  }
  expect(commands).toBeGreaterThan(5);
}, 300_000);
