// futamura view: the page's script (inlined into each page by page.ts). It reads the run's
// data (`ViewData`, generator/view/data.ts) from the page's JSON and draws: the program with
// where code and time went at each position; for a picked position, its residual code, its
// machine code and the interpreter's source lines they came from (binding-time coloured); the
// JIT's events as a timeline; the run's statistics. Plain DOM, no library.
"use strict";

const D = JSON.parse(document.getElementById("data").textContent);

/** An element: `h("div", { class: "x", onclick: f }, child, "text", ...)`. */
function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) e.append(c);
  return e;
}

const fmt = (n) => (typeof n === "number" ? n.toLocaleString("en") : String(n));
const countsAt = (p) => D.positions[p] || { ops: 0, bytes: 0, hot: 0, compiles: 0, ms: 0 };

const METRICS = {
  bytes: "machine code bytes",
  ops: "residual operations",
  ms: "ms in compiled code entered here",
  hot: "hot offers of the first tier",
  compiles: "entries compiled",
};
let metric = D.code.length ? "bytes" : "ops";
let picked = -1;

// --- the header: what ran and what came of it ---

function header() {
  const r = D.run;
  const s = D.stats;
  const fact = (k, v) => (v === undefined ? null : h("span", {}, `${k} `, h("b", {}, fmt(v))));
  const result = r.error !== undefined ? `error: ${r.error}` : r.value;
  return h(
    "header",
    {},
    h("h1", {}, `futamura view: ${r.lang} ${r.program} ${r.args.join(" ")} on ${r.backend}`),
    h(
      "div",
      { class: "facts" },
      fact("result", result),
      fact("output bytes", r.outputBytes),
      fact("run ms", s.runMs),
      fact("specialise ms", s.specialiseMs),
      fact("clean-up ms", s.cleanupMs),
      fact("compile ms", s.compileMs),
      fact("compiled code ms", s.compiledCodeMs ?? s.nativeMs),
      fact("first tier ms", s.firstTierMs),
      fact("residual ops", s.opsResidual),
      fact("code bytes", s.codeBytes),
    ),
  );
}

// --- the program, by position ---

/** Each position's share of the most any position has of the metric, 0 to 1 (made once per
 *  drawing: a Brainfuck listing has a position per byte). */
function heats() {
  const max = Math.max(1, ...Object.values(D.positions).map((c) => c[metric]));
  return (p) => countsAt(p)[metric] / max;
}

function program() {
  const select = h(
    "select",
    {
      id: "metric",
      onchange: (e) => {
        metric = e.target.value;
        redrawProgram();
      },
    },
    Object.entries(METRICS).map(([k, v]) => h("option", { value: k, selected: k === metric }, v)),
  );
  return h(
    "section",
    { id: "program" },
    h(
      "h2",
      {},
      "Program",
      h("small", {}, `${D.listing.lines.length} ${D.listing.kind === "bytes" ? "bytes" : "lines"}`),
    ),
    h("div", { class: "controls" }, "colour by ", select),
    h("div", { class: "scroll mono", id: "listing" }),
  );
}

function redrawProgram() {
  const box = document.getElementById("listing");
  box.replaceChildren();
  const heat = heats();
  const shade = (p) => `rgba(255, 140, 0, ${(0.08 + 0.6 * heat(p)).toFixed(3)})`;
  if (D.listing.kind === "bytes") {
    const pre = h("div", { class: "bytes" });
    for (const { position: p, text } of D.listing.lines) {
      const c = D.positions[p];
      const attrs = { class: "ch", "data-p": p, onclick: () => pick(p) };
      if (c) attrs.style = `background:${heat(p) > 0 ? shade(p) : "#eef"}`;
      if (c) attrs.title = title(p);
      pre.append(text === "\n" ? "\n" : h("span", attrs, text));
    }
    box.append(pre);
  } else {
    for (const { position: p, text } of D.listing.lines) {
      const c = countsAt(p);
      const w = (100 * heat(p)).toFixed(1);
      box.append(
        h(
          "div",
          {
            class: "row",
            "data-p": p,
            title: title(p),
            onclick: () => pick(p),
            style: `background-image:linear-gradient(to right, ${shade(p)} ${w}%, transparent ${w}%)`,
          },
          h("span", {}, text),
          h("span", { class: "n" }, c[metric] ? fmt(c[metric]) : ""),
        ),
      );
    }
  }
  markPicked();
}

function title(p) {
  const c = countsAt(p);
  return `position ${p}: ${Object.entries(METRICS)
    .map(([k, v]) => `${fmt(c[k])} ${v}`)
    .join(", ")}`;
}

function markPicked() {
  for (const e of document.querySelectorAll("#listing .picked")) e.classList.remove("picked");
  const box = document.getElementById("listing");
  for (const e of document.querySelectorAll(`#listing [data-p="${picked}"]`)) {
    e.classList.add("picked");
    // (the listing scrolled to it, not the page)
    const top = e.offsetTop - box.offsetTop;
    if (top < box.scrollTop || top > box.scrollTop + box.clientHeight - 20)
      box.scrollTop = top - box.clientHeight / 2;
  }
}

// --- a picked position: residual code, machine code, source ---

function detail() {
  return h(
    "section",
    { id: "detail" },
    h("h2", {}, "Position", h("small", { id: "picked" }, "pick a position of the program")),
    h("div", { class: "summary", id: "summary" }),
    h(
      "div",
      { class: "cols" },
      h(
        "div",
        { class: "col" },
        h("h3", {}, "Residual code"),
        h("div", { class: "scroll mono", id: "residual" }),
      ),
      h(
        "div",
        { class: "col" },
        h("h3", {}, "Machine code"),
        h("div", { class: "scroll mono", id: "machine" }),
      ),
      h(
        "div",
        { class: "col" },
        h(
          "h3",
          { class: "legend" },
          "Interpreter source ",
          h("span", { class: "src g" }, "green"),
          h("span", { class: "src r" }, "red"),
          h("span", { class: "src m" }, "both"),
        ),
        h("div", { class: "scroll mono", id: "source" }),
      ),
    ),
  );
}

const MAX_BLOCKS = 300;
const MAX_INSTRS = 4000;

function pick(p) {
  picked = p;
  markPicked();
  const c = countsAt(p);
  document.getElementById("picked").textContent = `position ${p}`;
  document.getElementById("summary").textContent = title(p);
  const hits = new Set();
  const blocks = new Set();
  D.rlines.forEach(([, at, , block], id) => {
    if (at === p) (hits.add(id), blocks.add(block));
  });
  drawResidual(hits, blocks);
  drawMachine(hits, blocks);
  drawSource(new Set([...hits].map((id) => D.rlines[id][2]).filter((l) => l > 0)));
  if (!hits.size && !c.hot)
    document
      .getElementById("summary")
      .append(h("div", { class: "note" }, "nothing was made at this position"));
}

function drawResidual(hits, blocks) {
  const box = document.getElementById("residual");
  box.replaceChildren();
  let shown = 0;
  for (const g of D.graphs) {
    const mine = g.blocks.filter((b) => blocks.has(D.rlines[b.lines[0]][3]));
    if (!mine.length) continue;
    box.append(h("div", { class: "fn" }, `func @${g.name}`));
    for (const b of mine) {
      if (++shown > MAX_BLOCKS) break;
      box.append(h("div", { class: "blk" }, `${b.head}:`));
      for (const id of b.lines) {
        const [text, , line] = D.rlines[id];
        box.append(
          h(
            "div",
            {
              class: `rl${hits.has(id) ? " hit" : ""}`,
              "data-r": id,
              onclick: () => focusLine(id),
            },
            `  ${text}`,
            line ? h("span", { class: "ln" }, `  @${line}`) : null,
          ),
        );
      }
    }
  }
  if (shown > MAX_BLOCKS)
    box.append(h("div", { class: "note" }, `(${shown - MAX_BLOCKS} more blocks)`));
  if (!shown) box.append(h("div", { class: "note" }, "no residual code at this position"));
}

function drawMachine(hits, blocks) {
  const box = document.getElementById("machine");
  box.replaceChildren();
  if (!D.code.length)
    return box.append(h("div", { class: "note" }, `${D.run.backend} makes no machine code`));
  let shown = 0;
  for (const run of D.code) {
    const mine = run.instrs.filter(([, , , id]) => id >= 0 && blocks.has(D.rlines[id][3]));
    if (!mine.length) continue;
    box.append(h("div", { class: "fn" }, `@${run.graph}  0x${run.address}`));
    const base = BigInt("0x" + run.address);
    for (const [off, , text, id] of mine) {
      if (++shown > MAX_INSTRS) break;
      const addr = (base + BigInt(off)).toString(16);
      box.append(
        h(
          "div",
          { class: `ins${hits.has(id) ? " hit" : ""}`, "data-r": id, onclick: () => focusLine(id) },
          h("span", { class: "addr" }, addr.slice(-6).padStart(6)),
          `  ${text}`,
        ),
      );
    }
  }
  if (shown > MAX_INSTRS)
    box.append(h("div", { class: "note" }, `(${shown - MAX_INSTRS} more instructions)`));
  if (!shown) box.append(h("div", { class: "note" }, "no machine code at this position"));
}

function drawSource(used) {
  const box = document.getElementById("source");
  box.replaceChildren();
  let first;
  D.source.lines.forEach((text, i) => {
    const n = i + 1;
    const e = h(
      "div",
      { class: `src ${D.source.bt[i]}${used.has(n) ? " used" : ""}`, "data-l": n },
      h("span", { class: "ln" }, String(n).padStart(4)),
      `  ${text}`,
    );
    if (used.has(n) && !first) first = e;
    box.append(e);
  });
  if (first) box.scrollTop = first.offsetTop - box.offsetTop - 40;
}

/** One residual line picked: it, its instructions and its source line outlined. */
function focusLine(id) {
  for (const e of document.querySelectorAll(".focus")) e.classList.remove("focus");
  for (const e of document.querySelectorAll(`[data-r="${id}"]`)) e.classList.add("focus");
  const line = D.rlines[id][2];
  const src = document.querySelector(`#source [data-l="${line}"]`);
  if (src) {
    src.classList.add("focus");
    const box = document.getElementById("source");
    box.scrollTop = src.offsetTop - box.offsetTop - 40;
  }
}

// --- the events as a timeline ---

const LANES = [
  "hot",
  "compile",
  "enter",
  "leave",
  "exit",
  "link",
  "takeOver",
  "continuation",
  "fallback",
  "collect",
  "notEntered",
  "spent",
];

function timeline() {
  const sec = h(
    "section",
    { id: "timeline", class: "wide" },
    h(
      "h2",
      {},
      "Timeline",
      h(
        "small",
        {},
        `${fmt(D.events.length)} events${D.eventsLeft ? `, ${fmt(D.eventsLeft)} more not kept` : ""}; bars count events, compilations span their time`,
      ),
    ),
  );
  if (!D.events.length)
    return (sec.append(h("div", { class: "note" }, "no events: nothing went between tiers")), sec);
  const NS = "http://www.w3.org/2000/svg";
  const svg = (tag, attrs, ...kids) => {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    for (const k of kids) e.append(k);
    return e;
  };
  const lanes = LANES.filter((k) => D.events.some((e) => e.ev === k));
  const W = 1200;
  const L = 100;
  const ROW = 22;
  const end = Math.max(
    ...D.events.map((e) => e.t + (e.ev === "compile" ? e.ms : 0)),
    Number(D.stats.runMs) || 0,
    1,
  );
  const x = (t) => L + ((W - L - 10) * t) / end;
  const BINS = 300;
  const root = svg("svg", { viewBox: `0 0 ${W} ${lanes.length * ROW + 24}`, role: "img" });
  lanes.forEach((lane, i) => {
    const y = i * ROW;
    root.append(svg("text", { x: 4, y: y + 15, class: "lane" }, lane));
    root.append(
      svg("line", { x1: L, x2: W - 10, y1: y + ROW - 2, y2: y + ROW - 2, stroke: "#eaeef2" }),
    );
    const mine = D.events.filter((e) => e.ev === lane);
    if (lane === "compile") {
      for (const e of mine) {
        const r = svg("rect", {
          x: x(e.t),
          y: y + 4,
          width: Math.max(1, x(e.t + e.ms) - x(e.t)),
          height: ROW - 8,
          fill: "#8250df",
          "data-p": e.position,
        });
        r.append(
          svg(
            "title",
            {},
            `${e.t} ms: ${e.graph} at position ${e.position} (${e.why}), ${e.ops} ops in ${e.ms} ms`,
          ),
        );
        r.addEventListener("click", () => pick(e.position));
        root.append(r);
      }
      return;
    }
    const bins = new Array(BINS).fill(0);
    for (const e of mine) bins[Math.min(BINS - 1, Math.floor((BINS * e.t) / end))]++;
    const most = Math.max(...bins);
    bins.forEach((n, b) => {
      if (!n) return;
      const hgt = Math.max(2, ((ROW - 6) * n) / most);
      const r = svg("rect", {
        x: x((b * end) / BINS),
        y: y + ROW - 2 - hgt,
        width: Math.max(1, (W - L - 10) / BINS - 0.5),
        height: hgt,
        fill: "#0969da",
      });
      r.append(svg("title", {}, `${n} ${lane} from ${((b * end) / BINS).toFixed(1)} ms`));
      root.append(r);
    });
  });
  const axis = lanes.length * ROW + 16;
  for (let k = 0; k <= 4; k++) {
    const t = (end * k) / 4;
    root.append(
      svg("text", { x: x(t) - (k === 4 ? 50 : 0), y: axis, class: "lane" }, `${t.toFixed(0)} ms`),
    );
  }
  sec.append(root);
  return sec;
}

// --- the statistics ---

function stats() {
  const rows = Object.entries(D.stats).map(([k, v]) =>
    h(
      "tr",
      {},
      h("th", {}, k),
      typeof v === "object"
        ? h("td", { class: "mono" }, JSON.stringify(v))
        : h("td", { class: "num" }, fmt(v)),
    ),
  );
  const out = D.run.output;
  return h(
    "section",
    { id: "stats", class: "wide" },
    h("h2", {}, "Statistics", h("small", {}, "as --stats=json gives them")),
    h("div", { class: "scroll" }, h("table", {}, rows)),
    out ? h("h2", {}, "Output", h("small", {}, `${fmt(D.run.outputBytes)} bytes`)) : null,
    out ? h("div", { class: "scroll mono note" }, out) : null,
  );
}

// --- the page ---

document.body.append(header(), h("main", {}, program(), detail(), timeline(), stats()));
redrawProgram();
// The position where most code went, picked to start with.
const best = Object.entries(D.positions).sort((a, b) => b[1][metric] - a[1][metric])[0];
if (best) pick(Number(best[0]));
