// The Noise primitive functions (Noise Protocol Framework rev. 34 §4): DH 25519, cipher
// ChaChaPoly, hashes BLAKE2s and SHA256, and the HMAC-based HKDF of §4.3. `NoiseCrypto` is the
// one interface the Noise code runs on; `noble` here is the reference implementation, and an
// edge (lib/platform/crypto.ts) supplies a faster one of the same shape, cross-checked in tests.
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { x25519 } from "@noble/curves/ed25519.js";
import { blake2s } from "@noble/hashes/blake2.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concat, equalBytes } from "../bytes.ts";

export type Random = (n: number) => Uint8Array;
export const defaultRandom: Random = (n) => crypto.getRandomValues(new Uint8Array(n));

export const DHLEN = 32;
/** Poly1305 tag length; every encrypted Noise field grows by this much. */
export const TAGLEN = 16;
/** Noise §3: a Noise message is at most 65,535 bytes. */
export const MAX_MESSAGE_LEN = 65_535;

export interface KeyPair {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

export type HashName = "BLAKE2s" | "SHA256";

export interface NoiseHash {
  readonly name: HashName;
  readonly hashLen: 32;
  hash(data: Uint8Array): Uint8Array;
  hmac(key: Uint8Array, data: Uint8Array): Uint8Array;
}

/**
 * The primitives one Noise session runs on. Every implementation MUST give byte-identical
 * results to `noble` (test/noise checks this with the vectors and random inputs).
 */
export interface NoiseCrypto {
  readonly name: string;
  /** The 25519 public key of a 32-byte private key. */
  publicKey(privateKey: Uint8Array): Uint8Array;
  /** DH(key_pair, public_key); MUST throw on a low-order public key (an all-zero result). */
  dh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
  hash(name: HashName): NoiseHash;
  /** ChaChaPoly ENCRYPT(k, n, ad, plaintext) (§5.1 nonce), synchronous. */
  encrypt(k: Uint8Array, n: number, ad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** Throws on an authentication failure. */
  decrypt(k: Uint8Array, n: number, ad: Uint8Array, ciphertext: Uint8Array): Uint8Array;
  /** An asynchronous ChaChaPoly for bulk transport records, when the platform has a faster one. */
  bulk?: BulkCipher;
}

export interface BulkCipher {
  /** Records shorter than this (plaintext bytes) stay on the synchronous `encrypt`/`decrypt`. */
  readonly minBytes: number;
  /** Binds a 32-byte key (its import may itself be asynchronous). */
  bind(k: Uint8Array): BulkKey;
}

export interface BulkKey {
  encrypt(nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array>;
  /** Rejects on an authentication failure. */
  decrypt(nonce: Uint8Array, ad: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array>;
}

/** Noise §5.1 ChaChaPoly nonce: 32 bits of zeros then the 64-bit counter little-endian. */
export function chachaNonce(n: number): Uint8Array {
  const nonce = new Uint8Array(12);
  const view = new DataView(nonce.buffer);
  view.setUint32(4, n >>> 0, true);
  view.setUint32(8, Math.floor(n / 2 ** 32), true);
  return nonce;
}

const BLAKE2S: NoiseHash = {
  name: "BLAKE2s",
  hashLen: 32,
  hash: (data) => blake2s(data),
  hmac: (key, data) => hmac(blake2s, key, data),
};

const SHA_256: NoiseHash = {
  name: "SHA256",
  hashLen: 32,
  hash: (data) => sha256(data),
  hmac: (key, data) => hmac(sha256, key, data),
};

/** The reference implementation: noble, pure JavaScript, synchronous. */
export const noble: NoiseCrypto = {
  name: "noble",
  publicKey: (privateKey) => x25519.getPublicKey(privateKey),
  // noble throws on a low-order (all-zero) result, which we want.
  dh: (privateKey, publicKey) => x25519.getSharedSecret(privateKey, publicKey),
  hash: (name) => (name === "BLAKE2s" ? BLAKE2S : SHA_256),
  encrypt: (k, n, ad, plaintext) => chacha20poly1305(k, chachaNonce(n), ad).encrypt(plaintext),
  decrypt: (k, n, ad, ciphertext) => chacha20poly1305(k, chachaNonce(n), ad).decrypt(ciphertext),
};

/** GENERATE_KEYPAIR for 25519. */
export function generateKeyPair(random: Random = defaultRandom, suite: NoiseCrypto = noble): KeyPair {
  const privateKey = random(DHLEN);
  if (privateKey.length !== DHLEN) throw new Error(`random: expected ${DHLEN} bytes, got ${privateKey.length}`);
  return { privateKey, publicKey: suite.publicKey(privateKey) };
}

export function keyPairFromPrivate(privateKey: Uint8Array, suite: NoiseCrypto = noble): KeyPair {
  return { privateKey, publicKey: suite.publicKey(privateKey) };
}

/** DH on the reference implementation. */
export function dh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return noble.dh(privateKey, publicKey);
}

export function encrypt(k: Uint8Array, n: number, ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  return noble.encrypt(k, n, ad, plaintext);
}

/** Throws on an authentication failure. */
export function decrypt(k: Uint8Array, n: number, ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  return noble.decrypt(k, n, ad, ciphertext);
}

export const BLAKE2s: NoiseHash = BLAKE2S;
export const SHA256: NoiseHash = SHA_256;

export function isHashName(name: string): name is HashName {
  return name === "BLAKE2s" || name === "SHA256";
}

/** Noise §4.3 HKDF(chaining_key, input_key_material, num_outputs). */
export function hkdf(h: NoiseHash, chainingKey: Uint8Array, ikm: Uint8Array, outputs: 2 | 3): Uint8Array[] {
  const tempKey = h.hmac(chainingKey, ikm);
  const out1 = h.hmac(tempKey, Uint8Array.of(1));
  const out2 = h.hmac(tempKey, concat(out1, Uint8Array.of(2)));
  if (outputs === 2) return [out1, out2];
  return [out1, out2, h.hmac(tempKey, concat(out2, Uint8Array.of(3)))];
}

export { concat, equalBytes };
