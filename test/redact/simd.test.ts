// The SIMD byte prefilter (lib/redact/simd.ts) and the byte path of the scanner built on it
// (scanBytes in lib/redact/scanner.ts). The search may flag near misses but must never miss a
// fingerprint; every spelling of every built-in gate must hold a fingerprint; and the byte path
// must find exactly what the string path (scanRegion, no SIMD) finds, on any text.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { BUILTIN_RULES } from "../../lib/redact/rules.ts";
import { builtinRuleSet, compileRules, latin1, scanBytes, scanRegion } from "../../lib/redact/scanner.ts";
import { addToBuckets, anyCaseLiteral, literal, SimdPrefilter, WINDOW, type Fingerprint } from "../../lib/redact/simd.ts";
import { concat } from "../../lib/bytes.ts";
import { LineRedactor, redactText } from "../../lib/redact/stream.ts";
import { PEM_BODY, SECRET_LINES } from "./corpus/secrets.ts";

const BENIGN_LINES = readFileSync(`${import.meta.dir}/corpus/benign.txt`, "utf8").split("\n");
const enc = (s: string) => new TextEncoder().encode(s);
const bytesOf = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** Every exact fingerprint position the search reports (near misses left out), in order. */
function hits(pf: SimdPrefilter, bytes: Uint8Array, a = 0, b = bytes.length): number[] {
  const next = pf.search(bytes, a, b);
  const out: number[] = [];
  for (let c = next(a); c >= 0; c = next(c + 1)) if (pf.matchesAt(bytes, c, b)) out.push(c);
  return out;
}

/** Every position where some fingerprint matches exactly, by brute force. */
function bruteHits(fps: readonly Fingerprint[], bytes: Uint8Array, a = 0, b = bytes.length): number[] {
  const out: number[] = [];
  for (let i = a; i < b; i++) {
    if (fps.some((fp) => i + fp.length <= b && fp.every((allowed, k) => allowed.includes(String.fromCharCode(bytes[i + k]!))))) out.push(i);
  }
  return out;
}

const simdSet = builtinRuleSet();
const stringSet = compileRules(BUILTIN_RULES, { simd: false });

describe("the SIMD search", () => {
  test("is available here (Bun's WebAssembly has SIMD), so the byte path is what runs", () => {
    expect(simdSet.bytes).toBeInstanceOf(SimdPrefilter);
    expect(stringSet.bytes).toBeUndefined();
  });

  test("finds every fingerprint position of random fingerprint sets in random bytes (any number of buckets)", () => {
    const byte = fc.integer({ min: 0, max: 255 }).map((b) => String.fromCharCode(b));
    const allowed = fc.array(byte, { minLength: 1, maxLength: 3 }).map((cs) => cs.join(""));
    const fingerprint = fc.array(allowed, { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(fc.array(fingerprint, { minLength: 1, maxLength: 14 }), fc.uint8Array({ maxLength: 300 }), fc.nat(), (fps, noise, seed) => {
        // plant each fingerprint's first spelling somewhere in the noise
        const bytes = Uint8Array.from(noise);
        fps.forEach((fp, i) => {
          const at = (seed + i * 37) % Math.max(1, bytes.length - 3);
          if (at + fp.length <= bytes.length) fp.forEach((a, k) => (bytes[at + k] = a.charCodeAt(0)));
        });
        const pf = SimdPrefilter.create(addToBuckets([], fps))!;
        expect(hits(pf, bytes)).toEqual(bruteHits(fps, bytes));
      }),
      { numRuns: 300 },
    );
  });

  test("finds a fingerprint at every offset within a vector, across window edges and at the very end", () => {
    // one fingerprint per search: in a bucket with a 1-byte fingerprint, any byte passes at offsets 1 and 2
    const searches: [string, SimdPrefilter][] = [
      ["AKI", SimdPrefilter.create([[literal("AKI")]])!],
      ["ToK", SimdPrefilter.create([[anyCaseLiteral("tok")]])!],
      ["@", SimdPrefilter.create([[literal("@")]])!],
    ];
    for (const at of [0, 1, 15, 16, 17, 31, WINDOW - 3, WINDOW - 2, WINDOW - 1, WINDOW, WINDOW + 1, 2 * WINDOW - 1, 2 * WINDOW + 5]) {
      for (const [word, pf] of searches) {
        const bytes = new Uint8Array(at + word.length).fill(0x2e);
        bytes.set(bytesOf(word), at);
        expect({ at, word, found: hits(pf, bytes) }).toEqual({ at, word, found: [at] });
        // within a sub-range of a larger buffer too
        const wide = new Uint8Array(bytes.length + 40).fill(0x2e);
        wide.set(bytes, 20);
        expect(hits(pf, wide, 20, 20 + bytes.length)).toEqual([20 + at]);
      }
    }
  });

  test("a fingerprint cut by the end of the range is not reported, and bytes past the range are never read as a match", () => {
    const pf = SimdPrefilter.create([[literal("AKI")]])!;
    const bytes = bytesOf("....AKI....");
    expect(hits(pf, bytes, 0, 6)).toEqual([]);
    expect(hits(pf, bytes, 0, 7)).toEqual([4]);
    expect(hits(pf, bytes, 5, 11)).toEqual([]);
  });

  test("two searches interleaved each see their own bytes", () => {
    const pf = SimdPrefilter.create([[literal("AKI")]])!;
    const big = new Uint8Array(3 * WINDOW).fill(0x2e);
    for (const at of [10, WINDOW + 10, 2 * WINDOW + 10]) big.set(bytesOf("AKI"), at);
    const small = bytesOf("..AKI..AKI");
    const a = pf.search(big, 0, big.length);
    const b = pf.search(small, 0, small.length);
    expect(a(0)).toBe(10);
    expect(b(0)).toBe(2);
    expect(a(11)).toBe(WINDOW + 10);
    expect(b(3)).toBe(7);
    expect(a(WINDOW + 11)).toBe(2 * WINDOW + 10);
    expect([a(2 * WINDOW + 11), b(8)]).toEqual([-1, -1]);
  });

  test("refuses fingerprints it cannot search for", () => {
    expect(() => SimdPrefilter.create([])).toThrow("fingerprints of 1 to 3 bytes");
    expect(() => SimdPrefilter.create([[[]]])).toThrow("fingerprints of 1 to 3 bytes");
    expect(() => SimdPrefilter.create([[literal("ab"), ["a", "b", "c", "d"]]])).toThrow("fingerprints of 1 to 3 bytes");
    expect(() => SimdPrefilter.create([[["€"]]])).toThrow("is not one byte");
    expect(() => SimdPrefilter.create(Array.from({ length: 9 }, () => [literal("a")]))).toThrow("at most 8");
  });
});

/**
 * Every spelling of every built-in gate (lib/redact/scanner.ts BUILTIN_GATES); `true` marks a
 * gate matched in any letter case. The gate regex must hit each (so this list is complete for
 * what the gates catch), and the SIMD search must flag each in any case the gate accepts.
 */
const GATE_SPELLINGS: [string, boolean][] = [
  ...["AKIA", "ASIA", "ABIA", "ACCA", "A3T", "AIza"].map((s) => [s, false] as [string, boolean]),
  ...["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"].map((s) => [s, false] as [string, boolean]),
  ...["pat", "ptt", "dt", "rt", "cbt", "ft", "imt", "agent", "oas", "soat"].map((s) => [`gl${s}-`, false] as [string, boolean]),
  ...["xoxa-", "xoxb-", "xoxz-", "xapp-", "_live_", "sk-", "npm_", "eyJ", "-----BEGIN", "@", "hooks.slack"].map((s) => [s, false] as [string, boolean]),
  ...["token", "secret", "passw", "passphrase", "bearer", "authoriz", "_key", "apikey", "api-key"].map((s) => [s, true] as [string, boolean]),
];

describe("the built-in gates' fingerprints", () => {
  const gate = simdSet.prefilter;
  const anyCase = fc.array(fc.boolean(), { minLength: 12, maxLength: 12 });

  test("every spelling is a gate hit and a SIMD hit, in every letter case the gate accepts, at any offset", () => {
    fc.assert(
      fc.property(fc.constantFrom(...GATE_SPELLINGS), anyCase, fc.nat({ max: 40 }), ([word, ci], upper, pad) => {
        const spelled = ci ? [...word].map((c, i) => (upper[i % 12] ? c.toUpperCase() : c.toLowerCase())).join("") : word;
        const line = `${"x".repeat(pad)} ${spelled} `;
        gate.lastIndex = 0;
        expect(gate.test(line)).toBe(true);
        expect(hits(simdSet.bytes!, bytesOf(line)).length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });

  test("every secret in the corpus and every rule's keyword line is flagged", () => {
    for (const s of SECRET_LINES) expect({ line: s.line, hits: hits(simdSet.bytes!, enc(s.line)).length > 0 }).toEqual({ line: s.line, hits: true });
    for (const rule of BUILTIN_RULES) for (const k of rule.keywords) expect({ k, hit: hits(simdSet.bytes!, bytesOf(`..${k}..`)).length > 0 || !gateHits(`..${k}..`) }).toEqual({ k, hit: true });
  });

  test("a site rule's keyword joins the search", () => {
    const site = { id: "acme-token", keywords: ["acme_"], find: () => {} };
    const set = compileRules([...BUILTIN_RULES, site]);
    expect(hits(set.bytes!, bytesOf("id ACME_x1"))).toEqual([3]);
    expect(hits(simdSet.bytes!, bytesOf("id ACME_x1"))).toEqual([]);
  });

  test("a site rule without a keyword runs on every line: no SIMD search", () => {
    expect(compileRules([...BUILTIN_RULES, { id: "every-line", keywords: [], find: () => {} }]).bytes).toBeUndefined();
  });
});

function gateHits(line: string): boolean {
  simdSet.prefilter.lastIndex = 0;
  return simdSet.prefilter.test(line);
}

describe("the byte path and the string path agree", () => {
  const fragments = [
    ...SECRET_LINES.map((s) => s.line),
    ...BENIGN_LINES,
    ...GATE_SPELLINGS.map(([w]) => w),
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----END RSA PRIVATE KEY-----",
    ...PEM_BODY,
    "password=",
    "Token: ",
    "\n",
    "\n",
    " ",
    "é",
  ];
  const text = fc.array(fc.oneof(fc.constantFrom(...fragments), fc.string({ maxLength: 12 })), { maxLength: 60 }).map((parts) => parts.join(""));

  test("scanBytes finds what scanRegion finds, on any mix of secrets, near misses, PEM pieces and noise", () => {
    fc.assert(
      fc.property(text, fc.boolean(), (t, pemOpen) => {
        const bytes = enc(t);
        const pem = { open: pemOpen, swallowed: 0 };
        expect(scanBytes(simdSet, bytes, 0, bytes.length, pem)).toEqual(scanRegion(stringSet, latin1(bytes, 0, bytes.length), pem));
      }),
      { numRuns: 1500 },
    );
  });

  test("long regions (many SIMD windows) redact the same both ways", () => {
    const big = [...BENIGN_LINES, ...SECRET_LINES.map((s) => s.line)].join("\n").repeat(60) + "\n";
    expect(big.length).toBeGreaterThan(3 * WINDOW);
    const viaSimd = redactText(simdSet, big);
    expect(viaSimd).toEqual(redactText(stringSet, big));
    for (const s of SECRET_LINES) expect(viaSimd.text).not.toContain(s.secret);
  });

  test("reads of daemon size (64-256 KiB, cut anywhere) over text with secrets near window edges redact the same both ways", () => {
    // secrets placed so that some straddle the 64 KiB window edges of one read
    const lines: string[] = [];
    let length = 0;
    let k = 0;
    while (length < 5 * WINDOW) {
      const next = length % WINDOW > WINDOW - 300 ? SECRET_LINES[k++ % SECRET_LINES.length]!.line : BENIGN_LINES[k++ % BENIGN_LINES.length]!;
      lines.push(next);
      length += next.length + 1;
    }
    const input = enc(lines.join("\n") + "\n");
    const redact = (set: typeof simdSet, cuts: number[]) => {
      const r = new LineRedactor(set);
      const parts: Uint8Array[] = [];
      let at = 0;
      for (const c of [...cuts, input.length]) {
        parts.push(...r.push(input.subarray(at, Math.max(at, c))));
        at = Math.max(at, c);
      }
      parts.push(...r.flush());
      return { out: new TextDecoder().decode(concat(...parts)), counts: r.counts };
    };
    const reference = redact(stringSet, []);
    for (const s of SECRET_LINES) expect(reference.out).not.toContain(s.secret);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 16 * 1024, max: 256 * 1024 }), { minLength: 1, maxLength: 8 }), (sizes) => {
        const cuts: number[] = [];
        let at = 0;
        for (const n of sizes) cuts.push((at += n));
        expect(redact(simdSet, cuts)).toEqual(reference);
      }),
      { numRuns: 25 },
    );
  });
});
