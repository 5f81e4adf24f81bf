#!/usr/bin/env node
// The `futamura` command: loads the TypeScript CLI through tsx (Node 20 cannot run TypeScript).
import { register } from "tsx/esm/api";

register();
const { main } = await import("./cli.ts");
process.exitCode = await main(process.argv.slice(2));
