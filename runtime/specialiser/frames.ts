//! The state of a path, which every part of the engine reads and writes: a stack of frames, each
//! a graph, a position (block, operation) and an environment of slots. A slot holds an abstract
//! value (`value.ts`), or in a frame running a generated specialiser's code, for a variable the
//! binding-time analysis found green, a plain value (a number, a boolean, a compile-time
//! array). Here: the types, and what is done to frames as values: made blank, copied for a
//! second path (virtuals and arrays that may still change copied, aliasing kept), cut to the
//! slots live where they go on, their run-time leaves listed in a canonical order and rebound
//! to a new graph's parameters. No engine state: plain functions.

import type { Graph, Operand, Type } from "../ir/types.ts";
import { liveAt } from "../ir/walk.ts";
import {
  contents,
  isConstantReference,
  konst,
  settledField,
  type AVal,
  type Field,
  type Home,
  type Nested,
  type Scalar,
  type Virtual,
  type VirtualList,
} from "./value.ts";
import type { Engine } from "./engine.ts";
import type { Residual } from "./residual.ts";

/** A virtual once it is allocated (`forced`: its residual variable) or frozen into a constant. */
export type Forced = Virtual & { forced?: number; frozen?: Int32Array | Uint8Array };

/** A slot of a frame: an abstract value, or (green variables of compiled frames) a plain one. */
export type Slot = AVal | number | boolean | Int32Array | Uint8Array;

/** A graph as a generated specialiser compiled it. */
export interface Compiled {
  /** Per variable: whether the binding-time analysis found it green. */
  greens: boolean[];
  /** Runs the frame from its block and operation; false when the path ended. */
  run(e: Engine, p: Path, f: Frame): boolean;
}

export interface Frame {
  g: Graph;
  block: number;
  op: number;
  env: Slot[];
  /** The caller's variable that receives the result (-1: none). */
  ret: number;
  /** Set while the frame runs compiled code. */
  code: Compiled | undefined;
  /** An inlined portal call's frame: what names the call (`InlineTooLong`), and the merge
   *  points it has passed. */
  inlined?: { key: string; steps: number } | undefined;
}

/** The innermost inlined portal call among `frames`, if any. */
export function innermostInlined(frames: Frame[]): string | undefined {
  for (let i = frames.length - 1; i >= 0; i--) {
    const x = frames[i]!.inlined;
    if (x) return x.key;
  }
  return undefined;
}

export interface Path {
  rg: Residual;
  frames: Frame[];
  /** The residual block the path appends to. */
  out: number;
  /** Red branches the path has taken since its last merge point. */
  splits: number;
  /** The position (its number, `merge-point.ts`) of the last merge point the path passed, if
   *  any: where in the program it is, which names its promotions' sites (`seenAt`). */
  at?: number;
  /** A path that starts at a merge point (a tier's entry or bridge): that first merge point
   *  is in the region whatever the first tier's counters say. */
  fresh?: boolean;
  /** A path that starts a graph other code calls or goes on in (a portal's graph, a tier's
   *  entry, a continuation): its first merge point is a safepoint (`policy.safepoints`), so
   *  that code made of calls, recursion without loops, collects too. */
  safepointFirst?: boolean;
}

/** A raise in a function that generated code runs wholly at compile time, as a plain function
 *  (every value of it green): the caller's path raises (`Engine.raised`). */
export class Raised {
  constructor(readonly msg: string) {}
}

/** A jump target with its arguments (slots in the frame's representation). */
export type Target = [block: number, args: Slot[]];

/** A copy of the environment of `f` holding only the variables `vars`. */
export function only(f: Frame, vars: Operand[]): Slot[] {
  const env = blank(f.g);
  for (const v of vars) if (typeof v === "number") env[v] = f.env[v];
  return env;
}

/** A fresh environment for `g`, every slot undefined: a copy of one made once per graph, with
 *  room for any value. (`new Array(n)` starts as an array of small integers, and an environment
 *  gets numbers, then objects: each change of its kind is a copy.) */
export function blank(g: Graph): Slot[] {
  let t = blanks.get(g);
  if (!t) blanks.set(g, (t = new Array<Slot>(g.types.length).fill(undefined!)));
  return t.slice();
}

const blanks = new WeakMap<Graph, Slot[]>();

/** The length of an array if it is known at compile time. */
export function lengthOf(a: AVal): number | undefined {
  return a.k === "a" ? a.arr.length : a.k === "v" ? a.obj.length : a.k === "r" ? a.len : undefined;
}

/** What a virtual became once forced (a run-time array) or frozen (a compile-time one); none
 *  while it is still virtual. */
export function settled(obj: Virtual): AVal | undefined {
  const { forced, frozen } = obj as Forced;
  if (forced !== undefined) return red(forced, obj.type, obj.length);
  return frozen ? { k: "a", arr: frozen, type: obj.type } : undefined;
}

/** The virtual the abstract interpreter holds where compiled code holds array `arr` (allocated
 *  by compiled code, so its items are constants): its items up to the last non-zero one. */
export function virtualOf(arr: Int32Array | Uint8Array, type: "i32[]" | "u8[]"): AVal {
  let m = arr.length;
  while (m > 0 && arr[m - 1] === 0) m--;
  const items: Scalar[] = [];
  for (let i = 0; i < m; i++) items.push(konst(arr[i]!));
  return { k: "v", obj: { type, length: arr.length, items } };
}

/** A run-time value in variable `o`, with its array length if known. (No spread: it makes
 *  objects of another shape, slowly.) */
export function red(o: number, type: Type, len: number | undefined): Scalar {
  return len === undefined ? { k: "r", o, type } : { k: "r", o, type, len };
}

/** The arguments of the merge point of portal `g` (greens, then reds). */
export function mergeArgs(g: Graph): Operand[] {
  const [block, op] = mergePointOf(g);
  return g.blocks[block]!.ops[op]!.args;
}

/** The block and operation of the merge point of portal `g`. */
export function mergePointOf(g: Graph): [number, number] {
  for (let b = 0; b < g.blocks.length; b++) {
    const op = g.blocks[b]!.ops.findIndex((o) => o.op === "merge_point");
    if (op >= 0) return [b, op];
  }
  throw new Error(`@${g.name} has no merge point`);
}

/** The message if block `block` of `g` raises before it does anything else (through empty
 *  blocks). */
export function raising(g: Graph, block: number): string | undefined {
  for (let b = g.blocks[block]!, n = 0; b.ops.length === 0 && n < 8; n++) {
    if (b.term.k === "raise") return b.term.msg;
    if (b.term.k !== "jump") return undefined;
    b = g.blocks[b.term.to.block]!;
  }
  return undefined;
}

/** Binding times written compactly in generated code: "GRRG…", one letter per variable. */
export function bits(s: string): boolean[] {
  return Array.from(s, (c) => c === "G");
}

export function scalar(a: AVal): Scalar {
  if (a.k === "c" || a.k === "r") return a;
  throw new Error("expected a scalar");
}

/** The plain value of a compile-time abstract value. */
export function plain(a: AVal): Slot {
  if (a.k === "c") return a.v;
  if (a.k === "a") return a.arr;
  // (a green reference is a constant one, held as its abstract value: the engine reads it)
  if (isConstantReference(a)) return a;
  throw new Error("a green value is not a compile-time constant");
}

/** Whether `a` is a value a green slot of compiled code may hold: a compile-time constant. */
export function compileTime(a: AVal): boolean {
  return a.k === "c" || a.k === "a" || isConstantReference(a);
}

/** The abstract value of a plain green slot. */
export function wrap(s: Slot, type: Type): AVal {
  if (typeof s === "number" || typeof s === "boolean") return konst(s);
  if (s instanceof Int32Array || s instanceof Uint8Array)
    return { k: "a", arr: s, type: type as "i32[]" | "u8[]" };
  return s;
}

/** Copies a path's frames for a second path: the slots live where each frame goes on (with
 *  `top`, those of the top frame), the others left empty (values of earlier instructions,
 *  never read again). Virtuals and compile-time arrays that may still change are copied,
 *  keeping their aliasing (`seen`: the copies so far, which the caller may go on using). */
export function copyFrames(
  frames: Frame[],
  frozen: Set<Int32Array | Uint8Array>,
  seen = new Map<object, object>(),
  top?: Set<number>,
): Frame[] {
  return frames.map((f, i) => {
    const live = top && i === frames.length - 1 ? top : liveAt(f.g, f.block, f.op);
    const env = blank(f.g);
    for (const v of live) {
      const s = f.env[v];
      env[v] = typeof s === "object" ? copySlot(s, frozen, seen) : s;
    }
    return frameWith(f, f.op, env);
  });
}

/** Frame `f` at operation `op` with environment `env`. (Not a spread: V8 took a microsecond
 *  to copy a frame by one.) */
export function frameWith(f: Frame, op: number, env: Slot[]): Frame {
  const inlined = f.inlined && { key: f.inlined.key, steps: f.inlined.steps };
  return { g: f.g, block: f.block, op, env, ret: f.ret, code: f.code, inlined };
}

/** A slot of a copied frame: what may still change is copied once (`seen`: the copies so far). */
export function copySlot(
  s: Slot,
  frozen: Set<Int32Array | Uint8Array>,
  seen: Map<object, object>,
): Slot {
  if (s instanceof Int32Array || s instanceof Uint8Array) {
    if (frozen.has(s)) return s;
    let c = seen.get(s) as typeof s | undefined;
    if (!c) seen.set(s, (c = s.slice()));
    return c;
  }
  if (typeof s !== "object") return s;
  if (s.k === "o" || s.k === "l") return copyNested(s, seen);
  if (s.k !== "v") return s;
  const done = settled(s.obj);
  if (done) return done;
  let o = seen.get(s.obj) as Virtual | undefined;
  if (!o)
    seen.set(s.obj, (o = { type: s.obj.type, length: s.obj.length, items: s.obj.items.slice() }));
  return { k: "v", obj: o };
}

/** A copy of a virtual object or list and of the virtuals it holds (once each, `seen`: the
 *  copies so far, so that sharing, and cycles, stay); a forced one is its reference. */
function copyNested(s: Field, seen: Map<object, object>): Field {
  const a = settledField(s);
  if (a.k !== "o" && a.k !== "l") return a;
  const done = seen.get(a.obj) as Nested["obj"] | undefined;
  if (done) return { k: a.k, obj: done } as Nested;
  const from = contents(a);
  const to: Field[] = new Array(from.length);
  const obj: Nested["obj"] =
    a.k === "o" ? { cls: a.obj.cls, id: a.obj.id, fields: to } : { type: a.obj.type, items: to };
  // (a virtualizable's home is a run-time reference, the same for every copy)
  if (a.obj.home) obj.home = a.obj.home;
  if (a.obj.homeDirty) obj.homeDirty = true;
  if (a.k === "l" && a.obj.homeLength !== undefined)
    (obj as VirtualList).homeLength = a.obj.homeLength;
  seen.set(a.obj, obj);
  for (let i = 0; i < from.length; i++) to[i] = copyNested(from[i]!, seen);
  return { k: a.k, obj } as Nested;
}

/** Clears the slots of copied frames that are dead where each frame goes on, and a caller's
 *  result variable (live, but not written until the call returns), so that they neither count
 *  in the state's key nor travel as leaves. (A merge point writes its arguments over the old
 *  state: what else a slot holds may be a value of an earlier instruction.) */
export function liveFrames(frames: Frame[]): Frame[] {
  frames.forEach((f, i) => {
    const live = liveAt(f.g, f.block, f.op);
    const ret = frames[i + 1]?.ret ?? -1;
    f.env = f.env.map((s, v) => (live.has(v) && v !== ret ? settledSlot(s) : undefined)) as Slot[];
  });
  return frames;
}

/** A slot holding a virtual that has since been forced or frozen as what it now is: a saved
 *  state's key and leaves read its slots as they are (a forced virtual is a red leaf, not its
 *  items). */
export function settledSlot(s: Slot): Slot {
  if (typeof s !== "object" || !("k" in s)) return s;
  if (s.k === "o" || s.k === "l") return settledField(s);
  return s.k === "v" ? (settled(s.obj) ?? s) : s;
}

/** The run-time values of a path's state, in a canonical order: red scalars of every slot and
 *  the red items of virtuals, depth first (each virtual once). */
export function redLeaves(frames: Frame[]): AVal[] {
  const out: AVal[] = [];
  const seen = new Set<object>();
  // One leaf per residual variable, however many abstract values hold it (`slotKey`).
  const reds = new Set<Operand>();
  // (a constant operand, null or a constant object, is no leaf: the code made goes on using it)
  const visit = (s: AVal) => {
    if (s.k === "r") {
      if (typeof s.o === "number" && !reds.has(s.o)) (reds.add(s.o), out.push(s));
    } else if (s.k === "v" && !seen.has(s.obj)) {
      seen.add(s.obj);
      for (const it of s.obj.items) visit(it);
    } else if (s.k === "o" || s.k === "l") {
      const a = settledField(s);
      if (a.k !== "o" && a.k !== "l") visit(a);
      else if (!seen.has(a.obj)) {
        seen.add(a.obj);
        for (const it of contents(a)) visit(it);
        if (a.obj.home) visit(a.obj.home);
      }
    }
  };
  for (const f of frames)
    for (const s of f.env) if (s !== undefined && typeof s === "object" && "k" in s) visit(s);
  return out;
}

/** The type of a leaf of a saved state (a tier exit's reds may be constants). */
export function leafType(l: AVal): Type {
  if (l.k === "r") return l.type;
  return l.k === "c" && typeof l.v === "boolean" ? "bool" : "i32";
}

/** The residual operand of a red leaf. */
export function redOperand(a: AVal): Operand {
  if (a.k !== "r") throw new Error("a leaf that is not a run-time value");
  return a.o;
}

/** Replaces, in copied frames, each red leaf (by its residual variable) by its parameter. */
export function rebind(frames: Frame[], leaves: AVal[], params: Scalar[]): void {
  const to = new Map<Operand, Scalar>();
  // (A tier exit passes its reds, constants among them: those stay constants.)
  leaves.forEach((l, i) => l.k === "r" && to.set(l.o, params[i]!));
  replaceReds(frames, to);
}

/** Makes the class of the run-time object in variable `o` known (`cls`) wherever frames hold
 *  it: after a promotion of its class. */
export function withClass(frames: Frame[], object: Scalar & { k: "r" }, cls: number): void {
  replaceReds(frames, new Map([[object.o, { k: "r", o: object.o, type: object.type, cls }]]));
}

/** Replaces, in frames, each red scalar whose operand `to` names, in slots and in virtuals. */
function replaceReds(frames: Frame[], to: Map<Operand, Scalar>): void {
  const seen = new Set<object>();
  const bind = <T extends AVal>(s: T): T | Scalar => {
    if (s.k === "r") return to.get(s.o) ?? s;
    if (s.k === "v" && !seen.has(s.obj)) {
      seen.add(s.obj);
      s.obj.items = s.obj.items.map(bind) as Scalar[];
    } else if (s.k === "o" || s.k === "l") {
      const a = settledField(s);
      if (a.k !== "o" && a.k !== "l") return bind(a);
      if (seen.has(a.obj)) return s;
      seen.add(a.obj);
      const items = contents(a).map(bind) as Field[];
      if (a.k === "o") a.obj.fields = items;
      else (a.obj as { items: Field[] }).items = items;
      if (a.obj.home) a.obj.home = bind(a.obj.home) as Home;
    }
    return s;
  };
  for (const f of frames)
    f.env = f.env.map((s) =>
      s === undefined || typeof s !== "object" || !("k" in s) ? s : bind(s),
    );
}

export function unreachable(): never {
  throw new Error("a data constant at a merge point");
}
