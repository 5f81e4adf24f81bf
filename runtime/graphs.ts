//! Reads an interpreter's graphs from its build product (`<lang>.graphs`, whose path the caller
//! gives): the run-time side of the build step, which needs no ts-morph. A file whose stamp
//! does not match its interpreter's source is refused (`stamp.ts`).

import { existsSync, readFileSync } from "node:fs";
import { parseModule } from "./ir/parse.ts";
import type { Module } from "./ir/types.ts";
import { checkStamp } from "./stamp.ts";

const cache = new Map<string, Module>();

export function readGraphs(path: string): Module {
  let m = cache.get(path);
  if (!m) {
    if (!existsSync(path)) checkStamp(path); // a StaleBuild naming `futamura generate`
    const text = readFileSync(path, "utf8");
    checkStamp(path, text.slice(0, text.indexOf("\n")));
    m = parseModule(text);
    cache.set(path, m);
  }
  return m;
}
