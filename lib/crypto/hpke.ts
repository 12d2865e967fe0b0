// HPKE base mode (RFC 9180) for exactly one suite: DHKEM(X25519, HKDF-SHA256) (kem 0x0020),
// HKDF-SHA256 (kdf 0x0001), ChaCha20Poly1305 (aead 0x0003), on noble. Pure; the ephemeral key
// is passed in or drawn from the injected random source. Checked against RFC 9180 Appendix A.2.1
// (test/vectors/hpke-x25519-sha256-chacha20poly1305.json). Only what the sealed secret needs.
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { x25519 } from "@noble/curves/ed25519.js";
import { expand, extract } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concat } from "../bytes.ts";
import { defaultRandom, type Random } from "../noise/crypto.ts";

const enc = new TextEncoder();
const KEM_ID = 0x0020;
const KDF_ID = 0x0001;
const AEAD_ID = 0x0003;
const MODE_BASE = 0x00;
/** Nsecret, Nenc, Npk, Nsk (RFC 9180 §7.1) and Nk, Nn, Nt (§7.3) of this suite. */
export const HPKE_NSECRET = 32;
export const HPKE_NENC = 32;
export const HPKE_NK = 32;
export const HPKE_NN = 12;
export const HPKE_NT = 16;

const u16 = (n: number) => Uint8Array.of(n >>> 8, n & 0xff);
const VERSION_LABEL = enc.encode("HPKE-v1");
/** suite_id of the KEM ("KEM" ‖ I2OSP(kem_id, 2)) and of HPKE as a whole (§4.1, §5.1). */
const KEM_SUITE_ID = concat(enc.encode("KEM"), u16(KEM_ID));
const HPKE_SUITE_ID = concat(enc.encode("HPKE"), u16(KEM_ID), u16(KDF_ID), u16(AEAD_ID));
const EMPTY = new Uint8Array(0);

/** LabeledExtract (§4). */
function labeledExtract(suiteId: Uint8Array, salt: Uint8Array, label: string, ikm: Uint8Array): Uint8Array {
  return extract(sha256, concat(VERSION_LABEL, suiteId, enc.encode(label), ikm), salt);
}

/** LabeledExpand (§4): info = I2OSP(L, 2) ‖ "HPKE-v1" ‖ suite_id ‖ label ‖ info. */
function labeledExpand(suiteId: Uint8Array, prk: Uint8Array, label: string, info: Uint8Array, length: number): Uint8Array {
  return expand(sha256, prk, concat(u16(length), VERSION_LABEL, suiteId, enc.encode(label), info), length);
}

/** ExtractAndExpand of DHKEM (§4.1). */
function extractAndExpand(dh: Uint8Array, kemContext: Uint8Array): Uint8Array {
  const eaePrk = labeledExtract(KEM_SUITE_ID, EMPTY, "eae_prk", dh);
  return labeledExpand(KEM_SUITE_ID, eaePrk, "shared_secret", kemContext, HPKE_NSECRET);
}

/** DeriveKeyPair for X25519 (§7.1.3): used by the vector test; production draws random keys. */
export function deriveKeyPair(ikm: Uint8Array): { privateKey: Uint8Array; publicKey: Uint8Array } {
  const dkpPrk = labeledExtract(KEM_SUITE_ID, EMPTY, "dkp_prk", ikm);
  const privateKey = labeledExpand(KEM_SUITE_ID, dkpPrk, "sk", EMPTY, 32);
  return { privateKey, publicKey: x25519.getPublicKey(privateKey) };
}

/** Encap (§4.1) with the ephemeral private key given. noble throws on an all-zero DH (low order). */
export function encapDeterministic(recipientPublic: Uint8Array, ephemeralPrivate: Uint8Array): { sharedSecret: Uint8Array; enc: Uint8Array } {
  const encapsulated = x25519.getPublicKey(ephemeralPrivate);
  const dh = x25519.getSharedSecret(ephemeralPrivate, recipientPublic);
  return { sharedSecret: extractAndExpand(dh, concat(encapsulated, recipientPublic)), enc: encapsulated };
}

/** X25519 as a suite: noble by default, or the platform's (byte-identical; test/noise checks). */
export interface X25519Suite {
  publicKey(privateKey: Uint8Array): Uint8Array;
  /** MUST throw on a low-order public key (an all-zero result). */
  dh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
}
const nobleX25519: X25519Suite = { publicKey: (k) => x25519.getPublicKey(k), dh: (k, p) => x25519.getSharedSecret(k, p) };

/** Decap (§4.1). Throws on a low-order `enc`. */
export function decap(encapsulated: Uint8Array, recipientPrivate: Uint8Array, suite: X25519Suite = nobleX25519): Uint8Array {
  const dh = suite.dh(recipientPrivate, encapsulated);
  return extractAndExpand(dh, concat(encapsulated, suite.publicKey(recipientPrivate)));
}

export interface HpkeContext {
  key: Uint8Array;
  baseNonce: Uint8Array;
  exporterSecret: Uint8Array;
}

/** KeySchedule in base mode (§5.1): psk and psk_id empty. */
export function keySchedule(sharedSecret: Uint8Array, info: Uint8Array): HpkeContext {
  const pskIdHash = labeledExtract(HPKE_SUITE_ID, EMPTY, "psk_id_hash", EMPTY);
  const infoHash = labeledExtract(HPKE_SUITE_ID, EMPTY, "info_hash", info);
  const context = concat(Uint8Array.of(MODE_BASE), pskIdHash, infoHash);
  const secret = labeledExtract(HPKE_SUITE_ID, sharedSecret, "secret", EMPTY);
  return {
    key: labeledExpand(HPKE_SUITE_ID, secret, "key", context, HPKE_NK),
    baseNonce: labeledExpand(HPKE_SUITE_ID, secret, "base_nonce", context, HPKE_NN),
    exporterSecret: labeledExpand(HPKE_SUITE_ID, secret, "exp", context, HPKE_NSECRET),
  };
}

/** ComputeNonce (§5.2): base_nonce XOR I2OSP(seq, Nn). */
export function computeNonce(baseNonce: Uint8Array, seq: number): Uint8Array {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new Error("hpke: bad sequence number");
  const nonce = baseNonce.slice();
  let s = seq;
  for (let i = HPKE_NN - 1; i >= 0 && s > 0; i--) {
    nonce[i]! ^= s & 0xff;
    s = Math.floor(s / 256);
  }
  return nonce;
}

export function contextSeal(ctx: HpkeContext, seq: number, aad: Uint8Array, pt: Uint8Array): Uint8Array {
  return chacha20poly1305(ctx.key, computeNonce(ctx.baseNonce, seq), aad).encrypt(pt);
}

export function contextOpen(ctx: HpkeContext, seq: number, aad: Uint8Array, ct: Uint8Array): Uint8Array {
  return chacha20poly1305(ctx.key, computeNonce(ctx.baseNonce, seq), aad).decrypt(ct);
}

/** Single-shot SealBase (§6.1): returns enc and the ciphertext of one message (sequence 0). */
export function sealBase(
  recipientPublic: Uint8Array,
  info: Uint8Array,
  aad: Uint8Array,
  pt: Uint8Array,
  random: Random = defaultRandom,
): { enc: Uint8Array; ct: Uint8Array } {
  const { sharedSecret, enc: encapsulated } = encapDeterministic(recipientPublic, random(32));
  return { enc: encapsulated, ct: contextSeal(keySchedule(sharedSecret, info), 0, aad, pt) };
}

/** Single-shot OpenBase (§6.1). Throws (with no detail worth showing) on any failure. */
export function openBase(encapsulated: Uint8Array, recipientPrivate: Uint8Array, info: Uint8Array, aad: Uint8Array, ct: Uint8Array, suite?: X25519Suite): Uint8Array {
  return contextOpen(keySchedule(decap(encapsulated, recipientPrivate, suite), info), 0, aad, ct);
}
