//! The benchmark's chart: one group of horizontal bars per workload, one bar per backend, the
//! median run time on a logarithmic axis, each bar labelled with its time and compile time. A
//! backend over the cap gets a hatched bar to the cap; a wrong or failed one a red label.
//! Plain SVG 1.1, no script, no external fonts.

import type { Entry, Report } from "./report.ts";

const COLOURS = [
  "#4e79a7",
  "#f28e2b",
  "#59a14f",
  "#76b7b2",
  "#e15759",
  "#af7aa1",
  "#edc948",
  "#9c755f",
  "#bab0ac",
];
const W = 1060;
const LEFT = 190; // the axis starts here
const RIGHT = 350; // room for the labels past the longest bar
const BAR = 13;
const ROW = 18;
const GROUP_HEAD = 22;
const GROUP_GAP = 14;

export function renderSvg(r: Report): string {
  const names = [...new Set(r.workloads.flatMap((w) => w.entries.map((e) => e.backend)))];
  const colour = (b: string) =>
    b === "gcc" ? "#555555" : COLOURS[names.indexOf(b) % COLOURS.length]!;
  const cap = (e: Entry) => (e.backend === "interp" ? r.settings.interpCap : r.settings.cap) * 1000;
  const values = r.workloads.flatMap((w) =>
    w.entries.flatMap((e) => (e.status === "over cap" ? [cap(e)] : e.runMs ? [e.runMs] : [])),
  );
  const lo = Math.max(-3, Math.floor(Math.log10(Math.min(...values, 1000))));
  const hi = Math.ceil(Math.log10(Math.max(...values, 10) * 1.0001));
  const plotW = W - LEFT - RIGHT;
  const x = (ms: number) => LEFT + ((Math.log10(Math.max(ms, 10 ** lo)) - lo) / (hi - lo)) * plotW;

  const top = 92;
  const height =
    top + r.workloads.reduce((h, w) => h + GROUP_HEAD + w.entries.length * ROW + GROUP_GAP, 0) + 40;
  const o: string[] = [];
  o.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="11">`,
    `<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#dddddd"/><line x1="0" y1="0" x2="0" y2="6" stroke="#888888" stroke-width="2"/></pattern></defs>`,
    `<rect width="${W}" height="${height}" fill="white"/>`,
    text(
      16,
      22,
      "futamura bench: median run time per workload and backend (log scale; compile time apart)",
      { size: 15, weight: "bold" },
    ),
    text(
      16,
      40,
      `${r.machine.cpu} (${r.machine.cores} cores), node ${r.machine.node}, ${r.machine.gcc ?? "no gcc"}; ${r.machine.date}; median of ${r.settings.reps} interleaved run(s), cap ${r.settings.cap} s (interp ${r.settings.interpCap} s)`,
      { size: 11, fill: "#444444" },
    ),
  );
  // Legend.
  let lx = 16;
  for (const b of names) {
    o.push(
      `<rect x="${lx}" y="52" width="12" height="12" fill="${colour(b)}"/>`,
      text(lx + 16, 62, b === "gcc" ? "gcc -O2 (C translation)" : b, {}),
    );
    lx += 30 + (b === "gcc" ? 140 : b.length * 7);
  }
  o.push(
    `<rect x="${lx}" y="52" width="12" height="12" fill="url(#hatch)" stroke="#888888"/>`,
    text(lx + 16, 62, "over the cap (not finished)", {}),
  );

  // Axis: a line per decade.
  const bottom = height - 30;
  for (let d = lo; d <= hi; d++) {
    const gx = x(10 ** d);
    o.push(
      `<line x1="${gx.toFixed(1)}" y1="${top - 8}" x2="${gx.toFixed(1)}" y2="${bottom}" stroke="#e3e3e3"/>`,
    );
    o.push(
      text(gx, top - 12, decade(d), { anchor: "middle", fill: "#666666" }),
      text(gx, bottom + 14, decade(d), { anchor: "middle", fill: "#666666" }),
    );
  }

  let y = top;
  for (const w of r.workloads) {
    o.push(
      text(
        16,
        y + 14,
        `${w.name}${w.arg === undefined ? "" : " " + w.arg.toLocaleString("en-US")}`,
        { size: 12, weight: "bold" },
      ),
    );
    o.push(text(LEFT + 4, y + 14, w.about, { size: 10, fill: "#777777" }));
    y += GROUP_HEAD;
    for (const e of w.entries) {
      const cy = y + (ROW - BAR) / 2;
      o.push(text(LEFT - 8, cy + BAR - 2, e.backend, { anchor: "end" }));
      let label: string;
      let fill = "#222222";
      let end = LEFT;
      if (e.status === "over cap") {
        end = x(cap(e));
        o.push(
          `<rect x="${LEFT}" y="${cy}" width="${(end - LEFT).toFixed(1)}" height="${BAR}" fill="url(#hatch)" stroke="#888888" stroke-width="0.5"/>`,
        );
        label = `over the cap: > ${ms(cap(e))}`;
      } else if (e.runMs !== undefined) {
        end = x(e.runMs);
        o.push(
          `<rect x="${LEFT}" y="${cy}" width="${Math.max(1, end - LEFT).toFixed(1)}" height="${BAR}" fill="${colour(e.backend)}"/>`,
        );
        label = ms(e.runMs) + (e.compileMs ? ` (+${ms(e.compileMs)} compile)` : "");
        if (e.nativeMs !== undefined) label += ` · machine code ${ms(e.nativeMs)}`;
        if (e.backend === "gcc" && e.note?.includes("closed form"))
          label += " · no loop left: gcc computed the result in closed form";
        else if (e.ratioInterp !== undefined && e.backend !== "interp")
          label += ` · ${times(e.ratioInterp)} interp`;
        if (e.runs === 1 && r.settings.reps > 1) label += " · 1 run";
        if (e.status !== "ok")
          ((label = `${e.status.toUpperCase()} · ` + label), (fill = "#cc0000"));
      } else {
        label = `${e.status.toUpperCase()}${e.note ? ": " + e.note.slice(0, 60) : ""}`;
        fill = "#cc0000";
      }
      o.push(text(end + 5, cy + BAR - 2, label, { fill }));
      y += ROW;
    }
    y += GROUP_GAP;
  }
  o.push(
    text(
      16,
      height - 8,
      "run time: the run as the backend reports it, without process start-up and without compilation (specialisation, code generation, gcc).",
      { size: 10, fill: "#666666" },
    ),
  );
  o.push("</svg>");
  return o.join("\n") + "\n";
}

function text(
  x: number,
  y: number,
  s: string,
  a: { size?: number; weight?: string; fill?: string; anchor?: string },
): string {
  const attrs = [
    `x="${x.toFixed(1)}"`,
    `y="${y.toFixed(1)}"`,
    a.size ? `font-size="${a.size}"` : "",
    a.weight ? `font-weight="${a.weight}"` : "",
    a.fill ? `fill="${a.fill}"` : "",
    a.anchor ? `text-anchor="${a.anchor}"` : "",
  ].filter(Boolean);
  return `<text ${attrs.join(" ")}>${escape(s)}</text>`;
}

function escape(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

function decade(d: number): string {
  return d >= 3 ? `${10 ** (d - 3)} s` : d >= 0 ? `${10 ** d} ms` : `${(10 ** d).toFixed(-d)} ms`;
}

function ms(v: number): string {
  if (v >= 1000) return `${(v / 1000).toPrecision(3)} s`;
  if (v >= 99.5) return `${Math.round(v)} ms`;
  return `${v.toPrecision(2)} ms`;
}

/** A time ratio as "12× faster than" / "3.4× slower than". */
function times(r: number): string {
  if (r <= 0) return "";
  const f = (x: number) => (x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toPrecision(2));
  return r < 1 ? `${f(1 / r)}× faster than` : `${f(r)}× slower than`;
}
