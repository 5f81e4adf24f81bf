//! A language, as every command sees it: an interpreter source file anywhere on disk, the
//! function that runs a program (its entry), how a program file becomes bytecode, and where its
//! build products live. `futamura run path/to/interp.ts prog` resolves one from the path
//! (`language`); `tlr`, `tl` and `bf` are shorthands for this repository's own.
//!
//! What the interpreter's folder says about it, if anything, is its *descriptor*: a file
//! `futamura.ts` beside it exporting `languages` (a `Descriptor` per language, by name, each
//! naming its source). Its build products go to `generated/` beside it (this repository's own
//! to `generated/` at the root). Without a descriptor, or for what it leaves out: the name is the file's, the entry its one exported function (of several, the one
//! that reaches the driver's merge point), a program file's
//! bytes are the bytecode, and an entry taking the bytecode and integers is run with as many
//! integer arguments and its result printed, one taking only the bytecode reads and writes bytes.
//! Interpreters are ES modules (their project's package.json says `"type": "module"`).
//!
//! Where futamura runs as its package's JavaScript (`packaged`), nothing is transformed at run
//! time: a user's interpreter, its descriptor and the modules they import run as the JavaScript
//! `futamura generate` made of them (`generated/js/`, a tree shaped as the interpreter's folder,
//! each file stamped like every build product; `generator/javascript.ts`), and its specialiser
//! and first tier as JavaScript beside their TypeScript.

import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { LoadError } from "../runtime/hints.ts";
import { readGraphs } from "../runtime/graphs.ts";
import { StaleBuild, checkStamp } from "../runtime/stamp.ts";
import type { Module } from "../runtime/ir/types.ts";
import type { Isa } from "../interpreters/asm.ts";
import * as builtinFolder from "../interpreters/futamura.ts";
import * as tl from "../interpreters/tl.ts";
import * as tlc from "../interpreters/tlc.ts";
import * as tlr from "../interpreters/tlr.ts";
import * as bf from "../interpreters/bf.ts";

export { LoadError };

/** What a descriptor says about one language (every field but `source` optional). */
export interface Descriptor {
  /** The interpreter's source, relative to the descriptor's folder. */
  source: string;
  /** The exported function that runs a program (default: the module's one exported function). */
  entry?: string;
  /** Program files' extension, e.g. ".tl" (for names of files futamura writes). */
  ext?: string;
  /** "int": the entry takes the bytecode and one int32 argument, and its result is printed;
   *  "bytes": it takes the bytecode, reads stdin and writes stdout (its result ignored). */
  convention?: "int" | "bytes";
  /** Makes bytecode of a program text (`file` names it in messages); throws `LoadError`. */
  load?: (text: string, file: string) => Uint8Array;
  /** The instruction set (opcodes, which take an operand), for tools that read programs:
   *  the disassembler of the fuzzer's reports. */
  isa?: Isa;
  /** The exported function of the interpreter that makes a program's constant objects from its
   *  bytecode (TLC's constant pool: its classes and their tables). The entry takes them after the
   *  bytecode, a green, immutable value: each backend makes them in its own world (natively, on
   *  the graph interpreter) and a specialiser reads them as constants. */
  constants?: string;
}

/** What a folder's `futamura.ts` exports. */
export interface Folder {
  languages: Record<string, Descriptor>;
}

/** An interpreter outside the subset: each violation at `file:line:col` (the frontend's), or a
 *  value the binding-time analysis cannot make what the interpreter needs. */
export class SubsetError extends Error {
  constructor(readonly violations: string[]) {
    super(violations.join("\n"));
    this.name = "SubsetError";
  }
}

/** Whether this futamura runs as its package's JavaScript (dist/, made by `npm run build`)
 *  rather than as TypeScript through tsx (a checkout). */
export const packaged: boolean = import.meta.url.endsWith(".js");

export interface Lang {
  name: string;
  /** How a command line names it: its shorthand, or its source's path. */
  spec: string;
  /** The interpreter's source file (an absolute path). */
  source: string;
  /** The folder of its build products (absolute): `<name>.graphs`, the specialiser
   *  `<name>.ts`, the first tier `<name>.tier1.ts` (and, packaged, their JavaScript). */
  generated: string;
  /** Name of the exported entry function in `source`. */
  entry: string;
  ext: string;
  convention: "int" | "bytes";
  /** Makes a program text into bytecode; throws LoadError. */
  load(text: string, file: string): Uint8Array;
  isa?: Isa | undefined;
  /** The number of integers the entry takes after the bytecode (and its constants, if any): a
   *  program's arguments. */
  arity: number;
  /** The function that makes a program's constant objects (`Descriptor.constants`), if any. */
  constants?: string | undefined;
  /** Runs the interpreter natively on the program's integers; throws VmError for a faulty
   *  program. */
  native(code: Uint8Array, args: readonly number[]): number;
}

type Entry = (code: Uint8Array, ...ints: number[]) => number;

/** The path of one of a language's build products: the specialiser and first tier in
 *  TypeScript or in JavaScript (by default as this futamura runs them: JavaScript when it is
 *  `packaged`). */
export function product(
  lang: Lang,
  kind: "graphs" | "specialiser" | "tier1",
  ext = packaged ? ".js" : ".ts",
): string {
  const file = { graphs: ".graphs", specialiser: ext, tier1: ".tier1" + ext }[kind];
  return join(lang.generated, lang.name + file);
}

/** Where the JavaScript of a user's module (`path`, absolute, in the interpreter's `folder` or
 *  below it) lives: `generated/js/` mirrors the folder. */
export function javascriptOf(folder: string, path: string): string {
  return join(folder, "generated", "js", relative(folder, path).replace(/\.[cm]?ts$/, ".js"));
}

/** The interpreter's path as a build product's stamp records it: from the folder holding the
 *  products' folder (`runtime/stamp.ts`). */
export function stampedSource(lang: Lang): string {
  return relative(dirname(lang.generated), lang.source);
}

const here = dirname(new URL(import.meta.url).pathname);
const builtinDir = resolve(here, "../interpreters");
/** This repository's build products live at its root, not beside the interpreters. */
const builtinGenerated = resolve(here, "../generated");

function fromDescriptor(
  name: string,
  d: Descriptor,
  folder: string,
  module: Record<string, unknown>,
  entry: string,
  generated = join(folder, "generated"),
): Lang {
  let fn = module[entry] as Entry;
  const made = d.constants === undefined ? undefined : module[d.constants];
  if (d.constants !== undefined && typeof made !== "function")
    throw new LoadError(
      `${name}: exports no function '${d.constants}' (the descriptor's constants)`,
    );
  if (made) fn = withConstants(fn, made as (code: Uint8Array) => unknown);
  const arity = Math.max(fn.length - 1, 0);
  const convention = d.convention ?? (arity >= 1 ? "int" : "bytes");
  return {
    name,
    spec: builtinFolder.languages[name] === d ? name : resolve(folder, d.source),
    source: resolve(folder, d.source),
    generated,
    entry,
    ext: d.ext ?? "",
    convention,
    load: d.load ? loaderOf(d.load) : bytesOf,
    isa: d.isa,
    arity,
    constants: d.constants,
    native: nativeOf(fn, arity),
  };
}

/** The entry of an interpreter that takes its program's constants after the bytecode, as one
 *  taking the bytecode and the integers: it makes the constants first (`length`: the integers'
 *  count, what `arity` reads). */
export function withConstants(
  fn: (code: Uint8Array, ...rest: never[]) => number,
  made: (code: Uint8Array) => unknown,
): Entry {
  const call = fn as unknown as (code: Uint8Array, constants: unknown, ...ints: number[]) => number;
  const entry = (code: Uint8Array, ...ints: number[]) => call(code, made(code), ...ints);
  Object.defineProperty(entry, "length", { value: Math.max(fn.length - 1, 0) });
  return entry;
}

/** Runs `fn` on a program's integers: a call per arity, not a spread (V8 calls an interpreter
 *  through a spread an order of magnitude slower: the fuzzer's generic generator, which runs
 *  the interpreter thousands of times a program, went from 0.6 s to 5 s for 300 programs). */
function nativeOf(fn: Entry, arity: number): Lang["native"] {
  switch (arity) {
    case 0:
      return (code) => fn(code);
    case 1:
      return (code, args) => fn(code, args[0]! | 0);
    case 2:
      return (code, args) => fn(code, args[0]! | 0, args[1]! | 0);
    default:
      return (code, args) => fn(code, ...args.map((x) => x | 0));
  }
}

/** The languages this repository ships, by their shorthand names. */
export const langs: Record<string, Lang> = Object.fromEntries(
  Object.entries(builtinFolder.languages).map(([name, d]) => {
    const module = { tlr, tl, tlc, bf }[name] as unknown as Record<string, unknown>;
    const entry = d.entry ?? "run";
    return [name, fromDescriptor(name, d, builtinDir, module, entry, builtinGenerated)];
  }),
);

/** The language `spec` names: a shorthand (`tl`), or the path of an interpreter's source. Its
 *  descriptor and the interpreter module are imported (so `native` runs it); a path that is
 *  not a readable TypeScript file, a module that does not load or an entry that cannot be found
 *  is a `LoadError` naming it. */
export async function language(spec: string): Promise<Lang> {
  const known = builtin(spec);
  if (known) return known;
  const path = interpreterFile(spec);
  const folder = dirname(path);
  if (packaged) checkJavascript(folder, [path, join(folder, "futamura.ts")].filter(existsSync));
  const [name, d] = await describe(path, folder);
  const module = await importModule(path, spec, folder);
  const entry = d.entry ?? (await entryOf(path, spec, module, join(folder, "generated"), name));
  const fn = module[entry];
  if (typeof fn !== "function")
    throw new LoadError(`${spec}: exports no function '${entry}' (the descriptor's entry)`);
  return fromDescriptor(name, d, folder, module, entry);
}

/** The language of this repository `spec` names (by shorthand or path), if it does. */
export function builtin(spec: string): Lang | undefined {
  return langs[spec] ?? Object.values(langs).find((l) => l.source === resolve(spec));
}

/** The absolute path of the interpreter `spec` names (not one of this repository's): a
 *  readable TypeScript file of an ES module project, or a `LoadError` saying what it is. */
export function interpreterFile(spec: string): string {
  const path = resolve(spec);
  if (!existsSync(path))
    throw new LoadError(
      `${spec}: no such interpreter (neither a file nor one of ${Object.keys(langs).join(", ")})`,
    );
  if (statSync(path).isDirectory())
    throw new LoadError(`${spec}: is a directory; name the interpreter's .ts file`);
  if (!/\.[cm]?ts$/.test(path)) throw new LoadError(`${spec}: an interpreter is a .ts file`);
  checkModuleType(path, spec);
  return path;
}

/** The descriptor of the interpreter at `path`: its folder's `futamura.ts` entry naming it, or
 *  the defaults. */
async function describe(path: string, folder: string): Promise<[string, Descriptor]> {
  const file = join(folder, "futamura.ts");
  const fallback: [string, Descriptor] = [
    basename(path).replace(/\.[cm]?ts$/, ""),
    { source: basename(path) },
  ];
  if (!existsSync(file)) return fallback;
  const m = (await importModule(file, file, folder)) as Partial<Folder>;
  if (typeof m.languages !== "object" || m.languages === null)
    throw new LoadError(`${file}: a descriptor exports \`languages\` (see docs/GUIDE.md)`);
  for (const [name, d] of Object.entries(m.languages)) {
    const wrong = malformed(d);
    if (wrong) throw new LoadError(`${file}: languages.${name}: ${wrong} (see docs/GUIDE.md)`);
    if (resolve(folder, d.source) === path) return [name, d];
  }
  return fallback;
}

/** What is wrong with a descriptor's entry for a language, if anything. */
function malformed(d: unknown): string | undefined {
  if (typeof d !== "object" || d === null) return "not an object";
  const x = d as Record<string, unknown>;
  if (typeof x.source !== "string") return "`source` (the interpreter's file) is not a string";
  for (const k of ["entry", "ext"] as const)
    if (x[k] !== undefined && typeof x[k] !== "string") return `\`${k}\` is not a string`;
  if (x.convention !== undefined && x.convention !== "int" && x.convention !== "bytes")
    return '`convention` is neither "int" nor "bytes"';
  if (x.load !== undefined && typeof x.load !== "function") return "`load` is not a function";
  if (x.constants !== undefined && typeof x.constants !== "string")
    return "`constants` is not a string (the name of the interpreter's function that makes them)";
  if (x.isa !== undefined && (typeof x.isa !== "object" || x.isa === null || !("opcodes" in x.isa)))
    return "`isa` has no `opcodes`";
  return undefined;
}

/** The module at `path` (a user's TypeScript), or, `packaged`, the JavaScript made of it. */
async function importModule(
  path: string,
  spec: string,
  folder: string,
): Promise<Record<string, unknown>> {
  const file = packaged ? javascriptOf(folder, path) : path;
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    throw new LoadError(`${spec}: cannot load: ${(e as Error).message}`);
  }
}

/** Interpreters are loaded as ES modules, as futamura is: a `.ts` file of a project whose
 *  package.json does not say `"type": "module"` would be CommonJS to Node, with a copy of
 *  futamura's hints of its own (its I/O and fuel not the run's). */
function checkModuleType(path: string, spec: string): void {
  if (!path.endsWith(".ts")) return;
  for (let at = dirname(path); ; at = dirname(at)) {
    const pkg = join(at, "package.json");
    if (existsSync(pkg)) {
      let type: unknown;
      try {
        type = (JSON.parse(readFileSync(pkg, "utf8")) as { type?: unknown }).type;
      } catch (e) {
        throw new LoadError(`${pkg}: cannot read: ${(e as Error).message}`);
      }
      if (type === "module") return;
      throw new LoadError(
        `${spec}: interpreters are ES modules: add "type": "module" to ${pkg} (or name the file .mts)`,
      );
    }
    if (dirname(at) === at)
      throw new LoadError(
        `${spec}: interpreters are ES modules: no package.json above it says "type": "module" (or name the file .mts)`,
      );
  }
}

/** The entry of an interpreter whose descriptor names none: the one function the module
 *  exports; of several, the one that reaches the driver's merge point: as its build products
 *  record it (their graphs start with the entry's), or as the frontend finds it (ts-morph,
 *  loaded only then). */
async function entryOf(
  path: string,
  spec: string,
  module: Record<string, unknown>,
  generated: string,
  name: string,
): Promise<string> {
  const fns = Object.keys(module).filter((k) => typeof module[k] === "function");
  if (fns.length === 1) return fns[0]!;
  if (fns.length === 0) throw new LoadError(`${spec}: exports no function to run programs with`);
  const recorded = recordedEntry(join(generated, name + ".graphs"));
  if (recorded !== undefined && fns.includes(recorded)) return recorded;
  const { entriesOf } = await import("./frontend/index.ts");
  const reaching = entriesOf(path, readFileSync(path, "utf8"));
  if (reaching.length === 1) return reaching[0]!;
  throw new LoadError(
    `${spec}: exports several functions (${fns.join(", ")})${reaching.length ? `, ${reaching.join(" and ")} reaching the driver` : ", none reaching a driver's merge point"}; name the entry in a futamura.ts beside it`,
  );
}

/** The entry a graphs product records (its first graph), if the product is there and fresh. */
function recordedEntry(graphs: string): string | undefined {
  if (!existsSync(graphs)) return undefined;
  try {
    checkStamp(graphs);
  } catch {
    return undefined;
  }
  return /^func @([A-Za-z_$][\w$]*)/m.exec(readFileSync(graphs, "utf8"))?.[1];
}

/** Packaged: the JavaScript of the interpreter's folder must be there, that of `sources` among
 *  it, and match their sources (each file is stamped as a build product is), or it is
 *  `StaleBuild` naming `generate`. */
function checkJavascript(folder: string, sources: string[]): void {
  const tree = join(folder, "generated", "js");
  for (const source of sources)
    if (!existsSync(javascriptOf(folder, source)))
      throw new StaleBuild(
        `${relative(process.cwd(), source)} has no JavaScript in ${relative(process.cwd(), tree)}; run \`futamura generate\` to make it`,
      );
  for (const file of readdirSync(tree, { recursive: true, encoding: "utf8" }))
    if (file.endsWith(".js")) checkStamp(join(tree, file));
}

/** A loader whose every failure is a load error (a user's loader may throw anything). */
function loaderOf(load: NonNullable<Descriptor["load"]>): Lang["load"] {
  return (text, file) => {
    try {
      return load(text, file);
    } catch (e) {
      throw e instanceof LoadError ? e : new LoadError(`${file}: ${(e as Error).message}`);
    }
  };
}

/** Without a loader a program file's bytes are the bytecode (the text was read as latin1). */
function bytesOf(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0) & 255);
}

/** A language's graphs, from its build product (stamp-checked). */
export function graphsOf(lang: Lang): Module {
  return readGraphs(product(lang, "graphs"));
}
