import { readFileSync } from "node:fs";
import { loadGraphs } from "./runtime/graphs.ts";
import { specialisers as generated } from "./generated/index.ts";
import { specialise } from "./runtime/spec/pe.ts";
import { defaultPolicy } from "./runtime/spec/policy.ts";
import { konst } from "./runtime/spec/value.ts";
const which = process.argv[2] ?? "both";
const file = process.argv[3] ?? "../shared/programs/bf/mandelbrot.b";
const code = new Uint8Array(readFileSync(file));
const m = loadGraphs("bf");
const pol = { ...defaultPolicy, mode: "eager" as const };
for (const name of which === "both" ? ["pe", "gen"] : [which]) {
  const times: number[] = [];
  let st: any;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const r = specialise(m, "run", [{ k: "a", arr: code, type: "u8[]" } as any, { k: "r" } as any], pol, name === "gen" ? (generated as any).bf : {});
    times.push(performance.now() - t0);
    st = r.stats;
  }
  times.sort((a, b) => a - b);
  console.log(name, times.map((t) => t.toFixed(0)).join(" "), "keys", st.mergeKeys, "ops", st.opsSeen, "res", st.opsResidual);
}
