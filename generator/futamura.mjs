#!/usr/bin/env node
// The `futamura` command. In a checkout it runs the TypeScript CLI through tsx (Node 20 cannot
// run TypeScript); in the package, where this file sits in dist/ beside the compiled CLI, it
// runs that JavaScript and nothing is transformed at start-up (generator/dist.mjs).
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
