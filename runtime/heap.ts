//! Where a run's objects live when graphs run in JavaScript (L3, the specialiser's fallbacks):
//! how an object of one of the interpreter's classes is made, read, written and asked its
//! class, and which objects a module's constants are.
//!
//! One identity across tiers needs one kind of object. The first tier is the interpreter's own
//! source: its objects are instances of the interpreter's classes. So L3's objects are
//! instances of classes too, fields by name, the class id on each class's prototype: a heap
//! made from the first tier's own classes and module constants (`Heap.ofClasses`, for the
//! tiered JIT) makes objects the first tier can call methods on, compare with its `nil` and
//! test with `instanceof`, and reads the first tier's objects as they are. A heap for the
//! interpreter's graphs alone (`Heap.of`: `graph`, `pe`) makes prototypes of its own from the
//! module's class declarations, the same shape without the methods, which nothing there calls.
//! Lists are JavaScript arrays and maps are Maps in every heap.

import type { ClassDecl, Const, Module, ObjectData } from "./ir/types.ts";
import { zeroOf } from "./ir/containers.ts";
import { classNamed } from "./ir/classes.ts";

/** An object as a heap holds it: an instance of one of the classes, fields by name. */
export type HeapObject = { [field: string]: unknown };

/** The class id on each class's prototype (its own property: a subclass has its own). */
const CLASS_ID = Symbol("futamura.classId");

/** What the first tier exports of its classes and module-level constant objects, by name. */
export interface TierObjects {
  classes: Record<string, { prototype: object }>;
  constants: Record<string, unknown>;
}

export class Heap {
  /** Per class id, its prototype, its fields' names and their zeroes (in the class's order). */
  private readonly prototypes: object[] = [];
  private readonly names: string[][] = [];
  private readonly zeroes: unknown[][] = [];
  /** The constants of each list of them (`Module.objects`), as this heap holds them. */
  private readonly made = new WeakMap<ObjectData[], unknown[]>();
  /** The first tier's own objects among the constants (they are whole already). */
  private readonly adopted = new WeakSet<object>();

  private constructor(
    readonly classes: readonly ClassDecl[],
    prototypeOf: (c: ClassDecl) => object,
    /** The module-level constants the first tier made, by name (none: made here). */
    private readonly named: Record<string, unknown> = {},
  ) {
    for (const c of classes) {
      const proto = prototypeOf(c);
      Object.defineProperty(proto, CLASS_ID, { value: c.id, configurable: true });
      this.prototypes[c.id] = proto;
      this.names[c.id] = c.fields.map((f) => f.name);
      this.zeroes[c.id] = c.fields.map((f) => zeroOf(f.type).v);
    }
  }

  private static synthesised = new WeakMap<readonly ClassDecl[], Heap>();

  /** The heap of a module's graphs alone: prototypes made from its class declarations (a
   *  subclass's inheriting from its parent's), one heap per list of classes, so the modules
   *  made from an interpreter's graphs share its objects. */
  static of(m: Pick<Module, "classes">): Heap {
    const classes = m.classes ?? [];
    let heap = Heap.synthesised.get(classes);
    if (!heap) {
      const protos = new Map<string, object>();
      heap = new Heap(classes, (c) => {
        const parent = c.parent === undefined ? Object.prototype : protos.get(c.parent)!;
        const proto = Object.create(parent) as object;
        protos.set(c.name, proto);
        return proto;
      });
      Heap.synthesised.set(classes, heap);
    }
    return heap;
  }

  /** The heap of the first tier: its classes and its module-level constants (`tier`), for the
   *  classes the module declares (every one must be there). */
  static ofClasses(m: Pick<Module, "classes">, tier: TierObjects): Heap {
    return new Heap(
      m.classes ?? [],
      (c) => {
        const cls = tier.classes[c.name];
        if (!cls) throw new Error(`the first tier does not export class ${c.name}`);
        return cls.prototype;
      },
      tier.constants,
    );
  }

  /** A new object of class `id`, every field its zero (a constructor's graph sets them). */
  make(id: number): HeapObject {
    const o = Object.create(this.prototypes[id]!) as HeapObject;
    const names = this.names[id]!;
    const zeroes = this.zeroes[id]!;
    for (let i = 0; i < names.length; i++) o[names[i]!] = zeroes[i];
    return o;
  }

  /** The class id of an object of this heap. */
  classOf(o: HeapObject): number {
    return (o as { [CLASS_ID]: number })[CLASS_ID];
  }

  /** The class id of `x` if it is an object of these classes (a list, a map, an array, a number
   *  or null is not). */
  classIdOf(x: unknown): number | undefined {
    return typeof x === "object" && x !== null
      ? (x as { [CLASS_ID]?: number })[CLASS_ID]
      : undefined;
  }

  /** The name of field `index` of class `id` (a field has one index in every subclass). */
  fieldName(id: number, index: number): string {
    return this.names[id]![index]!;
  }

  /** An object's fields, in its class's order. */
  fieldsOf(o: HeapObject): unknown[] {
    return this.names[this.classOf(o)]!.map((n) => o[n]);
  }

  /** The objects of a list of constants (`m.objects`) as this heap holds them, made once per
   *  list (every one allocated first, then filled, so that they may refer to each other); a
   *  named one the first tier made is the first tier's object, and what it holds the objects it
   *  holds. Typed arrays among their contents are the module's data (`dataOf`). */
  constantsOf(m: Module, dataOf: (i: number) => Int32Array | Uint8Array): unknown[] {
    const ds = (m.objects ??= []);
    let objs = this.made.get(ds);
    if (objs) return objs;
    objs = new Array<unknown>(ds.length);
    this.made.set(ds, objs);
    ds.forEach((d, i) => d.k === "object" && d.name !== undefined && this.adopt(ds, objs!, i));
    ds.forEach((d, i) => {
      if (objs![i] === undefined)
        objs![i] =
          d.k === "object" ? this.make(classNamed(m, d.cls)!.id) : d.k === "list" ? [] : new Map();
    });
    const value = (c: Const): unknown =>
      c.k === "obj" ? objs![c.v] : c.k === "data" ? dataOf(c.v) : c.k === "null" ? null : c.v;
    ds.forEach((d, i) => {
      if (this.adopted.has(objs![i] as object)) return;
      const it = objs![i];
      if (d.k === "object") {
        const names = this.names[classNamed(m, d.cls)!.id]!;
        d.fields.forEach((f, j) => ((it as HeapObject)[names[j]!] = value(f)));
      } else if (d.k === "list") (it as unknown[]).push(...d.items.map(value));
      else for (const [k, v] of d.entries) (it as Map<unknown, unknown>).set(value(k), value(v));
    });
    return objs;
  }

  /** Takes the first tier's object for named constant `i`, and for the constants it holds
   *  (fields, items, map values of constant keys) the objects it holds there. */
  private adopt(ds: ObjectData[], objs: unknown[], i: number): void {
    const d = ds[i]! as ObjectData & { k: "object" };
    const real = this.named[d.name!];
    if (real === undefined) return;
    const take = (c: Const, x: unknown) => {
      if (c.k !== "obj" || objs[c.v] !== undefined) return;
      objs[c.v] = x;
      this.adopted.add(x as object);
      const inner = ds[c.v]!;
      if (inner.k === "object") {
        const names = this.names[this.classOf(x as HeapObject)]!;
        inner.fields.forEach((f, j) => take(f, (x as HeapObject)[names[j]!]));
      } else if (inner.k === "list") inner.items.forEach((f, j) => take(f, (x as unknown[])[j]));
      else {
        const map = x as Map<unknown, unknown>;
        for (const [k, v] of inner.entries) take(v, map.get(k.k === "obj" ? objs[k.v] : k.v));
      }
    };
    take({ k: "obj", v: i }, real);
  }

  /** Takes `objs` as the objects of list `ds` (a residual module's constants, which start
   *  with the interpreter's: the same objects). */
  remember(ds: ObjectData[], objs: unknown[]): void {
    this.made.set(ds, objs);
  }
}
