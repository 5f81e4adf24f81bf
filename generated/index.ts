import { compiled as tlr } from "./tlr.ts";
import { compiled as tl } from "./tl.ts";
import type { Compiled } from "../runtime/spec/engine.ts";
export const specialisers: Record<string, Record<string, Compiled>> = {
  tlr,
  tl,
};
