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
});
