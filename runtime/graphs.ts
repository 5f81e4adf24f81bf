//! Loads an interpreter's graphs from `generated/<lang>.graphs`: the run-time side of the build
//! step, which needs no ts-morph. A file whose stamp does not match its interpreter's source is
//! refused (`stamp.ts`).

import { readFileSync } from "node:fs";
import { parseModule } from "./ir/parse.ts";
import type { Module } from "./ir/types.ts";
import { checkStamp } from "./stamp.ts";

const cache = new Map<string, Module>();

export function loadGraphs(lang: string): Module {
  let m = cache.get(lang);
  if (!m) {
    const path = new URL(`../generated/${lang}.graphs`, import.meta.url).pathname;
    const text = readFileSync(path, "utf8");
    checkStamp(path, text.slice(0, text.indexOf("\n")));
    m = parseModule(text);
    cache.set(lang, m);
  }
  return m;
}
