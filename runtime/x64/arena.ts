//! The arena a run of compiled code works in: state buffer, data constants, heap (`abi.ts`).
//!
//! Each run starts from a reset arena, so nothing of one run is visible to the next: the state
//! buffer and the data are rewritten, and the heap's bump pointer starts over (the allocator
//! zero-fills what it hands out). The object region is the exception: the pooled arena keeps
//! the objects that cannot change for the next run of the same module (`pairs.ts`). The mapping itself is kept for the next run instead of being
//! unmapped: a DataBlock's view makes V8 count its whole size as external memory, and mapping
//! tens of MiB per run made V8 collect garbage on nearly every run (fuzzing thousands of
//! programs spent most of its time there). Untouched pages cost nothing; a nested run (from an
//! I/O callback) gets a fresh arena of its own, freed after.

import { DataBlock } from "./memory.ts";

let pooled: DataBlock | undefined;
let busy = false;

/** Runs `f` with an arena of at least `bytes` bytes: the pooled one (`pooled`), or one of its
 *  own for a run inside another's callback. */
export function withArena<T>(bytes: number, f: (arena: DataBlock, pooled: boolean) => T): T {
  if (busy) {
    const own = new DataBlock(bytes);
    try {
      return f(own, false);
    } finally {
      own.free();
    }
  }
  if (!pooled || pooled.size < bytes) {
    pooled?.free();
    pooled = new DataBlock(bytes);
  }
  busy = true;
  try {
    return f(pooled, true);
  } finally {
    busy = false;
  }
}
