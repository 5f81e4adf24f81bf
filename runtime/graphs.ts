//! Loads an interpreter's graphs from `generated/<lang>.graphs`: the run-time side of the build
//! step, which needs no ts-morph.

import { readFileSync } from "node:fs";
import { parseModule } from "./ir/parse.ts";
import type { Module } from "./ir/types.ts";

const cache = new Map<string, Module>();

export function loadGraphs(lang: string): Module {
  let m = cache.get(lang);
  if (!m) {
    m = parseModule(readFileSync(new URL(`../generated/${lang}.graphs`, import.meta.url), "utf8"));
    cache.set(lang, m);
  }
  return m;
}
