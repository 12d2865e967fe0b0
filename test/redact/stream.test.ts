// The streaming line redactor (lib/redact/stream.ts): the secret corpus comes out as markers and
// the benign corpus byte for byte, however the output is chunked; a secret or a PEM block split
// across chunks is still found whole; an over-long line is cut without a secret leaking across
// the cut; an unterminated last line is redacted at flush; bytes that are not UTF-8 pass exactly.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { concat } from "../../lib/bytes.ts";
import { builtinRuleSet, PRIVATE_KEY_RULE } from "../../lib/redact/scanner.ts";
import { CUT_LOOKAHEAD, LineRedactor, MAX_LINE_BYTES, redactText } from "../../lib/redact/stream.ts";
import { AWS_ID, JWT, pemBlock, SECRET_LINES } from "./corpus/secrets.ts";

const set = builtinRuleSet();
const enc = (s: string) => new TextEncoder().encode(s);
const BENIGN = readFileSync(`${import.meta.dir}/corpus/benign.txt`);

/** Feeds `input` cut at `cuts` (byte offsets) and returns everything that came out, and the counts. */
function streamed(input: Uint8Array, cuts: number[]): { out: Uint8Array; counts: Record<string, number> } {
  const r = new LineRedactor(set);
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const c of [...cuts.filter((c) => c > 0 && c < input.length)].sort((a, b) => a - b)) {
    parts.push(...r.push(input.subarray(at, c)));
    at = c;
  }
  parts.push(...r.push(input.subarray(at)), ...r.flush());
  return { out: concat(...parts), counts: r.counts };
}
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("corpora", () => {
  test("the benign corpus passes byte for byte, whole and line by line", () => {
    expect(streamed(BENIGN, [])).toEqual({ out: new Uint8Array(BENIGN), counts: {} });
    for (const line of BENIGN.toString().split("\n")) expect(redactText(set, line)).toEqual({ text: line, counts: {} });
    expect(streamed(BENIGN, []).counts).toEqual({});
  });
  test("every secret line loses its secret and counts its rule", () => {
    for (const s of SECRET_LINES) {
      const r = redactText(set, `${s.line}\n`);
      expect(r.text).toContain(`[REDACTED:${s.rule}]`);
      expect(r.text).not.toContain(s.secret);
      expect(r.counts).toEqual({ [s.rule]: 1 });
    }
  });
  test("any chunking of secrets mixed into benign lines gives the same output as one chunk", () => {
    const mixed = enc(BENIGN.toString() + SECRET_LINES.map((s) => s.line).join("\n") + "\n" + pemBlock() + BENIGN.toString());
    const whole = streamed(mixed, []);
    for (const s of SECRET_LINES) expect(text(whole.out)).not.toContain(s.secret);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: mixed.length - 1 }), { maxLength: 40 }), (cuts) => {
        expect(streamed(mixed, cuts)).toEqual(whole);
      }),
      { numRuns: 200 },
    );
  });
});

describe("streaming", () => {
  test("a secret split across two chunks is redacted, and nothing of it is emitted early", () => {
    const r = new LineRedactor(set);
    const line = enc(`key AWS_ACCESS_KEY_ID=${AWS_ID} done\n`);
    const half = line.indexOf(0x49 /* I in AKIAI… */, 20);
    const first = concat(...r.push(line.subarray(0, half)));
    expect(first.length).toBe(0); // held: the line has not ended
    const rest = concat(...r.push(line.subarray(half)));
    expect(text(rest)).toBe("key AWS_ACCESS_KEY_ID=[REDACTED:aws-access-key-id] done\n");
  });
  test("a PEM block fed one byte at a time is one marker", () => {
    const input = enc(`start\n${pemBlock("OPENSSH PRIVATE KEY")}end\n`);
    const cuts = Array.from({ length: input.length }, (_, i) => i);
    expect(streamed(input, cuts)).toEqual({ out: enc(`start\n[REDACTED:${PRIVATE_KEY_RULE}]\nend\n`), counts: { [PRIVATE_KEY_RULE]: 1 } });
  });
  test("complete lines go out at once; only the unterminated tail is held", () => {
    const r = new LineRedactor(set);
    expect(text(concat(...r.push(enc("one\ntwo\nthr"))))).toBe("one\ntwo\n");
    expect(r.heldBytes).toBe(3);
    expect(text(concat(...r.flush()))).toBe("thr");
  });
  test("an unterminated last line is redacted at flush", () => {
    const r = new LineRedactor(set);
    expect(r.push(enc(`token=${JWT}`))).toEqual([]);
    expect(text(concat(...r.flush()))).toBe("token=[REDACTED:jwt]");
  });
  test("bytes that are not UTF-8 pass unchanged, and a secret next to them is still found", () => {
    const junk = new Uint8Array([0x80, 0x81, 0x9d, 0xff, 0xfe, 0x00, 0xc3, 0x28, 0x0a]);
    expect(streamed(junk, [3])).toEqual({ out: junk, counts: {} });
    const mixed = concat(new Uint8Array([0xff, 0x20]), enc(`AWS=${AWS_ID}`), new Uint8Array([0x20, 0x9d, 0x0a]));
    expect(streamed(mixed, [5]).out).toEqual(concat(new Uint8Array([0xff, 0x20]), enc("AWS=[REDACTED:aws-access-key-id]"), new Uint8Array([0x20, 0x9d, 0x0a])));
  });
});

describe("lines over the bound", () => {
  test("a long line is cut and passes whole when it holds no secret; memory stays bounded", () => {
    const line = enc(`${"word ".repeat(100_000)}\n`);
    const r = new LineRedactor(set);
    const parts: Uint8Array[] = [];
    for (let i = 0; i < line.length; i += 4096) {
      parts.push(...r.push(line.subarray(i, i + 4096)));
      expect(r.heldBytes).toBeLessThanOrEqual(MAX_LINE_BYTES);
    }
    parts.push(...r.flush());
    expect(concat(...parts)).toEqual(line);
  });
  test("secrets placed at every offset around the cut never leak", () => {
    // The cut falls in the last CUT_LOOKAHEAD bytes' half-window; sweep a secret across that zone.
    for (const filler of [" ", "x", ","]) {
      for (let offset = MAX_LINE_BYTES - 9000; offset < MAX_LINE_BYTES + 200; offset += 97) {
        const secret = `Authorization: Bearer ${JWT}`;
        const input = enc(`${filler.repeat(offset)}${secret}${filler.repeat(70_000)}\n`);
        const { out, counts } = streamed(input, [MAX_LINE_BYTES + 10, MAX_LINE_BYTES * 2]);
        const got = text(out);
        const leaked = [JWT.split(".")[1]!, JWT.split(".")[2]!].filter((part) => got.includes(part));
        expect({ filler, offset, leaked }).toEqual({ filler, offset, leaked: [] });
        expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
      }
    }
  });
  test("a value that runs past the cut is removed to its end", () => {
    const input = enc(`${"a ".repeat(30_000)}password=${"Z".repeat(80_000)} tail\n`);
    const { out, counts } = streamed(input, [1000, 70_000, 140_000]);
    expect(text(out) === `${"a ".repeat(30_000)}password=[REDACTED:password-assignment] tail\n`).toBe(true);
    expect(counts).toEqual({ "password-assignment": 1 });
  });
});

describe("a secret with no delimiter before the cut (mutation testing, issue 22)", () => {
  // With no delimiter in the search zone the cut falls at a fixed offset; a secret lying across it
  // (here a bare JWT between dots, which are not delimiters) must move the cut to its end.
  test("a bare JWT across the fixed cut offset never leaks", () => {
    for (let start = MAX_LINE_BYTES - CUT_LOOKAHEAD - 60; start <= MAX_LINE_BYTES - CUT_LOOKAHEAD + 10; start += 7) {
      const input = enc(`${".".repeat(start)}${JWT}${".".repeat(70_000)}\n`);
      const { out, counts } = streamed(input, [MAX_LINE_BYTES + 10, MAX_LINE_BYTES * 2]);
      const got = text(out);
      const leaked = JWT.split(".").filter((part) => part.length > 8 && got.includes(part));
      expect({ start, leaked }).toEqual({ start, leaked: [] });
      expect({ start, counts }).toEqual({ start, counts: { jwt: 1 } });
      expect(got === `${".".repeat(start)}[REDACTED:jwt]${".".repeat(70_000)}\n`).toBe(true);
    }
  });
});
