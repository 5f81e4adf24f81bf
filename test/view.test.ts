// `futamura view` (generator/view/): the data a page is made of agrees with the run (what is
// counted by position is what the residual code and machine code hold; the `leave` events'
// times add up to the stats' time in compiled code), and the page itself, rendered in a real
// headless Chromium (Debian's, driven by playwright-core), has no console errors, and clicking
// a position of the program shows its residual operations and machine code, and a residual
// operation its interpreter source line. Screenshots go to a temporary folder, and to
// docs/images/ (which the README shows) with FUTAMURA_BLESS=1.

import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { backends } from "../generator/backends.ts";
import { main } from "../generator/cli/main.ts";
import { langs } from "../generator/language.ts";
import type { ViewData } from "../generator/view/data.ts";
import { gather } from "../generator/view/gather.ts";
import { x64Supported } from "../runtime/x64/memory.ts";

const root = new URL("../", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "futamura-view-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const backend = x64Supported ? "jit" : "jit-graph";
const mandelbrot = join(root, "../shared/programs/bf/mandelbrot.b");

async function viewOf(lang: string, file: string, args: number[], threshold?: number) {
  const l = langs[lang]!;
  const code = l.load(readFileSync(file, "latin1"), file);
  return gather({
    lang: l,
    program: file,
    code,
    args,
    backend: backends[backend]!,
    ...(threshold ? { options: { tiers: { threshold } } } : {}),
  });
}

/** What the page's counts say of `d`, checked against its residual and machine code. */
function checkCounts(d: ViewData): void {
  const ops: Record<string, number> = {};
  for (const [, p] of d.rlines) if (p >= 0) ops[p] = (ops[p] ?? 0) + 1;
  const bytes: Record<string, number> = {};
  for (const run of d.code)
    for (const [, size, , id] of run.instrs) {
      expect(id).toBeLessThan(d.rlines.length);
      const p = id >= 0 ? d.rlines[id]![1] : -1;
      if (p >= 0) bytes[p] = (bytes[p] ?? 0) + size;
    }
  for (const [p, c] of Object.entries(d.positions)) {
    expect(c.ops).toBe(ops[p] ?? 0);
    expect(c.bytes).toBe(bytes[p] ?? 0);
  }
  // Every byte of machine code is in the listing, once.
  const listed = d.code.reduce((n, r) => n + r.instrs.reduce((m, i) => m + i[1], 0), 0);
  if (d.code.length) expect(listed).toBe(d.stats.codeBytes);
  // Time in compiled code, split by entry, adds up.
  const leaves = d.events.filter((e) => e.ev === "leave");
  const ms = leaves.reduce((n, e) => n + (e.ev === "leave" ? e.ms : 0), 0);
  expect(Math.abs(ms - Number(d.stats.compiledCodeMs))).toBeLessThan(0.01 * (leaves.length + 1));
}

describe("the view's data", () => {
  it("counts by position what a TL run made", async () => {
    const d = await viewOf("tl", join(root, "interpreters/programs/call.tl"), [3000], 7);
    expect(d.run.value).toBe(126000);
    expect(
      Object.values(d.positions).some((c) => c.ops > 0 && (!x64Supported || c.bytes > 0)),
    ).toBe(true);
    expect(d.listing.kind).toBe("instructions");
    expect(d.source.bt.filter((b) => b === "g").length).toBeGreaterThan(10);
    expect(d.source.bt.filter((b) => b === "r" || b === "m").length).toBeGreaterThan(10);
    checkCounts(d);
  });

  it("counts by position what a Brainfuck run made, with its output", async () => {
    const d = await viewOf("bf", join(root, "interpreters/programs/nested.b"), [], 2);
    expect(d.listing.kind).toBe("bytes");
    expect(d.run.output.length).toBe(d.run.outputBytes);
    checkCounts(d);
  });
});

describe("futamura view's command line", () => {
  it("refuses what it cannot show, as a usage error", async () => {
    const said = async (argv: string[]) => {
      let err = "";
      const sink = (f: (s: string) => void) =>
        ({ write: (c: string) => (f(String(c)), true) }) as NodeJS.WritableStream;
      const status = await main(
        argv,
        sink(() => {}),
        sink((c) => (err += c)),
      );
      return { status, err };
    };
    const tl = join(root, "interpreters/programs/loop.tl");
    expect(await said(["view", "tl"])).toEqual({
      status: 2,
      err: "usage: view <interpreter> <program-file> [args...]\n",
    });
    const interp = await said(["view", "tl", tl, "10", "--backend", "interp"]);
    expect(interp.status).toBe(2);
    expect(interp.err).toMatch(/^usage: view shows compiled code: --backend takes jit/);
    const negative = await said(["view", "tl", tl, "10", "--threshold", "-1"]);
    expect(negative).toEqual({
      status: 2,
      err: "usage: --threshold takes a non-negative integer, not '-1'\n",
    });
    expect((await said(["view", "tl", tl])).err).toMatch(
      /^usage: tl programs take one integer argument/,
    );
  });
});

const chromium = "/usr/bin/chromium";
// (CI installs Chromium: there a missing browser is a failure, not a skip)
const haveBrowser = existsSync(chromium) || !!process.env.CI;

describe.skipIf(!haveBrowser)("the page in headless Chromium", () => {
  /** Writes the page with the command line, opens it, and checks it as a person would. */
  async function check(name: string, argv: string[]) {
    const html = join(dir, `${name}.html`);
    let said = "";
    const out = { write: (s: string) => ((said += s), true) } as NodeJS.WritableStream;
    expect(await main(["view", ...argv, "-o", html, "--backend", backend], out)).toBe(0);
    expect(said).toBe(`wrote ${html}\n`);
    const { chromium: browserType } = await import("playwright-core");
    const browser = await browserType.launch({
      executablePath: chromium,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
      const errors: string[] = [];
      page.on("console", (m) => void (m.type() === "error" && errors.push(m.text())));
      page.on("pageerror", (e) => void errors.push(String(e)));
      const requests: string[] = [];
      page.on("request", (r) => void (r.url().startsWith("file:") || requests.push(r.url())));
      await page.goto("file://" + html);
      const d = JSON.parse((await page.locator("#data").textContent())!) as ViewData;
      // A position with machine code (or residual code, on L3), not the one picked at first.
      const metric = x64Supported ? "bytes" : "ops";
      const ranked = Object.entries(d.positions)
        .filter(([, c]) => c[metric] > 0)
        .sort((a, b) => a[1][metric] - b[1][metric]);
      expect(ranked.length).toBeGreaterThan(1);
      const [p, counts] = ranked[0]!;
      await page.click(`#listing [data-p="${p}"]`);
      await expect(page.locator("#picked").textContent()).resolves.toBe(`position ${p}`);
      const hits = await page.locator("#residual .rl.hit").allTextContents();
      expect(hits.length).toBe(counts.ops);
      const texts = new Set(d.rlines.filter(([, at]) => at === Number(p)).map(([t]) => t));
      for (const h of hits) expect(texts.has(h.trim().replace(/\s+@\d+$/, ""))).toBe(true);
      if (x64Supported) expect(await page.locator("#machine .ins.hit").count()).toBeGreaterThan(0);
      // A residual operation clicked: its source line outlined.
      await page.locator("#residual .rl.hit").first().click();
      const line = await page.locator("#source .src.focus").getAttribute("data-l");
      const id = Number(await page.locator("#residual .rl.hit").first().getAttribute("data-r"));
      expect(Number(line)).toBe(d.rlines[id]![2]);
      // The timeline drew its lanes, the stats their rows.
      expect(await page.locator("#timeline svg rect").count()).toBeGreaterThan(0);
      expect(await page.locator("#stats tr").count()).toBe(Object.keys(d.stats).length);
      // Back to the position with most code, for the picture.
      await page.click(`#listing [data-p="${ranked.at(-1)![0]}"]`);
      const png = join(dir, `view-${name}.png`);
      await page.screenshot({ path: png });
      expect(statSync(png).size).toBeGreaterThan(10_000);
      if (process.env.FUTAMURA_BLESS)
        writeFileSync(join(root, `docs/images/view-${name}.png`), readFileSync(png));
      expect(errors).toEqual([]);
      expect(requests).toEqual([]); // self-contained: nothing fetched
    } finally {
      await browser.close();
    }
  }

  it("shows a TL program", { timeout: 120_000 }, async () => {
    await check("tl", [
      "tl",
      join(root, "interpreters/programs/call.tl"),
      "3000",
      "--threshold",
      "7",
    ]);
  });

  it.skipIf(!existsSync(mandelbrot))("shows mandelbrot.b", { timeout: 300_000 }, async () => {
    await check("mandelbrot", ["bf", mandelbrot]);
  });
});
