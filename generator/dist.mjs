// `npm run build`: the package's dist/, a tree shaped as this repository whose modules are
// JavaScript with declarations (tsc, tsconfig.build.json), with beside them what runs as data:
// the interpreters' TypeScript (the frontend reads it, the build products' stamps hash it), the
// graphs products, the example programs, the command's launcher and the view page's script and
// style. A module of dist/ finds what it finds in a checkout at the same relative path.
import { execFileSync } from "node:child_process";
import { cpSync, readdirSync, rmSync } from "node:fs";

const root = new URL("../", import.meta.url).pathname;
const dist = root + "dist/";

rmSync(dist, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [root + "node_modules/typescript/bin/tsc", "-p", root + "tsconfig.build.json"],
  {
    stdio: "inherit",
  },
);
for (const file of readdirSync(root + "interpreters"))
  if (file.endsWith(".ts")) cpSync(root + "interpreters/" + file, dist + "interpreters/" + file);
for (const file of readdirSync(root + "generated"))
  if (file.endsWith(".graphs")) cpSync(root + "generated/" + file, dist + "generated/" + file);
cpSync(root + "interpreters/programs", dist + "interpreters/programs", { recursive: true });
cpSync(root + "generator/futamura.mjs", dist + "generator/futamura.mjs");
for (const file of ["script.js", "style.css"])
  // (futamura view inlines them into each page)
  cpSync(root + "generator/view/" + file, dist + "generator/view/" + file);
