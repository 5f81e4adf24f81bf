//! A small assembler with symbolic labels. The TLR and TL generators lower statement trees
//! through it, so that a loop's back edge, a skipped conditional or a call lands where the
//! tree says (and, in a faulty program, wherever a raw operand sends it).

type Fixup = { label: number; kind: "abs" | "rel" | "stk" };

export class Asm {
  private items: (number | Fixup)[] = [];
  private labels: number[] = [];

  emit(...bytes: number[]): void {
    for (const b of bytes) this.items.push(b & 255);
  }
  label(): number {
    return this.labels.push(-1) - 1;
  }
  place(l: number): void {
    this.labels[l] = this.items.length;
  }
  /** An operand naming label `l`: its address ("abs", TLR), its offset from the byte after
   *  the operand ("rel", TL BR_COND and CALL), or from the byte after the BR_COND_STK that
   *  follows this PUSH operand ("stk"). Offsets that do not fit a byte wrap. */
  ref(l: number, kind: Fixup["kind"]): void {
    this.items.push({ label: l, kind });
  }
  done(): Uint8Array {
    return Uint8Array.from(this.items, (it, at) => {
      if (typeof it === "number") return it;
      const addr = this.labels[it.label]!;
      return (
        (it.kind === "abs" ? addr : it.kind === "rel" ? addr - (at + 1) : addr - (at + 2)) & 255
      );
    });
  }
}

/** A byte as a signed operand. */
export const signed = (n: number) => ((n & 255) << 24) >> 24;
