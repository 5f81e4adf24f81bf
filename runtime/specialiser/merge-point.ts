//! Merge points and their keys, the fourth layer of the engine (rules in `policy.ts`, the keys
//! as numbers in `keys.ts`). At the merge point a path's state is only the merge point's
//! arguments: the greens' values and each red's shape make its key. A key met before in this
//! residual graph closes a loop (a jump to its block); a new one opens a block whose parameters
//! are the state's run-time leaves. Keys per position are bounded: past `maxVariants` the
//! reds' item constants are widened to what the position has always seen, past twice that the
//! key is generalised (the varying greens red, virtuals forced). With tiers, a path also ends
//! here where its region does (`region`, `entered`): in an exit the first tier takes over.

import { isReference } from "../ir/containers.ts";
import type { Graph, Operand } from "../ir/types.ts";
import { predecessorCounts } from "../ir/walk.ts";
import { usesObjects } from "../ir/containers.ts";
import {
  InlineTooLong,
  SpecialisationLimit,
  mustGeneralise,
  positionKey,
  staysVirtual,
} from "./policy.ts";
import {
  ALIAS,
  ARRAY,
  CLASSED,
  CONSTANT,
  FALSE,
  GENERAL,
  HOLE,
  Interner,
  LIST,
  NULL_PART,
  OBJECT,
  Parts,
  REPEAT,
  HOME,
  SHAPE,
  TRUE,
  UNKNOWN,
  VIRTUAL,
} from "./keys.ts";
import { isHead, isLeafPart, segment, unzeroed, widen } from "./shapes.ts";
import {
  ZERO,
  constantIndex,
  contents,
  isNull,
  itemAt,
  settledField,
  type AVal,
  type Field,
  type Scalar,
} from "./value.ts";
import { unreachable, plain, red, type Frame, type Path } from "./frames.ts";
import { SavedPaths } from "./saved.ts";
import type { Residual } from "./residual.ts";

/** What a merge-point key fixes of each red, as parts (`keys.ts`), one red after another:
 *  `SHAPE` (nothing: "red"), `SHAPE + 1 + length` (a run-time array of a known length keeps it:
 *  "red#30000"), `CLASSED + ` a class (a reference whose class is known), or a virtual's
 *  segment, nested virtuals and all (`shapes.ts`). A virtual held twice is `ALIAS + ` the
 *  number of its first place ("=2": after the merge point the two share one virtual). */
type Pattern = number[];

/** Of a merge-point position: the paths that reached it, keys made there, keys found made. */
export interface PlaceCounts {
  entries: number;
  keys: number;
  hits: number;
}

/** What the steps of `mergePoint` find about the merge point being met, in one object the
 *  engine reuses (no allocation per merge point). */
interface Meeting {
  /** Whether the key is general (see `policy.ts`). */
  general: boolean;
  /** The length of the reds' shapes in `shapeParts`. */
  s: number;
  /** The arguments' values (the reds', at their indices; a general key's, all of them). */
  vals: AVal[];
  /** The state's run-time leaves, the first `nl`, in the key's canonical order. */
  leaves: AVal[];
  nl: number;
  /** The position's number and the key's (`keys.ts`). */
  position: number;
  key: number;
}

export abstract class MergePoints extends SavedPaths {
  /** Merge-point positions and keys by number (a key's name once made), general keys'
   *  patterns, and numbers for arrays in them. Per position: the parts of the greens it was
   *  first met with (a part per green of the merge point), and three counts (`PlaceCounts`, in
   *  order). The parts buffers are room for a
   *  key's parts while it is looked up: the greens' (then the whole key's), the reds' shapes, a
   *  position's. (Numbers in arrays, not an object per position or key: they live as long as
   *  the specialisation, and the garbage collector copies every small object that does.) */
  protected positionIds = new Interner(256);
  protected keyIds = new Interner(512);
  protected partIds = new Interner(256);
  protected placeKnown = new Parts(256);
  protected placeCounts: number[] = [];
  protected greenParts: number[] = [];
  /** Room for a merge point's reds' values and its state's leaves while it runs. */
  protected redVals: AVal[] = [];
  protected leafVals: AVal[] = [];
  protected shapeParts: Pattern = [];
  /** While a key's shapes are gathered: the leaves counted, the virtuals met (for aliases);
   *  while its leaves are bound: the parameters made. */
  private leafCount = 0;
  private virtualsMet: object[] = [];
  /** Whether `gather` met a virtualizable's virtual (its key then names the homes). */
  private homesMet = false;
  /** The number of the leaf of each run-time variable met so far (see `REPEAT`). */
  private leafOf = new Map<number, number>();
  private bound = 0;
  private boundParams: number[] = [];
  /** The values the reds' leaves are bound to, by leaf number (see `REPEAT`). */
  private boundLeaves: AVal[] = [];
  private boundCount = 0;
  /** Whether the module has objects (machine code of it has an object region to collect). */
  private readonly hasObjects = usesObjects(this.m);
  protected positionParts: number[] = [];
  /** The merge point being met (see `Meeting`). */
  private meeting: Meeting = {
    general: false,
    s: 0,
    vals: [],
    leaves: [],
    nl: 0,
    position: 0,
    key: 0,
  };
  /** With tiers: whether the first tier found the position (the value of the first integer
   *  green) warm. A path reaching a merge point at a position that is not, and whose key this
   *  graph has not made, ends in an exit to a `tier` saved path: the region compiled from a hot
   *  position is the code the first tier has run often, whole loops with their inner loops,
   *  and its edges leave at merge points, where the first tier can take the state over. */
  region: ((position: number) => boolean) | undefined;
  /** With tiers: whether a position is hot (entries of the tiers start at hot positions, made
   *  when first needed): a path reaching it ends in an exit that goes on in the entry for its
   *  state (one copy of each hot loop, linked, not a copy in every region that reaches it). */
  entered: ((position: number) => boolean) | undefined;
  /** With tiers: the labels of the graphs made so far, by key (`@graph#i`): a path meeting a
   *  key that its own graph has not made and another has labelled jumps into that label, the
   *  code after it not made again (see `labelJoins`). */
  protected labels = new Map<number, string>();

  /** The merge point, with the arguments' variables (greens first). False when the path joined
   *  a known key (or left its region) and ends here. In steps: the key's parts and the state's
   *  leaves are gathered, the key chosen (widened or generalised past the policy's variants),
   *  then the path jumps to the key's block if this graph has one, leaves at a region's edge,
   *  or opens the key's block and goes on in it, its leaves the block's parameters. */
  mergePoint(p: Path, f: Frame, vars: Operand[], n: number): boolean {
    if (p.frames.length !== 1) {
      if (!f.inlined) throw new SpecialisationLimit("a merge point inside an inlined call");
      return this.passInlined(p, f, vars, n);
    }
    const m = this.meeting;
    this.gather(p, f, vars, n, m);
    this.chooseKey(p, f, vars, n, m);
    p.at = m.position;
    const operands: Operand[] = new Array(m.nl);
    for (let i = 0; i < m.nl; i++) {
      const a = m.leaves[i]!;
      operands[i] = a.k === "r" ? a.o : this.operand(p, a);
    }
    const target = p.rg.keys.get(m.key);
    if (target >= 0) {
      // (a loop's back edge, or a join: where machine code may collect its objects)
      if (this.policy.safepoints && this.hasObjects) this.safepoint(p, f, vars);
      this.terminate(p, p.out, { k: "jump", to: { block: target, args: operands } });
      this.placeCounts[3 * m.position + 2]++;
      return false;
    }
    const label = this.labels.get(m.key);
    if (label !== undefined) {
      this.jumpToLabel(p, f, vars, label, operands);
      return false;
    }
    if (this.region && !p.fresh && this.leavesRegion(f, vars, p.rg)) {
      this.leaveRegion(p, f, vars, n);
      return false;
    }
    const first = p.safepointFirst;
    p.fresh = p.safepointFirst = false;
    this.openKey(p, m, operands);
    this.bindLeaves(p, f, vars, n, m);
    p.splits = 0;
    // (a graph that starts here, a portal's, a tier's entry or bridge: recursion, and the
    // loops the tiers link through exits, pass it at every call or trip; before the step of
    // fuel, which the exit's continuation takes at the merge point it starts from)
    if (first && this.policy.safepoints && this.hasObjects) this.safepoint(p, f, vars);
    if (this.policy.fuel) this.emit(p, "fuel", [], undefined);
    return true;
  }

  /** Ends path `p` at a merge point whose key another graph has labelled: an exit that goes
   *  on in the label (tail-called), passing the key's leaves, `operands` (the label's block
   *  takes them as its parameters, as a jump within that graph passes them). */
  private jumpToLabel(p: Path, f: Frame, vars: Operand[], label: string, operands: Operand[]) {
    if (this.policy.safepoints && this.hasObjects) this.safepoint(p, f, vars);
    const status = this.save("label", [], p, -1, `label|${label}`, []);
    this.saved[status]!.label = label;
    this.stats.labelJumps++;
    this.terminate(p, p.out, { k: "exit", status, args: [{ k: "int", v: 0 }, ...operands] });
  }

  /** Tiers: labels the key blocks of graph `g` (made by `r`) that are joins now it is finished
   *  (two jumps or more: a loop's head, where paths meet), so that graphs made later jump into
   *  them (`jumpToLabel`) rather than copy the code after them: PyPy's labels, which bridges
   *  jump to. A key that names a virtualizable's home (a variable of `g`) is `g`'s own, and a
   *  label takes at most `policy.maxLabelParams` parameters (an exit's values). */
  protected labelJoins(r: Residual, g: Graph): void {
    if (!this.region) return;
    const preds = predecessorCounts(g);
    const labels: number[] = [];
    r.keys.forEach((key, block) => {
      if (preds[block]! < 2 || this.labels.has(key)) return;
      if (g.blocks[block]!.params.length > this.policy.maxLabelParams) return;
      if (this.keyIds.parts(key).some((x) => x >= HOME)) return;
      this.labels.set(key, `${g.name}#${labels.length}`);
      labels.push(block);
    });
    this.stats.labels += labels.length;
    if (labels.length) g.labels = labels;
  }

  /** A merge point of an inlined portal call's frame: passed without a key (the call's code is
   *  its caller's, up to the caller's next merge point), while its greens are constants and the
   *  call has passed at most `maxInlinedSteps`; past those, the rest of the call is residual
   *  (`outline`: the frame is popped, the caller goes on). */
  private passInlined(p: Path, f: Frame, vars: Operand[], n: number): true {
    const inlined = f.inlined!;
    let general = false;
    for (let i = 0; i < n; i++) if (this.known(f, vars[i]!) === UNKNOWN) general = true;
    if (general) throw new InlineTooLong(inlined.key);
    if (++inlined.steps > this.policy.maxInlinedSteps) {
      this.outline(p, f, vars);
      return true;
    }
    const position = this.positionValue(f, vars);
    if (position >= 0) p.at = position;
    p.splits = 0;
    if (this.policy.fuel) this.emit(p, "fuel", [], undefined);
    return true;
  }

  /** The key's parts and the state's leaves, into `m`: each green's part (`greenParts`; a
   *  virtual green is frozen, and a green that is not a constant makes the key general), each
   *  red's shape (`shapeParts[0..s)`, see `Pattern`; a virtual red too long to stay virtual is
   *  forced first), the reds' values and the run-time leaves, in argument order (forcing emits
   *  code). (Plain loops over number buffers the engine reuses, no closures: this runs once
   *  per instruction specialised.) */
  private gather(p: Path, f: Frame, vars: Operand[], n: number, m: Meeting): void {
    const known = this.greenParts;
    const vals = (m.vals = this.redVals);
    const leaves = (m.leaves = this.leafVals);
    let general = false;
    let s = 0;
    this.leafCount = 0;
    this.virtualsMet.length = 0;
    this.homesMet = false;
    this.leafOf.clear();
    for (let i = 0; i < vars.length; i++) {
      if (i < n) {
        const x = (known[i] = this.known(f, vars[i]!));
        if (x === UNKNOWN) general = true;
        continue;
      }
      // (An argument is resolved already; forcing makes it red.)
      let a = this.argument(f, vars[i]!);
      if (a.k === "v" && !staysVirtual(this.policy, a.obj.length)) this.force(p, a.obj);
      a = this.resolve(a);
      vals[i] = a;
      s = this.shapeOf(a, true, s, leaves);
    }
    m.general = general;
    m.s = s;
    m.nl = this.leafCount;
  }

  /** Appends the shape of red value `a` to `shapeParts` from `s` (see `Pattern`), and its
   *  run-time values to `leaves` (counted by `leafCount`); returns the new end. `top`: a
   *  merge-point argument (red whatever it holds), not a virtual's item (whose constants the
   *  key keeps). Virtuals are numbered in the order met (`virtualsMet`), for aliases. */
  private shapeOf(a: AVal, top: boolean, s: number, leaves: AVal[]): number {
    const shape = this.shapeParts;
    if (a.k === "v" || a.k === "o" || a.k === "l") {
      const seen = this.virtualsMet.indexOf(a.obj);
      if (seen >= 0) {
        shape[s++] = ALIAS + seen;
        return s;
      }
      this.virtualsMet.push(a.obj);
      if ((a.k === "o" || a.k === "l") && a.obj.home) this.homesMet = true;
      if (a.k === "v") {
        const items = a.obj.items;
        const k = unzeroed(items);
        shape[s++] = VIRTUAL + a.obj.length;
        shape[s++] = k;
        for (let j = 0; j < k; j++) s = this.shapeOf(items[j]!, false, s, leaves);
        return s;
      }
      const items = contents(a);
      const k = a.k === "l" ? items.length : unzeroed(items);
      shape[s++] = a.k === "l" ? LIST + k : OBJECT + a.obj.id;
      shape[s++] = k;
      for (let j = 0; j < k; j++) s = this.shapeOf(settledField(items[j]!), false, s, leaves);
      return s;
    }
    if (!top && a.k === "c") {
      shape[s++] = part(a.v);
      return s;
    }
    if (!top && isNull(a)) {
      shape[s++] = NULL_PART;
      return s;
    }
    if (!top && constantIndex(a) !== undefined) {
      shape[s++] = CONSTANT + constantIndex(a)!;
      return s;
    }
    // A run-time value: a leaf, or a reference met before (one object, one parameter: what is
    // known of it, its class, holds in both places).
    if (a.k === "r" && typeof a.o === "number" && isReference(a.type)) {
      const seen = this.leafOf.get(a.o);
      if (seen !== undefined) {
        shape[s++] = REPEAT + seen;
        return s;
      }
      this.leafOf.set(a.o, this.leafCount);
    }
    if (a.k === "r" && a.cls !== undefined && typeof a.o === "number") shape[s++] = CLASSED + a.cls;
    else if (top) shape[s++] = SHAPE + (a.k === "r" && a.len !== undefined ? a.len + 1 : 0);
    else shape[s++] = HOLE;
    leaves[this.leafCount++] = a;
    return s;
  }

  /** Numbers the leaves of a widened shape again (`shapeParts`, the reds' values `vals`): a
   *  run-time value met before is `REPEAT + ` its leaf's number, the others leaves. */
  private repeats(vals: AVal[], n: number): void {
    this.leafOf.clear();
    this.leafCount = 0;
    for (let i = n, j = 0; i < vals.length; j += segment(this.shapeParts, j), i++)
      this.repeatsIn(vals[i]!, j, true);
  }

  private repeatsIn(a: AVal, j: number, top: boolean): void {
    const shape = this.shapeParts;
    const x = shape[j]!;
    if (x >= REPEAT || isLeafPart(x)) {
      if (a.k === "r" && typeof a.o === "number" && isReference(a.type)) {
        const seen = this.leafOf.get(a.o);
        if (seen !== undefined) {
          shape[j] = REPEAT + seen;
          return;
        }
        this.leafOf.set(a.o, this.leafCount);
      }
      if (x >= REPEAT) shape[j] = top ? SHAPE : HOLE;
      this.leafCount++;
      return;
    }
    if (!isHead(x)) return;
    for (let k = 0, c = shape[j + 1]!, at = j + 2; k < c; at += segment(shape, at), k++) {
      this.repeatsIn(itemAt(a, k), at, false);
    }
  }

  /** The key of the state `gather` found, counted at its position: as it is, or past
   *  `maxVariants` keys at the position (and not made in this graph) widened to the item
   *  constants the position has always seen, or past twice that general (the frames turn
   *  generic, virtuals are forced, and the greens the key does not fix become leaves). */
  private chooseKey(p: Path, f: Frame, vars: Operand[], n: number, m: Meeting): void {
    const position = (m.position = this.position(n));
    this.placeCounts[3 * position]++;
    const variants = p.rg.variants[position] ?? 0;
    m.key = m.general ? this.generalKey(position) : this.key(n, m.s, m.vals);
    if (!m.general && mustGeneralise(this.policy, variants) && !this.made(p, m.key)) {
      m.s = widen(this.pattern(p.rg.patterns[position]!, n), this.shapeParts, m.s);
      this.repeats(m.vals, n);
      m.leaves = this.leaves(m.vals, n, false);
      m.nl = m.leaves.length;
      m.general = mustGeneralise(this.policy, variants - this.policy.maxVariants);
      m.key = m.general ? this.generalKey(position) : this.key(n, m.s, m.vals);
    }
    if (!m.general) return;
    if (!this.made(p, m.key)) this.stats.generalisations++;
    this.generic(p.frames);
    for (const a of this.arguments(f, vars))
      if (a.k === "v" || a.k === "o" || a.k === "l") this.operand(p, a);
    m.vals = this.arguments(f, vars);
    // (The reds' shapes again: every one a leaf of its own now, as the general key fixes none.)
    m.s = 0;
    for (let i = n; i < vars.length; i++) this.shapeParts[m.s++] = SHAPE;
    m.leaves = this.leaves(m.vals, n, true);
    m.nl = m.leaves.length;
  }

  /** A new key in the path's graph: counted, remembered as its position's last pattern (which
   *  widening starts from), and a block the path jumps to with the leaves, `operands`. */
  private openKey(p: Path, m: Meeting, operands: Operand[]): void {
    this.stats.mergeKeys++;
    this.placeCounts[3 * m.position + 1]++;
    const rg = p.rg;
    rg.variants[m.position] = (rg.variants[m.position] ?? 0) + 1;
    rg.patterns[m.position] = m.general ? -1 - this.partIds.id(this.shapeParts, m.s) : m.key;
    const blk = rg.b.newBlock();
    rg.keys.set(m.key, blk);
    this.terminate(p, p.out, { k: "jump", to: { block: blk, args: operands } });
    p.out = blk;
  }

  /** The state after the merge point holds only its arguments, the leaves becoming the new
   *  block's parameters. They are written over the old state (a fresh one cost an eighth of a
   *  generated specialiser's time): no other variable is live across a merge point (`prepare`
   *  checks it), so what else the environment holds is never read again. For the same reason
   *  a virtual's holes become parameters in place (the path owns its virtuals: a copied state
   *  copies them). */
  private bindLeaves(p: Path, f: Frame, vars: Operand[], n: number, m: Meeting): void {
    const ps: number[] = new Array(m.nl);
    const env = f.env;
    this.bound = 0;
    this.boundParams = ps;
    this.boundCount = 0;
    for (let i = 0, j = 0; i < vars.length; i++) {
      const v = vars[i]!;
      if (!this.leaf(i, n, m.general)) {
        // A green the key fixes: kept as it is (plain in compiled code, where it stays put).
        if (typeof v === "number" && !f.code?.greens[v]) env[v] = this.slot(f, v);
        continue;
      }
      const a = m.vals[i]!;
      let next: AVal;
      if (i < n) {
        // (a green a general key does not fix: a run-time value)
        next = this.param(p, a, true, SHAPE);
        ps[this.bound++] = (next as { o: number }).o;
      } else next = this.bindValue(p, a, j, m.general);
      if (i >= n) j += segment(this.shapeParts, j);
      if (typeof v === "number") env[v] = f.code?.greens[v] ? plain(next) : next;
    }
    p.rg.b.setParams(p.out, ps);
  }

  /** The value `a` whose shape is at `shapeParts[j]` after the merge point: a leaf becomes a
   *  parameter (appended to `boundParams`), a virtual's leaves become parameters in place. */
  private bindValue(p: Path, a: AVal, j: number, general: boolean): AVal {
    const shape = this.shapeParts;
    const x = shape[j]!;
    if (x >= REPEAT) return this.boundLeaves[x - REPEAT]!;
    if (isLeafPart(x)) {
      const r = this.param(p, a, general, x);
      this.boundParams[this.bound++] = (r as { o: number }).o;
      this.boundLeaves[this.boundCount++] = r;
      return r;
    }
    if (!isHead(x)) return a;
    if (a.k === "v") {
      const items = a.obj.items;
      for (let k = 0, c = shape[j + 1]!, at = j + 2; k < c; at += segment(shape, at), k++) {
        // (Past the items only where widening made a hole of a constant seen before.)
        while (items.length < k) items.push(ZERO);
        items[k] = this.bindValue(p, items[k] ?? ZERO, at, general) as Scalar;
      }
    } else if (a.k === "o" || a.k === "l") {
      const items = contents(a);
      for (let k = 0, c = shape[j + 1]!, at = j + 2; k < c; at += segment(shape, at), k++)
        items[k] = this.bindValue(p, settledField(items[k] ?? ZERO), at, general) as Field;
    }
    return a;
  }

  /** The value of the position green at a merge point (see `region`); -1 where it is not a
   *  compile-time integer (a general key). */
  protected positionValue(f: Frame, vars: Operand[]): number {
    const a = this.argument(f, vars[this.positionGreen]!);
    return a.k === "c" && typeof a.v === "number" ? a.v : -1;
  }

  /** Whether a path of a tier's specialisation ends at this merge point: its position is not
   *  warm, or it is hot (`entered`: the path goes on in the entry there, not in a copy of its
   *  loop). */
  protected leavesRegion(f: Frame, vars: Operand[], rg: Residual): boolean {
    const position = this.positionValue(f, vars);
    if (!this.region!(position)) return true;
    return position !== rg.entryPosition && (this.entered?.(position) ?? false);
  }

  /** The red leaves of a merge point's state, in canonical order: whatever the key does not
   *  fix (`shapeParts` holding the reds' shapes): the reds but for a virtual's items that are
   *  not holes, and for a general key the greens it does not fix (a pc computed at run time).
   *  (A general key forced the virtuals.) */
  protected leaves(vals: AVal[], n: number, general: boolean): AVal[] {
    const leaves: AVal[] = [];
    for (let i = 0, j = 0; i < vals.length; i++) {
      if (!this.leaf(i, n, general)) continue;
      if (i < n) leaves.push(vals[i]!);
      else {
        this.leavesOf(vals[i]!, j, leaves);
        j += segment(this.shapeParts, j);
      }
    }
    return leaves;
  }

  /** Appends the leaves of value `a`, whose shape is at `shapeParts[j]`, to `out`. */
  private leavesOf(a: AVal, j: number, out: AVal[]): void {
    const shape = this.shapeParts;
    const x = shape[j]!;
    if (isLeafPart(x)) out.push(a);
    if (!isHead(x)) return;
    for (let k = 0, c = shape[j + 1]!, at = j + 2; k < c; at += segment(shape, at), k++) {
      this.leavesOf(itemAt(a, k), at, out);
    }
  }

  /** A green merge-point argument as a part of keys (`keys.ts`): a plain slot of compiled code
   *  is read without making an abstract value, a virtual is frozen first. Arrays seen here are
   *  frozen. */
  protected known(f: Frame, o: Operand): number {
    if (typeof o !== "number")
      return o.k === "data"
        ? unreachable()
        : o.k === "null"
          ? NULL_PART
          : o.k === "obj"
            ? CONSTANT + o.v
            : part(o.v);
    let s = f.env[o];
    // (a green reference of compiled code is held as its abstract value, a constant)
    if (!f.code?.greens[o] || s === undefined || (typeof s === "object" && "k" in s)) {
      let a = this.slot(f, o);
      if (a.k === "v") a = this.freeze(a.obj);
      const constant = constantIndex(a);
      if (constant !== undefined) return CONSTANT + constant;
      if (isNull(a)) return NULL_PART;
      if (a.k !== "c" && a.k !== "a") return UNKNOWN;
      s = a.k === "c" ? a.v : a.arr;
    }
    if (typeof s !== "object") return part(s as number | boolean);
    this.frozen.add(s as Int32Array | Uint8Array);
    return ARRAY + this.arrayNumber(s as Int32Array | Uint8Array);
  }

  /** The position of the greens' parts (`greenParts[0..n)`: their position parts, see
   *  `policy.ts`). */
  protected position(n: number): number {
    const known = this.greenParts;
    const parts = this.positionParts;
    let m = 0;
    for (let i = 0; i < n; i++) if (this.isPosition[i]) parts[m++] = known[i]!;
    const id = this.positionIds.id(parts, m);
    if (3 * id === this.placeCounts.length) {
      for (let i = 0; i < n; i++) this.placeKnown.push(known[i]!);
      this.placeCounts.push(0, 0, 0);
    }
    return id;
  }

  /** The key of the greens' parts (`greenParts[0..n)`) and the reds' (`shapeParts[0..s)`,
   *  of the reds' values `vals`), then the homes of the virtualizables they keep virtual. */
  protected key(n: number, s: number, vals?: AVal[]): number {
    const parts = this.greenParts;
    for (let i = 0; i < s; i++) parts[n + i] = this.shapeParts[i]!;
    let end = n + s;
    if (this.homesMet && vals)
      for (let i = n, j = 0; i < vals.length; j += segment(this.shapeParts, j), i++)
        end = this.homesIn(vals[i]!, j, parts, end);
    return this.keyIds.id(parts, end);
  }

  /** Appends to `parts` from `end` the homes of the virtualizables' virtuals in `a`, whose
   *  shape is at `shapeParts[j]`; returns the new end. */
  private homesIn(a: AVal, j: number, parts: number[], end: number): number {
    const shape = this.shapeParts;
    if (!isHead(shape[j]!)) return end;
    // (its variable, and whether it changed: a clean one writes nothing back)
    if ((a.k === "o" || a.k === "l") && a.obj.home)
      parts[end++] = HOME + 2 * (a.obj.home.o as number) + (a.obj.homeDirty ? 1 : 0);
    for (let k = 0, c = shape[j + 1]!, at = j + 2; k < c; at += segment(shape, at), k++)
      end = this.homesIn(itemAt(a, k), at, parts, end);
    return end;
  }

  /** The reds' shapes of a pattern (see `Residual.patterns`) at a merge point of `n` greens. */
  protected pattern(x: number, n: number): number[] {
    return x >= 0 ? this.keyIds.parts(x).slice(n) : this.partIds.parts(-1 - x);
  }

  /** The general key of `position` (every green but its position parts red). */
  protected generalKey(position: number): number {
    return this.keyIds.id([GENERAL, position], 2);
  }

  /** Whether merge-point argument `i` is a leaf of the state (`greenParts` holding the greens'
   *  parts): every red, and the greens a general key does not fix. */
  protected leaf(i: number, n: number, general: boolean): boolean {
    return i >= n || (general && (!this.isPosition[i] || this.greenParts[i] === UNKNOWN));
  }

  protected positionName(position: number): string {
    const n = this.isPosition.length;
    const known = this.placeKnown.slice(n * position, n * (position + 1));
    return positionKey(known.map(partName), this.isPosition);
  }

  /** Per merge-point position, by name: paths that reached it, keys made there, keys found
   *  made (statistics). */
  get positions(): Map<string, PlaceCounts> {
    const c = this.placeCounts;
    return new Map(
      Array.from({ length: c.length / 3 }, (_, i) => [
        this.positionName(i),
        { entries: c[3 * i]!, keys: c[3 * i + 1]!, hits: c[3 * i + 2]! },
      ]),
    );
  }

  /** Whether key `k` is made in the path's graph. */
  protected made(p: Path, k: number): boolean {
    return p.rg.keys.has(k);
  }

  /** A new variable for leaf `a` (whose shape is `x`), to be a parameter of a merge block; a
   *  red's known array length stays unless the key is generalised, its known class where the
   *  key keeps it. */
  protected param(p: Path, a: AVal, general: boolean, x: number): Scalar {
    const type =
      a.k === "r"
        ? a.type
        : a.k === "c"
          ? typeof a.v === "boolean"
            ? "bool"
            : "i32"
          : a.k === "a"
            ? a.type
            : a.k === "o"
              ? "ref"
              : a.obj.type;
    const r = red(p.rg.b.newVar(type), type, !general && a.k === "r" ? a.len : undefined);
    if (x >= CLASSED && !general && a.k === "r" && a.cls !== undefined)
      return { k: "r", o: (r as { o: number }).o, type, cls: a.cls };
    return r;
  }
}

/** A green constant as a part of keys (`keys.ts`). */
function part(v: number | boolean): number {
  return v === true ? TRUE : v === false ? FALSE : v;
}

/** A part of a key as its name writes it: arrays by their numbers, UNKNOWN as "?". */
function partName(x: number): number | boolean | string {
  if (x === UNKNOWN) return "?";
  if (x === TRUE || x === FALSE) return x === TRUE;
  if (x >= CONSTANT) return `$o${x - CONSTANT}`;
  return x >= ARRAY ? `@${x - ARRAY}` : x;
}
