// Sealed session secret: opened only by the right private key; any damage is the same denial.
import { describe, expect, test } from "bun:test";
import { createPrivateKey, createPublicKey, diffieHellman, hkdfSync } from "node:crypto";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { OpenScopeError } from "../../lib/errors.ts";
import { generateX25519 } from "../../lib/crypto/keys.ts";
import { openSealed, SEALED_OVERHEAD, sealToRecipient } from "../../lib/crypto/sealedbox.ts";

const recipient = generateX25519();
const psk = crypto.getRandomValues(new Uint8Array(32));

function denial(f: () => unknown): OpenScopeError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(OpenScopeError);
    return e as OpenScopeError;
  }
  throw new Error("expected a denial");
}

describe("sealed box", () => {
  test("the recipient's private key opens it", () => {
    const sealed = sealToRecipient(recipient.publicKey, psk);
    expect(sealed.length).toBe(32 + SEALED_OVERHEAD);
    expect(openSealed(recipient.privateKey, sealed)).toEqual(psk);
  });

  test("fresh each time: two seals of the same secret differ", () => {
    expect(sealToRecipient(recipient.publicKey, psk)).not.toEqual(sealToRecipient(recipient.publicKey, psk));
  });

  test("another key is denied, with the handle's message", () => {
    const sealed = sealToRecipient(recipient.publicKey, psk);
    const e = denial(() => openSealed(generateX25519().privateKey, sealed));
    expect(e.kind).toBe("denied");
    expect(e.message).toBe("this handle is sealed to another key");
  });

  test("every flipped bit, truncation or extension is denied the same way", () => {
    const sealed = sealToRecipient(recipient.publicKey, psk);
    for (let i = 0; i < sealed.length * 8; i += 3) {
      const bad = sealed.slice();
      bad[i >> 3]! ^= 1 << (i & 7);
      expect(denial(() => openSealed(recipient.privateKey, bad)).message).toBe("this handle is sealed to another key");
    }
    for (let n = 0; n < sealed.length; n += 5)
      expect(denial(() => openSealed(recipient.privateKey, sealed.subarray(0, n))).kind).toBe("denied");
    const longer = new Uint8Array(sealed.length + 1);
    longer.set(sealed);
    expect(denial(() => openSealed(recipient.privateKey, longer)).kind).toBe("denied");
  });

  test("deterministic with injected randomness; a low-order recipient key is refused", () => {
    const r = (n: number) => new Uint8Array(n).fill(5);
    expect(sealToRecipient(recipient.publicKey, psk, r)).toEqual(sealToRecipient(recipient.publicKey, psk, r));
    expect(denial(() => sealToRecipient(new Uint8Array(32), psk)).kind).toBe("usage");
  });
});

// A known-answer vector with fixed randomness and keys, checked against an independent derivation
// (node:crypto X25519 and HKDF, not the noble code the module uses): sealing and opening share one
// deriveKey, so a round trip cannot see a KDF that drops an input (mutation testing, issue 22).
// SPEC.md §9: key = HKDF-SHA256(ikm = X25519(e, R), salt = "", info = label ‖ E ‖ R, 32).
describe("sealed box: known answer", () => {
  const hex = (b: Uint8Array | Buffer) => Buffer.from(b).toString("hex");
  const recipientPrivate = new Uint8Array(32).map((_, i) => 0x40 + i);
  const ephemeralPrivate = new Uint8Array(32).map((_, i) => 0xa0 ^ i);
  const secret = new Uint8Array(32).map((_, i) => i);
  const fixedRandom = (n: number) => {
    expect(n).toBe(32);
    return ephemeralPrivate.slice();
  };
  // RFC 8410 DER wrappers around raw X25519 keys, for node:crypto
  const privateKey = (raw: Uint8Array) =>
    createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b656e04220420", "hex"), raw]), format: "der", type: "pkcs8" });
  const publicRaw = (raw: Uint8Array) => new Uint8Array((createPublicKey(privateKey(raw)).export({ format: "der", type: "spki" }) as Buffer).subarray(12));
  const publicKey = (raw: Uint8Array) =>
    createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b656e032100", "hex"), raw]), format: "der", type: "spki" });
  const R = publicRaw(recipientPrivate);
  const E = publicRaw(ephemeralPrivate);
  const VECTOR =
    "01605a725d2a4adfeeb1a29e17edd621c1b7593ee8cdbc44ac6c4ab6e2f805d23c81135502bf9ed121db5014d02e1a2decfa2efe6904c6cf0699820b5277de1e9859176a6e284ec40e8626a1edfeb6e59d";

  test("the recipient key of the vector", () => {
    expect(hex(R)).toBe("79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a");
  });
  test("version, ephemeral key and ciphertext match an independent derivation", () => {
    const sealed = sealToRecipient(R, secret, fixedRandom);
    expect(sealed[0]).toBe(1);
    expect(hex(sealed.subarray(1, 33))).toBe(hex(E));
    const shared = diffieHellman({ privateKey: privateKey(ephemeralPrivate), publicKey: publicKey(R) });
    expect(hex(shared)).toBe(hex(diffieHellman({ privateKey: privateKey(recipientPrivate), publicKey: publicKey(E) })));
    const info = Buffer.concat([Buffer.from("openscope sealed secret v1"), E, R]);
    const key = new Uint8Array(hkdfSync("sha256", shared, new Uint8Array(0), info, 32));
    const expected = chacha20poly1305(key, new Uint8Array(12), Uint8Array.of(1)).encrypt(secret);
    expect(hex(sealed.subarray(33))).toBe(hex(expected));
    expect(hex(sealed)).toBe(VECTOR);
  });
  test("the vector opens with the recipient's private key, and only with it", () => {
    expect(openSealed(recipientPrivate, new Uint8Array(Buffer.from(VECTOR, "hex")))).toEqual(secret);
    expect(denial(() => openSealed(ephemeralPrivate, new Uint8Array(Buffer.from(VECTOR, "hex")))).kind).toBe("denied");
  });
  test("a box sealed with the version byte outside the AEAD's associated data does not open", () => {
    const shared = diffieHellman({ privateKey: privateKey(ephemeralPrivate), publicKey: publicKey(R) });
    const key = new Uint8Array(hkdfSync("sha256", shared, new Uint8Array(0), Buffer.concat([Buffer.from("openscope sealed secret v1"), E, R]), 32));
    const noAd = chacha20poly1305(key, new Uint8Array(12)).encrypt(secret);
    expect(denial(() => openSealed(recipientPrivate, Uint8Array.of(1, ...E, ...noAd))).kind).toBe("denied");
  });
});
