//! The JIT's event log (`futamura run --log FILE`): what the tiers and the compiled code
//! decided, in order, with the time since the run started. PyPy's PYPYLOG and V8's
//! `--trace-opt`/`--trace-deopt` answer "why was this compiled, and why did it leave"; `--stats`
//! only counts. Each event is one JSON object on a line (`t` in milliseconds, `ev` its kind);
//! the schema is `JitEvent` below, documented in docs/ARCHITECTURE.md. Counting the events of
//! a run gives its `--stats` counts (a test checks that they agree: `eventCounts`).
//!
//! The sink is the run's (`setEventSink`, as the fuel budget is). Every site tests `logging()`
//! before it builds its event, so a run without `--log` pays one test per site (none is in
//! compiled code's loops).

/** One event of a run. */
export type JitEvent =
  /** The first tier offered a hot state at `position` (sampled passes past the threshold). */
  | { ev: "hot"; position: number }
  /** Code was made for a hot state: an entry the first tier offered (`why` "hot"), or one
   *  for an edge exit's state at a hot position (`why` "edge"); its residual operations and
   *  the time it took. */
  | {
      ev: "compile";
      graph: string;
      position: number;
      why: "hot" | "edge";
      ops: number;
      ms: number;
    }
  /** Specialising stopped at a bound of the policy (`why`: which): making an entry for a hot
   *  state (`at` "entry": it stays with the first tier), or code where an exit goes on (`at`
   *  "exit": the interpreter's graphs go on from the exit's state). */
  | { ev: "fallback"; at: "entry" | "exit"; why: string }
  /** The run entered compiled graph `graph` from the first tier. */
  | { ev: "enter"; graph: string }
  /** The run came back to the first tier from graph `graph`, which it entered from there (with
   *  the frame's result, or at an exit the first tier goes on from): `ms` in compiled code and
   *  what it called, less the time compiling at its exits. Entries nested in it have none. */
  | { ev: "leave"; graph: string; ms: number }
  /** A hot state whose objects did not fit the object region: not entered. */
  | { ev: "notEntered"; graph: string; position: number }
  /** Compiled code took exit `status` into JavaScript (the first time at a site, or every time
   *  for a safepoint's): `kind` is what it is (`tier`: an edge of the region; `promote`: a value
   *  not seen before; `guard`, `collect`, ...). */
  | { ev: "exit"; status: number; kind: string }
  /** An edge exit went on in the entry made for its state (patched to go there); `bridge`:
   *  its position was made hot because this exit was taken often (PyPy's bridges). */
  | { ev: "link"; status: number; graph: string; bridge: boolean }
  /** The first tier took an edge exit's state over: the run left compiled code, or (`inside`)
   *  the first tier ran the rest of a frame another compiled graph called. */
  | { ev: "takeOver"; status: number; inside: boolean }
  /** Code was made where an exit goes on (a promotion's value, a guard's other side, a
   *  safepoint's loop): its graph and residual operations. */
  | { ev: "continuation"; status: number; graph: string; ops: number }
  /** Machine code's object region was collected at a safepoint: what was live after (bytes),
   *  and the references the frames below kept (the root stack's entries). */
  | { ev: "collect"; live: number; roots: number }
  /** The program's compile budget is spent: nothing more is compiled. */
  | { ev: "spent"; why: string };

/** An event as the log holds it: with its time. */
export type LoggedEvent = JitEvent & { t: number };

let sink: ((e: LoggedEvent) => void) | undefined;
let start = 0;

/** Sends the events of the run starting now to `to` (undefined: none). */
export function setEventSink(to: ((e: LoggedEvent) => void) | undefined): void {
  sink = to;
  start = performance.now();
}

/** Whether a run is logging events (for an event whose fields cost something to gather). */
export function logging(): boolean {
  return sink !== undefined;
}

/** Logs `e` for the run, if it logs. */
export function logEvent(e: JitEvent): void {
  if (sink) sink({ t: Math.round((performance.now() - start) * 1000) / 1000, ...e });
}

/** The `--stats` counts a run's events give (what a test checks against the stats). */
export function eventCounts(events: readonly LoggedEvent[]): Record<string, number> {
  const count = (f: (e: LoggedEvent) => boolean) => events.filter(f).length;
  return {
    hotStates: count((e) => e.ev === "hot"),
    tierEntries: count((e) => e.ev === "compile" || (e.ev === "fallback" && e.at === "entry")),
    bridges: count((e) => e.ev === "link" && e.bridge),
    entered: count((e) => e.ev === "enter"),
    notEntered: count((e) => e.ev === "notEntered"),
    exits: count((e) => e.ev === "exit"),
    linked: count((e) => e.ev === "link"),
    takenOver: count((e) => e.ev === "takeOver"),
    takenOverInside: count((e) => e.ev === "takeOver" && e.inside),
    fallbacks: count((e) => e.ev === "fallback"),
    collections: count((e) => e.ev === "collect"),
  };
}
