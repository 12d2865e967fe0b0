// A share's lifetime (SPEC.md §15.4): the share record, where it stands at a given moment, its
// extension (a passport re-issued now), the 10-minute linger of an ended share's relay leg, and
// what a daemon restart does with each stored share. Pure: the clock is passed in; the daemon's
// ShareManager keeps the timers and writes the store.
import * as v from "valibot";
import { parseShareTtl } from "../capability/limits.ts";
import { signPassport, verifyPassport, type SignatureCheck } from "../capability/passport.ts";
import { deniedError, OpenScopeError } from "../errors.ts";
import { SHARE_STATES, type ShareState } from "../capability/policy.ts";

/** A share as stored (SPEC.md §15.1). */
export interface ShareRow {
  id: string;
  agent: string;
  recipientAlias: string | null; // null = bearer
  recipientKey: string | null; // base64url X25519
  rid: string; // base64url
  psk: Uint8Array;
  passport: string; // signed passport string
  verbs: string[];
  state: ShareState["state"];
  createdAt: number;
  expiresAt: number;
  endedAt: number | null;
  originalExpiresAt: number;
  /** The relay the share was opened at (its handle names it); null for shares stored before schema 3. */
  relayUrl?: string | null;
}

/** A share as `share list --json` and the watch stream show it (SPEC.md §14). */
export const ShareSummary = v.looseObject({
  id: v.string(),
  agent: v.string(),
  /** The recipient's alias, or "bearer". */
  recipient: v.string(),
  verbs: v.array(v.string()),
  state: v.picklist(SHARE_STATES),
  expires_at: v.string(),
  connected: v.boolean(),
});
export type ShareSummary = v.InferOutput<typeof ShareSummary>;

/** The row as listed at `now`: its state now, its expiry as ISO text. */
export function summarize(row: ShareRow, now: number, connected: boolean): ShareSummary {
  return {
    id: row.id,
    agent: row.agent,
    recipient: row.recipientAlias ?? "bearer",
    verbs: row.verbs,
    state: currentState(row, now).state,
    expires_at: new Date(row.expiresAt).toISOString(),
    connected,
  };
}

/** An ended share keeps its relay leg this long, to tell a late recipient why. */
export const LINGER_MS = 10 * 60_000;

/** Where the share stands now: a live share past its expiry is expired, even before its timer fires. */
export function currentState(row: Pick<ShareRow, "state" | "expiresAt">, now: number): ShareState {
  if (row.state === "live" && row.expiresAt <= now) return { state: "expired", expiresAt: row.expiresAt };
  return { state: row.state, expiresAt: row.expiresAt };
}

/** When an ended share's relay leg is let go (null while the share is live). */
export function lingerEndsAt(row: Pick<ShareRow, "state" | "endedAt" | "expiresAt">): number | null {
  if (row.state === "live") return null;
  return (row.endedAt ?? row.expiresAt) + LINGER_MS;
}

/** Whether an ended share's session secret is to be zeroed at rest: its linger is over (SPEC.md §15.4). */
export function pskIsSpent(row: Pick<ShareRow, "state" | "endedAt" | "expiresAt">, now: number): boolean {
  const until = lingerEndsAt(row);
  return until !== null && until <= now;
}

/**
 * After a restart: a live share whose expiry passed while the daemon was down is expired (at its
 * expiry); a share whose linger is over is not attached again; the rest come back as they were.
 */
export function afterRestart(row: Pick<ShareRow, "state" | "endedAt" | "expiresAt">, now: number): { expire: boolean; attach: boolean } {
  const expire = row.state === "live" && row.expiresAt <= now;
  const ended = expire ? { state: "expired" as const, endedAt: row.expiresAt, expiresAt: row.expiresAt } : row;
  const until = lingerEndsAt(ended);
  return { expire, attach: until === null || until > now };
}

/**
 * `share extend`: the expiry becomes now + ttl (at most 30 minutes) and the passport is re-issued
 * now with that expiry, so a passport never spans more than the cap (SPEC.md §5, §6). The stored
 * passport is verified first: an edited database row is refused, never given a fresh signature
 * (THREAT-MODEL.md, "What must never happen").
 */
export function extendShare(
  row: Pick<ShareRow, "id" | "passport">,
  ttl: string,
  now: number,
  keys: { signPrivateKey: Uint8Array; signPublicKey: Uint8Array; check?: SignatureCheck },
): { expiresAt: number; passport: string } {
  const expiresAt = now + parseShareTtl(ttl);
  let stored;
  try {
    stored = verifyPassport(row.passport, keys.signPublicKey, keys.check);
  } catch (e) {
    throw storedPassportRefused(row.id, e);
  }
  const passport = signPassport({ ...stored, issuedAt: now, expiresAt }, keys.signPrivateKey);
  return { expiresAt, passport };
}

/** The refusal of a stored passport that does not verify: the row was changed outside the daemon. */
export function storedPassportRefused(shareId: string, cause: unknown): OpenScopeError {
  const why = cause instanceof OpenScopeError ? cause.message : "passport: damaged";
  return deniedError(`share ${shareId}: the stored passport does not verify (${why}); not re-signed`, [
    "the share's database row was changed outside the daemon: revoke it with `openscope share revoke` and open a new share",
  ]);
}

/** A timer's delay to `at`: never negative, and within what setTimeout can hold. */
export function delayUntil(at: number, now: number): number {
  return Math.min(Math.max(0, at - now), 2 ** 31 - 1);
}
