// HPKE base mode against RFC 9180 Appendix A.2.1 (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
// ChaCha20Poly1305): every intermediate value of the vector, every listed encryption, and
// the single-shot seal/open round trip.
import { describe, expect, test } from "bun:test";
import vector from "../vectors/hpke-x25519-sha256-chacha20poly1305.json";
import {
  computeNonce,
  contextOpen,
  contextSeal,
  decap,
  deriveKeyPair,
  encapDeterministic,
  keySchedule,
  openBase,
  sealBase,
} from "../../lib/crypto/hpke.ts";

const hex = (s: string) => new Uint8Array(Buffer.from(s, "hex"));
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("HPKE (RFC 9180 A.2.1)", () => {
  test("the vector is the suite we implement", () => {
    expect([vector.mode, vector.kem_id, vector.kdf_id, vector.aead_id]).toEqual([0, 0x20, 1, 3]);
  });

  test("DeriveKeyPair gives the vector's keys", () => {
    const e = deriveKeyPair(hex(vector.ikmE));
    const r = deriveKeyPair(hex(vector.ikmR));
    expect(toHex(e.privateKey)).toBe(vector.skEm);
    expect(toHex(e.publicKey)).toBe(vector.pkEm);
    expect(toHex(r.privateKey)).toBe(vector.skRm);
    expect(toHex(r.publicKey)).toBe(vector.pkRm);
  });

  test("Encap and Decap give the vector's enc and shared secret", () => {
    const { sharedSecret, enc } = encapDeterministic(hex(vector.pkRm), hex(vector.skEm));
    expect(toHex(enc)).toBe(vector.enc);
    expect(toHex(sharedSecret)).toBe(vector.shared_secret);
    expect(toHex(decap(hex(vector.enc), hex(vector.skRm)))).toBe(vector.shared_secret);
  });

  test("the key schedule gives the vector's key, base nonce and exporter secret", () => {
    const ctx = keySchedule(hex(vector.shared_secret), hex(vector.info));
    expect(toHex(ctx.key)).toBe(vector.key);
    expect(toHex(ctx.baseNonce)).toBe(vector.base_nonce);
    expect(toHex(ctx.exporterSecret)).toBe(vector.exporter_secret);
  });

  test("every listed encryption, by sequence number", () => {
    const ctx = keySchedule(hex(vector.shared_secret), hex(vector.info));
    for (const e of vector.encryptions) {
      expect(toHex(computeNonce(ctx.baseNonce, e.seq))).toBe(e.nonce);
      expect(toHex(contextSeal(ctx, e.seq, hex(e.aad), hex(e.pt)))).toBe(e.ct);
      expect(toHex(contextOpen(ctx, e.seq, hex(e.aad), hex(e.ct)))).toBe(e.pt);
    }
  });

  test("single-shot SealBase with the vector's ephemeral reproduces sequence 0", () => {
    const first = vector.encryptions[0]!;
    const { enc, ct } = sealBase(hex(vector.pkRm), hex(vector.info), hex(first.aad), hex(first.pt), () => hex(vector.skEm));
    expect(toHex(enc)).toBe(vector.enc);
    expect(toHex(ct)).toBe(first.ct);
    expect(toHex(openBase(enc, hex(vector.skRm), hex(vector.info), hex(first.aad), ct))).toBe(first.pt);
  });

  test("another info, aad or key fails to open", () => {
    const first = vector.encryptions[0]!;
    const [enc, skR, info, aad, ct] = [hex(vector.enc), hex(vector.skRm), hex(vector.info), hex(first.aad), hex(first.ct)];
    expect(() => openBase(enc, skR, Uint8Array.of(...info, 0), aad, ct)).toThrow();
    expect(() => openBase(enc, skR, info, Uint8Array.of(1), ct)).toThrow();
    expect(() => openBase(enc, deriveKeyPair(new Uint8Array(32)).privateKey, info, aad, ct)).toThrow();
    expect(() => openBase(new Uint8Array(32), skR, info, aad, ct)).toThrow(); // low-order enc
  });
});
