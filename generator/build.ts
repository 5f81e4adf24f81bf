//! The build step: everything in `generated/` is made from the interpreters' sources by
//! `futamura generate`, checked in, and compared by `futamura check` (which `npm test` runs), so
//! nothing at run time needs ts-morph and nothing in `generated/` can silently go stale.

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { format } from "prettier";
import { printModule } from "../runtime/ir/print.ts";
import { stampLine } from "../runtime/stamp.ts";
import type { Module } from "../runtime/ir/types.ts";
import { analyse } from "./bta.ts";
import { calleeMap, callsItself } from "../runtime/specialiser/residual.ts";
import { emitSpecialiser, type RuntimeImports } from "./emit.ts";
import { emitFirstTier, specifierOf } from "./first-tier.ts";
import { productJavascript, sourceJavascript, strayJavascript } from "./javascript.ts";
import { buildGraphs, sourceFileOf } from "./frontend/index.ts";
import {
  builtin,
  interpreterFile,
  language,
  SubsetError,
  langs,
  packaged,
  product,
  stampedSource,
  type Lang,
} from "./language.ts";
import { LoadError } from "../runtime/hints.ts";

export interface Artifact {
  /** Where it goes (an absolute path). */
  path: string;
  text: string;
}

export const root = new URL("../", import.meta.url).pathname;

/** How generated code written at `from` imports futamura's runtime: by a path to this checkout's
 *  TypeScript, or, packaged, by the package's name (the user's project resolves it to the
 *  futamura it installed: the modules the command itself runs, so one copy of the hints). */
function runtimeImports(from: string): RuntimeImports {
  return packaged
    ? (module) => `futamura/runtime/${module}.js`
    : (module) => specifierOf(join(root, "runtime", module + ".ts"), from);
}

/** The header of every generated file: what made it, from what (`runtime/stamp.ts` checks it
 *  before a backend uses the file). */
/** What a product's stamp names and hashes: the interpreter's source and the modules whose
 *  constants it imports (`a.ts+b.ts`, their texts one after the other). */
export interface Stamped {
  names: string;
  text: string;
}

export function header(comment: string, stamped: Stamped): string {
  return stampLine(comment, stamped.names, stamped.text);
}

export { SubsetError };

function frontend(lang: Lang): { source: string; module: Module; stamped: Stamped } {
  const source = readFileSync(lang.source, "utf8");
  const roots = lang.constants === undefined ? [] : [lang.constants];
  const r = buildGraphs(lang.source, lang.entry, { text: source, roots });
  if (!r.module) throw new SubsetError(r.violations);
  return { source, module: r.module, stamped: stampOf(lang, source, r.imports ?? []) };
}

/** What the products of `lang` made from `source` (which imports constants of `imports`) are
 *  stamped with. */
export function stampOf(lang: Lang, source: string, imports: string[]): Stamped {
  return {
    names: [stampedSource(lang), ...imports.map((f) => relative(dirname(lang.generated), f))].join(
      "+",
    ),
    text: [source, ...imports.map((f) => readFileSync(f, "utf8"))].join(""),
  };
}

/** What an interpreter's build products are: its graphs, its specialiser, its first tier. */
export async function langArtifacts(lang: Lang): Promise<Artifact[]> {
  const { source, module, stamped } = frontend(lang);
  const graphs = {
    path: product(lang, "graphs"),
    text: header(";", stamped) + "\n" + printModule(module),
  };
  const first = await firstTierOf(lang, stamped, module);
  const spec = await specialiserOf(lang, source, stamped, module);
  const made = spec ? [graphs, spec, first] : [graphs, first];
  if (!packaged) return made;
  const folder = dirname(lang.source);
  return [...made, ...made.slice(1).map((a) => productJavascript(a, folder))];
}

/** The generated specialiser: the interpreter's graphs with the binding times decided. */
async function specialiserOf(
  lang: Lang,
  source: string,
  stamped: Stamped,
  module: Module,
): Promise<Artifact> {
  const bt = analyse(module, lang.entry);
  if (bt.errors.length)
    throw new SubsetError(
      bt.errors.map((e) => `${relative(process.cwd(), lang.source)}: ${e} (see futamura explain)`),
    );
  const path = product(lang, "specialiser", ".ts");
  const ts = emitSpecialiser(module, bt, source, header("", stamped).trim(), runtimeImports(path));
  return { path, text: await format(ts, { parser: "typescript", printWidth: 100 }) };
}

/** The graph holding the merge point. */
const portalName = (m: Module): string =>
  m.graphs.find((g) => g.blocks.some((b) => b.ops.some((o) => o.op === "merge_point")))!.name;

/** The first tier: the interpreter's source, resumable at its merge point, counting passes. */
async function firstTierOf(lang: Lang, stamped: Stamped, module: Module): Promise<Artifact> {
  const path = product(lang, "tier1", ".ts");
  const tier = emitFirstTier(
    sourceFileOf(lang.source)!,
    module.driver!,
    header("", stamped).trim(),
    path,
    runtimeImports(path),
    {
      classes: (module.classes ?? []).map((c) => c.name),
      constants: (module.objects ?? []).flatMap((o) =>
        o.k === "object" && o.name !== undefined ? [o.name] : [],
      ),
    },
    callsItself(calleeMap(module), portalName(module)),
  );
  if (!tier.text) throw new SubsetError(tier.violations);
  return { path, text: await format(tier.text, { parser: "typescript", printWidth: 100 }) };
}

/** The build products of the interpreter `spec` names, in two steps. Packaged, the interpreter
 *  is loaded from the JavaScript of its sources (`javascript.ts`), so that is made first
 *  (`sources`, with `strays`, files of an older build to remove) and must be in place before
 *  `products` makes the rest. */
export function interpreterArtifacts(spec: string): {
  sources: Artifact[];
  strays: string[];
  products: () => Promise<Artifact[]>;
} {
  const products = async () => langArtifacts(await language(spec));
  if (!packaged) return { sources: [], strays: [], products };
  if (builtin(spec))
    throw new LoadError(
      `${spec}: futamura's own interpreters come built in its package; name your interpreter's .ts file`,
    );
  const sources = sourceJavascript(interpreterFile(spec));
  return { sources, strays: strayJavascript(dirname(resolve(spec)), sources), products };
}

/** `futamura generate <interpreter>`: makes what is stale of the build products of the
 *  interpreter `spec` names; gives the paths written, and those removed (no longer made). */
export async function generateInterpreter(spec: string): Promise<string[]> {
  const steps = interpreterArtifacts(spec);
  const changed = generate(steps.sources).map((a) => a.path);
  for (const stray of steps.strays) (rmSync(stray), changed.push(stray));
  return [...changed, ...generate(await steps.products()).map((a) => a.path)];
}

/** The build products of this repository's interpreters, and the index of their specialisers
 *  (tests load them all). */
export async function artifacts(): Promise<Artifact[]> {
  const each = (await Promise.all(Object.values(langs).map(langArtifacts))).flat();
  const names = Object.keys(langs).filter((n) =>
    each.some((a) => a.path === join(root, `generated/${n}.ts`)),
  );
  const index = [
    `// DO NOT EDIT — generated by futamura: the specialiser of every interpreter.`,
    ...names.map((n) => `import { compiled as ${n} } from "./${n}.ts";`),
    `import type { Compiled } from "../runtime/specialiser/engine.ts";`,
    ``,
    `export const specialisers: Record<string, Record<string, Compiled>> = { ${names.join(", ")} };`,
  ].join("\n");
  return [
    ...each,
    {
      path: join(root, "generated/index.ts"),
      text: await format(index, { parser: "typescript", printWidth: 100 }),
    },
  ];
}

/** Products that differ from what the sources give now. */
export function stale(list: Artifact[]): Artifact[] {
  return list.filter((a) => !existsSync(a.path) || readFileSync(a.path, "utf8") !== a.text);
}

/** Writes the products that are stale (their folder made if needed); gives those. */
export function generate(list: Artifact[]): Artifact[] {
  const changed = stale(list);
  for (const a of changed) {
    mkdirSync(dirname(a.path), { recursive: true });
    writeFileSync(a.path, a.text);
  }
  return changed;
}
