import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { backends, runProgram } from "./generator/backends.ts";
import { langs } from "./interpreters/lang.ts";
const [hot, lookahead, remakes] = process.argv.slice(2).map(Number);
const code = langs.bf!.load(readFileSync("../shared/programs/bf/mandelbrot.b", "utf8"), "m.b");
const r = await runProgram(backends[process.env.B ?? "jit"]!, langs.bf!, code, 0, { policy: { hot, lookahead, remakes } });
const s = r.stats as any;
console.log(`hot ${hot} look ${lookahead} rem ${remakes}: md5 ${createHash("md5").update(r.output).digest("hex").slice(0, 6)} spec ${s.specialiseMs.toFixed(0)} compile ${s.compileMs.toFixed(0)} native ${s.nativeMs.toFixed(0)} total ${s.runMs.toFixed(0)} remakes ${s.remakes} exits ${s.exits} stubs ${s.stubs} ops ${s.opsResidual} code ${s.codeBytes}`);
