//! Renumbers variables densely in order of definition (blocks in order; parameters, then
//! results), so that equal graphs print as equal text whatever built them.
//!
//! Cost: linear in the graph.

import type { Graph } from "../ir/types.ts";
import { mapOperands } from "../ir/walk.ts";
import { countWork } from "../work.ts";

export function renumber(g: Graph): void {
  const map = new Map<number, number>();
  const types: Graph["types"] = [];
  const names: Graph["names"] = [];
  const def = (v: number) => {
    const n = types.length;
    map.set(v, n);
    types.push(g.types[v]!);
    names[n] = g.names[v];
    return n;
  };
  for (const b of g.blocks) {
    b.params = b.params.map(def);
    for (const op of b.ops) if (op.dst >= 0) op.dst = def(op.dst);
  }
  const steps = mapOperands(g, (o) => (typeof o === "number" ? map.get(o)! : o));
  countWork("renumber", steps + types.length);
  g.types = types;
  g.names = names;
}
