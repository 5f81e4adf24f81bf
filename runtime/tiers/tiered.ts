//! The tiered JIT of one program: what the first tier's hot states become.
//!
//! The program starts in the first tier (`generated/<lang>.tier1.ts`), which counts passes
//! through its merge point (`counters.ts`). When a position is hot, the first tier offers its
//! state here (`onHot`): the greens and the reds at the merge point. The state is specialised
//! from there (`Engine.enter`: the greens are compile-time values, every red a run-time value
//! of its type and array length), cleaned up and compiled, once per green state, and the run
//! enters that code with the reds. It runs the portal's frame to its end (its result is the
//! frame's: nested portal calls of TL return across tiers both ways) or leaves it at an edge of
//! the region (below), and the first tier goes on from the state it left with.
//!
//! *The region.* What is compiled from a hot position is what the first tier has run often:
//! eagerly (both sides of every red branch), up to merge points at positions that the first
//! tier's counters have not found warm (`Engine.region`); there the path ends in an exit. Hot
//! loops so come whole, with their inner loops (whose positions are warm too), and nothing the
//! program ran once is compiled. An edge exit goes back to the first tier at the merge point,
//! where its state is complete (greens and reds): the run leaves compiled code and the first
//! tier takes the state in its own frame (`RESUME`), so passing between tiers does not grow the
//! stack. An exit in a graph another compiled graph called (a portal call in compiled code)
//! cannot leave the run: there the first tier's loop runs the rest of that frame in the exit's
//! callback and its result is the exited graph's. An edge exit taken `bridgeAfter` times gets
//! code of its own (a bridge, specialised from the exit's exact state, PyPy's bridges), and
//! the exit is patched to go there.
//!
//! *Other exits* are promotions (a continuation per value) and, where a bound
//! of the policy stops specialising, the interpreter's own graphs on L3 going on from the exit's
//! exact state (`Engine.state`) to the frame's end.
//!
//! *Arrays* have one home at a time. The first tier's arrays are JavaScript typed arrays;
//! entering machine code copies the arrays among the reds into the run's arena (an array held
//! twice, once) and the run copies them back when it ends, however it ends, so no tier ever
//! sees a stale copy (only one tier runs at a time). An array compiled code made and leaves
//! with becomes a new typed array. In a callback inside machine code the first tier works on
//! views of the arena itself. On L3 arrays are the same typed arrays throughout.
//!
//! Green arrays (the bytecode, a table computed from it) are compile-time constants of the code
//! made from them. Those the driver declares immutable are used as they are; any other is
//! specialised on a snapshot, found again by content at the next hot state (so a table the
//! first tier changed is a new snapshot, never stale code), and given to the first tier as a
//! copy when a run leaves.
//!
//! Budget: as in `runtime/jit.ts`, the compile work over the program's life is counted in steps
//! and bounded by `policy.maxWork`; past it nothing more is compiled and hot states stay in the
//! first tier.

import { VmError } from "../hints.ts";
import { logEvent, logging } from "../events.ts";
import type { Graph, Module, Type } from "../ir/types.ts";
import { continuationOrInterpreter, exitOnL3, type NativeFactory } from "../jit.ts";
import { L3, type ExitTo, type Status } from "../l3.ts";
import { Heap, type HeapObject } from "../heap.ts";
import { Engine, mergeArgs, type Compiled, type Unpacked } from "../specialiser/engine.ts";
import { SpecialisationLimit, type Policy } from "../specialiser/policy.ts";
import { walk } from "../specialiser/pe.ts";
import { newTierStats, type TierStats } from "./stats.ts";
import { constantIndex, konst, type AVal } from "../specialiser/value.ts";
import { workDone } from "../work.ts";
import { NotEntered } from "../x64/limit.ts";
import type { NativeModule, Resolution, Value } from "../x64/native.ts";
import {
  STAY,
  isWarm,
  offerNever,
  offerSoon,
  resumeAt,
  type OnHot,
  type PortalLoop,
} from "./counters.ts";
import { opsIn } from "../ir/walk.ts";

export interface TierOptions {
  /** The specialisation policy (its mode is eager: a region is specialised whole). */
  policy: Policy;
  /** A generated specialiser's compiled graphs. */
  compiled?: Record<string, Compiled> | undefined;
  target: "l3" | "x64";
  makeNative?: NativeFactory | undefined;
  /** Takes of an edge exit after which it gets a bridge. */
  bridgeAfter: number;
  /** Hot states offered before the first is compiled: a warm-up, so that a program too short
   *  to repay a compilation never pays for one (each offer stands for about `threshold`
   *  passes; 0: none). */
  warmupOffers: number;
  /** Sees every residual graph made. */
  onGraphs?: ((graphs: Graph[], data: Module["data"]) => void) | undefined;
  /** The first tier's objects (`Heap.ofClasses`): compiled code on L3 and the fallbacks make and
   *  read the very objects the first tier does. */
  heap?: Heap | undefined;
}

type Arr = Int32Array | Uint8Array;

/** Runs of compiled code one inside another's callback, at most. */
const MAX_NESTED_RUNS = 4;

export class TieredProgram {
  readonly stats: TierStats = newTierStats();
  private engine: Engine | undefined;
  private l3: L3 | undefined;
  private native: NativeModule | undefined;
  /** The interpreter's graphs on L3, for fallbacks. */
  private interp: L3 | undefined;
  /** The graph made for each green state (by `stateKey`), and states whose specialisation gave
   *  up (they stay in the first tier). */
  private entries = new Map<string, string>();
  private refused = new Set<string>();
  /** Takes of each edge exit (by status) not bridged yet. */
  private takes = new Map<number, number>();
  /** Positions that were hot (their counters start again when offered): in the region. */
  private hotPositions = new Set<number>();
  /** Positions of the entries made, and positions inside their regions (a position there is
   *  not made an entry of its own: the first tier reaches the region's entry soon, and an entry
   *  per position of a loop compiled the loop once per position). `reached` collects them while
   *  an entry is made. */
  private entryPositions = new Set<number>();
  private covered = new Set<number>();
  private reached: Set<number> | undefined;
  /** Snapshots of green arrays that may change, by content hash; numbers for arrays in keys. */
  private snapshots = new Map<number, Arr[]>();
  private arrayIds = new Map<Arr, number>();
  private lastSnapshot = new WeakMap<Arr, Arr>();
  /** The first tier's loop, which goes on from a state. */
  private loop: PortalLoop | undefined;
  private readonly greens: string[];
  private readonly immutable: boolean[];
  private readonly positionGreen: number;
  /** Per red, whether it is a virtualizable (unpacked where compiled code is entered). */
  private readonly virtualizable: boolean[];
  private readonly redTypes: Type[];
  private readonly portal: string;
  private since = workDone();
  /** Runs of compiled code under way (one inside a callback of another: see `takeOver`). */
  private running = 0;
  /** Where the run's objects live: the first tier's classes. */
  private readonly heap: Heap;

  constructor(
    private graphs: Module,
    private opts: TierOptions,
  ) {
    const d = graphs.driver;
    if (!d) throw new Error("tiers need the interpreter's driver");
    this.greens = d.greens;
    this.immutable = d.greens.map((g) => d.immutable.includes(g));
    this.positionGreen = this.immutable.indexOf(false);
    this.virtualizable = d.reds.map((r) => d.virtualizables?.includes(r) ?? false);
    const portal = graphs.graphs.find((g) =>
      g.blocks.some((b) => b.ops.some((o) => o.op === "merge_point")),
    )!;
    this.redTypes = mergeArgs(portal)
      .slice(d.greens.length)
      .map((o) => portal.types[o as number]!);
    this.portal = portal.name;
    this.heap = opts.heap ?? Heap.of(graphs);
  }

  /** What the first tier calls with a hot state (see `counters.ts`). */
  readonly onHot: OnHot = (loop, greens, reds) => {
    this.loop = loop;
    this.stats.hotStates++;
    if (logging()) logEvent({ ev: "hot", position: greens[this.positionGreen] as number });
    // Deeper than that, the first tier runs on its own: each level of compiled code entered
    // from a callback of another stacks JS and native frames on one stack.
    if (this.running >= MAX_NESTED_RUNS) return STAY;
    const position = greens[this.positionGreen] as number;
    // A position inside a region entered elsewhere: the first tier gets to that entry soon.
    if (this.covered.has(position) && !this.entryPositions.has(position)) {
      offerNever(position);
      return STAY;
    }
    // (Positions hot during the warm-up are not region edges: hundreds of them cut mandelbrot's
    // regions into 637 entries and doubled its time.)
    if (this.stats.hotStates <= this.opts.warmupOffers) return STAY;
    this.hotPositions.add(position);
    const g = greens.map((x, i) => this.green(x, i));
    const lengths = reds.map((x) => (ArrayBuffer.isView(x) ? (x as Arr).length : undefined));
    const unpacked = reds.map((x, i) => (this.virtualizable[i] ? this.layout(x) : undefined));
    const key = this.stateKey(g, lengths, unpacked);
    let name = this.refused.has(key) ? undefined : this.entries.get(key);
    if (name === undefined && !this.refused.has(key))
      name = this.compile(key, g, this.redTypes, lengths, position, "hot", unpacked);
    if (name === undefined) {
      offerNever(position);
      return STAY;
    }
    // Offered again at its next sample: after a leave, the first tier comes back soon.
    offerSoon(position);
    return this.enter(name, reds as Value[], position);
  };

  /** Whether the first tier has found `position` warm: sampled, or hot already. Positions
   *  found warm while an entry is made are its region's (`covered`). */
  private warm = (position: number): boolean => {
    const yes = isWarm(position) || this.hotPositions.has(position);
    if (yes) this.reached?.add(position);
    return yes;
  };

  /** A green as the specialiser takes it: an array the first tier may change as a snapshot, an
   *  object (immutable: the program's constants) as a constant of the residual code. */
  private green(x: unknown, i: number): AVal {
    if (typeof x === "number" || typeof x === "boolean") return konst(x);
    if (!ArrayBuffer.isView(x)) return this.engineOf().promoted(x as object);
    const arr = x as Arr;
    const type = arr instanceof Int32Array ? "i32[]" : "u8[]";
    return { k: "a", arr: this.immutable[i] ? arr : this.snapshot(arr), type };
  }

  private snapshot(arr: Arr): Arr {
    // The snapshot last found for this array, if it still holds what the array holds.
    const last = this.lastSnapshot.get(arr);
    if (last && equal(last, arr)) return last;
    const found = this.findSnapshot(arr);
    this.lastSnapshot.set(arr, found);
    return found;
  }

  /** A copy of snapshot `s` for the first tier, which finds `s` again by comparing it with the
   *  copy, not by hashing the copy (Brainfuck's bracket table, at every hot state). */
  private copyOf(s: Arr): Arr {
    const copy = s.slice();
    this.lastSnapshot.set(copy, s);
    return copy;
  }

  private findSnapshot(arr: Arr): Arr {
    const h = hash(arr);
    let list = this.snapshots.get(h);
    if (!list) this.snapshots.set(h, (list = []));
    const found = list.find((s) => s.constructor === arr.constructor && equal(s, arr));
    if (found) return found;
    const copy = arr.slice();
    list.push(copy);
    return copy;
  }

  /** A virtualizable red's layout (`Unpacked`): its class, and the length of each list it
   *  holds that may stay virtual; undefined for what is not an object. */
  private layout(x: unknown): Unpacked | undefined {
    const heap = this.heap;
    const cls = heap.classIdOf(x);
    if (cls === undefined) return undefined;
    const lists = heap
      .fieldsOf(x as HeapObject)
      .map((f) => (Array.isArray(f) && f.length <= this.opts.policy.maxUnpacked ? f : undefined));
    return {
      cls,
      lengths: lists.map((l) => l?.length),
      classes: lists.map((l) => l?.map((item) => heap.classIdOf(item))),
    };
  }

  /** The key of a hot state's code: the greens (arrays by number, constant objects by index),
   *  the reds' array lengths and virtualizables' layouts (the code knows them). */
  private stateKey(
    greens: AVal[],
    lengths: (number | undefined)[],
    unpacked: (Unpacked | undefined)[] = [],
  ): string {
    const g = greens.map((a) => {
      if (a.k === "a") return `@${this.arrayId(a.arr)}`;
      if (a.k === "c") return String(a.v);
      const i = constantIndex(a);
      return i === undefined ? "?" : `$o${i}`;
    });
    // (none, however many reds: a hot state's key and an edge exit's must be one string)
    const layouts = unpacked.some((u) => u)
      ? unpacked
          .map((u) => (u ? `%${u.cls}:${u.lengths.join("/")}:${JSON.stringify(u.classes)}` : ""))
          .join(",")
      : "";
    return `${g.join(",")}|${lengths.map((n) => (n === undefined ? "_" : `#${n}`)).join(",")}|${layouts}`;
  }

  /** The value of the position among `greens`. */
  private positionOf(greens: AVal[]): number {
    const a = greens[this.positionGreen]!;
    return a.k === "c" ? (a.v as number) : -1;
  }

  /** The entry for the state of edge exit `status`: made before, or made now if its position
   *  is hot (an edge of a region reaching another hot loop goes on there); undefined elsewhere,
   *  or where a bound stops it. */
  private entryAt(status: number): string | undefined {
    const e = this.engine!;
    const { greens, reds, unpacked } = e.tierState(status);
    if (greens.some((a) => a.k !== "c" && a.k !== "a" && constantIndex(a) === undefined))
      return undefined;
    // (A tier exit's reds are run-time values or constants: its virtuals were made real, a
    // virtualizable's layout kept.)
    const lengths = reds.map((a) => (a.k === "r" ? a.len : undefined));
    const key = this.stateKey(greens, lengths, unpacked);
    const made = this.entries.get(key);
    if (made !== undefined) return made;
    const position = this.positionOf(greens);
    if (!this.hotPositions.has(position) || this.refused.has(key)) return undefined;
    return this.compile(key, greens, e.leafTypes(status), lengths, position, "edge", unpacked);
  }

  private arrayId(arr: Arr): number {
    let id = this.arrayIds.get(arr);
    if (id === undefined) this.arrayIds.set(arr, (id = this.arrayIds.size));
    return id;
  }

  /** Specialises and compiles the code of a hot state; its graph's name, or undefined where a
   *  bound stopped it (the state stays in the first tier from now on). */
  private compile(
    key: string,
    greens: AVal[],
    types: Type[],
    lengths: (number | undefined)[],
    position: number,
    why: "hot" | "edge",
    unpacked: (Unpacked | undefined)[] = [],
  ): string | undefined {
    const e = this.engineOf();
    this.account();
    if (e.spent !== undefined || types.length > 6) {
      this.refused.add(key);
      return undefined;
    }
    const name = `${this.portal}$h${this.entries.size + 1}`;
    const t0 = performance.now();
    let graphs: Graph[];
    this.reached = new Set();
    try {
      graphs = e.enter(
        name,
        greens,
        types.map((type, i) => ({ type, len: lengths[i], unpacked: unpacked[i] })),
      );
    } catch (err) {
      if (!(err instanceof SpecialisationLimit)) throw err;
      this.refused.add(key);
      this.stats.fallbacks++;
      this.stats.fallback = err.message;
      if (logging()) logEvent({ ev: "fallback", at: "entry", why: err.message });
      return undefined;
    } finally {
      this.stats.specialiseMs += performance.now() - t0;
      this.sync();
    }
    const reached = this.reached;
    this.reached = undefined;
    this.opts.onGraphs?.(graphs, e.residualData);
    if (logging()) {
      const ops = opsIn(graphs);
      const ms = Math.round((performance.now() - t0) * 1000) / 1000;
      logEvent({ ev: "compile", graph: name, position, why, ops, ms });
    }
    this.install(graphs);
    this.entries.set(key, name);
    this.entryPositions.add(position);
    this.stats.entryPositions = this.entryPositions.size;
    for (const p of reached) this.covered.add(p);
    this.account();
    return name;
  }

  private engineOf(): Engine {
    if (!this.engine) {
      this.engine = new Engine(this.graphs, this.opts.policy, walk, this.opts.compiled, this.heap);
      this.engine.region = this.warm;
      // (Every entry starts at a hot position: the position alone says where paths end.)
      this.engine.entered = (position) => this.hotPositions.has(position);
    }
    return this.engine;
  }

  /** Makes `graphs` runnable on the target. */
  private install(graphs: Graph[]): void {
    const m = this.engine!.residualModule(graphs);
    if (this.opts.target === "l3") {
      if (!this.l3) this.l3 = new L3(m, (status, state) => this.onL3Exit(status, state), this.heap);
      else this.l3.add(graphs);
      return;
    }
    if (!this.native)
      this.native = this.opts.makeNative!(
        m,
        (status, value, leaves, bottom) => this.resolve(status, value, leaves, bottom),
        this.heap,
      );
    else this.native.add(graphs);
    this.sync();
  }

  /** Runs graph `name` from a hot state at `position`: the frame's result, `RESUME` where it
   *  left, or `STAY` where the state's objects did not fit the object region (not offered
   *  again). */
  private enter(name: string, reds: Value[], position: number): unknown {
    this.stats.entered++;
    if (logging()) logEvent({ ev: "enter", graph: name });
    this.since = workDone();
    let s: Status;
    const outer = this.running === 0;
    const t0 = performance.now();
    const compiling0 = this.stats.specialiseMs + this.stats.compileMs;
    this.running++;
    try {
      s = this.l3 ? this.l3.run(name, reds) : this.native!.run(name, reds);
    } catch (e) {
      if (!(e instanceof NotEntered)) throw e;
      this.stats.entered--;
      this.stats.notEntered++;
      if (logging()) logEvent({ ev: "notEntered", graph: name, position });
      offerNever(position);
      return STAY;
    } finally {
      this.running--;
      this.account();
      this.sync();
      // The time in compiled code (and the calls it makes), but for compiling in its exits.
      if (outer) {
        const ms =
          performance.now() - t0 - (this.stats.specialiseMs + this.stats.compileMs - compiling0);
        this.stats.compiledCodeMs += ms;
        if (logging()) logEvent({ ev: "leave", graph: name, ms: Math.round(ms * 1000) / 1000 });
      }
    }
    if (s.k === "raise") throw new VmError(s.msg);
    if (s.k === "exit") return resumeAt(s.state);
    return s.value;
  }

  private onL3Exit(status: number, state: Value[]): ExitTo {
    const bottom = !this.l3!.nested;
    return exitOnL3(
      this.l3!,
      this.resolve(status, state[0] as number, () => state.slice(1), bottom),
      state,
    );
  }

  /** Where exit `status` goes on for `value`. An edge exit: back to the first tier (`leave`,
   *  or in a callback `done`) until it is hot, then a bridge. Other exits: the continuation,
   *  or where a bound stops it the interpreter's graphs from the exit's state. */
  private resolve(
    status: number,
    value: number,
    leaves: (types: Type[]) => Value[],
    bottom: boolean,
  ): Resolution {
    const e = this.engine!;
    this.stats.exits++;
    const kind = e.kindOf(status);
    if (logging()) logEvent({ ev: "exit", status, kind });
    this.account();
    if (kind === "tier") return this.edge(status, leaves, bottom);
    // (into a label of code made before: patched, a jump from now on)
    if (kind === "label") return { name: e.labelOf(status), graphs: [], perValue: false };
    const t0 = performance.now();
    try {
      return continuationOrInterpreter(e, status, value, leaves, {
        interpreter: () => this.interpreter(),
        stats: this.stats,
        onGraphs: this.opts.onGraphs,
      });
    } finally {
      this.stats.specialiseMs += performance.now() - t0;
      this.sync();
    }
  }

  /** Where edge exit `status` goes: into the entry made for its state (made now if its
   *  position is hot), patched; back to the first tier the first `bridgeAfter` times; then its
   *  position is made hot and gets an entry (a bridge, which every exit reaching that state
   *  shares: a bridge made from each exit's own state copied the code ahead of it, a loop's
   *  worth, once per exit). */
  private edge(status: number, leaves: (types: Type[]) => Value[], bottom: boolean): Resolution {
    const e = this.engine!;
    let entry = this.entryAt(status);
    let bridge = false;
    if (entry === undefined && e.spent === undefined) {
      const n = (this.takes.get(status) ?? 0) + 1;
      this.takes.set(status, n);
      if (n > this.opts.bridgeAfter) {
        this.hotPositions.add(this.positionOf(e.tierState(status).greens));
        entry = this.entryAt(status);
        bridge = entry !== undefined;
        if (bridge) this.stats.bridges++;
      }
    }
    if (entry === undefined) return this.takeOver(status, leaves, bottom);
    this.stats.linked++;
    if (logging()) logEvent({ ev: "link", status, graph: entry, bridge });
    return { name: entry, graphs: [], perValue: false };
  }

  /** The first tier takes the state of edge exit `status` over: the run leaves it (at the
   *  bottom), or the first tier runs the rest of the exited frame here. */
  private takeOver(
    status: number,
    leaves: (types: Type[]) => Value[],
    bottom: boolean,
  ): Resolution {
    this.stats.takenOver++;
    if (logging()) logEvent({ ev: "takeOver", status, inside: !bottom });
    const e = this.engine!;
    const state = e.mergeState(status, leaves(e.leafTypes(status))).map((x, i) =>
      // A snapshot of a green array is the code's: the first tier gets a copy it may change.
      i < this.greens.length && typeof x === "object" && !this.immutable[i]
        ? this.copyOf(x as Arr)
        : x,
    ) as Value[];
    if (bottom) return { leave: state };
    this.stats.takenOverInside++;
    return { done: this.runFirstTier(state) };
  }

  /** The first tier's loop from `state` to the frame's end, as a graph's outcome. */
  private runFirstTier(state: Value[]): Status {
    try {
      const value = (this.loop as (...s: Value[]) => Value | undefined)(...state);
      return { k: "return", value };
    } catch (err) {
      if (err instanceof VmError) return { k: "raise", msg: err.message };
      throw err;
    }
  }

  private interpreter(): L3 {
    return (this.interp ??= new L3(this.graphs, undefined, this.heap));
  }

  /** Counts the compile work done since the last count as the program's (see `jit.ts`). */
  private account(): void {
    const now = workDone();
    this.stats.work += now - this.since;
    this.since = now;
    const e = this.engine;
    if (!e) return;
    const max = this.opts.policy.maxWork;
    e.workLimit = now + (max - this.stats.work);
    if (this.stats.work > max && e.spent === undefined) {
      e.spent = `more than ${max} steps of compile work`;
      if (logging()) logEvent({ ev: "spent", why: e.spent });
    }
  }

  /** Copies the engine's and the backend's figures into the stats. */
  private sync(): void {
    const { specialiseMs, bridges } = this.stats;
    if (this.engine) Object.assign(this.stats, this.engine.stats, { specialiseMs, bridges });
    if (this.engine?.spent !== undefined) this.stats.spent = this.engine.spent;
    if (this.native) {
      this.stats.compileMs = this.native.compileMs;
      this.stats.codeBytes = this.native.codeBytes;
      Object.assign(this.stats, this.native.collectionStats());
    }
  }

  /** The code compiled so far, for listings (x64). */
  get nativeModule(): NativeModule | undefined {
    return this.native;
  }

  /** Releases the machine code now. */
  free(): void {
    this.native?.free();
  }
}

function hash(arr: Arr): number {
  let h = 0x811c9dc5 ^ arr.length;
  for (let i = 0; i < arr.length; i++) h = Math.imul(h ^ arr[i]!, 16777619);
  return h;
}

function equal(a: Arr, b: Arr): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
