//! The list operations on a virtual list, done at compile time (PyPy's virtual lists, as its
//! optimizer keeps a list made in a loop trip out of the heap): what L3 does to a JavaScript
//! array, done to the list's abstract items. An operation that needs the run (an index known
//! only at run time, a list that would grow past the policy's bound) is not done here: the
//! engine forces the list and emits it.

import { konst, type AVal, type Field, type VirtualList } from "./value.ts";

/** What a list operation did on a virtual list: its result (none for the operations without
 *  one), or `undefined` where the run must do it. `zero` is the item type's zero (what popping
 *  an empty list gives: given for `list_pop`); `value` the item an operation stores, as a
 *  field. */
export type ListResult = { value: AVal | undefined } | undefined;

export function onVirtualList(
  list: VirtualList,
  name: string,
  index: AVal | undefined,
  value: Field | undefined,
  zero: Field | undefined,
  maxLength: number,
): ListResult {
  const items = list.items;
  const i = index?.k === "c" ? Number(index.v) : undefined;
  switch (name) {
    case "list_len":
      return { value: konst(items.length) };
    case "list_get":
      return i !== undefined && i >= 0 && i < items.length ? { value: items[i]! } : undefined;
    case "list_set":
      if (i === undefined || i < 0 || i >= items.length) return undefined;
      items[i] = value!;
      return { value: undefined };
    case "list_push":
      if (items.length >= maxLength) return undefined;
      items.push(value!);
      return { value: undefined };
    case "list_pop":
      return { value: items.pop() ?? zero! };
    case "list_insert":
      // (`splice`'s meaning, negative indexes and all, as L3 runs it)
      if (i === undefined || items.length >= maxLength) return undefined;
      items.splice(i, 0, value!);
      return { value: undefined };
    case "list_remove":
      if (i === undefined) return undefined;
      items.splice(i, 1);
      return { value: undefined };
  }
  return undefined;
}
