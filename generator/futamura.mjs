#!/usr/bin/env -S node --v8-pool-size=0
// The `futamura` command. In a checkout it runs the TypeScript CLI through tsx (Node 20 cannot
// run TypeScript); in the package, where this file sits in dist/ beside the compiled CLI, it
// runs that JavaScript and nothing is transformed at start-up (generator/dist.mjs).
//
// `--v8-pool-size=0`: V8's background threads (its optimising compiler, compiling futamura's own
// JavaScript: 38% of a JIT run's CPU samples on mandelbrot.b) as many as the machine has room
// for, not Node's default of four, which on two cores took the main thread's: mandelbrot.b on
// `jit` 3.4-3.7 s to 2.9-3.0 s whole process, on `x64` 2.8-2.9 s to 2.6-2.7 s (2026-12-08).
// The bench runs the command with the flags of this line (bench/harness.ts).
import { existsSync } from "node:fs";

const source = new URL("./cli/main.ts", import.meta.url);
let cli;
if (existsSync(source)) {
  const { register } = await import("tsx/esm/api");
  register();
  cli = await import(source.href);
} else {
  cli = await import(new URL("./cli/main.js", import.meta.url).href);
}
process.exitCode = await cli.main(process.argv.slice(2));
