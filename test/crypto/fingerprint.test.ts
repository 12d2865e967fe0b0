// Fingerprint: stable, OpenSSH-like, matches exactly what `openscope fingerprint` prints.
import { describe, expect, test } from "bun:test";
import { sha256 } from "@noble/hashes/sha2.js";
import { fingerprint, fingerprintMatches } from "../../lib/crypto/fingerprint.ts";

describe("fingerprint", () => {
  test("known answer: SHA256 of the raw key, base64 without padding", () => {
    const key = new Uint8Array(32).map((_, i) => i);
    const expected = `SHA256:${Buffer.from(sha256(key)).toString("base64").replace(/=+$/, "")}`;
    expect(fingerprint(key)).toBe(expected);
    expect(fingerprint(key)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(fingerprint(new Uint8Array(32))).toBe("SHA256:Zmh6rfhivXdsj8GLjp+OIAiXFIVu4jOzkCpZHQ1fKSU");
  });

  test("different keys, different fingerprints; matching ignores only surrounding blanks", () => {
    const a = crypto.getRandomValues(new Uint8Array(32));
    const b = a.slice();
    b[31]! ^= 1;
    expect(fingerprint(a)).not.toBe(fingerprint(b));
    expect(fingerprintMatches(a, ` ${fingerprint(a)}\n`)).toBe(true);
    expect(fingerprintMatches(a, fingerprint(b))).toBe(false);
    expect(fingerprintMatches(a, fingerprint(a).toLowerCase())).toBe(false);
  });

  test("refuses a key of the wrong length", () => {
    expect(() => fingerprint(new Uint8Array(31))).toThrow("fingerprint: a public key is 32 bytes");
  });
});

describe("fingerprintMatches compares in full (mutation testing, issue 22)", () => {
  test("a prefix, a suffix or the bare hash does not match", () => {
    const key = new Uint8Array(32).map((_, i) => 3 * i);
    const fp = fingerprint(key);
    for (const partial of [fp.slice(0, 20), fp.slice(0, -1), fp.slice(7), "SHA256:", "", fp + "A"]) expect(fingerprintMatches(key, partial)).toBe(false);
    expect(fingerprintMatches(key, fp)).toBe(true);
  });
});
