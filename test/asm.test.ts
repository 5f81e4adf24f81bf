// Unit tests of the shared assembler, through the TLR and TL descriptors.

import { execSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { LoadError, langs } from "../generator/language.ts";

const root = new URL("../", import.meta.url).pathname;

const tlr = (src: string): number[] => Array.from(langs.tlr.load(src, "a.tlr"));
const tl = (src: string): number[] => Array.from(langs.tl.load(src, "a.tl"));

/** The message of the LoadError `f` throws (fails the test if it throws anything else). */
function loadError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(LoadError);
    return (e as LoadError).message;
  }
  throw new Error("expected a LoadError, but nothing was thrown");
}

describe("instruction sets, written once", () => {
  for (const name of ["tlr", "tl"] as const)
    it(`${name}: the assembler's opcodes are the interpreter's exported constants`, async () => {
      const lang = langs[name]!;
      const exports = (await import(lang.source)) as Record<string, unknown>;
      const constants = Object.entries(exports).filter(
        ([k, v]) => /^[A-Z_]+$/.test(k) && typeof v === "number",
      );
      expect(Object.keys(lang.isa!.opcodes).sort()).toEqual(constants.map(([k]) => k).sort());
      for (const [mnemonic, op] of constants) {
        const operand = lang.isa!.opcodes[mnemonic]![1];
        expect(Array.from(lang.load(operand ? `${mnemonic} 5` : mnemonic, "t"))).toEqual(
          operand ? [op, 5] : [op],
        );
      }
    });

  it("no file but the interpreter pairs an opcode's number with its name", () => {
    // The forms a table or a translator would write: `NAME: [3`, `NAME = 3`, `3: ["NAME"`,
    // `case 3: // NAME`. (Program texts such as `PUSH 3` are not tables.)
    const files = execSync("git ls-files '*.ts'", { cwd: root, encoding: "utf8" })
      .split("\n")
      .filter((f) => f && !f.startsWith("generated/"));
    const texts = new Map(files.map((f) => [f, readFileSync(root + f, "utf8")]));
    // Each pair is written in one file: its interpreter's (TLC imports TL's, as PyPy's TLC
    // imports tlopcode).
    const found: string[] = [];
    const pairs = new Map<string, [string, number]>();
    for (const lang of Object.values(langs))
      for (const [name, [op]] of Object.entries(lang.isa?.opcodes ?? {}))
        pairs.set(`${name} ${op}`, [name, op]);
    for (const [name, op] of pairs.values()) {
      const pair = new RegExp(
        `\\b${name}["']?\\s*[:=]\\s*\\[?\\s*${op}\\b|\\b${op}\\s*:\\s*\\[?\\s*["']${name}["']|case ${op}:\\s*//\\s*${name}\\b`,
      );
      const files = [...texts].filter(([, text]) => pair.test(text)).map(([f]) => f);
      if (files.length > 1) found.push(`${name} = ${op} in ${files.join(", ")}`);
    }
    expect(found).toEqual([]);
  });
});

describe("syntax", () => {
  it("comments from #, ; and //, blank lines, any indentation", () => {
    const src = "  # header\n\nSET_A 1 # one\n\tNEG_A ; negate\n   RETURN_A// done\n//\n;\n#";
    expect(tlr(src)).toEqual([4, 1, 8, 6]);
  });

  it("mnemonics are case-insensitive", () => {
    expect(tl("push 1\nPush 2\nbr_cond_stk\nReturn")).toEqual([2, 1, 2, 2, 19, 21]);
    expect(tlr("set_a 3\nreturn_a")).toEqual([4, 3, 6]);
  });

  it("integer operands: decimal with sign, and hex", () => {
    expect(tl("PUSH -128\nPUSH +127\nPUSH 0x10\nPUSH -0x1")).toEqual([
      2, 128, 2, 127, 2, 16, 2, 255,
    ]);
    expect(tlr("SET_A 255\nSET_A 0xff\nSET_A 0")).toEqual([4, 255, 4, 255, 4, 0]);
  });

  it(".byte writes raw bytes, 0..255 or -128..-1, one or more per line", () => {
    expect(tl(".byte 0\n.byte 255\n.BYTE -1\n.byte -128 23 0x2")).toEqual([
      0, 255, 255, 128, 23, 2,
    ]);
    expect(tlr("SET_A 1\n.byte 99")).toEqual([4, 1, 99]);
  });

  it("labels alone on a line or before an instruction, also after .byte", () => {
    expect(tlr("a:\nb: SET_A 1\nJUMP_IF_A b\nc: .byte 7\nJUMP_IF_A c\nJUMP_IF_A a")).toEqual([
      4, 1, 3, 0, 7, 3, 4, 3, 0,
    ]);
    expect(tl("x: y: NOP\nBR_COND y\nBR_COND x")).toEqual([1, 18, -3 & 255, 18, -5 & 255]);
  });

  it("labels are case-sensitive", () => {
    expect(tl("Loop: NOP\nloop: NOP\nBR_COND Loop")).toEqual([1, 1, 18, -4 & 255]);
  });

  it("CRLF line endings", () => {
    expect(tl("PUSH 1\r\nPUSH 2\r\nADD\r\n")).toEqual([2, 1, 2, 2, 8]);
  });

  it("an empty text is an empty program", () => {
    expect(tl("")).toEqual([]);
    expect(tlr("# nothing\n")).toEqual([]);
  });
});

describe("label operands", () => {
  it("TLR: the label's absolute address, for any operand", () => {
    expect(tlr("SET_A 1\nloop: JUMP_IF_A loop\nJUMP_IF_A end\nSET_A end\nend: RETURN_A")).toEqual([
      4, 1, 3, 2, 3, 8, 4, 8, 6,
    ]);
  });

  it("TL: label - (operand position + 1), as PyPy's compile()", () => {
    // PyPy's test_compile_branch_backwards
    const backwards = `
    main:
        PUSH 0
        PUSH 1
        BR_COND somename
    label1:
        PUSH -1
        PUSH 3
        BR_COND end
    somename:   ;
        PUSH 2  //
        BR_COND label1//
    end:// comment
        //
    //
    //comment
    `;
    expect(tl(backwards)).toEqual(
      [2, 0, 2, 1, 18, 6, 2, -1, 2, 3, 18, 4, 2, 2, 18, -10].map((b) => b & 255),
    );
    // PyPy's test_compile_call_ret
    const calls = `PUSH 1
        CALL func1
        PUSH 3
        CALL func2
        RETURN

    func1:
        PUSH 2
        RETURN  # comment

    func2:
        PUSH 4   ;comment
        PUSH 5
        ADD
        RETURN`;
    expect(tl(calls)).toEqual([2, 1, 20, 5, 2, 3, 20, 4, 21, 2, 2, 21, 2, 4, 2, 5, 8, 21]);
  });

  it("TL: a label may be any operand; PUSH label suits BR_COND_STK plus a NOP", () => {
    expect(tl("PUSH l\nl: NOP")).toEqual([2, 0, 1]);
    expect(tl("l: PUSH l")).toEqual([2, -2 & 255]);
  });

  it("TL: offsets of exactly -128 and 127 fit", () => {
    const fwd = `BR_COND far\n.byte ${Array(127).fill(1).join(" ")}\nfar: NOP`;
    expect(tl(fwd)[1]).toBe(127);
    const back = `back: .byte ${Array(126).fill(1).join(" ")}\nBR_COND back`;
    expect(tl(back)[127]).toBe(128); // -128
  });
});

describe("errors, as file:line: message", () => {
  it("unknown mnemonic", () => {
    expect(loadError(() => langs.tl.load("PUSH 1\n\n  FOO 3", "p.tl"))).toBe(
      "p.tl:3: unknown mnemonic 'FOO'",
    );
    expect(loadError(() => langs.tlr.load("PUSH 1", "p.tlr"))).toBe(
      "p.tlr:1: unknown mnemonic 'PUSH'",
    );
    expect(loadError(() => langs.tl.load("RETURN_A", "p.tl"))).toBe(
      "p.tl:1: unknown mnemonic 'RETURN_A'",
    );
    expect(loadError(() => langs.tl.load("constructor", "p.tl"))).toBe(
      "p.tl:1: unknown mnemonic 'constructor'",
    );
    expect(loadError(() => langs.tl.load(".word 1", "p.tl"))).toBe(
      "p.tl:1: unknown mnemonic '.word'",
    );
  });

  it("missing operand", () => {
    expect(loadError(() => langs.tl.load("# c\nPUSH", "m.tl"))).toBe(
      "m.tl:2: missing operand for PUSH",
    );
    expect(loadError(() => langs.tlr.load("jump_if_a # x", "m.tlr"))).toBe(
      "m.tlr:1: missing operand for JUMP_IF_A",
    );
    expect(loadError(() => langs.tl.load(".byte", "m.tl"))).toBe(
      "m.tl:1: missing operand for .byte",
    );
  });

  it("extra operand", () => {
    expect(loadError(() => langs.tl.load("POP 1", "e.tl"))).toBe(
      "e.tl:1: extra operand '1' for POP",
    );
    expect(loadError(() => langs.tl.load("PUSH 1 2", "e.tl"))).toBe(
      "e.tl:1: extra operand '2' for PUSH",
    );
    expect(loadError(() => langs.tlr.load("RETURN_A a", "e.tlr"))).toBe(
      "e.tlr:1: extra operand 'a' for RETURN_A",
    );
  });

  it("operand out of byte range: unsigned for TLR, signed for TL", () => {
    expect(loadError(() => langs.tlr.load("SET_A 256", "r.tlr"))).toBe(
      "r.tlr:1: operand 256 out of range 0..255",
    );
    expect(loadError(() => langs.tlr.load("SET_A -1", "r.tlr"))).toBe(
      "r.tlr:1: operand -1 out of range 0..255",
    );
    expect(loadError(() => langs.tl.load("PUSH 128", "r.tl"))).toBe(
      "r.tl:1: operand 128 out of range -128..127",
    );
    expect(loadError(() => langs.tl.load("PUSH -129", "r.tl"))).toBe(
      "r.tl:1: operand -129 out of range -128..127",
    );
    expect(loadError(() => langs.tl.load("NOP\n.byte 1 256", "r.tl"))).toBe(
      "r.tl:2: operand 256 out of range -128..255",
    );
    expect(loadError(() => langs.tlr.load(".byte -129", "r.tlr"))).toBe(
      "r.tlr:1: operand -129 out of range -128..255",
    );
  });

  it("bad operand", () => {
    expect(loadError(() => langs.tl.load("PUSH 1x", "b.tl"))).toBe("b.tl:1: bad operand '1x'");
    expect(loadError(() => langs.tl.load("PUSH -x", "b.tl"))).toBe("b.tl:1: bad operand '-x'");
    expect(loadError(() => langs.tl.load(".byte x", "b.tl"))).toBe("b.tl:1: bad operand 'x'");
  });

  it("unknown label, reported where it is used", () => {
    expect(loadError(() => langs.tl.load("NOP\nBR_COND nowhere\nNOP", "u.tl"))).toBe(
      "u.tl:2: unknown label 'nowhere'",
    );
    expect(loadError(() => langs.tlr.load("loop:\nJUMP_IF_A Loop", "u.tlr"))).toBe(
      "u.tlr:2: unknown label 'Loop'",
    );
  });

  it("duplicate label, reported at its second definition", () => {
    expect(loadError(() => langs.tl.load("a: NOP\nNOP\na:\nNOP", "d.tl"))).toBe(
      "d.tl:3: duplicate label 'a' (first defined at line 1)",
    );
  });

  it("bad label name", () => {
    expect(loadError(() => langs.tl.load("NOP\n1a: NOP", "n.tl"))).toBe(
      "n.tl:2: bad label name '1a'",
    );
  });

  it("TL branch offset not fitting a signed byte", () => {
    const fwd = `NOP\nBR_COND far\n.byte ${Array(128).fill(1).join(" ")}\nfar: NOP`;
    expect(loadError(() => langs.tl.load(fwd, "o.tl"))).toBe(
      "o.tl:2: branch offset 128 to label 'far' does not fit a signed byte",
    );
    const back = `back: .byte ${Array(127).fill(1).join(" ")}\nCALL back`;
    expect(loadError(() => langs.tl.load(back, "o.tl"))).toBe(
      "o.tl:2: branch offset -129 to label 'back' does not fit a signed byte",
    );
  });

  it("TLR label address beyond a byte", () => {
    const at = (n: number): string =>
      `JUMP_IF_A end\n.byte ${Array(n).fill(1).join(" ")}\nend: RETURN_A`;
    expect(tlr(at(253))[1]).toBe(255);
    expect(loadError(() => langs.tlr.load(at(254), "o.tlr"))).toBe(
      "o.tlr:1: label 'end' at 256 does not fit a byte",
    );
  });
});
