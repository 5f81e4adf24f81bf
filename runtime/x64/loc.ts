//! Where a value lives once registers are allocated: a register, a spill slot of the frame, an
//! outgoing stack argument (for calls with more than six arguments), or an incoming one, or a
//! slot of the state buffer's arguments (an exit's past the sixth: `regalloc.ts`). A
//! parallel move's parts are moves between locations, or of constants into them.

import type { Reg } from "./encode.ts";
import type { MConst, Width } from "./mir.ts";

export type Loc =
  | { k: "reg"; n: Reg }
  /** A spill slot, 8 bytes. */
  | { k: "slot"; n: number }
  /** The n-th stack argument of a call this frame makes. */
  | { k: "out"; n: number }
  /** The n-th stack argument this frame received. */
  | { k: "in"; n: number }
  /** The n-th argument slot of the state buffer (`S.args + 8n`). */
  | { k: "state"; n: number };

export const reg = (n: Reg): Loc => ({ k: "reg", n });

export function sameLoc(a: Loc, b: Loc): boolean {
  return a.k === b.k && a.n === b.n;
}

/** A name for a location, as a map key and in messages. */
export function locKey(l: Loc): string {
  return `${l.k}${l.n}`;
}

/** One move of a value of width `w` (32 for i32 and bool, 64 for pointers). */
export interface Move {
  dst: Loc;
  src: Loc | MConst;
  w: Width;
}

export const isLoc = (x: Loc | MConst): x is Loc =>
  x.k === "reg" || x.k === "slot" || x.k === "out" || x.k === "in" || x.k === "state";
