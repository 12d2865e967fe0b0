// The handle codec (SPEC.md §10): "osh1" + base64url(body ‖ checksum), where the body carries
// relay URL, rendezvous id, daemon Noise key, original expiry and the bearer or sealed secret.
// Pure. A typo or truncation gives "handle is damaged"; another version gives its own error.
import { sha256 } from "@noble/hashes/sha2.js";
import { usageError } from "../errors.ts";
import { concat, equalBytes } from "../bytes.ts";
import { fromBase64url, toBase64url } from "../bytes.ts";

export interface Handle {
  relayUrl: string; // ws:// or wss://
  rid: Uint8Array; // 16..32 random bytes (rendezvous id; on the relay path as base64url)
  daemonPublicKey: Uint8Array; // 32-byte X25519 Noise static key
  expiresAt: number; // ms since epoch: the share's original expiry
  secret: { kind: "bearer"; psk: Uint8Array } | { kind: "sealed"; sealed: Uint8Array };
}

export const HANDLE_PREFIX = "osh";
export const HANDLE_VERSION = 1;
const CHECKSUM_LEN = 4;
const CHECKSUM_DOMAIN = new TextEncoder().encode("openscope handle v1");
const KIND_BEARER = 1;
const KIND_SEALED = 2;
const MAX_URL_LEN = 2048;
const MAX_SEALED_LEN = 1024;

function checksum(body: Uint8Array): Uint8Array {
  return sha256(concat(CHECKSUM_DOMAIN, body)).subarray(0, CHECKSUM_LEN);
}

function checkRelayUrl(url: string): string | undefined {
  if (url.length === 0 || url.length > MAX_URL_LEN) return "relay URL length";
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "relay URL does not parse";
  }
  if (u.protocol !== "ws:" && u.protocol !== "wss:") return "relay URL is not ws:// or wss://";
  return undefined;
}

export function encodeHandle(h: Handle): string {
  const problem =
    checkRelayUrl(h.relayUrl) ??
    (h.rid.length < 16 || h.rid.length > 32 ? "rid must be 16..32 bytes" : undefined) ??
    (h.daemonPublicKey.length !== 32 ? "daemon key must be 32 bytes" : undefined) ??
    (!Number.isSafeInteger(h.expiresAt) || h.expiresAt < 0 ? "expiresAt must be a non-negative integer" : undefined) ??
    (h.secret.kind === "bearer" && h.secret.psk.length !== 32 ? "psk must be 32 bytes" : undefined) ??
    (h.secret.kind === "sealed" && (h.secret.sealed.length === 0 || h.secret.sealed.length > MAX_SEALED_LEN)
      ? "sealed secret length"
      : undefined);
  if (problem) throw usageError(`handle: cannot encode: ${problem}`);
  const url = new TextEncoder().encode(h.relayUrl);
  const head = new Uint8Array(1 + 8);
  head[0] = h.secret.kind === "bearer" ? KIND_BEARER : KIND_SEALED;
  new DataView(head.buffer).setBigUint64(1, BigInt(h.expiresAt));
  const secret =
    h.secret.kind === "bearer" ? h.secret.psk : concat(u16(h.secret.sealed.length), h.secret.sealed);
  const body = concat(head, Uint8Array.of(h.rid.length), h.rid, h.daemonPublicKey, u16(url.length), url, secret);
  return `${HANDLE_PREFIX}${HANDLE_VERSION}${toBase64url(concat(body, checksum(body)))}`;
}

function u16(n: number): Uint8Array {
  return Uint8Array.of(n >>> 8, n & 0xff);
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
  if (raw.length < 1 + 8 + 1 + 16 + 32 + 2 + CHECKSUM_LEN) throw damaged("too short");
  const body = raw.subarray(0, raw.length - CHECKSUM_LEN);
  if (!equalBytes(raw.subarray(raw.length - CHECKSUM_LEN), checksum(body))) throw damaged("checksum mismatch");

  // The checksum matched: what follows can only fail for a handle written by a broken encoder.
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let off = 0;
  const need = (n: number) => {
    if (off + n > body.length) throw damaged("truncated field");
  };
  need(9);
  const kind = body[0];
  const expires = view.getBigUint64(1);
  off = 9;
  if (kind !== KIND_BEARER && kind !== KIND_SEALED) throw damaged("unknown secret kind");
  if (expires > BigInt(Number.MAX_SAFE_INTEGER)) throw damaged("expiry out of range");
  need(1);
  const ridLen = body[off++]!;
  if (ridLen < 16 || ridLen > 32) throw damaged("rendezvous id length");
  need(ridLen);
  const rid = body.slice(off, (off += ridLen));
  need(32);
  const daemonPublicKey = body.slice(off, (off += 32));
  need(2);
  const urlLen = view.getUint16(off);
  off += 2;
  need(urlLen);
  let relayUrl: string;
  try {
    relayUrl = new TextDecoder("utf-8", { fatal: true }).decode(body.subarray(off, (off += urlLen)));
  } catch {
    throw damaged("relay URL is not UTF-8");
  }
  const urlProblem = checkRelayUrl(relayUrl);
  if (urlProblem) throw damaged(urlProblem);
  let secret: Handle["secret"];
  if (kind === KIND_BEARER) {
    need(32);
    secret = { kind: "bearer", psk: body.slice(off, (off += 32)) };
  } else {
    need(2);
    const len = view.getUint16(off);
    off += 2;
    if (len === 0 || len > MAX_SEALED_LEN) throw damaged("sealed secret length");
    need(len);
    secret = { kind: "sealed", sealed: body.slice(off, (off += len)) };
  }
  if (off !== body.length) throw damaged("trailing bytes");
  return { relayUrl, rid, daemonPublicKey, expiresAt: Number(expires), secret };
}
