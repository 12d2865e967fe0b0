// The passport (SPEC.md §5): a versioned document naming what one share may do, its canonical
// bytes (JSON with a fixed key order), and its Ed25519 signature by the daemon. Verification fails
// closed: any changed byte, a non-canonical encoding, an unknown version or constraint kind.
import { ed25519 } from "@noble/curves/ed25519.js";
import * as v from "valibot";
import { type Constraint, validateConstraint } from "./constraint.ts";
import { LIMITS, lifetimeWithinCap } from "./limits.ts";
import { OpenScopeError, usageError } from "../errors.ts";
import { GrantVerbsSchema, type GrantVerbs } from "./grant.ts";
import { sha256 } from "@noble/hashes/sha2.js";
import { decodeBase64url, toBase64url } from "../bytes.ts";
import { VERB_NAME } from "./catalog.ts";

/** A share id (SPEC.md §14): 12 lowercase hex characters. */
export const SHARE_ID = /^[0-9a-f]{12}$/;

/** What a passport binds of its share's rendezvous id: base64url(SHA-256(raw rid bytes)) (SPEC.md §5.1). */
export function ridHashOf(rid: Uint8Array): string {
  return toBase64url(sha256(rid));
}

export interface Passport {
  v: 1;
  id: string; // base64url of 16 random bytes
  shareId: string; // the share this passport belongs to: 12 lowercase hex (SPEC.md §14)
  ridHash: string; // base64url of SHA-256 of the share's raw rendezvous id bytes
  principal: string;
  daemonKeyId: string; // the daemon fingerprint string
  recipient: { kind: "key"; publicKey: string /* base64url X25519 */ } | { kind: "bearer" };
  verbs: GrantVerbs;
  issuedAt: number;
  expiresAt: number; // ms since epoch
  grantId: string;
  grantRevision: number;
  /**
   * Verbs whose every call waits for the operator's approval in this share (SPEC.md §17.2):
   * sorted, each one of `verbs`, absent when none. Signed, so approval only ever narrows.
   */
  approval?: string[];
}

/** Text prefix of a signed passport, and the domain-separation tag the signature covers. */
export const PASSPORT_PREFIX = "osp1.";
const SIGNING_CONTEXT = new TextEncoder().encode("openscope passport v1\0");
export const MAX_SIGNED_PASSPORT = 64 * 1024;
const MAX_VERBS = 256;

const b64urlBytes = (n: number, what: string) =>
  v.pipe(
    v.string(),
    v.check((s) => decodeBase64url(s)?.length === n, `${what} must be base64url of ${n} bytes`),
  );
const Label = v.pipe(v.string(), v.minLength(1), v.maxLength(256), v.regex(/^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/, "must be printable ASCII"));
const SafeInt = v.pipe(v.number(), v.safeInteger());

const PassportSchema = v.strictObject({
  v: v.literal(1),
  id: b64urlBytes(16, "id"),
  shareId: v.pipe(v.string(), v.regex(SHARE_ID, "shareId must be 12 lowercase hex characters")),
  ridHash: b64urlBytes(32, "ridHash"),
  principal: Label,
  daemonKeyId: Label,
  recipient: v.variant("kind", [
    v.strictObject({ kind: v.literal("key"), publicKey: b64urlBytes(32, "recipient key") }),
    v.strictObject({ kind: v.literal("bearer") }),
  ]),
  verbs: GrantVerbsSchema,
  issuedAt: SafeInt,
  expiresAt: SafeInt,
  grantId: Label,
  grantRevision: v.pipe(SafeInt, v.minValue(0)),
  approval: v.optional(v.pipe(v.array(v.pipe(v.string(), v.regex(VERB_NAME, "bad verb name"))), v.minLength(1, "must name a verb when present"))),
});

function sortedRecord<T, U>(rec: Record<string, T>, map: (t: T) => U): Record<string, U> {
  const out: Record<string, U> = {};
  for (const k of Object.keys(rec).sort()) out[k] = map(rec[k]!);
  return out;
}

function canonicalConstraint(c: Constraint): Constraint {
  switch (c.kind) {
    case "enum":
      return { kind: "enum", values: [...c.values] };
    case "range":
      return { kind: "range", min: c.min, max: c.max };
    case "pattern":
      return { kind: "pattern", pattern: c.pattern };
  }
}

/** The object in canonical key order; JSON.stringify of it is the canonical text. */
function canonicalObject(p: Passport): Passport {
  return {
    v: p.v,
    id: p.id,
    shareId: p.shareId,
    ridHash: p.ridHash,
    principal: p.principal,
    daemonKeyId: p.daemonKeyId,
    recipient: p.recipient.kind === "key" ? { kind: "key", publicKey: p.recipient.publicKey } : { kind: "bearer" },
    verbs: sortedRecord(p.verbs, (params) => sortedRecord(params, canonicalConstraint)),
    issuedAt: p.issuedAt,
    expiresAt: p.expiresAt,
    grantId: p.grantId,
    grantRevision: p.grantRevision,
    ...(p.approval !== undefined ? { approval: [...p.approval] } : {}),
  };
}

/** UTF-8 of JSON with keys in the SPEC.md §5.2 order, records sorted, no whitespace. */
export function canonicalPassportBytes(p: Passport): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(canonicalObject(p)));
}

function signedMessage(payload: Uint8Array): Uint8Array {
  const m = new Uint8Array(SIGNING_CONTEXT.length + payload.length);
  m.set(SIGNING_CONTEXT);
  m.set(payload, SIGNING_CONTEXT.length);
  return m;
}

/** "osp1." + base64url(canonical bytes) + "." + base64url(signature). Validates p first. */
export function signPassport(p: Passport, ed25519PrivateKey: Uint8Array): string {
  const payload = canonicalPassportBytes(p);
  decodePayload(payload); // never sign what verification would refuse
  const sig = ed25519.sign(signedMessage(payload), ed25519PrivateKey);
  return `${PASSPORT_PREFIX}${toBase64url(payload)}.${toBase64url(sig)}`;
}

const damaged = (why: string) => usageError(`passport: ${why}`, ["ask the operator for a fresh share"]);

function split(signed: string): { payload: Uint8Array; sig: Uint8Array } {
  if (typeof signed !== "string") throw damaged("not text");
  if (signed.length > MAX_SIGNED_PASSPORT) throw damaged("too long");
  if (!signed.startsWith(PASSPORT_PREFIX)) {
    if (/^osp\d+\./.test(signed)) throw damaged(`unsupported version ${signed.slice(3, signed.indexOf("."))}`);
    throw damaged('not a passport (expected "osp1." prefix)');
  }
  const parts = signed.slice(PASSPORT_PREFIX.length).split(".");
  if (parts.length !== 2) throw damaged("damaged");
  const payload = decodeBase64url(parts[0]!);
  const sig = decodeBase64url(parts[1]!);
  if (!payload || !sig || sig.length !== 64 || payload.length === 0) throw damaged("damaged");
  return { payload, sig };
}

/** Parses canonical bytes into a checked passport; refuses non-canonical encodings. */
function decodePayload(payload: Uint8Array): Passport {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(payload));
  } catch {
    throw damaged("damaged");
  }
  if (typeof json === "object" && json !== null && "v" in json && json.v !== 1)
    throw damaged(`unsupported version ${JSON.stringify(json.v).slice(0, 20)}`);
  const r = v.safeParse(PassportSchema, json);
  if (!r.success) {
    const issue = r.issues[0];
    const path = (issue.path ?? []).map((x) => String(x.key)).join(".");
    throw damaged(`${path ? `${path}: ` : ""}${issue.message}`);
  }
  const p = checkPassport(r.output as Passport);
  const again = canonicalPassportBytes(p);
  if (again.length !== payload.length || again.some((b, i) => b !== payload[i])) throw damaged("not in canonical form");
  return p;
}

/** Semantic checks beyond the schema: lifetime, non-empty verbs, every constraint well formed. */
function checkPassport(p: Passport): Passport {
  if (p.v !== 1) throw damaged(`unsupported version ${String(p.v)}`);
  if (!(p.expiresAt > p.issuedAt)) throw damaged("expires before it is issued");
  if (!lifetimeWithinCap(p.issuedAt, p.expiresAt)) throw damaged("lifetime over 30 minutes");
  const verbs = Object.keys(p.verbs);
  if (verbs.length === 0) throw damaged("names no verbs");
  if (verbs.length > MAX_VERBS) throw damaged("names too many verbs");
  if (p.approval !== undefined) {
    for (const [i, verb] of p.approval.entries()) {
      if (!(verb in p.verbs)) throw damaged(`approval: ${verb} is not one of the passport's verbs`);
      if (i > 0 && !(p.approval[i - 1]! < verb)) throw damaged("approval: verbs must be sorted and listed once");
    }
  }
  for (const verb of verbs)
    for (const [param, c] of Object.entries(p.verbs[verb]!)) {
      try {
        validateConstraint(c, `${verb}.${param}`);
      } catch (e) {
        throw damaged((e as OpenScopeError).message);
      }
    }
  return p;
}

/** An Ed25519 verifier: true only for a valid signature (RFC 8032, canonical S); never throws. */
export type SignatureCheck = (sig: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean;

/** The reference verifier: noble, strict RFC 8032 (not ZIP-215). lib/platform has a native one, cross-checked in tests. */
export const nobleSignatureCheck: SignatureCheck = (sig, message, publicKey) => {
  try {
    return ed25519.verify(sig, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
};

/** Verifies the signature over the exact bytes, then decodes. Throws usage "passport: …". */
export function verifyPassport(signed: string, ed25519PublicKey: Uint8Array, check: SignatureCheck = nobleSignatureCheck): Passport {
  const { payload, sig } = split(signed);
  const ok = check(sig, signedMessage(payload), ed25519PublicKey);
  if (!ok) throw damaged("signature does not verify");
  return decodePayload(payload);
}

/** Decodes without checking the signature: for display only, never for a decision. */
export function decodePassportUnverified(signed: string): Passport {
  return decodePayload(split(signed).payload);
}

/** Builds a passport for `share open`, refusing a TTL over 30 minutes (exit 2). */
export function buildPassport(input: {
  id: string;
  shareId: string;
  ridHash: string;
  principal: string;
  daemonKeyId: string;
  recipient: Passport["recipient"];
  verbs: GrantVerbs;
  now: number;
  ttlMs: number;
  grantId: string;
  grantRevision: number;
  /** Verbs that need the operator's approval (SPEC.md §17.2); sorted, or absent. */
  approval?: string[];
}): Passport {
  if (!Number.isSafeInteger(input.ttlMs) || input.ttlMs <= 0) throw usageError("--ttl: must be a positive duration");
  if (input.ttlMs > LIMITS.shareTtlMaxMs) throw usageError(`--ttl ${input.ttlMs / 1000}s is over the 30m cap`, ["a share lives at most 30 minutes from now; use share extend to go on"]);
  const p: Passport = {
    v: 1,
    id: input.id,
    shareId: input.shareId,
    ridHash: input.ridHash,
    principal: input.principal,
    daemonKeyId: input.daemonKeyId,
    recipient: input.recipient,
    verbs: input.verbs,
    issuedAt: input.now,
    expiresAt: input.now + input.ttlMs,
    grantId: input.grantId,
    grantRevision: input.grantRevision,
    ...(input.approval ? { approval: input.approval } : {}),
  };
  const r = v.safeParse(PassportSchema, canonicalObject(p));
  if (!r.success) throw usageError(`passport: ${r.issues[0].message}`);
  return checkPassport(p);
}
