// Sealed session secret (SPEC.md §9): HPKE to the recipient, bound to its handle. Opened only by
// the right private key, in the handle it was made for, at its one valid length; any damage is
// the same denial.
import { describe, expect, test } from "bun:test";
import { createHmac, createPrivateKey, createPublicKey, diffieHellman } from "node:crypto";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { OpenScopeError } from "../../lib/errors.ts";
import { generateX25519 } from "../../lib/crypto/keys.ts";
import { openSealed, SEALED_SECRET_LEN, sealToRecipient } from "../../lib/crypto/sealedbox.ts";
import { sealContext, type HandleContext } from "../../lib/wire/handle.ts";

const recipient = generateX25519();
const psk = crypto.getRandomValues(new Uint8Array(32));
const handle: HandleContext = {
  relayUrl: "wss://relay.example.com",
  rid: crypto.getRandomValues(new Uint8Array(16)),
  daemonPublicKey: crypto.getRandomValues(new Uint8Array(32)),
  signPublicKey: crypto.getRandomValues(new Uint8Array(32)),
  expiresAt: 1_790_000_000_000,
};
const ctx = sealContext(handle);

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
  test("the recipient's private key opens it; it is exactly 80 bytes", () => {
    const sealed = sealToRecipient(recipient.publicKey, psk, ctx);
    expect(SEALED_SECRET_LEN).toBe(80);
    expect(sealed.length).toBe(SEALED_SECRET_LEN);
    expect(openSealed(recipient.privateKey, sealed, ctx)).toEqual(psk);
  });

  test("fresh each time: two seals of the same secret differ", () => {
    expect(sealToRecipient(recipient.publicKey, psk, ctx)).not.toEqual(sealToRecipient(recipient.publicKey, psk, ctx));
  });

  test("another key is denied, with the handle's message", () => {
    const sealed = sealToRecipient(recipient.publicKey, psk, ctx);
    const e = denial(() => openSealed(generateX25519().privateKey, sealed, ctx));
    expect(e.kind).toBe("denied");
    expect(e.message).toBe("this handle is sealed to another key");
  });

  test("moved into another handle (rid, relay, daemon key, signing key or expiry changed), it does not open", () => {
    const sealed = sealToRecipient(recipient.publicKey, psk, ctx);
    const other = (patch: Partial<HandleContext>) => sealContext({ ...handle, ...patch });
    for (const c of [
      other({ rid: crypto.getRandomValues(new Uint8Array(16)) }),
      other({ relayUrl: "wss://relay.example.org" }),
      other({ daemonPublicKey: crypto.getRandomValues(new Uint8Array(32)) }),
      other({ signPublicKey: crypto.getRandomValues(new Uint8Array(32)) }),
      other({ expiresAt: handle.expiresAt + 1 }),
    ])
      expect(denial(() => openSealed(recipient.privateKey, sealed, c)).message).toBe("this handle is sealed to another key");
  });

  test("every flipped bit, truncation or extension is denied the same way", () => {
    const sealed = sealToRecipient(recipient.publicKey, psk, ctx);
    for (let i = 0; i < sealed.length * 8; i += 3) {
      const bad = sealed.slice();
      bad[i >> 3]! ^= 1 << (i & 7);
      expect(denial(() => openSealed(recipient.privateKey, bad, ctx)).message).toBe("this handle is sealed to another key");
    }
    for (let n = 0; n < sealed.length; n += 5)
      expect(denial(() => openSealed(recipient.privateKey, sealed.subarray(0, n), ctx)).kind).toBe("denied");
    const longer = new Uint8Array(sealed.length + 1);
    longer.set(sealed);
    expect(denial(() => openSealed(recipient.privateKey, longer, ctx)).kind).toBe("denied");
  });

  test("only a 32-byte psk is sealed; a low-order recipient key is refused", () => {
    const r = (n: number) => new Uint8Array(n).fill(5);
    expect(sealToRecipient(recipient.publicKey, psk, ctx, r)).toEqual(sealToRecipient(recipient.publicKey, psk, ctx, r));
    expect(denial(() => sealToRecipient(recipient.publicKey, new Uint8Array(3), ctx)).kind).toBe("usage");
    expect(denial(() => sealToRecipient(new Uint8Array(32), psk, ctx)).kind).toBe("usage");
  });
});

// A known answer with fixed randomness and keys, checked against an independent derivation of
// RFC 9180 (node:crypto X25519 and HMAC-SHA256, not the noble code the module uses), so a KDF or
// an info that drops an input cannot pass by round trip alone (mutation testing, issue 22).
// SPEC.md §9: HPKE base mode, info = "openscope handle v1" ‖ 0x00 ‖ the handle context, aad empty.
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
  const fixedHandle: HandleContext = {
    relayUrl: "wss://relay.example.com",
    rid: new Uint8Array(16).fill(1),
    daemonPublicKey: new Uint8Array(32).fill(2),
    signPublicKey: new Uint8Array(32).fill(3),
    expiresAt: 1_790_000_000_000,
  };
  const context = sealContext(fixedHandle);

  // RFC 9180 §4 and §5.1, written out with node:crypto.
  const hmac = (key: Uint8Array, data: Uint8Array) => new Uint8Array(createHmac("sha256", key).update(data).digest());
  const I2OSP2 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
  const extract = (salt: Uint8Array, ikm: Uint8Array) => hmac(salt.length ? salt : new Uint8Array(32), ikm);
  const expand = (prk: Uint8Array, info: Uint8Array, len: number) => {
    let t = new Uint8Array(0);
    let out = Buffer.alloc(0);
    for (let i = 1; out.length < len; i++) {
      t = hmac(prk, Buffer.concat([t, info, Buffer.from([i])]));
      out = Buffer.concat([out, t]);
    }
    return new Uint8Array(out.subarray(0, len));
  };
  const kemSuite = Buffer.concat([Buffer.from("KEM"), I2OSP2(0x20)]);
  const hpkeSuite = Buffer.concat([Buffer.from("HPKE"), I2OSP2(0x20), I2OSP2(1), I2OSP2(3)]);
  const labeledExtract = (suite: Buffer, salt: Uint8Array, label: string, ikm: Uint8Array) =>
    extract(salt, Buffer.concat([Buffer.from("HPKE-v1"), suite, Buffer.from(label), ikm]));
  const labeledExpand = (suite: Buffer, prk: Uint8Array, label: string, info: Uint8Array, len: number) =>
    expand(prk, Buffer.concat([I2OSP2(len), Buffer.from("HPKE-v1"), suite, Buffer.from(label), info]), len);
  const EMPTY = new Uint8Array(0);

  function independentSeal(): Uint8Array {
    const dh = new Uint8Array(diffieHellman({ privateKey: privateKey(ephemeralPrivate), publicKey: publicKey(R) }));
    const eaePrk = labeledExtract(kemSuite, EMPTY, "eae_prk", dh);
    const shared = labeledExpand(kemSuite, eaePrk, "shared_secret", Buffer.concat([E, R]), 32);
    const info = Buffer.concat([Buffer.from("openscope handle v1"), Buffer.from([0]), context]);
    const ksContext = Buffer.concat([Buffer.from([0]), labeledExtract(hpkeSuite, EMPTY, "psk_id_hash", EMPTY), labeledExtract(hpkeSuite, EMPTY, "info_hash", info)]);
    const sec = labeledExtract(hpkeSuite, shared, "secret", EMPTY);
    const key = labeledExpand(hpkeSuite, sec, "key", ksContext, 32);
    const nonce = labeledExpand(hpkeSuite, sec, "base_nonce", ksContext, 12);
    return Uint8Array.of(...E, ...chacha20poly1305(key, nonce).encrypt(secret));
  }

  test("the sealed secret is enc ‖ ciphertext, as an independent HPKE derivation gives it", () => {
    const sealed = sealToRecipient(R, secret, context, fixedRandom);
    expect(hex(sealed.subarray(0, 32))).toBe(hex(E));
    expect(hex(sealed)).toBe(hex(independentSeal()));
  });
  test("it opens with the recipient's private key, and only with it", () => {
    const sealed = independentSeal();
    expect(openSealed(recipientPrivate, sealed, context)).toEqual(secret);
    expect(denial(() => openSealed(ephemeralPrivate, sealed, context)).kind).toBe("denied");
  });
});
