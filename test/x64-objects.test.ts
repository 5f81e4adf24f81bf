// Objects in machine code (runtime/x64/objects.ts): the object region's limit stops a run
// cleanly (the runner replays it on the interpreter), an array held in an object is refused
// with a message, and objects passed in and out keep their identity (a list passed in, changed
// by the code, is the caller's list, changed; one the code made comes out as the heap's
// object, of its class).

import { describe, expect, it } from "vitest";
import { buildGraphs } from "../generator/frontend/index.ts";
import { Heap } from "../runtime/heap.ts";
import { parseModule } from "../runtime/ir/parse.ts";
import { L3 } from "../runtime/l3.ts";
import { NativeLimit, NativeModule } from "../runtime/x64/native.ts";
import { x64Supported } from "../runtime/x64/memory.ts";

const root = new URL("../", import.meta.url).pathname;
const path = `${root}interpreters/x64-objects-fixture.ts`;

const CELLS = `
class Cell {
  v: number;
  next: Cell | null;
  constructor(v: number, next: Cell | null) {
    this.v = v;
    this.next = next;
  }
}
/** A chain of n cells, summed: every cell escapes into the next one's field. */
export function main(n: number): number {
  let head: Cell | null = null;
  for (let i = 0; i < n; i = (i + 1) | 0) head = new Cell(i, head);
  let sum = 0;
  while (head) {
    sum = (sum + head.v) | 0;
    head = head.next;
  }
  return sum;
}
/** Pushes n cells onto the list it is given; gives the list's length. */
export function grow(xs: Cell[], n: number): number {
  for (let i = 0; i < n; i = (i + 1) | 0) {
    let first: Cell | null = null;
    if (xs.length > 0) first = xs[0];
    xs.push(new Cell(i, first));
  }
  return xs.length;
}
/** A cell whose next is a new cell. */
export function make(n: number): Cell {
  return new Cell(n, new Cell((n + 1) | 0, null));
}
`;

function compiled(entry: string, regionBytes?: number): NativeModule {
  const r = buildGraphs(path, entry, { text: CELLS });
  expect(r.violations).toEqual([]);
  const m = r.module!;
  return new NativeModule(m, { heap: Heap.of(m), check: true, regionBytes });
}

describe.runIf(x64Supported)("objects in machine code", () => {
  it("a run that fills the object region stops with NativeLimit, and a larger region runs it", () => {
    const small = compiled("main", 4096);
    expect(() => small.run("main", [10_000])).toThrow(NativeLimit);
    // the arena is reset per run: a small run after the failed one is right
    expect(small.run("main", [10])).toEqual({ k: "return", value: 45 });
    small.free();
    const big = compiled("main");
    expect(big.run("main", [10_000])).toEqual({ k: "return", value: 49_995_000 });
    big.free();
  });

  it("a list passed in is the caller's list, changed; what the code made is the heap's object", () => {
    const x64 = compiled("grow");
    const heap = Heap.of(buildGraphs(path, "grow", { text: CELLS }).module!);
    const xs: unknown[] = [];
    expect(x64.run("grow", [xs as never, 3])).toEqual({ k: "return", value: 3 });
    expect(xs).toHaveLength(3);
    // one identity: the cells the code made point at the first one, the very object in xs[0]
    const [a, b, c] = xs as { v: number; next: unknown }[];
    expect([a!.v, b!.v, c!.v]).toEqual([0, 1, 2]);
    expect(a!.next).toBe(null);
    expect(b!.next).toBe(a);
    expect(c!.next).toBe(a);
    expect(heap.classIdOf(a)).toBe(heap.classIdOf(c));
    // and again, on the same list: pushed after what is there
    expect(x64.run("grow", [xs as never, 2])).toEqual({ k: "return", value: 5 });
    expect((xs[4] as { next: unknown }).next).toBe(a);
    x64.free();
    const made = compiled("make").run("make", [7]);
    expect(made.k).toBe("return");
    const cell = (made as { value: unknown }).value as { v: number; next: { v: number } };
    expect([cell.v, cell.next.v]).toEqual([7, 8]);
  });

  it("an array held in an object is refused with what holds it", () => {
    const text = `
class Box {
  a: Int32Array;
  constructor(n: number) {
    this.a = new Int32Array(n);
  }
}
export function main(n: number): number {
  return new Box(n).a.length;
}
`;
    const r = buildGraphs(path, "main", { text });
    expect(r.violations).toEqual([]);
    expect(() => new NativeModule(r.module!, { heap: Heap.of(r.module!) })).toThrow(
      "x64: arrays held in objects, lists or maps are not compiled (Box.a: i32[])",
    );
  });
});

describe.runIf(x64Supported)("lists made by machine code", () => {
  it("a negative length raises the interpreter's error; the filler fills every item", () => {
    const text = `func @main -> i32 {
b0(v0: i32):
  v1: list<i32> = new_list<list<i32>> v0, 7
  v2: i32 = list_len v1
  v3: i32 = int_sub v2, 1
  v4: bool = int_gt v2, 0
  branch v4, b1, b2
b1:
  v5: i32 = list_get v1, v3
  v6: i32 = int_mul v2, 100
  v7: i32 = int_add v6, v5
  return v7
b2:
  return v2
}
`;
    const m = parseModule(text);
    const l3 = new L3(m);
    const x64 = new NativeModule(m, { heap: Heap.of(m), check: true });
    for (const n of [-5, -1, 0, 1, 3, 4, 5, 100]) {
      const want = l3.run("main", [n]);
      expect(x64.run("main", [n]), String(n)).toEqual(want);
    }
    expect(x64.run("main", [-1])).toEqual({ k: "raise", msg: "invalid array length" });
    expect(x64.run("main", [5])).toEqual({ k: "return", value: 507 });
    x64.free();
  });

  it("push and pop in machine code: past the buffer's room (it grows), and pop of an empty list", () => {
    // pushes 3i for i < n, then pops n + 2 times: sum of the pops times 2, plus the pops' count
    const text = `func @main -> i32 {
b0(v0: i32):
  v1: list<i32> = new_list<list<i32>> 0, 0
  jump b1(0)
b1(v2: i32):
  v3: bool = int_lt v2, v0
  branch v3, b2, b3(0, 0)
b2:
  v4: i32 = int_mul v2, 3
  list_push v1, v4
  v5: i32 = int_add v2, 1
  jump b1(v5)
b3(v6: i32, v7: i32):
  v8: i32 = int_add v0, 2
  v9: bool = int_lt v7, v8
  branch v9, b4, b5
b4:
  v10: i32 = list_pop v1
  v11: i32 = int_mul v6, 2
  v12: i32 = int_add v11, v10
  v13: i32 = int_add v7, 1
  jump b3(v12, v13)
b5:
  v14: i32 = list_len v1
  v15: i32 = int_mul v6, 10
  v16: i32 = int_add v15, v14
  return v16
}
`;
    const m = parseModule(text);
    const l3 = new L3(m);
    const x64 = new NativeModule(m, { heap: Heap.of(m), check: true });
    for (const n of [0, 1, 3, 4, 5, 8, 9, 100, 1000]) {
      expect(x64.run("main", [n]), String(n)).toEqual(l3.run("main", [n]));
    }
    expect(x64.run("main", [2])).toEqual({ k: "return", value: 240 });
    x64.free();
  });
});

// The pooled arena keeps the objects that cannot change from one run of a module to the next
// (runtime/x64/pairs.ts): a chain of frozen nodes copied out once is not copied in again; an
// object that may change, and a frozen one holding it, are copied in anew, with the changes
// JavaScript made between the runs.
const KEPT = `
class Node {
  readonly v: number;
  readonly next: Node | null;
  constructor(v: number, next: Node | null) {
    this.v = v;
    this.next = next;
  }
}
class Cell {
  n: number;
  constructor(n: number) {
    this.n = n;
  }
}
class Holder {
  readonly cell: Cell;
  readonly node: Node | null;
  constructor(cell: Cell, node: Node | null) {
    this.cell = cell;
    this.node = node;
  }
}
/** A chain of n nodes, n-1 first. */
export function chain(n: number): Node | null {
  let head: Node | null = null;
  for (let i = 0; i < n; i = (i + 1) | 0) head = new Node(i, head);
  return head;
}
/** The sum of a chain's values. */
export function sum(head: Node | null): number {
  let s = 0;
  while (head) {
    s = (s + head.v) | 0;
    head = head.next;
  }
  return s;
}
/** Whether b's next is a (one identity across runs). */
export function follows(a: Node, b: Node): boolean {
  return b.next === a;
}
export function hold(n: number, node: Node | null): Holder {
  return new Holder(new Cell(n), node);
}
/** The holder's cell's number, plus its node's value. */
export function read(h: Holder): number {
  let v = h.cell.n;
  if (h.node) v = (v + h.node.v) | 0;
  return v;
}
`;

function keptModule(regionBytes?: number): NativeModule {
  const r = buildGraphs(path, "chain", { text: KEPT });
  expect(r.violations).toEqual([]);
  const m = r.module!;
  const graphs = ["chain", "sum", "follows", "hold", "read"].map(
    (e) => buildGraphs(path, e, { text: KEPT }).module!.graphs,
  );
  const all = { ...m, graphs: [...new Map(graphs.flat().map((g) => [g.name, g])).values()] };
  return new NativeModule(all, { heap: Heap.of(all), check: true, regionBytes });
}

describe.runIf(x64Supported)("objects kept from run to run", () => {
  it("a chain of frozen nodes copied out once is not copied in again, and keeps its identity", () => {
    const x64 = keptModule();
    const made = x64.run("chain", [1000]);
    expect(made.k).toBe("return");
    const head = (made as unknown as { value: { v: number; next: unknown } }).value;
    expect(head.v).toBe(999);
    expect(x64.counts.copiedOut).toBe(1000);
    expect(x64.run("sum", [head as never])).toEqual({ k: "return", value: 499_500 });
    expect(x64.counts.copiedIn).toBe(0);
    // a node JavaScript made after the first run, whose next is a node the code made
    const heap = Heap.of(x64["m"]);
    const fresh = heap.make(heap.classes.find((c) => c.name === "Node")!.id) as Record<
      string,
      unknown
    >;
    fresh.v = 5;
    fresh.next = head;
    expect(x64.run("follows", [head as never, fresh as never])).toEqual({
      k: "return",
      value: true,
    });
    expect(x64.counts.copiedIn).toBe(1);
    expect(x64.run("sum", [fresh as never])).toEqual({ k: "return", value: 499_505 });
    x64.free();
  });

  it("an object that may change, and a frozen one holding it, are copied in anew", () => {
    const x64 = keptModule();
    const node = (x64.run("chain", [3]) as { value: unknown }).value;
    const holder = (x64.run("hold", [7, node as never]) as { value: unknown }).value as {
      cell: { n: number };
    };
    expect(x64.run("read", [holder as never])).toEqual({ k: "return", value: 9 });
    holder.cell.n = 40; // JavaScript changes the cell between runs
    expect(x64.run("read", [holder as never])).toEqual({ k: "return", value: 42 });
    x64.free();
  });

  it("another module's run, or a region more than half taken, starts the region over", () => {
    const a = keptModule();
    const b = keptModule();
    const head = (a.run("chain", [10]) as { value: unknown }).value;
    const other = (b.run("chain", [20]) as { value: unknown }).value;
    expect(a.run("sum", [head as never])).toEqual({ k: "return", value: 45 });
    expect(b.run("sum", [other as never])).toEqual({ k: "return", value: 190 });
    expect(a.run("sum", [head as never])).toEqual({ k: "return", value: 45 });
    a.free();
    b.free();
    // 64 KiB: a chain of 3,000 nodes takes more than half of it
    const small = keptModule(1 << 16);
    const long = (small.run("chain", [3000]) as { value: unknown }).value;
    const before = small.counts.copiedIn;
    expect(small.run("sum", [long as never])).toEqual({ k: "return", value: 4_498_500 });
    expect(small.counts.copiedIn - before).toBe(3000);
    small.free();
  });
});
