//! The JavaScript a packaged futamura runs of a user's interpreter.
//!
//! Installed as a package (`packaged` in `language.ts`), futamura runs as JavaScript and
//! transforms nothing at run time: Node cannot import TypeScript, and loading a transformer
//! would cost more than the rest of start-up. So `futamura generate` also makes JavaScript of
//! what it would otherwise import as TypeScript: the interpreter, its folder's descriptor and the
//! modules they import by a relative path (their loader, an assembler), into `generated/js/`, a
//! tree shaped as the interpreter's folder; and the generated specialiser and first tier, beside
//! their TypeScript. Each file is a build product like any other: stamped with its source's hash
//! and checked before it is run. Relative imports are pointed at the JavaScript; an import of a
//! file outside the interpreter's folder is refused (futamura's own modules are imported by the
//! package's name, `futamura/hints`, so that the interpreter and the command share one copy).

import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { ts } from "ts-morph";
import { LoadError } from "../runtime/hints.ts";
import { stampLine } from "../runtime/stamp.ts";
import type { Artifact } from "./build.ts";
import { specifierOf } from "./first-tier.ts";
import { javascriptOf } from "./language.ts";

/** The JavaScript of the interpreter at `interpreter` and of its folder's descriptor, if any,
 *  and of every module they import by a relative path, at any depth. */
export function sourceJavascript(interpreter: string): Artifact[] {
  const folder = dirname(interpreter);
  const descriptor = join(folder, "futamura.ts");
  const todo = existsSync(descriptor) ? [interpreter, descriptor] : [interpreter];
  const made = new Map<string, Artifact>();
  while (todo.length) {
    const from = todo.pop()!;
    if (made.has(from)) continue;
    const to = javascriptOf(folder, from);
    const text = readFileSync(from, "utf8");
    const stamp = stampLine("//", relative(dirname(dirname(to)), from), text);
    const js = pointed(transpiled(text, from), from, to, folder, (target) => todo.push(target));
    made.set(from, { path: to, text: `${stamp}\n${js}` });
  }
  return [...made.values()];
}

/** A generated TypeScript module (a specialiser, a first tier) as JavaScript beside it: its
 *  stamp (the first line) kept, its imports of the interpreter's modules pointed at theirs. */
export function productJavascript(product: Artifact, folder: string): Artifact {
  const to = product.path.replace(/\.ts$/, ".js");
  return {
    path: to,
    text: pointed(transpiled(product.text, product.path), product.path, to, folder),
  };
}

/** JavaScript files in `generated/js/` that none of `made` is: left by modules no longer
 *  imported (their stamps would name sources that are gone). */
export function strayJavascript(folder: string, made: Artifact[]): string[] {
  const tree = join(folder, "generated", "js");
  if (!existsSync(tree)) return [];
  const keep = new Set(made.map((a) => a.path));
  return readdirSync(tree, { recursive: true, encoding: "utf8" })
    .map((f) => join(tree, f))
    .filter((f) => f.endsWith(".js") && !keep.has(f));
}

/** TypeScript as JavaScript: types erased, nothing else changed (type-only imports go). */
function transpiled(text: string, file: string): string {
  const r = ts.transpileModule(text, {
    fileName: file,
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const problem = r.diagnostics?.[0];
  if (problem)
    throw new LoadError(`${file}: ${ts.flattenDiagnosticMessageText(problem.messageText, "\n")}`);
  return r.outputText;
}

/** JavaScript of the module at `from`, to be written at `to`, with each relative import
 *  pointed at the JavaScript of the module it names (reported to `found`). */
function pointed(
  js: string,
  from: string,
  to: string,
  folder: string,
  found: (source: string) => void = () => {},
): string {
  const imports = ts.preProcessFile(js, true, true).importedFiles;
  let out = js;
  // From the last, so that earlier positions stay right.
  for (const imp of [...imports].sort((a, b) => b.pos - a.pos)) {
    if (!imp.fileName.startsWith(".")) continue;
    const source = moduleFile(resolve(dirname(from), imp.fileName), from, imp.fileName);
    const generated = join(folder, "generated") + "/";
    let target: string;
    if (source.startsWith(generated)) target = source.replace(/\.ts$/, ".js");
    else if (!relative(folder, source).startsWith("..")) {
      target = javascriptOf(folder, source);
      found(source);
    } else
      throw new LoadError(
        `${from}: imports ${imp.fileName}, outside the interpreter's folder: keep its modules in ${folder}, and import futamura's hints as "futamura/hints"`,
      );
    const at = imp.pos + 1; // (after the opening quote)
    out = out.slice(0, at) + specifierOf(target, to) + out.slice(at + imp.fileName.length);
  }
  return out;
}

/** The TypeScript file a relative import names (`./ops.ts`, `./ops.js` or `./ops`). */
function moduleFile(path: string, from: string, spec: string): string {
  const candidates = /\.[cm]?ts$/.test(path)
    ? [path]
    : /\.[cm]?js$/.test(path)
      ? [path.replace(/js$/, "ts")]
      : [path + ".ts", join(path, "index.ts")];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new LoadError(`${from}: imports ${spec}, which is not a TypeScript file there`);
  return found;
}
