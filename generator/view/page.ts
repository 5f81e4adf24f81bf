//! `futamura view`'s page: one self-contained HTML file (no server, nothing fetched), the run's
//! data as JSON in it, drawn by its own script and style (`script.js`, `style.css`, inlined).

import { readFileSync } from "node:fs";
import type { ViewData } from "./data.ts";

const here = new URL(".", import.meta.url);
const asset = (name: string) => readFileSync(new URL(name, here), "utf8");

/** The page of `data`. */
export function page(data: ViewData): string {
  // (`<` escaped: a string holding `</script>` cannot end the data early; JSON reads `\u003c`)
  const json = JSON.stringify(data).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(`futamura view: ${data.title}`)}</title>
<style>
${asset("style.css")}</style>
</head>
<body>
<script type="application/json" id="data">${json}</script>
<script>
${asset("script.js")}</script>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!,
  );
}
