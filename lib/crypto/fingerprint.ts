// The daemon's identity as a person checks it (SPEC.md §8.2): one digest over BOTH public keys
// (Noise static and passport signing), spelled two ways: the fingerprint "SHA256:" + base64 of
// all 256 bits, and the speakable verification code, its first 128 bits in Crockford base32
// (26 characters in groups of five) to read over the phone. Pure; comparisons are constant-time.
import { sha256 } from "@noble/hashes/sha2.js";
import { usageError } from "../errors.ts";
import { concat, equalBytes } from "../bytes.ts";

const DOMAIN = new TextEncoder().encode("openscope fingerprint v1");
/** Crockford's base32 alphabet (no I, L, O, U). */
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/** 128 bits: grinding a key pair to match a code costs about 2^128 key generations. */
export const CODE_BYTES = 16;
/** ceil(128 / 5) characters; the last carries 3 bits and two zero bits. */
export const CODE_CHARS = 26;

/** SHA-256("openscope fingerprint v1" ‖ Noise static public key ‖ Ed25519 signing public key). */
export function identityDigest(noisePublicKey: Uint8Array, signPublicKey: Uint8Array): Uint8Array {
  if (noisePublicKey.length !== 32) throw usageError(`fingerprint: a Noise public key is 32 bytes, got ${noisePublicKey.length}`);
  if (signPublicKey.length !== 32) throw usageError(`fingerprint: a signing public key is 32 bytes, got ${signPublicKey.length}`);
  return sha256(concat(DOMAIN, noisePublicKey, signPublicKey));
}

/** "SHA256:" + standard base64 without padding of the identity digest (43 characters). */
export function fingerprint(noisePublicKey: Uint8Array, signPublicKey: Uint8Array): string {
  return `SHA256:${Buffer.from(identityDigest(noisePublicKey, signPublicKey)).toString("base64").replace(/=+$/, "")}`;
}

/** Crockford base32 of bytes, most significant bit first, zero-padded to whole characters. */
function crockford(bytes: Uint8Array): string {
  let out = "";
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += CROCKFORD[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += CROCKFORD[(acc << (5 - bits)) & 31];
  return out;
}

/** The 26 code characters, no separators. */
function codeChars(noisePublicKey: Uint8Array, signPublicKey: Uint8Array): string {
  return crockford(identityDigest(noisePublicKey, signPublicKey).subarray(0, CODE_BYTES));
}

/** The speakable verification code: "XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-X". */
export function verificationCode(noisePublicKey: Uint8Array, signPublicKey: Uint8Array): string {
  return codeChars(noisePublicKey, signPublicKey).match(/.{1,5}/g)!.join("-");
}

/**
 * What a person typed, as the 26 code characters: case-insensitive, blanks and hyphens ignored,
 * Crockford's look-alikes read as digits (O → 0, I and L → 1). Undefined when it is not a code.
 */
export function normalizeCode(text: string): string | undefined {
  const t = text
    .toUpperCase()
    .replace(/[\s-]+/g, "")
    .replace(/O/g, "0")
    .replace(/[IL]/g, "1");
  if (t.length !== CODE_CHARS || [...t].some((c) => !CROCKFORD.includes(c))) return undefined;
  // The last character holds 3 bits: its two low bits are zero in every real code.
  if (CROCKFORD.indexOf(t[CODE_CHARS - 1]!) & 3) return undefined;
  return t;
}

/** Whether `text` looks like a fingerprint ("SHA256:" + 43 base64 characters). */
export function isFingerprintText(text: string): boolean {
  return /^SHA256:[A-Za-z0-9+/]{43}$/.test(text.trim());
}

const enc = new TextEncoder();

/** Constant-time: the full code, as normalizeCode reads it, names these keys. */
export function codeMatches(noisePublicKey: Uint8Array, signPublicKey: Uint8Array, text: string): boolean {
  const given = normalizeCode(text);
  if (given === undefined) return false;
  return equalBytes(enc.encode(given), enc.encode(codeChars(noisePublicKey, signPublicKey)));
}

/** Constant-time: the fingerprint, exact apart from surrounding blanks, names these keys. */
export function fingerprintMatches(noisePublicKey: Uint8Array, signPublicKey: Uint8Array, text: string): boolean {
  const given = enc.encode(text.trim());
  const expected = enc.encode(fingerprint(noisePublicKey, signPublicKey));
  return given.length === expected.length && equalBytes(given, expected);
}

/**
 * A value a person or script gave to `--verify` or `--fingerprint`: which kind it is, or a
 * usage error (exit 2) that says what a valid one looks like and never shows an expected value.
 */
export function parseVerification(text: string, flag: "--verify" | "--fingerprint"): { kind: "code" | "fingerprint"; text: string } {
  if (isFingerprintText(text)) return { kind: "fingerprint", text: text.trim() };
  if (normalizeCode(text) !== undefined) return { kind: "code", text };
  throw usageError(`${flag}: not a verification code or fingerprint`, [
    `a verification code is ${CODE_CHARS} characters in groups of five (letters and digits); a fingerprint starts with SHA256:`,
  ]);
}

/** Whether a value from parseVerification names these keys. */
export function verificationMatches(noisePublicKey: Uint8Array, signPublicKey: Uint8Array, v: { kind: "code" | "fingerprint"; text: string }): boolean {
  return v.kind === "code" ? codeMatches(noisePublicKey, signPublicKey, v.text) : fingerprintMatches(noisePublicKey, signPublicKey, v.text);
}
