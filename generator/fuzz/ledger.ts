//! The ledger of the seed schedule: which seeds `futamura fuzz --minutes` has run, per language,
//! so that runs accumulate and never repeat. A seed of the schedule is a block of `block`
//! programs (program 0 to block-1 of that seed: `futamura fuzz <lang> --seed S --count <block>`
//! reruns it whole, `--index I` one program of it); seeds are taken in order from `first` up.
//!
//! A seed is claimed (`next` moves past it) when a run starts it, and recorded in the run's
//! entry when all its programs have been compared: a run that is killed leaves its unfinished
//! seeds claimed but unrecorded, never run again by the schedule and never counted. The file is
//! JSON, rewritten whole (through a temporary file and a rename) after each claim and each
//! finished seed, and locked (`<file>.lock`, holding the process id) while a run uses it.

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { UsageError } from "../cli/usage.ts";
import { packaged } from "../language.ts";

/** Where the ledger is unless `--ledger` says otherwise: this repository's root; for the
 *  installed package, the folder the command runs in (the user's project). */
export const DEFAULT_LEDGER = packaged
  ? resolve("fuzz-ledger.json")
  : new URL("../../fuzz-ledger.json", import.meta.url).pathname;
/** The schedule's first seed: far from the small seeds people and tests pick by hand. */
export const FIRST_SCHEDULED_SEED = 1_000_000;
/** Programs per seed of the schedule (the default count of `futamura fuzz`). */
export const DEFAULT_BLOCK = 1000;

/** One run of the schedule. */
export interface LedgerRun {
  /** The seeds whose programs were all compared, as inclusive ranges. */
  seeds: [number, number][];
  programs: number;
  disagreements: number;
  /** The first few failures, as `seed S index I backend B`. */
  failures: string[];
  backends: string[];
  fuel: number;
  workers: number;
  seconds: number;
  programsPerSecond: number;
  date: string;
  /** The commit that ran (with `+` when the working tree had changes). */
  commit: string;
}

interface LedgerFile {
  about: string;
  block: number;
  first: number;
  langs: Record<string, { next: number; runs: LedgerRun[] }>;
}

const ABOUT =
  "futamura fuzz <lang> --minutes N: seeds run by the non-repeating schedule (docs/ARCHITECTURE.md, Testing)";

export class Ledger {
  private constructor(
    readonly path: string,
    private data: LedgerFile,
  ) {}

  /** Opens (or starts, with seeds of `block` programs) the ledger at `path`, and locks it. */
  static open(path: string, block = DEFAULT_BLOCK): Ledger {
    lock(path);
    try {
      const data: LedgerFile = existsSync(path)
        ? (JSON.parse(readFileSync(path, "utf8")) as LedgerFile)
        : { about: ABOUT, block, first: FIRST_SCHEDULED_SEED, langs: {} };
      return new Ledger(path, data);
    } catch (e) {
      unlock(path);
      throw new UsageError(`cannot read the ledger ${path}: ${(e as Error).message}`);
    }
  }

  get block(): number {
    return this.data.block;
  }

  /** The next unused seed of `lang`. */
  next(lang: string): number {
    return this.data.langs[lang]?.next ?? this.data.first;
  }

  /** The next unused seed of `lang`, now claimed. */
  claim(lang: string): number {
    const l = this.lang(lang);
    const seed = l.next;
    l.next++;
    this.save();
    return seed;
  }

  /** Starts a run's entry for `lang`; `update` it as seeds finish. */
  begin(lang: string, run: LedgerRun): void {
    this.lang(lang).runs.push(run);
    this.save();
  }

  /** Saves the ledger after a run's entry (given to `begin`) has changed. */
  update(): void {
    this.save();
  }

  /** Every run of `lang` so far: programs, seeds and disagreements in all. */
  total(lang: string): { programs: number; seeds: number; disagreements: number; runs: number } {
    const runs = this.data.langs[lang]?.runs ?? [];
    const sum = (f: (r: LedgerRun) => number) => runs.reduce((n, r) => n + f(r), 0);
    return {
      programs: sum((r) => r.programs),
      seeds: sum((r) => r.seeds.reduce((n, [lo, hi]) => n + hi - lo + 1, 0)),
      disagreements: sum((r) => r.disagreements),
      runs: runs.length,
    };
  }

  close(): void {
    unlock(this.path);
  }

  private lang(lang: string): { next: number; runs: LedgerRun[] } {
    return (this.data.langs[lang] ??= { next: this.data.first, runs: [] });
  }

  private save(): void {
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.data, null, 2) + "\n");
    renameSync(tmp, this.path);
  }
}

/** Adds `seed` to inclusive ranges kept in order. */
export function addSeed(ranges: [number, number][], seed: number): void {
  let i = 0;
  while (i < ranges.length && ranges[i]![1] < seed - 1) i++;
  const r = ranges[i];
  if (!r || seed < r[0] - 1) ranges.splice(i, 0, [seed, seed]);
  else {
    r[0] = Math.min(r[0], seed);
    r[1] = Math.max(r[1], seed);
    const next = ranges[i + 1];
    if (next && next[0] === r[1] + 1) ((r[1] = next[1]), ranges.splice(i + 1, 1));
  }
}

/** Inclusive seed ranges as text: `1000000-1000011, 1000013`. */
export function formatSeeds(ranges: [number, number][]): string {
  return ranges.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`)).join(", ");
}

/** The commit of the working tree, `+` when it has changes; "unknown" outside git. */
export function currentCommit(): string {
  const git = (...args: string[]) =>
    execFileSync("git", args, {
      cwd: new URL("../..", import.meta.url).pathname,
      encoding: "utf8",
    });
  try {
    const head = git("rev-parse", "--short", "HEAD").trim();
    return git("status", "--porcelain", "--untracked-files=no").trim() ? `${head}+` : head;
  } catch {
    return "unknown";
  }
}

/** Takes `<path>.lock`, or refuses while the process that holds it lives. */
function lock(path: string): void {
  const file = `${path}.lock`;
  for (;;) {
    try {
      writeFileSync(file, String(process.pid), { flag: "wx" });
      return;
    } catch {
      let holder = 0;
      try {
        holder = Number(readFileSync(file, "utf8"));
      } catch {
        continue; // gone meanwhile: try again
      }
      if (holder && holder !== process.pid && alive(holder))
        throw new UsageError(`the ledger ${path} is in use by process ${holder}`);
      rmSync(file, { force: true }); // left by a process that has gone
    }
  }
}

function unlock(path: string): void {
  rmSync(`${path}.lock`, { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
