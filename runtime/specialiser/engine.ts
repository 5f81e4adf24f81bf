//! The specialisation engine: everything the abstract interpreter (`pe.ts`) and the generated
//! specialisers (`generated/<lang>.ts`) share, so that both take every decision by the same rules
//! and give byte-identical residual graphs.
//!
//! It is one object (a specialisation's state lives as long as the program's code cache), in
//! layers, a file each, every layer using those below it:
//!
//! - `residual.ts`: the residual graphs being built, emission under the bounds and the budget,
//!   operands, and the meaning of each operation on abstract values (folding, virtual arrays);
//! - `control.ts`: frames, calls, jumps, red branches (a path per side), returns and raises;
//! - `saved.ts`: saved paths, the exits that name them (promotions, a tier region's edges) and
//!   the continuations made from them, the exact state for the interpreter or the first tier;
//! - `merge-point.ts`: the merge point, its keys, widening and generalisation, regions' edges;
//! - this file: the worklist of paths and the ways in: a whole program from its entry (`run`),
//!   a tier's hot state (`enter`), a saved path (`specialiseNew`, for `saved.ts`).
//!
//! The state of a path (frames of slots) and what is done to it is `frames.ts`; the values
//! `value.ts`; keys as numbers `keys.ts`; the rules every decision follows `policy.ts`.
//! Generated code imports the engine's types from here.
//!
//! A frame runs in one of two modes. *Generic*: every slot holds an abstract value and the
//! abstract interpreter walks the graph's operations (`pe.ts`). *Compiled*: the frame runs a
//! generated specialiser's code for the graph; slots of variables the binding-time analysis found
//! green hold plain values (numbers, booleans, the bytecode array) and the code computes them
//! directly. A compiled frame falls back to generic mode where the policy turns a green red
//! (generalisation): the generated code and the walker share the frame, so nothing is lost.
//!
//! Cost: per operation walked or emitted, bounded by the interpreter, not the program (a state
//! copy, a key or a merge point's leaves cost the interpreter's variables and the virtuals'
//! lengths, at most `maxVirtualLength`); keys and blocks are found by hashing. So a
//! specialisation is linear in the operations it walks (`stats.opsSeen`, at most `maxOps`) and
//! emits: the steps it counts (`runtime/work.ts`).

import type { Graph, Module, Type } from "../ir/types.ts";
import { Heap } from "../heap.ts";
import { InlineTooLong, MAX_INLINE_RETRIES, type Policy } from "./policy.ts";
import { countWork, workDone } from "../work.ts";
import { constantIndex, type AVal, type Field, type VirtualObject } from "./value.ts";
import { elemOf, isList } from "../ir/containers.ts";
import { mergePointOf, red, type Compiled, type Frame, type Path } from "./frames.ts";
import { MergePoints } from "./merge-point.ts";
import type { Residual } from "./residual.ts";
export {
  Raised,
  bits,
  plain,
  wrap,
  mergeArgs,
  type Compiled,
  type Frame,
  type Path,
  type Slot,
  type Target,
} from "./frames.ts";
export type { Resumed } from "./saved.ts";
export type { PlaceCounts } from "./merge-point.ts";

/** How a tier entry takes a red: a run-time value of its type (and, for an array, length), or
 *  for a virtualizable (`Driver.virtualizables`) `unpacked`: the object's class and, per field,
 *  the length of the list it holds, to be unpacked into virtuals (`Engine.unpack`). */
export interface EntryRed {
  type: Type;
  len?: number | undefined;
  unpacked?: Unpacked | undefined;
}

/** A virtualizable's layout where compiled code is entered: its class, per field the length
 *  of the list it holds (undefined: not a list, or too long to stay virtual), and the classes
 *  of that list's items (undefined where not an object of a class, or not known). */
export interface Unpacked {
  cls: number;
  lengths: (number | undefined)[];
  classes: ((number | undefined)[] | undefined)[];
}

/** Runs a generic frame (the abstract interpreter's walk); set by `pe.ts`. */
export type Walker = (e: Engine, p: Path, f: Frame) => boolean;

/** The engine: one per program's code cache. */
export class Engine extends MergePoints {
  constructor(
    m: Module,
    policy: Policy,
    private walk: Walker,
    compiled: Record<string, Compiled> = {},
    heap: Heap = Heap.of(m),
  ) {
    super(m, policy, compiled, heap);
  }

  /** Specialises `entry` for `args`; red arguments become the residual entry's parameters. */
  run(entry: string, args: AVal[]): Module {
    const t0 = performance.now();
    const g = this.graph(entry);
    const rg = this.newResidual(entry, g.ret);
    const vals = g.blocks[0]!.params.map((p, i) => {
      const v = rg.b.addParam(0, g.types[p]!, g.names[p]);
      const a = args[i]!;
      if (a.k === "a") this.frozen.add(a.arr);
      // (a constant object, the program's constants, stays one: not a parameter's value)
      return a.k === "r" && constantIndex(a) === undefined
        ? ({ k: "r", o: v, type: g.types[p]! } as AVal)
        : a;
    });
    this.work.push({ rg, frames: [this.frame(g, vals, -1)], out: 0, splits: 0 });
    const before = this.stats.opsSeen + this.emitted;
    try {
      while (this.work.length) this.follow(this.work.pop()!);
    } finally {
      countWork("specialise", this.stats.opsSeen + this.emitted - before);
    }
    const made = this.residuals.map((r) => r.b.finish());
    for (const graph of made) {
      this.clean(graph, made);
      this.out.graphs.push(graph);
    }
    this.out.graphs.push(...this.included);
    this.stats.graphs = this.out.graphs.length;
    this.stats.specialiseMs = Math.round((performance.now() - t0) * 1000) / 1000;
    return this.out;
  }

  protected follow(p: Path): void {
    for (;;) {
      const f = p.frames.at(-1)!;
      if (!(f.code ? f.code.run(this, p, f) : this.walk(this, p, f))) return;
    }
  }

  /** Tiers: specialises the portal from its merge point in a state of the first tier, into a
   *  new graph `name` (and the portal graphs it calls), cleaned up: the greens are `greens`
   *  (compile-time values), every red a run-time value of the type and (for an array) length
   *  in `reds`, the graph's parameters in order, a virtualizable unpacked by its layout. It runs the portal's frame to its end, as the
   *  first tier would from there. On a bound (`SpecialisationLimit`), nothing made stays. */
  enter(name: string, greens: AVal[], reds: EntryRed[]): Graph[] {
    const portal = this.graph([...this.portals][0]!);
    const [block, op] = mergePointOf(portal);
    const vars = portal.blocks[block]!.ops[op]!.args;
    for (const a of greens) if (a.k === "a") this.frozen.add(a.arr);
    this.stats.tierEntries++;
    return this.specialiseNew(name, portal.ret, (rg) => {
      const position = greens[this.positionGreen];
      if (position?.k === "c" && typeof position.v === "number") rg.entryPosition = position.v;
      // (the reds the graph's parameters, in order)
      const vals = vars.map((v, i): AVal => {
        const r = reds[i - greens.length];
        if (typeof v !== "number" || !r) return greens[i]!;
        return red(rg.b.addParam(0, r.type), r.type, r.len);
      });
      const frame = this.frameAtMergePoint(portal, vars, vals);
      const path: Path = {
        rg,
        frames: [frame],
        out: 0,
        splits: 0,
        fresh: true,
        safepointFirst: true,
      };
      // Virtualizables unpacked (their layout, classes included, is the entry's key's).
      vars.forEach((v, i) => {
        const r = reds[i - greens.length];
        if (typeof v !== "number" || !r?.unpacked) return;
        frame.env[v] = this.unpack(path, (frame.env[v] as { o: number }).o, r.unpacked);
      });
      return path;
    });
  }

  /** A virtualizable red at an entry (PyPy's virtualizables: the interpreter's frame), as a
   *  virtual whose home is the object itself: its fields read, and a list it holds whose
   *  length the entry's key fixes read item by item into a virtual list whose home is the
   *  list. Compiled code then works on the virtuals (the stack's pushes and pops, its boxes)
   *  and writes back into the homes where they are forced (`Residual.forceObject`): exits,
   *  escapes, a merge point that generalises. */
  private unpack(p: Path, home: number, how: Unpacked): AVal {
    const decl = this.m.classes!.find((c) => c.id === how.cls)!;
    const fields = decl.fields.map((f, i): Field => {
      const x = this.emit(p, "get_field", [home], f.type, `${decl.name}.${f.name}`);
      const len = how.lengths[i];
      if (len === undefined || !isList(f.type)) return red(x, f.type, undefined);
      const elem = elemOf(f.type);
      const items = Array.from({ length: len }, (_, k): Field => {
        const item = this.emit(p, "list_get", [x, { k: "int", v: k }], elem);
        const cls = how.classes[i]?.[k];
        return cls === undefined
          ? red(item, elem, undefined)
          : { k: "r", o: item, type: elem, cls };
      });
      this.stats.virtualsCreated++;
      const list = { type: f.type, items, home: { k: "r", o: x, type: f.type }, homeLength: len };
      return { k: "l", obj: list } as Field;
    });
    this.stats.virtualsCreated++;
    const obj: VirtualObject = {
      cls: decl.name,
      id: decl.id,
      fields,
      home: { k: "r", o: home, type: "ref", cls: decl.id },
    };
    return { k: "o", obj } as AVal;
  }

  /** Specialises the path `start` makes in a new residual graph `name` (and the portal graphs
   *  it calls) and cleans them up; on a bound, nothing made stays. A portal call too long to
   *  inline starts it again with that call residual (at most `MAX_INLINE_RETRIES` times). */
  protected specialiseNew(name: string, ret: Type, start: (rg: Residual) => Path): Graph[] {
    const before = {
      residuals: this.residuals.length,
      included: this.included.length,
      portals: this.portalGraphs.size,
      ops: this.stats.opsResidual,
    };
    this.opsBefore = this.stats.opsSeen;
    for (let retries = 0; ; retries++) {
      const rg = this.newResidual(name, ret);
      const work = this.stats.opsSeen + this.emitted;
      this.stepLimit = work + (this.workLimit - workDone());
      try {
        this.work.push(start(rg));
        while (this.work.length) this.follow(this.work.pop()!);
        countWork("specialise", this.stats.opsSeen + this.emitted - work);
        break;
      } catch (e) {
        countWork("specialise", this.stats.opsSeen + this.emitted - work);
        // Forget the half-made graphs (and the portal graphs they would have made), and what
        // they took of the code cache's bound.
        this.work = [];
        this.residuals.length = before.residuals;
        this.included.length = before.included;
        this.stats.opsResidual = before.ops;
        [...this.portalGraphs.keys()]
          .slice(before.portals)
          .forEach((k) => this.portalGraphs.delete(k));
        // (a call already not inlined failed again: it was inlined in the state this starts
        // from, which cannot change)
        const again = e instanceof InlineTooLong && this.noInline.has(e.key);
        if (!(e instanceof InlineTooLong) || again || retries >= MAX_INLINE_RETRIES) throw e;
        this.noInline.add(e.key);
      }
    }
    const made = this.residuals.slice(before.residuals).map((r) => {
      const graph = r.b.finish();
      this.labelJoins(r, graph);
      return graph;
    });
    for (const graph of made) this.clean(graph, made);
    return [...made, ...this.included.slice(before.included)];
  }
}
