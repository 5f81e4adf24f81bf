// The heap (runtime/heap.ts): graphs running in JavaScript make and read the very objects the
// first tier does. Built from the first tier's exports, a heap's objects are instances of the
// interpreter's classes (methods, `instanceof`), the first tier's objects are read as they are,
// and a module's named constants are the first tier's own (`nil` is one object). A heap of the
// graphs alone has the same shape without the methods. (The tiers sharing objects in a run:
// test/tlc.test.ts, "one identity across the tiers".)

import { describe, expect, it } from "vitest";
import { firstTierHeap, importProduct } from "../generator/backends.ts";
import { graphsOf, langs } from "../generator/language.ts";
import { classNamed } from "../runtime/ir/classes.ts";
import { Heap, type HeapObject } from "../runtime/heap.ts";
import { L3 } from "../runtime/l3.ts";

const tlc = langs.tlc!;
type Tier = {
  classes: Record<string, new (...args: never[]) => object>;
  constants: Record<string, object>;
};

describe("the first tier's heap", () => {
  it("makes instances of the interpreter's classes, reads the first tier's, shares its constants", async () => {
    const m = graphsOf(tlc);
    const heap = await firstTierHeap(tlc);
    const tier = (await importProduct(tlc, "tier1")).portal as Tier;
    const id = (name: string) => classNamed(m, name)!.id;
    // made here: an IntObj of the first tier, with its methods
    const made = heap.make(id("IntObj")) as HeapObject & { intO(): number };
    expect(made).toBeInstanceOf(tier.classes.IntObj);
    expect(made).toBeInstanceOf(tier.classes.Obj);
    made[heap.fieldName(id("IntObj"), 0)] = 41;
    expect(made.intO()).toBe(41);
    // made by the first tier: its class id and fields read as they are
    const native = new (tier.classes.IntObj as unknown as new (v: number) => HeapObject)(7);
    expect(heap.classOf(native)).toBe(id("IntObj"));
    expect(heap.fieldsOf(native)).toEqual([7]);
    expect(heap.classOf(tier.constants.nil as HeapObject)).toBe(id("NilObj"));
    // the module's constants are the first tier's own objects
    const constants = heap.constantsOf(m, () => new Uint8Array(0));
    const names = (m.objects ?? []).map((o) => (o.k === "object" ? o.name : undefined));
    expect(constants[names.indexOf("nil")]).toBe(tier.constants.nil);
    expect(constants[names.indexOf("zero")]).toBe(tier.constants.zero);
  });

  it("graphs on L3 with it make the first tier's objects (a program's pool)", async () => {
    const heap = await firstTierHeap(tlc);
    const tier = (await importProduct(tlc, "tier1")).portal as Tier;
    const code = tlc.load("NEW foo,meth=f\nf:\nRETURN", "t.tlc");
    const s = new L3(graphsOf(tlc), undefined, heap).evaluate("readPool", [code]);
    expect(s.k).toBe("return");
    const pool = (s as { value: HeapObject }).value;
    expect(pool).toBeInstanceOf(tier.classes.Pool);
    expect((pool.classes as object[])[0]).toBeInstanceOf(tier.classes.Class);
  });
});

describe("a heap of the graphs alone", () => {
  it("gives each class a prototype of its own, a subclass's inheriting from its parent's", () => {
    const m = graphsOf(tlc);
    const heap = Heap.of(m);
    expect(Heap.of({ classes: m.classes })).toBe(heap);
    for (const c of m.classes!) {
      const o = heap.make(c.id);
      expect(heap.classOf(o)).toBe(c.id);
      expect(Object.keys(o)).toEqual(c.fields.map((f) => f.name));
      if (c.parent !== undefined) {
        const parent = Object.getPrototypeOf(heap.make(classNamed(m, c.parent)!.id)) as object;
        expect(parent.isPrototypeOf(o)).toBe(true);
      }
    }
  });
});
