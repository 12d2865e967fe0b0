// Fingerprint and verification code (SPEC.md §8.2): pinned to the vectors, covering both keys,
// 128 bits in 26 Crockford characters, read forgivingly (case, blanks, hyphens, O/I/L) but
// compared in full; garbage is a usage error that shows no expected value.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import vectors from "../vectors/fingerprint.json";
import {
  codeMatches,
  fingerprint,
  fingerprintMatches,
  identityDigest,
  normalizeCode,
  parseVerification,
  verificationCode,
  verificationMatches,
} from "../../lib/crypto/fingerprint.ts";
import { OpenScopeError } from "../../lib/errors.ts";

const hex = (s: string) => new Uint8Array(Buffer.from(s, "hex"));

describe("fingerprint and verification code", () => {
  test("the SPEC.md vectors", () => {
    for (const v of vectors.vectors) {
      const [n, s] = [hex(v.noisePublicKey), hex(v.signPublicKey)];
      expect(Buffer.from(identityDigest(n, s)).toString("hex")).toBe(v.digest);
      expect(fingerprint(n, s)).toBe(v.fingerprint);
      expect(verificationCode(n, s)).toBe(v.code);
    }
  });

  test("shape: SHA256: + 43 base64 characters; 26 Crockford characters in groups of five", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (n, s) => {
        expect(fingerprint(n, s)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
        const code = verificationCode(n, s);
        expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){4}-[0-9A-HJKMNP-TV-Z]$/);
        expect(normalizeCode(code)).toBe(code.replaceAll("-", ""));
      }),
      { numRuns: 100 },
    );
  });

  test("both keys count: changing either changes fingerprint and code", () => {
    const n = crypto.getRandomValues(new Uint8Array(32));
    const s = crypto.getRandomValues(new Uint8Array(32));
    const n2 = n.slice();
    n2[0]! ^= 1;
    const s2 = s.slice();
    s2[31]! ^= 0x80;
    for (const [a, b] of [[n2, s], [n, s2], [s, n]] as const) {
      expect(fingerprint(a, b)).not.toBe(fingerprint(n, s));
      expect(verificationCode(a, b)).not.toBe(verificationCode(n, s));
      expect(codeMatches(a, b, verificationCode(n, s))).toBe(false);
    }
  });

  test("a code is read case-insensitively, separators ignored, look-alikes mapped", () => {
    const v = vectors.vectors[0]!;
    const [n, s] = [hex(v.noisePublicKey), hex(v.signPublicKey)];
    for (const typed of [v.code, v.code.toLowerCase(), v.code.replaceAll("-", " "), v.code.replaceAll("-", ""), ` ${v.code}\n`, v.code.replace("0", "o").replace("1", "l")])
      expect(codeMatches(n, s, typed)).toBe(true);
  });

  test("compared in full: a prefix, one changed character or a spare character fails", () => {
    const v = vectors.vectors[0]!;
    const [n, s] = [hex(v.noisePublicKey), hex(v.signPublicKey)];
    const bare = v.code.replaceAll("-", "");
    expect(codeMatches(n, s, bare.slice(0, 25))).toBe(false);
    expect(codeMatches(n, s, bare.slice(0, 20))).toBe(false);
    expect(codeMatches(n, s, `${bare}0`)).toBe(false);
    for (let i = 0; i < bare.length - 1; i++) {
      const c = bare[i] === "A" ? "B" : "A";
      expect(codeMatches(n, s, bare.slice(0, i) + c + bare.slice(i + 1))).toBe(false);
    }
    // The last character carries 3 bits: a last character with low bits set is not a code at all.
    expect(normalizeCode(bare.slice(0, 25) + "D")).toBeUndefined();
  });

  test("fingerprint matching is exact apart from surrounding blanks", () => {
    const v = vectors.vectors[0]!;
    const [n, s] = [hex(v.noisePublicKey), hex(v.signPublicKey)];
    expect(fingerprintMatches(n, s, ` ${v.fingerprint}\n`)).toBe(true);
    expect(fingerprintMatches(n, s, v.fingerprint.toLowerCase())).toBe(false);
    expect(fingerprintMatches(n, s, vectors.vectors[1]!.fingerprint)).toBe(false);
  });

  test("--verify / --fingerprint: either form is accepted; garbage is a usage error naming no value", () => {
    const v = vectors.vectors[0]!;
    const [n, s] = [hex(v.noisePublicKey), hex(v.signPublicKey)];
    expect(verificationMatches(n, s, parseVerification(v.code, "--verify"))).toBe(true);
    expect(verificationMatches(n, s, parseVerification(v.fingerprint, "--verify"))).toBe(true);
    expect(verificationMatches(n, s, parseVerification(vectors.vectors[1]!.code, "--fingerprint"))).toBe(false);
    for (const bad of ["", "yes", "SHA256:abc", "SQCP7-2AXBW", "UUUUU-UUUUU-UUUUU-UUUUU-UUUUU-U"]) {
      let err: unknown;
      try {
        parseVerification(bad, "--verify");
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OpenScopeError);
      const e = err as OpenScopeError;
      expect(e.kind).toBe("usage");
      expect(e.message).toBe("--verify: not a verification code or fingerprint");
      expect([e.message, ...e.hints].join(" ")).not.toContain(v.code);
    }
  });

  test("refuses keys of the wrong length", () => {
    expect(() => fingerprint(new Uint8Array(31), new Uint8Array(32))).toThrow("a Noise public key is 32 bytes");
    expect(() => verificationCode(new Uint8Array(32), new Uint8Array(33))).toThrow("a signing public key is 32 bytes");
  });
});

describe("fingerprintMatches compares in full (mutation testing, issue 22)", () => {
  test("a prefix, a suffix or the bare hash does not match", () => {
    const key = new Uint8Array(32).map((_, i) => 3 * i);
    const sign = new Uint8Array(32).map((_, i) => 5 * i);
    const fp = fingerprint(key, sign);
    for (const partial of [fp.slice(0, 20), fp.slice(0, -1), fp.slice(7), "SHA256:", "", fp + "A"]) expect(fingerprintMatches(key, sign, partial)).toBe(false);
    expect(fingerprintMatches(key, sign, fp)).toBe(true);
  });
});
