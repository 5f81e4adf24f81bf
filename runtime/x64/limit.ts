//! The one way compiled code says it ran out of something of its own.

/** Compiled code ran out of a resource of its own (its stack, its arena) that the interpreter
 *  does not have: not an answer about the program. The runner replays the run on the
 *  interpreter (`generator/backends.ts`), so that the user sees what the interpreter does. */
export class NativeLimit extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NativeLimit";
  }
}
