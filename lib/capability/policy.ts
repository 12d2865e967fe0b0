// THE chokepoint (SPEC.md §6): one pure function decides every verb call. Default deny; allow
// only if call ⊆ passport ⊆ the principal's current grant ⊆ catalog, the share is live and the
// caller is its recipient. Deny reasons come from a closed set; messages speak in passport
// terms and never reveal the wider grant.
import * as v from "valibot";
import type { Catalog } from "./catalog.ts";
import { admits, describeConstraint, displayValue, pinnedValue } from "./constraint.ts";
import { LIMITS, lifetimeWithinCap } from "./limits.ts";
import type { GrantVerbs } from "./grant.ts";
import { type Passport, type SignatureCheck, ridHashOf, verifyPassport } from "./passport.ts";
import { decodeBase64url } from "../bytes.ts";
import { MAX_VALUE_LENGTH } from "./pattern.ts";
import { PARAM_NAME } from "./catalog.ts";

export type DenyReason =
  | "verb_not_in_passport"
  | "param_outside_passport"
  | "param_outside_grant"
  | "expired"
  | "revoked"
  | "wrong_recipient"
  | "malformed";
export const DENY_REASONS: readonly DenyReason[] = [
  "verb_not_in_passport",
  "param_outside_passport",
  "param_outside_grant",
  "expired",
  "revoked",
  "wrong_recipient",
  "malformed",
];
/** A share is live until it expires or is revoked; both ends are final (SPEC.md §15.4). */
export const SHARE_STATES = ["live", "revoked", "expired"] as const;
/** Where a share stands: the one share-state type of the store, the daemon and the decision. */
export interface ShareState {
  state: (typeof SHARE_STATES)[number];
  expiresAt: number;
}
export type Decision = { allow: true; params: Record<string, string> } | { allow: false; reason: DenyReason; message: string };

/** The call as it arrives from the wire (untrusted). */
const CallSchema = v.strictObject({
  verb: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  params: v.pipe(
    v.record(
      v.pipe(v.string(), v.regex(PARAM_NAME, "bad parameter name")),
      v.pipe(v.string(), v.maxLength(MAX_VALUE_LENGTH, `a value is longer than ${MAX_VALUE_LENGTH} characters`)),
    ),
    v.check((r) => Object.keys(r).length <= LIMITS.paramsPerCall, "too many parameters"),
  ),
});

const deny = (reason: DenyReason, message: string): Decision => ({ allow: false, reason, message });

/** The share row a passport is read from: its id and rendezvous id (base64url), as stored. */
export interface ShareBinding {
  shareId: string;
  rid: string;
}

/** Everything a decision weighs besides the passport. */
interface DecisionContext {
  call: unknown;
  currentGrant: GrantVerbs | undefined;
  /**
   * The id of the principal's current grant (undefined with no grant). A passport issued from
   * another grant (`grant revoke --all`, then `grant add` again) denies: a new grant never brings
   * old shares back (THREAT-MODEL.md).
   */
  currentGrantId: string | undefined;
  share: ShareState;
  /** The row the passport came from: a passport copied onto another share's row denies. */
  boundTo: ShareBinding;
  callerKey: string | null;
  now: number;
  catalog: Catalog;
}

export function decide(input: DecisionContext & { passport: Passport }): Decision {
  const { passport, currentGrant, currentGrantId, share, boundTo, callerKey, now, catalog } = input;

  // 1. The call's shape. Own keys of the raw object are checked by the schema (so "__proto__" fails).
  const parsed = v.safeParse(CallSchema, input.call);
  if (!parsed.success) return deny("malformed", `malformed call: ${v.summarize(parsed.issues).split("\n")[0]!.replace(/^× /, "")}`);
  const call = parsed.output;
  // valibot's record silently skips keys such as "__proto__" and "constructor": refuse them here.
  const rawKeys = Object.keys((input.call as { params: object }).params);
  if (rawKeys.length !== Object.keys(call.params).length || rawKeys.some((k) => !PARAM_NAME.test(k)))
    return deny("malformed", "malformed call: bad parameter name");
  const callVerb = call.verb;

  // 2. The passport itself (already verified when stored; re-checked here, cheaply, fail closed),
  // and it is this share's: signed for this share id and this rendezvous id (SPEC.md §5.1, §6).
  if (passport.v !== 1 || !lifetimeWithinCap(passport.issuedAt, passport.expiresAt))
    return deny("malformed", "this share's passport is invalid");
  const rid = decodeBase64url(boundTo.rid);
  if (passport.shareId !== boundTo.shareId || rid === undefined || passport.ridHash !== ridHashOf(rid))
    return deny("malformed", "this share's passport is invalid");

  // 3. Who is calling, and is the share still on.
  if (passport.recipient.kind === "key" && callerKey !== passport.recipient.publicKey)
    return deny("wrong_recipient", "this share belongs to another recipient key");
  if (share.state === "revoked") return deny("revoked", "this share was revoked by the operator");
  if (share.state !== "live" || now >= share.expiresAt || now >= passport.expiresAt) return deny("expired", "this share has expired");

  // 4. The verb: in the passport, still in the catalog and in the current grant, the very grant
  // the passport was issued from.
  const pverb = Object.hasOwn(passport.verbs, callVerb) ? passport.verbs[callVerb] : undefined;
  if (pverb === undefined) {
    const names = Object.keys(passport.verbs).sort().join(", ");
    return deny("verb_not_in_passport", `${displayValue(callVerb)} is not in this share (verbs: ${names})`);
  }
  const def = catalog.get(callVerb);
  if (def === undefined) return deny("param_outside_grant", `${callVerb} is no longer offered by the operator`);
  if (currentGrant !== undefined && currentGrantId !== passport.grantId)
    return deny("param_outside_grant", "this share's grant was replaced by the operator; ask for a new share");
  const gverb = currentGrant !== undefined && Object.hasOwn(currentGrant, callVerb) ? currentGrant[callVerb] : undefined;
  if (gverb === undefined) return deny("param_outside_grant", `${callVerb} is no longer granted by the operator`);

  // 5. Parameters: no unknown names; each value given, pinned or defaulted; inside every layer.
  for (const key of Object.keys(call.params))
    if (!Object.hasOwn(def.params, key)) {
      const names = Object.keys(def.params).sort();
      return deny("malformed", `${callVerb}: unknown parameter ${key} (${names.length ? `parameters: ${names.join(", ")}` : "it takes none"})`);
    }
  const params: Record<string, string> = {};
  for (const name of Object.keys(def.params).sort()) {
    const pc = Object.hasOwn(pverb, name) ? pverb[name] : undefined;
    if (pc === undefined) return deny("malformed", `this share's passport does not constrain ${callVerb} ${name}`);
    const given = Object.hasOwn(call.params, name) ? call.params[name] : undefined;
    const value = given ?? pinnedValue(pc) ?? def.params[name]!.default;
    if (value === undefined) return deny("malformed", `${callVerb}: missing ${name} (allowed: ${describeConstraint(pc)})`);
    const shown = `${name}=${displayValue(value)}${given === undefined ? " (the default)" : ""}`;
    if (!admits(pc, value)) return deny("param_outside_passport", `${shown} is outside this share (allowed: ${describeConstraint(pc)})`);
    const gc = Object.hasOwn(gverb, name) ? gverb[name] : undefined;
    if (gc === undefined || !admits(gc, value) || !admits(def.params[name]!.constraint, value))
      return deny("param_outside_grant", `${shown} is no longer allowed by the operator`);
    params[name] = value;
  }
  return { allow: true, params };
}

/**
 * decide() on a signed passport as stored by the daemon: a passport that fails verification
 * (tampered, non-canonical, unknown version or constraint kind, lifetime over 30 min) is "malformed".
 */
export function decideSigned(input: DecisionContext & { signedPassport: string; daemonPublicKey: Uint8Array; checkSignature?: SignatureCheck }): Decision {
  let passport: Passport;
  try {
    passport = verifyPassport(input.signedPassport, input.daemonPublicKey, input.checkSignature);
  } catch {
    return deny("malformed", "this share's passport is invalid");
  }
  const { signedPassport: _s, daemonPublicKey: _k, checkSignature: _c, ...rest } = input;
  return decide({ ...rest, passport });
}
