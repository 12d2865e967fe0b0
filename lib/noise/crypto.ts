// The Noise primitive functions (Noise Protocol Framework rev. 34 §4): DH 25519, cipher
// ChaChaPoly, hashes BLAKE2s and SHA256, and the HMAC-based HKDF of §4.3, all on noble.
// Pure functions; randomness is passed in. Nothing here knows about handshakes or sessions.
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

/** GENERATE_KEYPAIR for 25519. */
export function generateKeyPair(random: Random = defaultRandom): KeyPair {
  const privateKey = random(DHLEN);
  if (privateKey.length !== DHLEN) throw new Error(`random: expected ${DHLEN} bytes, got ${privateKey.length}`);
  return { privateKey, publicKey: x25519.getPublicKey(privateKey) };
}

export function keyPairFromPrivate(privateKey: Uint8Array): KeyPair {
  return { privateKey, publicKey: x25519.getPublicKey(privateKey) };
}

/** DH(key_pair, public_key). noble throws on a low-order (all-zero) result, which we want. */
export function dh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return x25519.getSharedSecret(privateKey, publicKey);
}

/** Noise §5.1 ChaChaPoly nonce: 32 bits of zeros then the 64-bit counter little-endian. */
export function chachaNonce(n: number): Uint8Array {
  const nonce = new Uint8Array(12);
  const view = new DataView(nonce.buffer);
  view.setUint32(4, n >>> 0, true);
  view.setUint32(8, Math.floor(n / 2 ** 32), true);
  return nonce;
}

export function encrypt(k: Uint8Array, n: number, ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  return chacha20poly1305(k, chachaNonce(n), ad).encrypt(plaintext);
}

/** Throws on an authentication failure. */
export function decrypt(k: Uint8Array, n: number, ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  return chacha20poly1305(k, chachaNonce(n), ad).decrypt(ciphertext);
}

export interface NoiseHash {
  readonly name: "BLAKE2s" | "SHA256";
  readonly hashLen: 32;
  hash(data: Uint8Array): Uint8Array;
  hmac(key: Uint8Array, data: Uint8Array): Uint8Array;
}

export const BLAKE2s: NoiseHash = {
  name: "BLAKE2s",
  hashLen: 32,
  hash: (data) => blake2s(data),
  hmac: (key, data) => hmac(blake2s, key, data),
};

export const SHA256: NoiseHash = {
  name: "SHA256",
  hashLen: 32,
  hash: (data) => sha256(data),
  hmac: (key, data) => hmac(sha256, key, data),
};

export function hashByName(name: string): NoiseHash | undefined {
  return name === "BLAKE2s" ? BLAKE2s : name === "SHA256" ? SHA256 : undefined;
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
