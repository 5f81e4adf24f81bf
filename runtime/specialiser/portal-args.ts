//! Virtual arguments of a portal call (PyPy's virtuals passed into a called frame): a virtual
//! object or list the caller passes to the portal, and holds nowhere it goes on from, is not
//! allocated for the call; the callee's graph is specialised for its shape and takes what it
//! holds that is not known (its leaves) as parameters, and builds it virtual again. TLC's SEND
//! makes an argument list holding the receiver and the arguments for every call: passed this
//! way, the callee's frame, its argument list and the boxes in it stay virtual too.
//!
//! Sound because nothing else can see it: the virtual is reachable from no slot live where the
//! caller goes on after the call (`liveAt`), so what the callee does to it, or returns of it
//! (forced there: a new allocation), no one else observes. What it holds that the caller still
//! reaches (TLC: the receiver, still on the caller's stack) is forced and passed as a reference,
//! one object for both; so is a virtualizable (a virtual with a home: its home is the object).
//!
//! The key is the shape (classes, list lengths, which items are nested virtuals, aliasing, the
//! constant references) and the constants inside, as a constant argument's value is part of a
//! portal call's key: the callee is specialised for them (a constant that bounds a loop in the
//! callee keeps it finite).

import type { Operand, Type } from "../ir/types.ts";
import { liveAt } from "../ir/walk.ts";
import type { Frame } from "./frames.ts";
import {
  contents,
  settledField,
  type AVal,
  type Field,
  type Nested,
  type Scalar,
  type VirtualList,
  type VirtualObject,
} from "./value.ts";

/** A leaf of an exploded argument: the caller's operand for it and its type (with what is known
 *  of a run-time reference: its class, its length). */
export interface Leaf {
  o: Operand;
  type: Type;
  cls?: number;
  len?: number;
}

/** The virtuals the caller can still reach after the call: from the slots live where each
 *  frame goes on (a frame's position is past its call), and what those hold. */
export function reachableAfter(frames: Frame[]): Set<object> {
  const seen = new Set<object>();
  const visit = (s: Field): void => {
    const a = settledField(s);
    if ((a.k !== "o" && a.k !== "l") || seen.has(a.obj)) return;
    seen.add(a.obj);
    for (const it of contents(a)) visit(it);
  };
  for (const f of frames)
    for (const v of liveAt(f.g, f.block, f.op)) {
      const s = f.env[v];
      if (typeof s === "object" && s !== null && "k" in s && (s.k === "o" || s.k === "l")) visit(s);
    }
  return seen;
}

/** Which of `args` go to the callee virtual: every virtual object or list among them, if the
 *  caller can reach none of them after the call (`reachable`), none has a home, and they have
 *  at most `maxLeaves` leaves in all; else none (one forced while another went virtual could
 *  share what they hold: two copies of one object). Gives, per argument, its shape (its part
 *  of the callee's key) and its leaves, or undefined: passed as it is. */
export function explodeArgs(
  args: AVal[],
  reachable: Set<object>,
  maxLeaves: number,
  force: (a: Nested) => void,
): ({ shape: string; leaves: Leaf[] } | undefined)[] {
  const seen = new Map<object, number>();
  let count = 0;
  const out: ({ shape: string; leaves: Leaf[] } | undefined)[] = [];
  for (const a of args) {
    if (
      (a.k !== "o" && a.k !== "l") ||
      a.obj.forced !== undefined ||
      a.obj.home !== undefined ||
      reachable.has(a.obj)
    ) {
      out.push(undefined);
      continue;
    }
    const shape: string[] = [];
    const leaves: Leaf[] = [];
    if (!explode(a, reachable, seen, leaves, shape, force)) return args.map(() => undefined);
    count += leaves.length;
    if (count > maxLeaves) return args.map(() => undefined);
    out.push({ shape: shape.join(""), leaves });
  }
  return out;
}

function explode(
  s: Field,
  reachable: Set<object>,
  seen: Map<object, number>,
  leaves: Leaf[],
  out: string[],
  force: (a: Nested) => void,
): boolean {
  let a = settledField(s);
  // What the caller still holds (or a virtualizable) is one object for both: allocated, and
  // passed as a reference.
  if ((a.k === "o" || a.k === "l") && (a.obj.home || reachable.has(a.obj))) {
    force(a);
    a = settledField(a);
  }
  if (a.k === "c") {
    out.push(`=${a.v}`);
    return true;
  }
  if (a.k === "r") {
    if (typeof a.o !== "number") {
      out.push(a.o.k === "obj" ? `$${a.o.v}` : a.o.k === "null" ? "n" : "?");
      return a.o.k === "obj" || a.o.k === "null";
    }
    leaves.push({ o: a.o, type: a.type, cls: a.cls, len: a.len });
    out.push(`r${a.cls ?? ""}:${a.len ?? ""}`);
    return true;
  }
  if (a.k !== "o" && a.k !== "l") return false;
  const at = seen.get(a.obj);
  if (at !== undefined) {
    out.push(`@${at}`);
    return true;
  }
  seen.set(a.obj, seen.size);
  out.push(a.k === "o" ? `{${a.obj.cls} ` : `<${a.obj.type} `);
  for (const it of contents(a)) if (!explode(it, reachable, seen, leaves, out, force)) return false;
  out.push(a.k === "o" ? "}" : ">");
  return true;
}

/** The callee's values of the exploded arguments among `args` (`exploded`: which), each a
 *  virtual of the same shape, fresh (what they share shared), its leaves the callee's
 *  parameters `params` (each argument's, in the order `explodeArgs` gave them). */
export function rebuildArgs(
  args: AVal[],
  exploded: readonly unknown[],
  params: Scalar[][],
): Map<number, AVal> {
  const made = new Map<object, Nested>();
  let at = 0;
  let next = 0;
  const rebuild = (s: Field): Field => {
    const a = settledField(s);
    if (a.k === "r" && typeof a.o === "number") return params[at]![next++]!;
    if (a.k === "c" || a.k === "r") return a;
    const done = made.get(a.obj);
    if (done) return done;
    if (a.k === "o") {
      const obj: VirtualObject = { cls: a.obj.cls, id: a.obj.id, fields: [] };
      const n: Nested = { k: "o", obj };
      made.set(a.obj, n);
      obj.fields = a.obj.fields.map(rebuild);
      return n;
    }
    const obj: VirtualList = { type: a.obj.type, items: [] };
    const n: Nested = { k: "l", obj };
    made.set(a.obj, n);
    obj.items = a.obj.items.map(rebuild);
    return n;
  };
  const out = new Map<number, AVal>();
  args.forEach((a, i) => {
    if (exploded[i] === undefined) return;
    at = i;
    next = 0;
    out.set(i, rebuild(a as Field));
  });
  return out;
}
