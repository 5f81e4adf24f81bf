//! The root stack: the references a frame of compiled code keeps across a call, where the
//! collector finds them (a shadow stack, as LLVM's `shadow-stack` GC strategy and early
//! Jikes/Go ports kept one).
//!
//! A safepoint's exit names its own frame's live values (the state of the loop), but a graph
//! called by another runs while its caller's frame holds references of its own, in registers
//! or spill slots the collector cannot find or rewrite. So a call whose caller keeps
//! references live across it pushes them first, each with its type (what the collector needs
//! to copy it out: an object, a list, a map), onto a stack in the arena, and loads them back
//! after the call returns: a collection in the callee (or deeper) rewrites them where they
//! moved, and the caller goes on with the new references (`roots_push`, `roots_pop` in
//! `mir.ts`: the register allocator sees the reload as a new definition, so nothing of the
//! value survives the call in a register). The stack is `[rootStart, rootEnd)` of the arena
//! (`data.ts`), 8 bytes an entry (the reference, its type's number in `RootTypes`); `S.rootTop`
//! is its top, an offset from the arena's start. Pushing past its end stops the run as a
//! native stack overflow does (the interpreter replays it).

import type { Type } from "../ir/types.ts";

/** Bytes of one entry: the reference, then its type's number. */
export const ROOT_BYTES = 8;
/** Bytes of the root stack (131,072 entries: calls nested as deep as TL's and TLC's limit of
 *  1,000 with 131 references kept each; untouched pages cost nothing). */
export const ROOTS_BYTES = 1 << 20;

/** The reference types a module's calls keep on the root stack, numbered (a number in an entry
 *  says which: one table for every graph of the module, continuations included). */
export class RootTypes {
  readonly types: Type[] = [];
  private ids = new Map<string, number>();

  idOf(t: Type): number {
    const key = JSON.stringify(t);
    let id = this.ids.get(key);
    if (id === undefined) this.ids.set(key, (id = this.types.push(t) - 1));
    return id;
  }
}

/** The root stack's entries in `words` (the arena as 4-byte words) from `start` up to `top`:
 *  where each reference is (a word index), and its type. */
export function rootEntries(
  words: Int32Array,
  start: number,
  top: number,
  types: RootTypes,
): { at: number; type: Type }[] {
  const out: { at: number; type: Type }[] = [];
  for (let e = start; e < top; e += ROOT_BYTES)
    out.push({ at: e / 4, type: types.types[words[e / 4 + 1]!]! });
  return out;
}
