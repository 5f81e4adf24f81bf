//! The `x64` backend: the abstract interpreter's residual graphs compiled to x86-64 machine code
//! and run inside Node. It specialises exactly as `pe` does (same policy, same fallback to the
//! interpreter's graphs when specialisation gives up), then compiles the whole residual module
//! eagerly (`runtime/x64/native.ts`) and runs it. A promotion exit gets its continuation from
//! the specialiser, as `pe`'s does, compiled while the machine code waits.
//!
//! Stats: the specialiser's, plus `compileMs` (selection, allocation, emission, mapping of the
//! module), `nativeMs` (the machine code's run, arena set-up and continuations included),
//! `codeBytes` (the module's) and `continuations`. `--dump asm` comes after the run, so that it
//! shows the continuations too.

import { listing } from "../runtime/x64/disasm.ts";
import { x64Supported } from "../runtime/x64/memory.ts";
import { NativeModule } from "../runtime/x64/native.ts";
import { continuation, fallback, specialiseProgram, valueOf, type Backend } from "./backends.ts";

const ms = (t0: number) => Math.round((performance.now() - t0) * 1000) / 1000;

export const x64: Backend = {
  name: "x64",
  dumps: ["residual", "asm"],
  run(lang, code, arg, opts, stats) {
    if (!x64Supported)
      throw new Error(
        `the x64 backend runs only on x86-64 Linux (this is ${process.arch} ${process.platform})`,
      );
    const spec = specialiseProgram(lang, code, opts, stats);
    if (!spec) return fallback(lang, code, arg, opts, stats);

    let t0 = performance.now();
    const native = new NativeModule(spec.module, {
      continuation: (status, value) => continuation(spec, opts, status, value),
    });
    stats.compileMs = ms(t0);
    stats.codeBytes = native.code.size;
    try {
      t0 = performance.now();
      const status = native.run(lang.entry, [code, arg]);
      stats.nativeMs = ms(t0);
      return valueOf(status);
    } finally {
      Object.assign(stats, spec.stats, { continuations: native.continuations });
      if (opts.dump === "asm") opts.log?.write(listing(native));
      native.free();
    }
  },
};
