//! The frontend: reads an interpreter's TypeScript source with ts-morph, type-checks it, checks
//! the module against the subset (docs/SUBSET.md), and lowers its entry function and every
//! function the entry reaches into low-level flow graphs.
//!
//! Everything outside the subset is a violation `file:line:col: message`; all of them are
//! reported, never just the first, and never as a stack trace.

import { relative } from "node:path";
import { Node, Project, SyntaxKind, type FunctionDeclaration, type SourceFile } from "ts-morph";
import type { Driver, Graph, Module, Type } from "../../runtime/ir/types.ts";
import { verifyGraph, verifyModule } from "../../runtime/ir/verify.ts";
import { liveAcross } from "../../runtime/ir/walk.ts";
import { cleanup, runPasses } from "../../runtime/passes/index.ts";
import { constInt, lowerFunction, type FunctionLike } from "./lower.ts";
import { annotationType } from "./types.ts";
import { makeConstants, type ConstantDecl } from "./constants.ts";
import { ctorGraph, methodGraph, scanClasses, type ClassInfo } from "./classes.ts";

export interface Frontend {
  module?: Module;
  violations: string[];
  /** The other modules the graphs depend on (their constants): absolute paths. */
  imports?: string[];
}

/** What lowering needs to know about the module around a function. */
export interface ModuleScope {
  sf: SourceFile;
  file: string;
  consts: Map<string, number>;
  funcs: Map<string, FunctionDeclaration>;
  /** The module's classes by name, and their methods and constructors by graph name. */
  classes: Map<string, ClassInfo>;
  members: Map<string, { decl: FunctionLike; self: ClassInfo }>;
  /** The module-level constant objects (`constants.ts`): declared, and made (by name, their
   *  index in `Module.objects`). */
  constantDecls: ConstantDecl[];
  objects: Map<string, number>;
  /** The modules whose constants it imports (absolute paths). */
  imports: string[];
  driver?: Driver;
  driverName?: string;
  hints: Set<string>;
  report(node: Node, message: string): void;
}

const HINTS = new Set(["JitDriver", "VmError", "promote", "readByte", "writeByte"]);

let shared: Project | undefined;

/** One ts-morph project for the process: creating one loads the standard library (slow). */
function project(): Project {
  shared ??= new Project({
    compilerOptions: {
      strict: true,
      target: 9 /* ES2022 */,
      module: 99 /* ESNext */,
      moduleResolution: 100 /* Bundler */,
      allowImportingTsExtensions: true,
      noEmit: true,
      lib: ["lib.es2022.d.ts"],
      types: [],
    },
    skipAddingFilesFromTsConfig: true,
  });
  return shared;
}

/** The source file the last `buildGraphs` of `path` read (for the first tier's emitter). */
export function sourceFileOf(path: string): SourceFile | undefined {
  return project().getSourceFile(path);
}

/** The exported functions of the file at `path` that reach the driver's merge point (call it,
 *  or call a function of the file that does, at any depth): the candidates for its entry. */
export function entriesOf(path: string, text: string): string[] {
  const p = project();
  const sf = p.createSourceFile(path + ".entries.ts", text, { overwrite: true });
  try {
    const fns = new Map(sf.getFunctions().map((f) => [f.getName() ?? "", f]));
    const reaches = new Map<string, boolean>();
    const reach = (name: string): boolean => {
      const known = reaches.get(name);
      if (known !== undefined) return known;
      reaches.set(name, false); // (recursion: not through itself)
      const f = fns.get(name);
      const calls = f?.getDescendantsOfKind(SyntaxKind.CallExpression) ?? [];
      const yes = calls.some((c) => {
        const callee = c.getExpression();
        if (Node.isPropertyAccessExpression(callee)) return callee.getName() === "mergePoint";
        return Node.isIdentifier(callee) && reach(callee.getText());
      });
      reaches.set(name, yes);
      return yes;
    };
    return [...fns].filter(([name, f]) => f.isExported() && reach(name)).map(([name]) => name);
  } finally {
    p.removeSourceFile(sf);
  }
}

/** Builds the graphs of `entry` in the file at `path` (or of `text`, standing for that file). */
export function buildGraphs(
  path: string,
  entry: string,
  opts: { text?: string; verifyEachPass?: boolean; roots?: string[] } = {},
): Frontend {
  const text = opts.text;
  const p = project();
  const existing = p.getSourceFile(path);
  if (existing) p.removeSourceFile(existing);
  const sf =
    text === undefined
      ? p.addSourceFileAtPath(path)
      : p.createSourceFile(path, text, { overwrite: true });
  p.resolveSourceFileDependencies();
  const file = relative(process.cwd(), sf.getFilePath()) || sf.getFilePath();

  const violations: { pos: number; text: string }[] = [];
  const report = (node: Node, message: string) => {
    const { line, column } = sf.getLineAndColumnAtPos(node.getStart());
    violations.push({ pos: node.getStart(), text: `${file}:${line}:${column}: ${message}` });
  };
  for (const d of sf.getPreEmitDiagnostics()) {
    const start = d.getStart() ?? 0;
    const { line, column } = sf.getLineAndColumnAtPos(start);
    const msg = d.getMessageText();
    violations.push({
      pos: start,
      text: `${file}:${line}:${column}: ${typeof msg === "string" ? msg : msg.getMessageText()}`,
    });
  }

  const scope = scanModule(sf, file, report);
  const classDecls = [...scope.classes.values()].map((c) => c.ir).sort((a, b) => a.id - b.id);
  const objects = violations.length
    ? []
    : makeConstants(scope.constantDecls, scope, classDecls, (roots) =>
        lowerReachable(scope, roots),
      );
  const fn = scope.funcs.get(entry);
  let graphs: Graph[] = [];
  if (!fn) report(sf, `no function '${entry}' to use as the entry point`);
  else {
    for (const r of opts.roots ?? [])
      if (!scope.funcs.has(r)) report(sf, `no function '${r}' (the descriptor's constants)`);
    graphs = lowerReachable(scope, [
      entry,
      ...(opts.roots ?? []).filter((r) => scope.funcs.has(r)),
    ]);
  }
  const sorted = [...new Map(violations.map((v) => [v.text, v])).values()].sort(
    (a, b) => a.pos - b.pos,
  );
  if (sorted.length) return { violations: sorted.map((v) => v.text) };
  const module: Module = { file, graphs, data: [] };
  if (scope.classes.size) module.classes = classDecls;
  if (objects.length) module.objects = objects;
  if (scope.driver) module.driver = scope.driver;
  const check = opts.verifyEachPass
    ? (g: Graph, pass: string) => {
        const errors = verifyGraph(module, g);
        if (errors.length) throw new Error(`after ${pass}:\n  ${errors.join("\n  ")}`);
      }
    : undefined;
  for (const g of graphs) runPasses(g, cleanup, check);
  verifyModule(module);
  const across = graphs.flatMap((g) =>
    liveAcross(g).map(({ op, v }) => {
      const at = op.pos ? `${file}:${op.pos.line}:${op.pos.col}` : file;
      return `${at}: '${g.names[v] ?? `v${v}`}' is live across the merge point but is neither a green nor a red of the driver`;
    }),
  );
  if (across.length) return { violations: across };
  return { module, violations: [], imports: scope.imports };
}

/** The graphs of the functions named and of every function they call, at any depth. */
function lowerReachable(scope: ModuleScope, roots: string[]): Graph[] {
  const graphs: Graph[] = [];
  const queue = [...roots];
  for (let i = 0; i < queue.length; i++) {
    const name = queue[i]!;
    const member = scope.members.get(name);
    const { graph, calls } = member
      ? lowerFunction(scope, member.decl, name, member.self)
      : lowerFunction(scope, scope.funcs.get(name)!, name);
    graphs.push(graph);
    for (const c of calls) if (!queue.includes(c)) queue.push(c);
  }
  return graphs;
}

function scanModule(sf: SourceFile, file: string, report: ModuleScope["report"]): ModuleScope {
  const scope: ModuleScope = {
    sf,
    file,
    consts: new Map(),
    funcs: new Map(),
    classes: new Map(),
    members: new Map(),
    constantDecls: [],
    objects: new Map(),
    imports: [],
    hints: new Set(),
    report,
  };
  const classes = sf.getClasses();
  for (const st of sf.getStatements()) {
    if (Node.isImportDeclaration(st)) {
      const from = st.getModuleSpecifierValue();
      if (!/^futamura\/hints$|(^|\/)runtime\/hints(\.[jt]s)?$/.test(from)) {
        importConstants(st, scope);
        continue;
      }
      for (const n of st.getNamedImports()) {
        if (!HINTS.has(n.getName())) report(n, `'${n.getName()}' is not a hint of the subset`);
        else scope.hints.add(n.getName());
      }
      if (st.getDefaultImport() || st.getNamespaceImport())
        report(st, "only named imports of hints are in the subset");
    } else if (Node.isFunctionDeclaration(st)) {
      const name = st.getName();
      if (!name) report(st, "a function needs a name");
      else if (st.isAsync() || st.isGenerator())
        report(st, "async functions and generators are not in the subset");
      else scope.funcs.set(name, st);
    } else if (Node.isVariableStatement(st)) {
      scanConst(st, scope);
    } else if (Node.isClassDeclaration(st)) {
      if (st.isExported() && st.isDefaultExport())
        report(st, "default exports are not in the subset");
    } else if (Node.isTypeAliasDeclaration(st) || Node.isInterfaceDeclaration(st)) {
      report(st, "type declarations are not in the subset");
    } else if (!Node.isEmptyStatement(st)) {
      report(st, `${st.getKindName()} at the top level is not in the subset`);
    }
  }
  const names = new Set(classes.map((c) => c.getName() ?? ""));
  const fieldType = (node: Node, text: string | undefined): Type => {
    const t = text === undefined ? undefined : annotationType(text, names);
    if (t === undefined || t === "void")
      report(
        node,
        text === undefined ? "write the field's type out" : `type '${text}' is not in the subset`,
      );
    return t ?? "i32";
  };
  scope.classes = scanClasses(classes, fieldType, report);
  for (const c of scope.classes.values()) {
    if (c.ctor) scope.members.set(ctorGraph(c.ir.name), { decl: c.ctor, self: c });
    for (const [name, m] of c.methods)
      scope.members.set(methodGraph(c.ir.name, name), { decl: m, self: c });
  }
  return scope;
}

/** `import { NOP, PUSH } from "./tl.ts"`: integer constants of another module of the
 *  interpreter's folder (an instruction set shared, as PyPy's TLC imports TL's tlopcode). */
function importConstants(st: import("ts-morph").ImportDeclaration, scope: ModuleScope): void {
  const from = st.getModuleSpecifierSourceFile();
  const folder = (f: SourceFile) => f.getDirectoryPath();
  if (!st.getModuleSpecifierValue().startsWith(".") || !from || folder(from) !== folder(scope.sf))
    return scope.report(
      st,
      `imports are of futamura's hints ("futamura/hints") or of constants of a module in the interpreter's folder`,
    );
  if (st.getDefaultImport() || st.getNamespaceImport() || st.isTypeOnly())
    return scope.report(st, "only named imports of integer constants are in the subset");
  for (const n of st.getNamedImports()) {
    const decl = from.getVariableDeclaration(n.getName());
    const init = decl?.getInitializer();
    const value = init && decl?.getVariableStatement()?.isExported() ? constInt(init) : undefined;
    if (value === undefined)
      scope.report(
        n,
        `'${n.getName()}' is not an exported integer constant of ${from.getBaseName()}`,
      );
    else scope.consts.set(n.getAliasNode()?.getText() ?? n.getName(), value);
  }
  if (!scope.imports.includes(from.getFilePath())) scope.imports.push(from.getFilePath());
}

function scanConst(st: import("ts-morph").VariableStatement, scope: ModuleScope): void {
  if (st.getDeclarationKind() !== "const")
    return scope.report(st, "top-level variables must be const");
  for (const d of st.getDeclarations()) {
    const init = d.getInitializer();
    const name = d.getName();
    if (init && Node.isNewExpression(init) && init.getExpression().getText() === "JitDriver") {
      scanDriver(d, init, scope);
      continue;
    }
    if (init && Node.isNewExpression(init)) {
      scope.constantDecls.push({ name, init });
      continue;
    }
    const value = init && constInt(init);
    if (value === undefined)
      scope.report(d, `top-level const '${name}' must be an integer literal or a new object`);
    else scope.consts.set(name, value);
  }
}

function scanDriver(
  d: import("ts-morph").VariableDeclaration,
  init: import("ts-morph").NewExpression,
  scope: ModuleScope,
): void {
  if (scope.driver) return scope.report(d, "one JitDriver per interpreter");
  const spec = init.getArguments()[0];
  const lists: Record<string, string[]> = {
    greens: [],
    reds: [],
    immutable: [],
    virtualizables: [],
  };
  if (!spec || !Node.isObjectLiteralExpression(spec))
    return scope.report(init, "JitDriver takes { greens, reds, immutable, virtualizables }");
  for (const prop of spec.getProperties()) {
    const key = Node.isPropertyAssignment(prop) ? prop.getName() : "";
    const value = Node.isPropertyAssignment(prop) ? prop.getInitializer() : undefined;
    if (!(key in lists) || !value || !Node.isArrayLiteralExpression(value)) {
      scope.report(
        prop,
        "JitDriver takes greens, reds, immutable and virtualizables as arrays of variable names",
      );
      continue;
    }
    for (const e of value.getElements()) {
      if (Node.isStringLiteral(e)) lists[key]!.push(e.getLiteralValue());
      else scope.report(e, "expected a variable name in quotes");
    }
  }
  for (const name of lists.immutable!)
    if (!lists.greens!.includes(name)) scope.report(spec, `immutable '${name}' must also be green`);
  for (const name of lists.virtualizables!)
    if (!lists.reds!.includes(name)) scope.report(spec, `virtualizable '${name}' must also be red`);
  scope.driver = { greens: lists.greens!, reds: lists.reds!, immutable: lists.immutable! };
  if (lists.virtualizables!.length) scope.driver.virtualizables = lists.virtualizables!;
  scope.driverName = d.getName();
}
