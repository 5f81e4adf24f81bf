// The JIT's event log (`futamura run --log FILE`, runtime/events.ts): a lazy run's events,
// counted, give its `--stats` counts (tier-ups, entries, exits, links and bridges, take-overs,
// fallbacks, collections), for runs that make each kind; the command line writes them as JSON
// lines in time order, and `--stats=json` is structured (no counts inside strings).

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { backends, runProgram, type RunOptions } from "../generator/backends.ts";
import { main } from "../generator/cli/main.ts";
import { langs } from "../generator/language.ts";
import { eventCounts, type LoggedEvent } from "../runtime/events.ts";
import { x64Supported } from "../runtime/x64/memory.ts";

const root = new URL("../", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "futamura-events-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `file` on `backend`, logging; the events and the stats. */
async function logged(backend: string, lang: string, file: string, arg: number, opts: RunOptions) {
  const l = langs[lang]!;
  const code = l.load(readFileSync(root + file, "latin1"), file);
  const events: LoggedEvent[] = [];
  const r = await runProgram(backends[backend]!, l, code, arg, {
    ...opts,
    events: (e) => events.push(e),
  });
  return { events, stats: r.stats, r };
}

/** The stats' counts that `eventCounts` gives (a count the stats leave out is 0). */
function statsCounts(stats: Record<string, unknown>, keys: string[]): Record<string, number> {
  return Object.fromEntries(keys.map((k) => [k, Number(stats[k] ?? 0)]));
}

const RUNS: [string, string, string, number, RunOptions][] = [
  // TL: portal calls across tiers, entries and edge exits taken over at every threshold
  ["jit-graph", "tl", "interpreters/programs/call.tl", 3000, { tiers: { threshold: 2 } }],
  ["jit", "tl", "interpreters/programs/call.tl", 3000, { tiers: { threshold: 7 } }],
  // Brainfuck: nested loops, edge exits bridged after one take
  ["jit", "bf", "interpreters/programs/nested.b", 0, { tiers: { threshold: 1, bridgeAfter: 1 } }],
  // fallbacks: a residual budget too small for anything
  [
    "jit",
    "tl",
    "interpreters/programs/fibonacci.tl",
    12,
    { tiers: { threshold: 2 }, policy: { maxResidualOps: 3 } },
  ],
  // TLC: objects collected in machine code, entries per recursive SEND
  [
    "jit",
    "tlc",
    "interpreters/programs/binarytrees.tlc",
    8,
    { tiers: { threshold: 7 }, regionBytes: 1 << 16 },
  ],
];

describe("the event log", () => {
  for (const [backend, lang, file, arg, opts] of RUNS)
    it.runIf(backend === "jit-graph" || x64Supported)(
      `${backend}: ${file} ${arg}: the events counted are the stats`,
      async () => {
        const { events, stats } = await logged(backend, lang, file, arg, opts);
        const counts = eventCounts(events);
        expect(counts).toEqual(statsCounts(stats, Object.keys(counts)));
        // (each run makes what it is here for)
        expect(counts.entered, "entered").toBeGreaterThan(0);
        if (file.endsWith("nested.b")) expect(counts.bridges, "bridges").toBeGreaterThan(0);
        if (opts.policy) expect(counts.fallbacks, "fallbacks").toBeGreaterThan(0);
        if (opts.regionBytes) expect(counts.collections, "collections").toBeGreaterThan(0);
        const times = events.map((e) => e.t);
        expect(times).toEqual([...times].sort((a, b) => a - b));
      },
      60_000,
    );

  it("futamura run --log writes them as JSON lines, and --stats=json is structured", async () => {
    const file = join(dir, "events.jsonl");
    let said = "";
    const sink = (f: (s: string) => void) =>
      ({ write: (c: string | Uint8Array) => (f(String(c)), true) }) as NodeJS.WritableStream;
    const status = await main(
      [
        "run",
        "tl",
        root + "interpreters/programs/call.tl",
        "3000",
        "--backend",
        "jit-graph",
        "--threshold",
        "2",
        "--log",
        file,
        "--stats=json",
      ],
      sink(() => {}),
      sink((c) => (said += c)),
    );
    expect(status).toBe(0);
    const events = readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as LoggedEvent);
    const stats = JSON.parse(said.trim().split("\n").at(-1)!) as Record<string, unknown>;
    const counts = eventCounts(events);
    expect(counts).toEqual(statsCounts(stats, Object.keys(counts)));
    expect(events.every((e) => typeof e.t === "number" && typeof e.ev === "string")).toBe(true);
  });

  it("--stats=json is structured: no count hides in a string", async () => {
    let said = "";
    const sink = (f: (s: string) => void) =>
      ({ write: (c: string | Uint8Array) => (f(String(c)), true) }) as NodeJS.WritableStream;
    const file = root + "interpreters/programs/call.tl";
    const args = ["run", "tl", file, "30", "--backend", "pe", "--stats=json"];
    expect(
      await main(
        args,
        sink(() => {}),
        sink((c) => (said += c)),
      ),
    ).toBe(0);
    const stats = JSON.parse(said.trim().split("\n").at(-1)!) as Record<string, unknown>;
    for (const [k, v] of Object.entries(stats))
      if (typeof v === "string") expect(v, k).not.toMatch(/\d+\/\d+/);
    expect((stats.mergePoints as unknown[]).length).toBeGreaterThan(0);
    for (const m of stats.mergePoints as Record<string, unknown>[])
      expect(Object.keys(m).sort()).toEqual(["entries", "found", "made", "position"]);
  });

  it("a file that cannot be written is a usage error, before the run", async () => {
    let said = "";
    const sink = (f: (s: string) => void) =>
      ({ write: (c: string | Uint8Array) => (f(String(c)), true) }) as NodeJS.WritableStream;
    const status = await main(
      ["run", "tl", root + "interpreters/programs/call.tl", "3", "--log", join(dir, "no/such")],
      sink(() => {}),
      sink((c) => (said += c)),
    );
    expect([status, said]).toEqual([
      2,
      `usage: --log ${join(dir, "no/such")}: cannot write: ENOENT\n`,
    ]);
  });
});
