//! Saved paths and continuations, the third layer of the engine. A path can stop where the
//! residual code needs something only the run knows: at the promotion of a run-time value
//! (`promote`: a continuation per value, PyPy's flexswitch) and at the edge of a tier's region
//! (`tier`: a merge point the first tier had not found warm). It ends in `exit status(value,
//! leaves...)`, and its state is saved under that status (equal states share one): the frames,
//! live slots only, and their run-time leaves in the exit's order. When the exit is first
//! taken, `continuation` specialises the rest of the path from the saved state (the leaves the
//! new graph's parameters); where that gives up, `state` gives the exact state as plain values
//! for the interpreter to go on from, and `mergeState` the merge point's arguments for the
//! first tier.

import type { Graph, Operand, Type } from "../ir/types.ts";
import { constantsOf } from "../objects.ts";
import { SpecialisationLimit } from "./policy.ts";
import {
  allItems,
  constantIndex,
  contents,
  isConstantReference,
  konst,
  settledField,
  type AVal,
  type Field,
  type Home,
  type Scalar,
  type Virtual,
} from "./value.ts";
import type { Reg } from "../l3.ts";
import type { HeapObject } from "../heap.ts";
import type { Unpacked } from "./engine.ts";
import {
  copyFrames,
  frameWith,
  leafType,
  liveFrames,
  mergeArgs,
  only,
  rebind,
  red,
  withClass,
  redLeaves,
  redOperand,
  settledSlot,
  type Frame,
  type Path,
  type Slot,
} from "./frames.ts";
import { Control } from "./control.ts";
import type { Residual } from "./residual.ts";

/** A path saved to go on later, when the residual code first needs it (an `exit status` names
 *  it): after the promotion of a run-time value (`promote`: once per value), just before a
 *  merge point where a tier's region ends (`tier`, see `region`), or at a loop's head where
 *  machine code collects its objects (`collect`, see `safepoint`). `leaves` are the run-time
 *  values of the state, in the order of the exit's arguments after the value. */
export interface Saved {
  kind: "promote" | "tier" | "collect" | "label";
  frames: Frame[];
  leaves: AVal[];
  /** For `promote`: the variable that receives the value. */
  dst: number;
  /** The graph the path was saved from (the continuation's name and return type). */
  out: Residual;
  /** The graph made for each value (an integer, or a promoted object: by identity). */
  made: Map<unknown, string>;
  /** For `promote`: where the promotion is (see `seenAt`), and the leaf whose class the
   *  promoted value is, if it is one (-1: none). */
  site: string;
  classOf: number;
  /** The path's position (`Path.at`). */
  at: number | undefined;
  /** For `tier`: the layout of each virtualizable red where the exit forced it (an entry made
   *  for the exit's state unpacks it so again), else undefined. */
  unpacked?: (Unpacked | undefined)[];
  /** For `label`: the label the exit goes on in (`@graph#i`, made before the exit). */
  label?: string;
}

/** Where an exit goes on: the graph `name`, and the graphs made to get there (new ones only).
 *  `perValue`: whether another value at the same exit may go elsewhere (a promotion). */
export interface Resumed {
  name: string;
  graphs: Graph[];
  perValue: boolean;
}

/** Leaves a safepoint's state may have (machine code's exits pass at most 64 values). */
const SAFEPOINT_LEAVES = 48;

export abstract class SavedPaths extends Control {
  /** Saved paths, by exit status. */
  protected saved: Saved[] = [];
  /** Exit status by the compile-time part of the saved state: equal states share their
   *  continuations, so a loop through a promotion needs one per value, not per trip. */
  protected savedKeys = new Map<string, number>();
  /** Per promotion site (the program's position, then the promotion's in the interpreter's
   *  graphs: `position|graph:block:op`), the values the run showed there, first first: residual
   *  code made after tests them inline (`guard`). */
  protected seenAt = new Map<string, unknown[]>();

  /** Specialises the path `start` makes in a new residual graph (`engine.ts`). */
  protected abstract specialiseNew(name: string, ret: Type, start: (rg: Residual) => Path): Graph[];

  /** `promote` of a value in a generic frame, storing into `dst`. A compile-time value goes on;
   *  a run-time one ends the path with an exit to the driver (its status names the saved path),
   *  which specialises the rest of the path for the value it sees (`continuation`) — a case per
   *  value, as PyPy's flexswitch. False when the path ended. */
  promoteTo(p: Path, a: AVal, dst: number): boolean {
    a = this.resolve(a);
    this.stats.promotions++;
    // (an object made here, or a constant one, is itself: known already)
    if (a.k === "c" || a.k === "o" || a.k === "l" || constantIndex(a) !== undefined) {
      this.assign(p.frames, dst, a);
      return true;
    }
    this.generic(p.frames);
    const top = p.frames.at(-1)!;
    // (the program's position too: one promotion of the interpreter serves every instruction)
    const site = `${p.at ?? -1}|${top.g.name}:${top.block}:${top.op}`;
    // The object whose class this is, if it is a class: known on each path that goes on.
    const object = a.k === "r" && typeof a.o === "number" ? p.rg.classOf.get(a.o) : undefined;
    const seen = a.k === "r" && a.type !== "bool" ? this.seenAt.get(site) : undefined;
    const guards = Math.min(seen?.length ?? 0, this.policy.maxGuards);
    for (let i = 0; i < guards; i++) this.guard(p, a, seen![i], dst, object);
    const frames = liveFrames(copyFrames(p.frames, this.frozen));
    // The promoted value is live here, but the continuation writes it.
    frames.at(-1)!.env[dst] = undefined!;
    const leaves = redLeaves(frames);
    const classOf =
      object?.k === "r" ? leaves.findIndex((l) => l.k === "r" && l.o === object.o) : -1;
    const key = `${this.savedKey("promote", frames, dst)}|${site}|${classOf}`;
    const status = this.save("promote", frames, p, dst, key, leaves, site, classOf);
    this.exitTo(p, p.out, status, this.operand(p, a), frames);
    return false;
  }

  /** A test of promoted value `a` against `v`, a value the run showed at the same promotion:
   *  the path where they are equal goes on with `v` (and the object whose class it is, if it
   *  is one, of that class), the other continues at the residual code's next test or exit. */
  private guard(p: Path, a: AVal, v: unknown, dst: number, object: Scalar | undefined): void {
    const value = typeof v === "object" ? this.promoted(v as object) : konst(v as number);
    const cond = this.op(p, typeof v === "object" ? "ref_eq" : "int_eq", [a, value], "bool")!;
    const yes = p.rg.b.newBlock();
    const no = p.rg.b.newBlock();
    const to = (block: number) => ({ block, args: [] as Operand[] });
    this.terminate(p, p.out, {
      k: "branch",
      cond: this.operand(p, cond),
      then: to(yes),
      else: to(no),
    });
    this.stats.guards++;
    const frames = copyFrames(p.frames, this.frozen);
    this.assign(frames, dst, value);
    if (object?.k === "r" && typeof v === "number") withClass(frames, object, v);
    this.work.push({ rg: p.rg, frames, out: yes, splits: p.splits + 1, at: p.at });
    p.out = no;
  }

  /** `promote` in compiled code: the plain value when it is a compile-time one. Otherwise the
   *  frame turns generic and the walk does the promotion again (undefined). */
  promote(p: Path, a: AVal): Slot | undefined {
    a = this.resolve(a);
    if (a.k === "c") return a.v as number;
    if (isConstantReference(a)) return a;
    this.generic(p.frames);
    return undefined;
  }

  /** The saved path for `frames` (live slots only) of path `p`, shared with an equal state
   *  saved before. */
  protected save(
    kind: Saved["kind"],
    frames: Frame[],
    p: Path,
    dst = -1,
    key = this.savedKey(kind, frames, dst),
    leaves?: AVal[],
    site = "",
    classOf = -1,
  ): number {
    let status = this.savedKeys.get(key);
    if (status === undefined) {
      leaves ??= redLeaves(frames);
      const made = new Map();
      const at = p.at;
      status =
        this.saved.push({ kind, frames, leaves, dst, out: p.rg, made, site, classOf, at }) - 1;
      this.savedKeys.set(key, status);
    }
    return status;
  }

  /** Ends residual block `block` of `p`'s graph with `exit status(value, leaves...)`: the
   *  leaves of `frames`, which are in the order of the saved path's (their states are equal). */
  protected exitTo(p: Path, block: number, status: number, value: Operand, frames: Frame[]): void {
    const leaves = redLeaves(frames).map(redOperand);
    this.terminate(p, block, { k: "exit", status, args: [value, ...leaves] });
  }

  protected savedKey(kind: Saved["kind"], frames: Frame[], dst = -1): string {
    return `${kind}${dst}|${frames.map((fr) => this.stateKey(fr)).join("|")}`;
  }

  /** The compile-time part of a frame's state: where it is, and its values but for red ones,
   *  with the sharing of red values and virtuals (`_2` is the third distinct one), so that equal
   *  keys mean states whose leaves line up. Green slots of compiled frames read as their
   *  abstract values would. */
  protected stateKey(f: Frame): string {
    const ids = new Map<unknown, number>();
    let key = `${f.g.name}:${f.block}:${f.op}:${f.ret}:`;
    for (let v = 0; v < f.env.length; v++) key += (v ? "," : "") + this.slotKey(f.env[v], ids);
    return key;
  }

  /** A slot in a state key; `ids` numbers the red values (by residual variable: two abstract
   *  values of one variable are one value) and virtuals seen so far. */
  protected slotKey(s: Slot | undefined, ids: Map<unknown, number>): string {
    if (s === undefined) return "";
    if (typeof s === "number" || typeof s === "boolean") return String(s);
    if (s instanceof Int32Array || s instanceof Uint8Array) return this.arrayKey(s, ids);
    if (s.k === "c") return String(s.v);
    if (s.k === "a") return this.arrayKey(s.arr, ids);
    // A constant operand (null, a constant object) is no leaf of the state: its value is the key's.
    if (s.k === "r" && typeof s.o !== "number")
      return s.o.k === "null" ? "null" : s.o.k === "obj" ? `$o${s.o.v}` : `=${String(s.o.v)}`;
    if (s.k === "o" || s.k === "l") {
      const a = settledField(s);
      if (a.k !== s.k) return this.slotKey(a, ids);
    }
    const o = s.k === "r" ? s.o : s.obj;
    const i = ids.get(o);
    if (i !== undefined) return `#${i}`;
    ids.set(o, ids.size);
    if (s.k === "r")
      return (s.len === undefined ? "_" : `_#${s.len}`) + (s.cls === undefined ? "" : `:${s.cls}`);
    // (a virtualizable's home: its leaf, after what it holds)
    const home = (h: Home | undefined, dirty: boolean | undefined) =>
      h ? `@${dirty ? "*" : ""}${this.slotKey(h, ids)}` : "";
    if (s.k === "o")
      return `{${s.obj.cls} ${s.obj.fields.map((it) => this.slotKey(it, ids)).join(" ")}${home(s.obj.home, s.obj.homeDirty)}}`;
    if (s.k === "l")
      return `<${s.obj.items.map((it) => this.slotKey(it, ids)).join(" ")}${home(s.obj.home, s.obj.homeDirty)}>`;
    return `[${allItems(s.obj)
      .map((it) => this.slotKey(it, ids))
      .join(" ")}]`;
  }

  /** A compile-time array in a state's key: a frozen one by identity (the bytecode), one that
   *  may still change by its contents, as a virtual (a green array of compiled code is one the
   *  abstract interpreter keeps virtual; a copy of a state copies it). */
  protected arrayKey(arr: Int32Array | Uint8Array, ids: Map<unknown, number>): string {
    if (this.frozen.has(arr)) return this.arrayId(arr);
    const i = ids.get(arr);
    if (i !== undefined) return `#${i}`;
    ids.set(arr, ids.size);
    return `[${arr.join(" ")}]`;
  }

  /** Where exit `status` goes on for the value `v` (the promoted value; 0 for the other exits):
   *  the graph made for it the first time, then the same one. Specialising it may throw
   *  `SpecialisationLimit`: the caller goes on in the interpreter from `state(status, …)`. */
  continuation(status: number, v: number): Resumed {
    const c = this.saved[status];
    if (!c) throw new Error(`no continuation ${status}`);
    const perValue = c.kind === "promote";
    const at = perValue ? v : 0;
    const made = c.made.get(at);
    if (made !== undefined) return { name: made, graphs: [], perValue };
    if (this.spent !== undefined) throw new SpecialisationLimit(this.spent);
    const base = c.out.b.g.name.split("$")[0];
    const which = typeof v === "object" ? `o${c.made.size}` : v < 0 ? `m${-v}` : String(v); // (an object: its count)
    const name = perValue ? `${base}$c${status}_${which}` : `${base}$t${status}`;
    // (seen before it is specialised: the continuation's own loop tests it inline)
    const seen = perValue ? (this.seenAt.get(c.site) ?? []) : [];
    if (perValue) this.seenAt.set(c.site, seen);
    const fresh = !seen.includes(v);
    if (fresh) seen.push(v);
    let graphs: Graph[];
    try {
      graphs = this.specialiseFrom(c, name, v);
    } catch (e) {
      if (fresh) seen.splice(seen.indexOf(v), 1);
      throw e;
    }
    c.made.set(at, name);
    this.stats[perValue ? "promotionMisses" : "bridges"]++;
    return { name, graphs, perValue };
  }

  /** Specialises saved path `c` into a new graph `name` (and the portal graphs it calls) and
   *  cleans them up; for a promotion `v` is the value. On a bound, nothing made stays. */
  protected specialiseFrom(c: Saved, name: string, v: number): Graph[] {
    return this.specialiseNew(name, c.out.b.g.ret, (rg) => {
      const frames = copyFrames(c.frames, this.frozen);
      const params = c.leaves.map((l, i) => {
        const type = leafType(l);
        const r = red(rg.b.addParam(0, type), type, l.k === "r" ? l.len : undefined);
        // (the object whose class was promoted is of that class)
        return i === c.classOf && typeof v === "number" ? { ...r, cls: v } : r;
      });
      rebind(frames, c.leaves, params);
      if (c.kind === "promote")
        this.assign(frames, c.dst, typeof v === "object" ? this.promoted(v) : konst(v));
      const path: Path = { rg, frames, out: 0, splits: 0, at: c.at };
      if (c.kind !== "promote") path.fresh = path.safepointFirst = true;
      return path;
    });
  }

  /** The types of the leaves exit `status` passes after its value. */
  leafTypes(status: number): Type[] {
    return this.saved[status]!.leaves.map(leafType);
  }

  /** The exact state at exit `status` as plain values, for the interpreter's graphs to go on
   *  from (a fallback): per frame, innermost last, its graph, position, slots and the caller's
   *  variable for its result. `v` is the exit's value, `values` its leaves' run-time values. */
  state(
    status: number,
    v: number,
    values: (number | boolean | Int32Array | Uint8Array)[],
    copyConstants = true,
  ) {
    const c = this.saved[status]!;
    const leaf = new Map<Operand, (typeof values)[number]>();
    c.leaves.forEach((l, i) => l.k === "r" && leaf.set(l.o, values[i]!));
    const arrays = new Map<Virtual, Int32Array | Uint8Array>();
    // A virtual object or list as the interpreter's graphs on L3 hold one (an object of the
    // heap, an array), made once each (sharing and cycles kept), what it holds made in turn.
    const made = new Map<object, Reg>();
    const nested = (a: Field): Reg => {
      const s = settledField(a);
      if (s.k === "c") return s.v;
      if (s.k === "r") {
        const x = runTime(s);
        if (x === undefined) throw new Error("a run-time value that is no leaf of the state");
        return x as Reg;
      }
      const done = made.get(s.obj);
      if (done !== undefined) return done;
      // (a virtualizable's is written back into its home, the real object: one identity)
      const home = s.obj.home && (runTime(s.obj.home) as Reg);
      if (s.k === "l") {
        const items = (home as Reg[] | undefined) ?? [];
        made.set(s.obj, items);
        const values = contents(s).map(nested);
        items.splice(0, items.length, ...values);
        return items;
      }
      const it = (home as HeapObject | undefined) ?? this.heap.make(s.obj.id);
      made.set(s.obj, it);
      contents(s).forEach((f, i) => (it[this.heap.fieldName(s.obj.id, i)] = nested(f)));
      return it;
    };
    // A run-time value: a leaf's, or a constant operand's (null, a constant object).
    const constants = constantsOf(this.out, this.heap);
    const runTime = (a: Scalar & { k: "r" }) =>
      typeof a.o !== "number" && a.o.k === "null"
        ? null
        : typeof a.o !== "number" && a.o.k === "obj"
          ? constants[a.o.v]
          : leaf.get(a.o);
    const scalar = (a: AVal): number | boolean => {
      if (a.k === "c") return a.v;
      const x = a.k === "r" ? leaf.get(a.o) : undefined;
      if (typeof x !== "number" && typeof x !== "boolean")
        throw new Error("a leaf without a value");
      return x;
    };
    // Compile-time arrays are copied (once each): the interpreter may write one (that is how
    // a specialisation can give up), and the next run's specialised code reads it again.
    const copies = new Map<Int32Array | Uint8Array, Int32Array | Uint8Array>();
    const copy = (arr: Int32Array | Uint8Array) => {
      if (!copyConstants) return arr;
      let c = copies.get(arr);
      if (!c) copies.set(arr, (c = arr.slice()));
      return c;
    };
    const value = (s: Slot | undefined): (typeof values)[number] | undefined => {
      if (s instanceof Int32Array || s instanceof Uint8Array) return copy(s);
      if (s === undefined || typeof s !== "object" || !("k" in s)) return s;
      const a = this.resolve(s);
      if (a.k === "a") return copy(a.arr);
      if (a.k === "r") {
        const x = runTime(a);
        if (x === undefined) throw new Error("a run-time value that is no leaf of the state");
        return x as (typeof values)[number];
      }
      if (a.k === "c") return a.v;
      if (a.k === "o" || a.k === "l") return nested(a) as unknown as number; // (an L3 object or list)
      let arr = arrays.get(a.obj);
      if (!arr) {
        const items = allItems(a.obj).map((it) => Number(scalar(it)));
        arr = a.obj.type === "u8[]" ? Uint8Array.from(items) : Int32Array.from(items);
        arrays.set(a.obj, arr);
      }
      return arr;
    };
    const frames = c.frames.map((f) => ({
      g: f.g,
      block: f.block,
      op: f.op,
      ret: f.ret,
      env: f.env.map((s) => value(s)),
    }));
    if (c.kind === "promote") frames.at(-1)!.env[c.dst] = v;
    return frames;
  }

  /** The kind of saved path exit `status` names (tiers treat `tier` exits apart). */
  kindOf(status: number): Saved["kind"] {
    return this.saved[status]!.kind;
  }

  /** The label `label` exit `status` goes on in. */
  labelOf(status: number): string {
    return this.saved[status]!.label!;
  }

  /** The state of `tier` exit `status` as the first tier takes it over: the merge point's
   *  arguments, greens then reds, as plain values (`values`: the exit's leaves). Compile-time
   *  arrays are given as they are: the caller copies those the first tier may write. */
  mergeState(status: number, values: (number | boolean | Int32Array | Uint8Array)[]) {
    const [f] = this.state(status, 0, values, false);
    return mergeArgs(f!.g).map((o) =>
      typeof o === "number" ? f!.env[o]! : o.k === "data" ? this.m.data[o.v]!.values : o.v,
    );
  }

  /** Tiers: the merge-point state of `tier` exit `status`, greens then reds (as abstract
   *  values; the reds are the exit's leaves in order). */
  tierState(status: number): {
    greens: AVal[];
    reds: AVal[];
    unpacked: (Unpacked | undefined)[] | undefined;
  } {
    const c = this.saved[status]!;
    const f = c.frames[0]!;
    const vars = mergeArgs(f.g);
    const n = vars.length - c.leaves.length;
    const greens = vars.slice(0, n).map((o) => this.argument(f, o));
    return { greens, reds: c.leaves, unpacked: c.unpacked };
  }

  /** The layouts of the virtualizable reds among merge-point arguments `vars` (`n` greens
   *  first) that are virtual objects: class, and the lengths of the virtual lists they hold. */
  private layouts(f: Frame, vars: Operand[], n: number): (Unpacked | undefined)[] | undefined {
    const d = this.m.driver;
    if (!d?.virtualizables?.length) return undefined;
    return vars.slice(n).map((v, i) => {
      if (!d.virtualizables!.includes(d.reds[i]!)) return undefined;
      const a = this.resolve(this.argument(f, v));
      if (a.k !== "o") return undefined;
      const lists = a.obj.fields.map((x) => {
        const s = settledField(x);
        return s.k === "l" && s.obj.items.length <= this.policy.maxUnpacked
          ? s.obj.items.map(settledField)
          : undefined;
      });
      const classOf = (x: Field) => (x.k === "o" ? x.obj.id : x.k === "r" ? x.cls : undefined);
      return {
        cls: a.obj.id,
        lengths: lists.map((l) => l?.length),
        classes: lists.map((l) => l?.map(classOf)),
      };
    });
  }

  /** A safepoint at merge point `vars` (a loop's back edge, or the first merge point of a
   *  graph other code calls; `policy.safepoints`): where the object region is nearly full
   *  (`region_low`), an exit whose values are the state's leaves, the precise roots of the
   *  frame (the frames below keep theirs on the root stack). The runner collects with them and
   *  goes on in the exit's continuation, the code again from the merge point (one graph for
   *  every such exit of the same state; its own safepoint's exit goes to itself). */
  protected safepoint(p: Path, f: Frame, vars: Operand[]): void {
    const [at] = liveFrames(copyFrames([frameWith(f, f.op - 1, only(f, vars))], this.frozen));
    if (at!.op !== 0) this.generic([at!]);
    const many = redLeaves([at!]).length > SAFEPOINT_LEAVES;
    // (an exit passes at most 64 values: a state of many leaves, virtuals' items, passes its
    // virtuals made real instead, one leaf each; a state of more slots than that, none)
    if (many && at!.env.filter((x) => x !== undefined).length > SAFEPOINT_LEAVES) return;
    const low = this.emit(p, "region_low", [], "bool");
    const collect = p.rg.b.newBlock();
    const go = p.rg.b.newBlock();
    const to = (block: number) => ({ block, args: [] as Operand[] });
    this.terminate(p, p.out, { k: "branch", cond: low, then: to(collect), else: to(go) });
    p.out = go;
    // (the copy's virtuals are forced on the way to the exit alone: the path goes on with its own)
    if (many)
      for (const x of at!.env)
        if (typeof x === "object" && "k" in x && (x.k === "o" || x.k === "l" || x.k === "v"))
          this.operand({ ...p, out: collect }, x);
    const [state] = many ? liveFrames([at!]) : [at!];
    const status = this.save("collect", [state!], p);
    this.exitTo(p, collect, status, { k: "int", v: 0 }, [state!]);
  }

  /** Ends path `p` at the merge point of `f` (arguments `vars`) in an exit to a `tier` saved
   *  path: the state just before it, which the first tier takes over (or a bridge starts from,
   *  once the exit is hot). */
  protected leaveRegion(p: Path, f: Frame, vars: Operand[], n: number): void {
    // The exit passes the reds in order, virtuals made real: the state an entry of the tiers
    // takes, so that the exit can go on in one (see `entered`).
    const unpacked = this.layouts(f, vars, n);
    const reds: AVal[] = [];
    for (let i = n; i < vars.length; i++) {
      const a = this.argument(f, vars[i]!);
      if (a.k === "v" || a.k === "o" || a.k === "l") this.operand(p, a);
      reds.push(this.resolve(a));
    }
    // (A virtual forced is a red leaf now, not its items.)
    const at = frameWith(f, f.op - 1, only(f, vars).map(settledSlot));
    if (at.op !== 0) this.generic([at]);
    const key = `${this.savedKey("tier", [at])}|${JSON.stringify(unpacked ?? [])}`;
    const status = this.save("tier", [at], p, -1, key, reds);
    if (unpacked) this.saved[status]!.unpacked = unpacked;
    this.stats.regionExits++;
    const args = [{ k: "int", v: 0 } as Operand, ...reds.map((a) => this.operand(p, a))];
    this.terminate(p, p.out, { k: "exit", status, args });
  }
}
