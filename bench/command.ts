// How the bench starts the futamura command: Node with the options of the command's first line
// (`#!/usr/bin/env -S node …`), which is how `futamura` runs as a program (the package's bin, or
// the executable file in a checkout), so that what the bench times is what a user runs.

import { readFileSync } from "node:fs";

/** The arguments of `process.execPath` that run `script` (a path) as its first line says. */
export function futamuraArgs(script: string): string[] {
  const first = readFileSync(script, "utf8").split("\n", 1)[0]!;
  const m = /^#!\S*env -S node((?: \S+)*)$/.exec(first);
  return [...(m?.[1]?.trim().split(" ").filter(Boolean) ?? []), script];
}
