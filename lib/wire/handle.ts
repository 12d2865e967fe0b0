// The handle codec (SPEC.md §10): "osh1" + base64url(body ‖ checksum), where the body carries the
// original expiry, rendezvous id, the daemon's Noise and passport-signing keys, the relay URL and
// the bearer or sealed secret. Pure. Every field has one valid length or range, the relay URL one
// canonical spelling (relay-url.ts). A typo or truncation gives "handle is damaged".
import { sha256 } from "@noble/hashes/sha2.js";
import { usageError } from "../errors.ts";
import { concat, equalBytes } from "../bytes.ts";
import { fromBase64url, toBase64url } from "../bytes.ts";
import { SEALED_SECRET_LEN } from "../crypto/sealedbox.ts";
import { checkRelayUrl } from "./relay-url.ts";

export interface Handle {
  relayUrl: string; // canonical ws:// or wss:// URL (relay-url.ts)
  rid: Uint8Array; // 16..32 random bytes (rendezvous id; on the relay path as base64url)
  daemonPublicKey: Uint8Array; // 32-byte X25519 Noise static key
  signPublicKey: Uint8Array; // 32-byte Ed25519 key that signs the daemon's passports
  expiresAt: number; // ms since epoch: the share's original expiry
  secret: { kind: "bearer"; psk: Uint8Array } | { kind: "sealed"; sealed: Uint8Array };
}

/** Everything but the secret: what the sealed secret is bound to (SPEC.md §9). */
export type HandleContext = Omit<Handle, "secret">;

export const HANDLE_PREFIX = "osh";
export const HANDLE_VERSION = 1;
const CHECKSUM_LEN = 4;
const CHECKSUM_DOMAIN = new TextEncoder().encode("openscope handle v1");
const KIND_BEARER = 1;
const KIND_SEALED = 2;
const PSK_LEN = 32;
const KEY_LEN = 32;
export const MIN_RID_LEN = 16;
export const MAX_RID_LEN = 32;
/** Expiry: ms since the epoch, 1 .. 2^53−1 (SPEC.md §10). */
export const MAX_EXPIRES_AT = Number.MAX_SAFE_INTEGER;

function checksum(body: Uint8Array): Uint8Array {
  return sha256(concat(CHECKSUM_DOMAIN, body)).subarray(0, CHECKSUM_LEN);
}

const u16 = (n: number) => Uint8Array.of(n >>> 8, n & 0xff);

function problemOf(h: HandleContext): string | undefined {
  const url = checkRelayUrl(h.relayUrl, true);
  if (typeof url === "string") return url;
  if (h.rid.length < MIN_RID_LEN || h.rid.length > MAX_RID_LEN) return "rid must be 16..32 bytes";
  if (h.daemonPublicKey.length !== KEY_LEN) return "daemon key must be 32 bytes";
  if (h.signPublicKey.length !== KEY_LEN) return "signing key must be 32 bytes";
  if (!Number.isSafeInteger(h.expiresAt) || h.expiresAt < 1) return "expiresAt must be an integer in 1..2^53-1";
  return undefined;
}

/** kind ‖ expires_at ‖ rid ‖ daemon key ‖ signing key ‖ relay URL: the body before the secret. */
function header(kind: number, h: HandleContext): Uint8Array {
  const head = new Uint8Array(9);
  head[0] = kind;
  new DataView(head.buffer).setBigUint64(1, BigInt(h.expiresAt));
  const url = new TextEncoder().encode(h.relayUrl);
  return concat(head, Uint8Array.of(h.rid.length), h.rid, h.daemonPublicKey, h.signPublicKey, u16(url.length), url);
}

/** The bytes a sealed secret is bound to: the handle body up to its secret (SPEC.md §9). */
export function sealContext(h: HandleContext): Uint8Array {
  const problem = problemOf(h);
  if (problem) throw usageError(`handle: cannot encode: ${problem}`);
  return header(KIND_SEALED, h);
}

export function encodeHandle(h: Handle): string {
  const problem =
    problemOf(h) ??
    (h.secret.kind === "bearer" && h.secret.psk.length !== PSK_LEN ? "psk must be 32 bytes" : undefined) ??
    (h.secret.kind === "sealed" && h.secret.sealed.length !== SEALED_SECRET_LEN ? `sealed secret must be ${SEALED_SECRET_LEN} bytes` : undefined);
  if (problem) throw usageError(`handle: cannot encode: ${problem}`);
  const secret = h.secret.kind === "bearer" ? h.secret.psk : h.secret.sealed;
  const body = concat(header(h.secret.kind === "bearer" ? KIND_BEARER : KIND_SEALED, h), secret);
  return `${HANDLE_PREFIX}${HANDLE_VERSION}${toBase64url(concat(body, checksum(body)))}`;
}

export function decodeHandle(text: string): Handle {
  // Blanks and line breaks are dropped: a handle wrapped by a mail client still decodes.
  const t = text.replace(/\s+/g, "");
  const damaged = (why: string) =>
    usageError(`handle is damaged (${why})`, [`copy the whole handle again: one line starting with ${HANDLE_PREFIX}${HANDLE_VERSION}`]);
  const v = /^osh(\d+)/.exec(t);
  if (!v) throw damaged("it does not start with osh1");
  if (v[1] !== String(HANDLE_VERSION))
    throw usageError(`handle: unsupported version ${v[1]!.slice(0, 6)}`, [
      "this client reads version 1 handles; upgrade openscope-reflect-client",
    ]);
  let raw: Uint8Array;
  try {
    raw = fromBase64url(t.slice(v[0].length));
  } catch {
    throw damaged("invalid characters or length");
  }
  if (raw.length < 1 + 8 + 1 + MIN_RID_LEN + 2 * KEY_LEN + 2 + PSK_LEN + CHECKSUM_LEN) throw damaged("too short");
  const body = raw.subarray(0, raw.length - CHECKSUM_LEN);
  if (!equalBytes(raw.subarray(raw.length - CHECKSUM_LEN), checksum(body))) throw damaged("checksum mismatch");

  // The checksum matched: what follows can only fail for a handle written by a broken or hostile encoder.
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let off = 0;
  const take = (n: number) => {
    if (off + n > body.length) throw damaged("truncated field");
    return body.slice(off, (off += n));
  };
  const kind = take(1)[0];
  if (kind !== KIND_BEARER && kind !== KIND_SEALED) throw damaged("unknown secret kind");
  const expires = view.getBigUint64(off);
  take(8);
  if (expires < 1n || expires > BigInt(MAX_EXPIRES_AT)) throw damaged("expiry out of range");
  const ridLen = take(1)[0]!;
  if (ridLen < MIN_RID_LEN || ridLen > MAX_RID_LEN) throw damaged("rendezvous id length");
  const rid = take(ridLen);
  const daemonPublicKey = take(KEY_LEN);
  const signPublicKey = take(KEY_LEN);
  const urlLenBytes = take(2);
  const urlLen = (urlLenBytes[0]! << 8) | urlLenBytes[1]!;
  let relayUrl: string;
  try {
    relayUrl = new TextDecoder("utf-8", { fatal: true }).decode(take(urlLen));
  } catch (e) {
    if (e instanceof Error && e.message.startsWith("handle")) throw e;
    throw damaged("relay URL is not UTF-8");
  }
  const url = checkRelayUrl(relayUrl, true);
  if (typeof url === "string") throw damaged(url);
  // Each secret kind has exactly one length: nothing may follow it.
  const secretLen = kind === KIND_BEARER ? PSK_LEN : SEALED_SECRET_LEN;
  if (body.length - off !== secretLen) throw damaged(kind === KIND_BEARER ? "bearer secret length" : "sealed secret length");
  const bytes = take(secretLen);
  const secret: Handle["secret"] = kind === KIND_BEARER ? { kind: "bearer", psk: bytes } : { kind: "sealed", sealed: bytes };
  return { relayUrl, rid, daemonPublicKey, signPublicKey, expiresAt: Number(expires), secret };
}
