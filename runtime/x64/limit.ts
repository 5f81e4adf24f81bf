//! The ways compiled code says it ran out of something of its own.

/** Compiled code ran out of a resource of its own (its stack, its arena) that the interpreter
 *  does not have: not an answer about the program. The runner replays the run on the
 *  interpreter (`generator/backends.ts`), so that the user sees what the interpreter does. */
export class NativeLimit extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NativeLimit";
  }
}

/** The program's live objects outgrew compiled code's object region (`--heap-mb`): a
 *  collection found more live than half of it, and the region then filled. A resource outcome
 *  (like a time limit, not a fault of the program and not held to the interpreter's answer,
 *  whose heap is V8's): the run ends with `error: out of memory`, what it wrote kept. */
export class OutOfMemory extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OutOfMemory";
  }
}

/** A run's starting state did not fit compiled code's object region (the first tier offered a
 *  state holding more objects than the region takes): nothing ran, and the first tier goes on
 *  from the state it offered. */
export class NotEntered extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotEntered";
  }
}
