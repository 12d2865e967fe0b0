// The daemon's fingerprint (SPEC.md §8): "SHA256:" + base64 without padding of SHA-256 over the
// raw 32-byte Noise static public key, in the manner of OpenSSH. One function, used by
// `openscope fingerprint`, `share open` and the client, so the strings compare exactly.
import { sha256 } from "@noble/hashes/sha2.js";
import { usageError } from "../errors.ts";

export function fingerprint(noisePublicKey: Uint8Array): string {
  if (noisePublicKey.length !== 32) throw usageError(`fingerprint: a public key is 32 bytes, got ${noisePublicKey.length}`);
  const digest = sha256(noisePublicKey);
  return `SHA256:${Buffer.from(digest).toString("base64").replace(/=+$/, "")}`;
}

/** Whether a string typed by a person names this key: exact, apart from surrounding blanks. */
export function fingerprintMatches(noisePublicKey: Uint8Array, text: string): boolean {
  return text.trim() === fingerprint(noisePublicKey);
}
