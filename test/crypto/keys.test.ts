// Public key text form and strict base64url.
import { describe, expect, test } from "bun:test";
import { decodePublicKey, encodePublicKey, generateX25519, x25519Public } from "../../lib/crypto/keys.ts";
import { fromBase64url, toBase64url } from "../../lib/bytes.ts";

describe("keys", () => {
  test("generate, derive, encode, decode", () => {
    const k = generateX25519();
    expect(x25519Public(k.privateKey)).toEqual(k.publicKey);
    const text = encodePublicKey(k.publicKey);
    expect(text).toMatch(/^osk1[A-Za-z0-9_-]{48}$/);
    expect(decodePublicKey(` ${text}\n`)).toEqual(k.publicKey);
  });

  test("every single-character change and truncation is refused with the usage error", () => {
    const text = encodePublicKey(generateX25519().publicKey);
    for (let i = 0; i < text.length; i++) {
      const c = text[i] === "A" ? "B" : "A";
      expect(() => decodePublicKey(text.slice(0, i) + c + text.slice(i + 1))).toThrow("is not a valid OpenScope public key");
      expect(() => decodePublicKey(text.slice(0, i))).toThrow("is not a valid OpenScope public key");
    }
  });

  test("strict base64url", () => {
    const b = crypto.getRandomValues(new Uint8Array(31));
    expect(fromBase64url(toBase64url(b))).toEqual(b);
    for (const bad of ["ab=", "a+b", "a/b", "a", "AB"]) expect(() => fromBase64url(bad)).toThrow("base64url");
  });
});
