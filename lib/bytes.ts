// Byte helpers every layer shares: strict base64url (RFC 4648 §5, no padding, canonical), concat
// and constant-time equality. Pure; no I/O. One copy, so the text forms of keys, handles,
// passports and rendezvous ids all accept and refuse exactly the same strings.
import { usageError } from "./errors.ts";

const B64URL = /^[A-Za-z0-9_-]*$/;

/** Base64url without padding. */
export function toBase64url(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64url");
}

/** Strict base64url (only its alphabet, no padding, unused trailing bits zero); undefined if not. */
export function decodeBase64url(text: string): Uint8Array | undefined {
  if (!B64URL.test(text) || text.length % 4 === 1) return undefined;
  const bytes = new Uint8Array(Buffer.from(text, "base64url"));
  return toBase64url(bytes) === text ? bytes : undefined;
}

/** As decodeBase64url, but a usage error when the text is not strict base64url. */
export function fromBase64url(text: string): Uint8Array {
  const bytes = decodeBase64url(text);
  if (!bytes) throw usageError("base64url: invalid characters, length or padding bits");
  return bytes;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Constant-time equality for equal-length secrets (length itself is not secret). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
