// X25519 keys of recipients and of the daemon's Noise identity, and their one-line text form
// (SPEC.md §8): "osk1" + base64url(32-byte key ‖ 4-byte checksum). Pure; randomness is passed in.
import { sha256 } from "@noble/hashes/sha2.js";
import { usageError } from "../errors.ts";
import { concat, equalBytes, fromBase64url, toBase64url } from "../bytes.ts";
import { defaultRandom, generateKeyPair, type Random } from "../noise/crypto.ts";
import { x25519 } from "@noble/curves/ed25519.js";

export const PUBLIC_KEY_PREFIX = "osk1";
const CHECKSUM_LEN = 4;
const CHECKSUM_DOMAIN = new TextEncoder().encode("openscope public key v1");

export function generateX25519(random: Random = defaultRandom): { privateKey: Uint8Array; publicKey: Uint8Array } {
  return generateKeyPair(random);
}

export function x25519Public(privateKey: Uint8Array): Uint8Array {
  if (privateKey.length !== 32) throw usageError(`key: a private key is 32 bytes, got ${privateKey.length}`);
  return x25519.getPublicKey(privateKey);
}

function checksum(publicKey: Uint8Array): Uint8Array {
  return sha256(concat(CHECKSUM_DOMAIN, publicKey)).subarray(0, CHECKSUM_LEN);
}

export function encodePublicKey(publicKey: Uint8Array): string {
  if (publicKey.length !== 32) throw usageError(`key: a public key is 32 bytes, got ${publicKey.length}`);
  return PUBLIC_KEY_PREFIX + toBase64url(concat(publicKey, checksum(publicKey)));
}

export function decodePublicKey(text: string): Uint8Array {
  const t = text.trim();
  const shown = t.length > 60 ? `${t.slice(0, 57)}...` : t;
  const bad = () =>
    usageError(`key: "${shown}" is not a valid OpenScope public key`, [
      `a public key is one line starting with ${PUBLIC_KEY_PREFIX}; copy it again from \`keygen\``,
    ]);
  if (!t.startsWith(PUBLIC_KEY_PREFIX)) throw bad();
  let raw: Uint8Array;
  try {
    raw = fromBase64url(t.slice(PUBLIC_KEY_PREFIX.length));
  } catch {
    throw bad();
  }
  if (raw.length !== 32 + CHECKSUM_LEN) throw bad();
  const key = raw.slice(0, 32);
  if (!equalBytes(raw.subarray(32), checksum(key))) throw bad();
  return key;
}
