// Issuing a share (SPEC.md §4.2, §5, §9, §10): the request is validated, the agent's grant
// attenuated, the passport built and signed, the rendezvous id and session secret drawn, the
// secret sealed to the recipient (or left in clear for a bearer share) and the handle encoded.
// Pure: the clock and randomness are passed in; the daemon stores, audits and dials.
import { bytesToHex } from "@noble/hashes/utils.js";
import type { Catalog } from "../capability/catalog.ts";
import { attenuate, type GrantVerbs } from "../capability/grant.ts";
import { parseShareTtl } from "../capability/limits.ts";
import { buildPassport, ridHashOf, signPassport } from "../capability/passport.ts";
import { parseVerbSpec } from "../capability/verbspec.ts";
import { decodePublicKey } from "../crypto/keys.ts";
import { sealToRecipient } from "../crypto/sealedbox.ts";
import type { Random } from "../noise/crypto.ts";
import { deniedError, usageError } from "../errors.ts";
import { encodeHandle, sealContext } from "../wire/handle.ts";
import { toBase64url } from "../bytes.ts";
import type { ShareRow } from "./lifetime.ts";
import { passportApprovals } from "./approval.ts";

/** A share id: 12 lowercase hex characters (6 random bytes), short to type, never starting with "-" (SPEC.md §14). */
export const SHARE_ID = /^[0-9a-f]{12}$/;

/** What `share open` asks for (SPEC.md §14). */
export interface ShareRequest {
  agent: string;
  /** `--verb` specs, each narrowing one verb of the grant. */
  verbs: string[];
  to?: string;
  bearer?: boolean;
  ttl: string;
  /** `--approve`: verbs whose every call waits for the operator in this share (SPEC.md §17.2). */
  approve?: string[];
}

/** The agent's grant as stored. */
export interface GrantSource {
  id: string;
  revision: number;
  verbs: GrantVerbs;
}

/** Everything issuance takes from the daemon: its keys, its relay, the clock and randomness. */
export interface IssueContext {
  now: number;
  random: Random;
  identity: { signPrivate: Uint8Array; signPublic: Uint8Array; noisePublic: Uint8Array };
  fingerprint: string;
  relayUrl: string;
  /** The registered recipient's public key text (`osk1…`) for `request.to`; undefined if none is registered. */
  recipientKey: string | undefined;
}

export interface IssuedShare {
  /** The share record to store (live, its passport signed). */
  row: ShareRow;
  /** The signed passport (as in the row). */
  passport: string;
  /** What the operator sends the recipient. */
  handle: string;
}

/** Who may connect: exactly one of `--to` and `--bearer`. */
function checkAudience(req: ShareRequest): void {
  if (req.verbs.length === 0) throw usageError("share open needs at least one --verb");
  if (Boolean(req.to) === Boolean(req.bearer)) throw usageError("say who may connect: --to <alias> or --bearer (exactly one)");
}

/**
 * Issues a share: usage errors for a malformed request, denied when it reaches outside the
 * agent's grant (or the agent has none). The random draws, in order: passport id (16 bytes),
 * rendezvous id (16), session secret (32), share id (6), then the seal's ephemeral key (32).
 * The passport is signed for this share id and rendezvous id (SPEC.md §5.1), so it is valid on
 * this share's row only.
 */
export function issueShare(req: ShareRequest, grant: GrantSource | undefined, catalog: Catalog, ctx: IssueContext): IssuedShare {
  checkAudience(req);
  const ttlMs = parseShareTtl(req.ttl);
  const specs = req.verbs.map((spec) => parseVerbSpec(spec));
  if (!grant) throw deniedError(`agent "${req.agent}" has no grant`, [`root grants verbs with: openscope grant add --agent ${req.agent} --verb …`]);
  const verbs = attenuate(catalog, grant.verbs, specs);
  const approval = passportApprovals(req.approve ?? [], Object.keys(verbs), (verb) => catalog.get(verb)?.approval);
  let recipientKey: Uint8Array | null = null;
  if (req.to) {
    if (ctx.recipientKey === undefined) throw usageError(`unknown recipient "${req.to}"`, ["register it with: openscope recipients add <alias> <public-key>"]);
    recipientKey = decodePublicKey(ctx.recipientKey);
  }
  const passportId = toBase64url(ctx.random(16));
  const rid = ctx.random(16);
  const psk = ctx.random(32);
  const shareId = bytesToHex(ctx.random(6)); // short, typeable, never starts with "-"
  const passport = buildPassport({
    id: passportId,
    shareId,
    ridHash: ridHashOf(rid),
    principal: req.agent,
    daemonKeyId: ctx.fingerprint,
    recipient: recipientKey ? { kind: "key", publicKey: toBase64url(recipientKey) } : { kind: "bearer" },
    verbs,
    now: ctx.now,
    ttlMs,
    grantId: grant.id,
    grantRevision: grant.revision,
    ...(approval ? { approval } : {}),
  });
  const signed = signPassport(passport, ctx.identity.signPrivate);
  const row: ShareRow = {
    id: shareId,
    agent: req.agent,
    recipientAlias: req.to ?? null,
    recipientKey: recipientKey ? toBase64url(recipientKey) : null,
    rid: toBase64url(rid),
    psk,
    passport: signed,
    verbs: Object.keys(verbs),
    state: "live",
    createdAt: ctx.now,
    expiresAt: passport.expiresAt,
    endedAt: null,
    originalExpiresAt: passport.expiresAt,
    relayUrl: ctx.relayUrl,
  };
  // The handle carries both daemon keys (the code the person checks covers both, SPEC.md §8.2);
  // the sealed secret is bound to everything else in it (SPEC.md §9).
  const context = { relayUrl: ctx.relayUrl, rid, daemonPublicKey: ctx.identity.noisePublic, signPublicKey: ctx.identity.signPublic, expiresAt: passport.expiresAt };
  const handle = encodeHandle({
    ...context,
    secret: recipientKey ? { kind: "sealed", sealed: sealToRecipient(recipientKey, psk, sealContext(context), ctx.random) } : { kind: "bearer", psk },
  });
  return { row, passport: signed, handle };
}
