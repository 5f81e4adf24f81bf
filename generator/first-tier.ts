//! The first tier: the interpreter's own source, made resumable at its merge point.
//!
//! A JIT that interprets first and compiles only what is hot needs an interpreter tier that
//! (a) runs at the speed of the plain interpreter, (b) counts passes through the merge point at
//! almost no cost, (c) can hand its complete state over at a merge point (to compiled code) and
//! (d) can be resumed from such a state (when compiled code leaves at a cold exit). The
//! interpreter as written does (a) only: its dispatch loop can be neither left nor entered.
//!
//! So the generator rewrites the source (PyPy's portal runner does the same job in RPython):
//! the portal function (the one holding `driver.mergePoint`) keeps its prelude and then calls
//! `<portal>$loop(greens…, reds…)`, a new exported function whose parameters are the driver's
//! greens and reds and whose body is the dispatch loop and whatever follows it. Every variable
//! live across the merge point is a green or a red (the frontend checks it), so the loop needs
//! nothing else: entering `$loop` with a state is resuming the interpreter there. Before each
//! pass through the merge point the loop counts the pass in a hashed counter table
//! (`runtime/tiers/counters.ts`, PyPy's jitcounter: collisions only make a position hot sooner);
//! when a counter runs out it offers the state to `tierUp`, which either gives the portal
//! frame's result (another tier ran the frame to its end), `STAY`, or `RESUME` with a state to
//! go on from (another tier ran part of the frame and left at a merge point). Everything else is the
//! source as the author wrote it, so V8 runs it as it runs `interp`.
//!
//! The dispatch loop must be a `while` or `for` statement at the top level of the portal's body,
//! with the merge point as its first statement, and its condition must call nothing (entering
//! the loop evaluates it again). Anything else is a violation at `file:line:col`.

import { dirname, relative, resolve } from "node:path";
import {
  Node,
  SyntaxKind,
  type FunctionDeclaration,
  type SourceFile,
  type Statement,
} from "ts-morph";
import type { Driver } from "../runtime/ir/types.ts";
import type { RuntimeImports } from "./emit.ts";

export interface FirstTier {
  text?: string;
  violations: string[];
}

/** An edit of the source text: `text` in place of `[start, end)`. */
interface Edit {
  start: number;
  end: number;
  text: string;
}

/** The first tier of the interpreter in `sf` (already checked by the frontend), as the text of
 *  a module written at `outPath`, importing futamura's runtime by `runtime`. */
export function emitFirstTier(
  sf: SourceFile,
  driver: Driver,
  header: string,
  outPath: string,
  runtime: RuntimeImports,
  objects: TierObjectNames = { classes: [], constants: [] },
  /** Whether the portal may call itself (a hot state may then be in a nested frame). */
  recursive = true,
): FirstTier {
  const violations: string[] = [];
  const report = (node: Node, message: string) => {
    const { line, column } = sf.getLineAndColumnAtPos(node.getStart());
    violations.push(`${relative(process.cwd(), sf.getFilePath())}:${line}:${column}: ${message}`);
  };
  const driverName = sf
    .getVariableDeclarations()
    .find((d) => d.getInitializer()?.getText().startsWith("new JitDriver("))
    ?.getName();
  if (!driverName) return (report(sf, "no JitDriver"), { violations });
  const site = findMergePoint(sf, driverName, report);
  if (!site) return { violations };
  const { portal, loop, mergePoint } = site;
  const params = stateParams(portal, driver, report);
  if (!params) return { violations };

  const body = portal.getBodyOrThrow() as import("ts-morph").Block;
  const statements = body.getStatements();
  const at = statements.indexOf(loop);
  const name = portal.getNameOrThrow();
  const loopName = `${name}$loop`;
  const ret = portal.getReturnTypeNode()?.getText() ?? "void";
  const position = firstIntegerGreen(driver, params);
  if (position === undefined)
    return (report(loop, "the first tier needs an integer green (the position)"), { violations });
  const greens = driver.greens.join(", ");
  const reds = driver.reds.join(", ");

  // A local countdown (a register) samples every `tier$period`-th pass; the sample counts
  // the position and may hand the state over. A state given back (`RESUME`) is taken: the
  // portal goes on in the loop function, the loop function in place (its parameters are the
  // state), then through the merge point as if it had come round the loop.
  const state = `[${params.map((p) => p.type).join(", ")}]`;
  // The countdown is carried from frame to frame (`tier$carry.tick`, stored where a frame of the
  // portal returns, taken where one starts): a frame too short to reach a sample of its own
  // (TL's calls: a few passes each) still counts its passes, and its positions are found warm.
  // A position found hot is offered where the frame's loop next turns (`tier$turned`: the
  // position not increasing, a back edge), so that entries are at loop heads; until then every
  // pass is looked at (`tier$tick` 0), each remembering its position (`tier$last`).
  const hook = (resume: string) =>
    `if (--tier$tick < 0) {\n` +
    `      tier$seed = (Math.imul(tier$seed, 1103515245) + 12345) | 0;\n` +
    `      tier$tick = tier$period + ((tier$seed >>> 26) & tier$jitter);\n` +
    `      if (\n` +
    `        tier$carry.due > 0\n` +
    `          ? tier$turned(${position}, tier$last)\n` +
    `          : (tier$hot[${position} & tier$MASK] -= tier$period) < 0 && tier$due(${position})\n` +
    `      ) {\n` +
    `        const left = tier$up(${loopName}, ${position}, [${greens}], [${reds}]);\n` +
    `        if (left === tier$RESUME) ${resume.startsWith("{") ? resume : resume + ";"}\n` +
    `        else if (left !== tier$STAY) {\n` +
    `          tier$carry.tick = tier$tick;\n` +
    `          return left as ${ret};\n` +
    `        }\n` +
    `      }\n` +
    `      if (tier$carry.due > 0) tier$tick = 0;\n` +
    `      tier$last = ${position};\n` +
    `    }\n    `;
  const names = params.map((p) => p.name).join(", ");
  const countdown: Edit = {
    start: loop.getStart(),
    end: loop.getStart(),
    text: `let tier$tick = tier$carry.tick;\n  let tier$seed = 1;\n  let tier$last = -1;\n  `,
  };
  const hookAt = (text: string): Edit => ({
    start: mergePoint.getStart(),
    end: mergePoint.getStart(),
    text,
  });
  const hooked = hookAt(
    hook(
      `{\n          tier$carry.tick = tier$tick;\n          return ${loopName}(...(tier$resumed as ${state}));\n        }`,
    ),
  );
  const carried = carryEdits(portal, loop.getStart());
  const within = (n: Node) => carried.filter((e) => e.start >= n.getStart() && e.end <= n.getEnd());
  const loopText = sliceWith(sf, loop, [
    ...loopHeadEdits(loop),
    hookAt(hook(`[${names}] = tier$resumed as ${state}`)),
    ...within(loop),
  ]);
  const rest = statements
    .slice(at + 1)
    .map(
      (s) =>
        s.getFullText().slice(0, s.getStart() - s.getFullStart()) + sliceWith(sf, s, within(s)),
    )
    .join("");
  // The portal stays whole, so that the usual path is the author's function as V8 sees it in
  // `interp` (its dispatch loop with the locals it made: passing them to a function of the
  // loop alone measured 30% slower on bench.b); the loop function is a copy for resuming.
  const loopFunction =
    `\n\n/** ${name}'s dispatch loop, entered at its merge point with the greens and reds (a copy\n` +
    ` *  of the loop in ${name}, for resuming there). */\n` +
    `export function ${loopName}(${params.map((p) => `${p.name}: ${p.type}`).join(", ")}): ${ret} {\n` +
    `  let tier$tick = tier$carry.tick;\n  let tier$seed = 1;\n  let tier$last = -1;\n  ${loopText}${rest}\n}\n`;

  const imports = sf.getImportDeclarations().map((d) => ({
    start: d.getModuleSpecifier().getStart(),
    end: d.getModuleSpecifier().getEnd(),
    text: JSON.stringify(moved(d.getModuleSpecifierValue(), sf.getFilePath(), outPath)),
  }));
  const source = sliceWith(sf, sf, [
    ...imports,
    countdown,
    hooked,
    ...carried,
    { start: portal.getEnd(), end: portal.getEnd(), text: loopFunction },
  ]);
  const counters = JSON.stringify(runtime("tiers/counters"));
  const text =
    `// ${header}\n//\n` +
    `// The first tier of ${relative(dirname(dirname(outPath)), sf.getFilePath())}: its source with the\n` +
    `// dispatch loop of ${name} made resumable at the merge point (${loopName}) and each pass\n` +
    `// counted (generator/first-tier.ts).\n\n` +
    `import {\n  HOT_MASK as tier$MASK,\n  carry as tier$carry,\n  RESUME as tier$RESUME,\n  STAY as tier$STAY,\n  hot as tier$hot,\n  jitter as tier$jitter,\n  period as tier$period,\n  resumed as tier$resumed,\n  tierUp as tier$up,\n  turned as tier$turned,\n  due as tier$due,\n} from ${counters};\n` +
    source.replace(/^(\s*\/\/[^\n]*\n)*/, "") +
    `\n/** What the tiers need to know of ${name}. */\n` +
    `export const portal = { name: ${JSON.stringify(name)}, loop: ${loopName}, greens: ${JSON.stringify(driver.greens)}, reds: ${JSON.stringify(driver.reds)}, recursive: ${recursive}${heapExport(objects)} };\n`;
  return { text, violations };
}

/** The interpreter's classes and module-level constant objects, by name: the first tier exports
 *  them so that compiled code running in JavaScript makes and reads its very objects (one
 *  identity across tiers: `runtime/heap.ts`). */
export interface TierObjectNames {
  classes: string[];
  constants: string[];
}

function heapExport({ classes, constants }: TierObjectNames): string {
  if (!classes.length) return "";
  return `, classes: { ${classes.join(", ")} }, constants: { ${constants.join(", ")} }`;
}

interface Site {
  portal: FunctionDeclaration;
  loop: Statement;
  mergePoint: Statement;
}

/** The merge point's statement, its loop and the function holding it; or violations. */
function findMergePoint(
  sf: SourceFile,
  driverName: string,
  report: (node: Node, message: string) => void,
): Site | undefined {
  const calls = sf
    .getDescendants()
    .filter(
      (n) => Node.isCallExpression(n) && n.getExpression().getText() === `${driverName}.mergePoint`,
    );
  if (calls.length !== 1) {
    report(sf, `the first tier needs exactly one ${driverName}.mergePoint (found ${calls.length})`);
    return undefined;
  }
  const call = calls[0]!;
  const mergePoint = call.getParentOrThrow();
  const block = mergePoint.getParent();
  const loop = block?.getParent();
  const portal = loop?.getParent()?.getParent();
  const ok =
    Node.isExpressionStatement(mergePoint) &&
    block !== undefined &&
    Node.isBlock(block) &&
    block.getStatements()[0] === mergePoint &&
    loop !== undefined &&
    (Node.isWhileStatement(loop) || Node.isForStatement(loop)) &&
    portal !== undefined &&
    Node.isFunctionDeclaration(portal);
  if (!ok) {
    report(
      call,
      "the first tier needs the merge point as the first statement of a while or for loop at the top level of its function",
    );
    return undefined;
  }
  const cond = Node.isWhileStatement(loop) ? loop.getExpression() : loop.getCondition();
  const calling = cond?.getDescendants().find((n) => Node.isCallExpression(n));
  if (calling) {
    report(
      calling,
      "the dispatch loop's condition must call nothing: entering the loop evaluates it again",
    );
    return undefined;
  }
  return { portal, loop: loop as Statement, mergePoint: mergePoint as Statement };
}

/** The loop function's parameters: greens then reds, each with its type in the portal. */
function stateParams(
  portal: FunctionDeclaration,
  driver: Driver,
  report: (node: Node, message: string) => void,
): { name: string; type: string }[] | undefined {
  const out: { name: string; type: string }[] = [];
  for (const name of [...driver.greens, ...driver.reds]) {
    const decl =
      portal.getParameter(name) ??
      portal.getDescendants().find((n) => Node.isVariableDeclaration(n) && n.getName() === name);
    if (!decl || !(Node.isParameterDeclaration(decl) || Node.isVariableDeclaration(decl))) {
      report(portal, `'${name}' is a green or red but not a variable of ${portal.getName()}`);
      return undefined;
    }
    // A typed array by its plain name: the loop takes what the portal is given.
    out.push({
      name,
      type: decl
        .getType()
        .getText(decl)
        .replace(/<ArrayBuffer(Like)?>$/, ""),
    });
  }
  return out;
}

function firstIntegerGreen(
  driver: Driver,
  params: { name: string; type: string }[],
): string | undefined {
  return driver.greens.find((g) => params.find((p) => p.name === g)?.type === "number");
}

/** A `for` loop's initialiser is left out of the copy: entering the loop must not run it. */
function loopHeadEdits(loop: Statement): Edit[] {
  if (!Node.isForStatement(loop)) return [];
  const init = loop.getInitializer();
  return init ? [{ start: init.getStart(), end: init.getEnd(), text: "" }] : [];
}

/** The returns of the portal from `from` on (where its countdown exists) as blocks that first
 *  store the countdown for the next frame. */
function carryEdits(portal: FunctionDeclaration, from: number): Edit[] {
  return portal
    .getDescendantsOfKind(SyntaxKind.ReturnStatement)
    .filter(
      (r) =>
        r.getStart() >= from && r.getFirstAncestorByKind(SyntaxKind.FunctionDeclaration) === portal,
    )
    .map((r) => ({
      start: r.getStart(),
      end: r.getEnd(),
      text: `{\n  tier$carry.tick = tier$tick;\n  ${r.getText()}\n}`,
    }));
}

/** The text of `node` with `edits` (inside it, none overlapping) made. */
function sliceWith(sf: SourceFile, node: Node, edits: Edit[]): string {
  const text = sf.getFullText();
  const from = node === sf ? 0 : node.getStart();
  const to = node === sf ? text.length : node.getEnd();
  let out = "";
  let at = from;
  for (const e of [...edits].sort((a, b) => a.start - b.start)) {
    out += text.slice(at, e.start) + e.text;
    at = e.end;
  }
  return out + text.slice(at, to);
}

/** The specifier by which a module at `to` imports the file at `target` (an absolute path). */
export function specifierOf(target: string, to: string): string {
  const rel = relative(dirname(to), target);
  return rel.startsWith(".") ? rel : `./${rel}`;
}

/** A module specifier written in the module at `from`, as the module at `to` must write it:
 *  a relative one is moved, a package name stays. */
function moved(spec: string, from: string, to: string): string {
  return spec.startsWith(".") ? specifierOf(resolve(dirname(from), spec), to) : spec;
}
