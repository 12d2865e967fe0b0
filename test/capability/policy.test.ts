// The chokepoint (lib/capability/policy.ts, SPEC.md §6): a named table of negative cases with exact deny
// reasons, the fill-in rules for pins and defaults, and ≥10,000 random (grant, request, call)
// triples showing that every allowed call is inside the passport, the current grant and the catalog.
import { describe, expect, test } from "bun:test";
import { ed25519 } from "@noble/curves/ed25519.js";
import fc from "fast-check";
import { renderArgv } from "../../lib/exec/argv.ts";
import { parseCatalog } from "../../lib/capability/catalog.ts";
import { admits } from "../../lib/capability/constraint.ts";
import { OpenScopeError } from "../../lib/errors.ts";
import { type GrantVerbs, attenuate, grantVerbsFromSpecs } from "../../lib/capability/grant.ts";
import { type Passport, buildPassport, canonicalPassportBytes, ridHashOf, signPassport } from "../../lib/capability/passport.ts";
import { type Decision, type DenyReason, type ShareBinding, type ShareState, DENY_REASONS, decide, decideSigned } from "../../lib/capability/policy.ts";
import { parseVerbSpec } from "../../lib/capability/verbspec.ts";
import { toBase64url } from "../../lib/bytes.ts";

const catalog = parseCatalog(await Bun.file(`${import.meta.dir}/../vectors/capability-catalog.toml`).text());
const specs = (...texts: string[]) => texts.map(parseVerbSpec);
const sk = new Uint8Array(32).fill(3);
const daemonPk = ed25519.getPublicKey(sk);
const NOW = 1_790_000_000_000;
const MIN = 60_000;
const holder = toBase64url(new Uint8Array(32).fill(0x11));
const stranger = toBase64url(new Uint8Array(32).fill(0x22));

const grant = grantVerbsFromSpecs(catalog, specs("ssh.tail_logs:service=web|api", "ssh.restart_service:service=web|api", "files.read", "sys.uptime"));
const shareVerbs = attenuate(catalog, grant, specs("ssh.tail_logs:service=web,lines=1..500", "ssh.restart_service:service=web", "files.read"));
/** The share row the passport was issued for (SPEC.md §5.1): its id and rendezvous id. */
const bound: ShareBinding = { shareId: "0123456789ab", rid: toBase64url(new Uint8Array(16).fill(9)) };
const passport = buildPassport({
  id: toBase64url(new Uint8Array(16).fill(5)),
  shareId: bound.shareId,
  ridHash: ridHashOf(new Uint8Array(16).fill(9)),
  principal: "you",
  daemonKeyId: "fp",
  recipient: { kind: "key", publicKey: holder },
  verbs: shareVerbs,
  now: NOW,
  ttlMs: 30 * MIN,
  grantId: "g1",
  grantRevision: 1,
});
const signed = signPassport(passport, sk);
const live: ShareState = { state: "live", expiresAt: NOW + 30 * MIN };

interface Case {
  call?: unknown;
  signedPassport?: string;
  currentGrant?: GrantVerbs | undefined;
  currentGrantId?: string | undefined;
  share?: ShareState;
  boundTo?: ShareBinding;
  callerKey?: string | null;
  now?: number;
}
function run(c: Case): Decision {
  return decideSigned({
    call: "call" in c ? c.call : { verb: "ssh.tail_logs", params: { lines: "50" } },
    signedPassport: c.signedPassport ?? signed,
    daemonPublicKey: daemonPk,
    currentGrant: "currentGrant" in c ? c.currentGrant : grant,
    currentGrantId: "currentGrantId" in c ? c.currentGrantId : "g1",
    share: c.share ?? live,
    boundTo: c.boundTo ?? bound,
    callerKey: "callerKey" in c ? c.callerKey! : holder,
    now: c.now ?? NOW + MIN,
    catalog,
  });
}

/** Signs arbitrary payload bytes as the daemon would, for hostile but validly signed passports. */
function signRaw(obj: unknown): string {
  const payload = new TextEncoder().encode(JSON.stringify(obj));
  const ctx = new TextEncoder().encode("openscope passport v1\0");
  const msg = new Uint8Array([...ctx, ...payload]);
  return `osp1.${toBase64url(payload)}.${toBase64url(ed25519.sign(msg, sk))}`;
}
const canonical = JSON.parse(new TextDecoder().decode(canonicalPassportBytes(passport)));
const narrowedGrant = grantVerbsFromSpecs(catalog, specs("ssh.tail_logs:service=web,lines=1..100", "files.read"));

const negatives: [string, Case, DenyReason, string][] = [
  ["expired (clock past expiry)", { now: NOW + 30 * MIN }, "expired", "this share has expired"],
  ["expired (share state)", { share: { state: "expired", expiresAt: NOW } }, "expired", "this share has expired"],
  ["revoked", { share: { state: "revoked", expiresAt: NOW + 30 * MIN } }, "revoked", "this share was revoked by the operator"],
  ["verb dropped from the passport", { call: { verb: "sys.uptime", params: {} } }, "verb_not_in_passport", "sys.uptime is not in this share (verbs: files.read, ssh.restart_service, ssh.tail_logs)"],
  ["verb unknown everywhere", { call: { verb: "rm -rf /", params: {} } }, "verb_not_in_passport", '"rm -rf /" is not in this share (verbs: files.read, ssh.restart_service, ssh.tail_logs)'],
  ["enum value outside", { call: { verb: "ssh.tail_logs", params: { service: "api" } } }, "param_outside_passport", "service=api is outside this share (allowed: web)"],
  ["range outside", { call: { verb: "ssh.tail_logs", params: { lines: "9000" } } }, "param_outside_passport", "lines=9000 is outside this share (allowed: 1..500)"],
  ["pinned value replaced", { call: { verb: "ssh.restart_service", params: { service: "api" } } }, "param_outside_passport", "service=api is outside this share (allowed: web)"],
  ["pattern not matched", { call: { verb: "files.read", params: { name: "../../etc/passwd" } } }, "param_outside_passport", 'name=../../etc/passwd is outside this share (allowed: matching ^[a-z][a-z0-9_-]{0,15}$)'],
  ["tampered signature", { signedPassport: signed.slice(0, -3) + (signed.at(-3) === "A" ? "B" : "A") + signed.slice(-2) }, "malformed", "this share's passport is invalid"],
  ["reordered fields", { signedPassport: signRaw({ id: canonical.id, ...canonical }) }, "malformed", "this share's passport is invalid"],
  ["wrong holder", { callerKey: stranger }, "wrong_recipient", "this share belongs to another recipient key"],
  ["bearer caller on a --to share", { callerKey: null }, "wrong_recipient", "this share belongs to another recipient key"],
  ["grant narrowed after issue", { call: { verb: "ssh.tail_logs", params: { lines: "400" } }, currentGrant: narrowedGrant }, "param_outside_grant", "lines=400 is no longer allowed by the operator"],
  ["verb removed from the grant after issue", { call: { verb: "ssh.restart_service", params: {} }, currentGrant: narrowedGrant }, "param_outside_grant", "ssh.restart_service is no longer granted by the operator"],
  ["whole grant revoked after issue", { currentGrant: undefined, currentGrantId: undefined }, "param_outside_grant", "ssh.tail_logs is no longer granted by the operator"],
  ["grant revoked, then granted again (a new grant id)", { currentGrantId: "g2" }, "param_outside_grant", "this share's grant was replaced by the operator; ask for a new share"],
  ["unknown constraint kind", { signedPassport: signRaw({ ...canonical, verbs: { "files.read": { name: { kind: "glob", glob: "*" } } } }) }, "malformed", "this share's passport is invalid"],
  ["over-30-minute TTL", { signedPassport: signRaw({ ...canonical, expiresAt: canonical.issuedAt + 31 * MIN }) }, "malformed", "this share's passport is invalid"],
  ["unknown passport version", { signedPassport: signRaw({ ...canonical, v: 2 }) }, "malformed", "this share's passport is invalid"],
  ["unknown parameter", { call: { verb: "ssh.tail_logs", params: { lines: "5", colour: "red" } } }, "malformed", "ssh.tail_logs: unknown parameter colour (parameters: lines, service)"],
  ["call is not an object", { call: "ssh.tail_logs" }, "malformed", "malformed call: Invalid type: Expected Object but received \"ssh.tail_logs\""],
  ["value is a number, not a string", { call: { verb: "ssh.tail_logs", params: { lines: 50 } } }, "malformed", "malformed call: Invalid type: Expected string but received 50"],
  ["extra field in the call", { call: { verb: "ssh.tail_logs", params: {}, sudo: true } }, "malformed", 'malformed call: Invalid key: Expected never but received "sudo"'],
  ["constructor key", { call: { verb: "ssh.tail_logs", params: { constructor: "x" } } }, "malformed", "malformed call: bad parameter name"],
  ["prototype key", { call: JSON.parse('{"verb":"ssh.tail_logs","params":{"__proto__":{"x":"1"}}}') }, "malformed", "malformed call: bad parameter name"],
  ["10 KB value", { call: { verb: "files.read", params: { name: "a".repeat(10_000) } } }, "malformed", "malformed call: a value is longer than 256 characters"],
  ["missing value with no pin or default", { call: { verb: "files.read", params: {} } }, "malformed", "files.read: missing name (allowed: matching ^[a-z][a-z0-9_-]{0,15}$)"],
];

describe("decide: named negative cases", () => {
  for (const [label, c, reason, message] of negatives)
    test(label, () => {
      const d = run(c);
      expect(d).toEqual({ allow: false, reason, message });
    });
  test("every deny reason of the closed set is covered by the table", () => {
    expect(new Set(negatives.map((n) => n[2]))).toEqual(new Set(DENY_REASONS));
  });
});

describe("decide: allowed calls are complete", () => {
  test("pins fill omitted parameters; defaults fill the rest", () => {
    expect(run({ call: { verb: "ssh.tail_logs", params: {} } })).toEqual({ allow: true, params: { lines: "100", service: "web" } });
    expect(run({ call: { verb: "ssh.tail_logs", params: { lines: "7", service: "web" } } })).toEqual({ allow: true, params: { lines: "7", service: "web" } });
    expect(run({ call: { verb: "ssh.restart_service", params: {} } })).toEqual({ allow: true, params: { service: "web" } });
  });
  test("a default outside the share is denied in passport terms", () => {
    const p = buildPassport({ ...passport, verbs: attenuate(catalog, grant, specs("ssh.tail_logs:lines=1..50")), now: NOW, ttlMs: 10 * MIN, id: passport.id });
    const d = decide({ call: { verb: "ssh.tail_logs", params: { service: "web" } }, passport: p, currentGrant: grant, currentGrantId: "g1", share: live, boundTo: bound, callerKey: holder, now: NOW + 1, catalog });
    expect(d).toEqual({ allow: false, reason: "param_outside_passport", message: "lines=100 (the default) is outside this share (allowed: 1..50)" });
  });
  test("a bearer share admits any caller", () => {
    const p: Passport = { ...passport, recipient: { kind: "bearer" } };
    for (const callerKey of [null, stranger])
      expect(decide({ call: { verb: "files.read", params: { name: "notes" } }, passport: p, currentGrant: grant, currentGrantId: "g1", share: live, boundTo: bound, callerKey, now: NOW + 1, catalog }).allow).toBe(true);
  });
  test("deny messages never reveal the wider grant", () => {
    for (const [, c] of negatives) {
      const d = run(c);
      if (!d.allow) expect(d.message).not.toContain("worker"); // in the grant's catalog, never in this share
      if (!d.allow) expect(d.message).not.toMatch(/allowed: [^)]*\b(api|db|5000)\b/);
    }
  });
});

// ---- the property: ≥10,000 random (grant, request, call) triples ----
const POOL: Record<string, string[]> = {
  service: ["web", "api", "db", "worker", "mail", "", "web ", "WEB", "web;rm", "$(id)"],
  lines: ["1", "2", "50", "100", "500", "4999", "5000", "5001", "0", "-1", "050", "1e3", " 5"],
  name: ["a", "notes", "a-b", "a_b", "-a", "A", "a/b", "..", "a b", "x".repeat(16), "x".repeat(17), "a\nb"],
  tag: ["a", "A_1", "x".repeat(32), "x".repeat(33), "a-b", "a b", "`id`"],
};
const VALID: Record<string, string[]> = {
  service: ["web", "api", "db", "worker"],
  lines: ["1", "2", "50", "100", "500", "4999", "5000"],
  name: ["a", "notes", "a-b", "a_b", "x".repeat(16)],
  tag: ["a", "A_1", "x".repeat(32)],
};
// Mostly pins inside the catalog (so grants and shares get issued), sometimes anything.
const pinArb = (param: string, valid = 4) =>
  fc.oneof(
    { weight: valid, arbitrary: fc.subarray(VALID[param]!, { minLength: 1, maxLength: 3 }).map((vs) => vs.join("|")) },
    { weight: param === "lines" ? valid : 0, arbitrary: fc.tuple(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 5000 })).map(([a, b]) => `${Math.min(a, b)}..${Math.max(a, b)}`) },
    { weight: 1, arbitrary: fc.subarray(POOL[param]!.filter((x) => /^[!-~]+$/.test(x) && !/[,|]/.test(x)), { minLength: 1, maxLength: 3 }).map((vs) => vs.join("|")) },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: -2, max: 5100 }), fc.integer({ min: -2, max: 5100 })).map(([a, b]) => `${Math.min(a, b)}..${Math.max(a, b)}`) },
  );
const specArbWith = (valid: number) =>
  fc
    .tuple(fc.constantFrom(...catalog.keys()), fc.array(fc.constantFrom<string>("service", "lines", "name", "tag"), { maxLength: 3 }))
    .chain(([verb, which]) => {
      const params = Object.keys(catalog.get(verb)!.params).filter((p) => which.includes(p));
      return fc.tuple(...params.map((p) => pinArb(p, valid))).map((pins) => (pins.length ? `${verb}:${params.map((p, i) => `${p}=${pins[i]}`).join(",")}` : verb));
    });
const specsArb = (valid: number) => fc.uniqueArray(specArbWith(valid), { minLength: 1, maxLength: 5, selector: (s) => s.split(":")[0] });
const shareArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant<ShareState>({ state: "live", expiresAt: NOW + 30 * MIN }) },
  { weight: 1, arbitrary: fc.constantFrom<ShareState>({ state: "revoked", expiresAt: NOW + 30 * MIN }, { state: "expired", expiresAt: NOW }, { state: "live", expiresAt: NOW }) },
);

function grantOrNull(texts: string[]): GrantVerbs | null {
  try {
    return grantVerbsFromSpecs(catalog, specs(...texts));
  } catch (e) {
    if (!(e instanceof OpenScopeError) || e.kind !== "usage") throw e;
    return null;
  }
}

test("property: whenever decide allows, the call is inside the passport, the current grant and the catalog (10,000 triples)", () => {
  let allowed = 0;
  fc.assert(
    fc.property(specsArb(24), specsArb(4), fc.option(specsArb(8), { freq: 3 }), fc.gen(), shareArb, fc.boolean(), fc.boolean(), (g, r, later, gen, share, bearer, rightKey) => {
      const granted = grantOrNull(g);
      if (!granted) return;
      // Half the requests name only verbs of the grant, so attenuation often succeeds.
      // A third of them also drop their pins (open parameters copy the grant).
      const mode = gen(fc.constantFrom, "as-is", "granted", "granted-open");
      const held = r.filter((x) => Object.hasOwn(granted, x.split(":")[0]!));
      const request = mode === "as-is" ? r : held.length === 0 ? Object.keys(granted) : held.map((x) => (mode === "granted" ? x : x.split(":")[0]!));
      let verbs: GrantVerbs;
      try {
        verbs = attenuate(catalog, granted, specs(...request));
      } catch (e) {
        expect(["usage", "denied"]).toContain((e as OpenScopeError).kind);
        return;
      }
      // the grant may be narrowed (or replaced) after the share is issued
      const current = later === null ? granted : (grantOrNull(later) ?? undefined);
      const p: Passport = { ...passport, verbs, recipient: bearer ? { kind: "bearer" } : { kind: "key", publicKey: holder } };
      const callerKey = rightKey ? holder : stranger;
      // The call: usually a passport verb with values the passport admits, sometimes anything.
      const verb = gen(fc.boolean) ? gen(fc.constantFrom, ...Object.keys(verbs)) : gen(fc.constantFrom, ...catalog.keys(), "nope.verb");
      const call = { verb, params: {} as Record<string, string> };
      for (const k of [...Object.keys(catalog.get(verb)?.params ?? {}), "extra"]) {
        const pool = POOL[k] ?? ["1"];
        const fitting = pool.filter((x) => verbs[verb]?.[k] !== undefined && admits(verbs[verb]![k]!, x));
        const how = gen(fc.constantFrom, "omit", "fit", "fit", "fit", "any");
        if (k === "extra" && how !== "any") continue;
        if (how === "any") call.params[k] = gen(fc.constantFrom, ...pool);
        else if (how === "fit" && fitting.length) call.params[k] = gen(fc.constantFrom, ...fitting);
      }
      const d = decide({ call, passport: p, currentGrant: current, currentGrantId: "g1", share, boundTo: bound, callerKey, now: NOW + MIN, catalog });
      if (!d.allow) {
        expect(DENY_REASONS).toContain(d.reason);
        return;
      }
      allowed++;
      expect(share.state).toBe("live");
      if (!bearer) expect(callerKey).toBe(holder);
      const def = catalog.get(call.verb)!;
      expect(Object.hasOwn(p.verbs, call.verb)).toBe(true);
      expect(current !== undefined && Object.hasOwn(current, call.verb)).toBe(true);
      expect(Object.keys(d.params).sort()).toEqual(Object.keys(def.params).sort());
      for (const [k, value] of Object.entries(d.params)) {
        expect(admits(p.verbs[call.verb]![k]!, value)).toBe(true);
        expect(admits(current![call.verb]![k]!, value)).toBe(true);
        expect(admits(granted[call.verb]![k]!, value)).toBe(true);
        expect(admits(def.params[k]!.constraint, value)).toBe(true);
        if (Object.hasOwn(call.params, k)) expect(value).toBe(call.params[k]!);
      }
      for (const k of Object.keys(call.params)) expect(Object.hasOwn(def.params, k)).toBe(true);
      expect(() => renderArgv(def, d.params)).not.toThrow();
    }),
    { numRuns: 10_000 },
  );
  expect(allowed).toBeGreaterThan(500); // (≈950 per run) the generator reaches the allow path, so the property is not vacuous
});

test("fuzz: any untrusted call value gets a decision, never an exception (3000 runs)", () => {
  const callish = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.record({ verb: fc.oneof(fc.constantFrom(...Object.keys(shareVerbs)), fc.string()), params: fc.dictionary(fc.string({ maxLength: 12 }), fc.oneof(fc.string({ maxLength: 300 }), fc.jsonValue({ maxDepth: 1 }))) }),
  );
  fc.assert(
    fc.property(callish, (call) => {
      const d = decide({ call, passport, currentGrant: grant, currentGrantId: "g1", share: live, boundTo: bound, callerKey: holder, now: NOW + MIN, catalog });
      if (!d.allow) expect(DENY_REASONS).toContain(d.reason);
      else for (const [k, value] of Object.entries(d.params)) expect(admits(passport.verbs[(call as { verb: string }).verb]![k]!, value)).toBe(true);
    }),
    { numRuns: 3000 },
  );
});

// decide() itself, on passport objects that verifyPassport would already refuse: the chokepoint
// re-checks them (fail closed), and mutation testing (issue 22) showed nothing tried it directly.
describe("decide re-checks the passport it is handed", () => {
  const call = { verb: "ssh.tail_logs", params: { lines: "50" } };
  const at = (p: Passport, over: Partial<Parameters<typeof decide>[0]> = {}) =>
    decide({ call, passport: p, currentGrant: grant, currentGrantId: "g1", share: live, boundTo: bound, callerKey: holder, now: NOW + MIN, catalog, ...over });

  test("a passport with a 31-minute lifetime is malformed", () => {
    expect(at({ ...passport, expiresAt: passport.issuedAt + 31 * MIN })).toEqual({ allow: false, reason: "malformed", message: "this share's passport is invalid" });
  });
  test("a lifetime of exactly 30 minutes is within the cap; one millisecond more is not", () => {
    expect(at({ ...passport, expiresAt: passport.issuedAt + 30 * MIN }).allow).toBe(true);
    expect(at({ ...passport, expiresAt: passport.issuedAt + 30 * MIN + 1 })).toMatchObject({ allow: false, reason: "malformed" });
  });
  test("a passport that expires before it is issued is malformed", () => {
    expect(at({ ...passport, expiresAt: passport.issuedAt })).toMatchObject({ allow: false, reason: "malformed" });
  });
  test("another passport version is malformed", () => {
    expect(at({ ...passport, v: 2 } as unknown as Passport)).toMatchObject({ allow: false, reason: "malformed" });
  });
  test("a parameter the passport leaves unconstrained is refused, not let through", () => {
    const { lines: _dropped, ...onlyService } = passport.verbs["ssh.tail_logs"]!;
    const p: Passport = { ...passport, verbs: { ...passport.verbs, "ssh.tail_logs": onlyService } };
    for (const params of [{ lines: "50" }, {}, { service: "web", lines: "50" }])
      expect(at(p, { call: { verb: "ssh.tail_logs", params } })).toEqual({
        allow: false,
        reason: "malformed",
        message: "this share's passport does not constrain ssh.tail_logs lines",
      });
  });
  test("a grant that leaves a parameter unconstrained denies the value", () => {
    const { lines: _dropped, ...onlyService } = grant["ssh.tail_logs"]!;
    expect(at(passport, { currentGrant: { ...grant, "ssh.tail_logs": onlyService } })).toEqual({
      allow: false,
      reason: "param_outside_grant",
      message: "lines=50 is no longer allowed by the operator",
    });
  });
  test("a value the passport and grant admit but the catalog no longer does is denied", () => {
    const wide = { kind: "range", min: 1, max: 9000 } as const;
    const p: Passport = { ...passport, verbs: { ...passport.verbs, "ssh.tail_logs": { ...passport.verbs["ssh.tail_logs"]!, lines: wide } } };
    const g: GrantVerbs = { ...grant, "ssh.tail_logs": { ...grant["ssh.tail_logs"]!, lines: wide } };
    expect(at(p, { currentGrant: g, call: { verb: "ssh.tail_logs", params: { lines: "6000" } } })).toMatchObject({ allow: false, reason: "param_outside_grant" });
    expect(at(p, { currentGrant: g, call: { verb: "ssh.tail_logs", params: { lines: "5000" } } }).allow).toBe(true);
  });
  test("the share's and the passport's expiry are both enforced, to the millisecond", () => {
    const exp = passport.expiresAt;
    expect(at(passport, { now: exp - 1, share: { state: "live", expiresAt: exp } }).allow).toBe(true);
    expect(at(passport, { now: exp, share: { state: "live", expiresAt: exp + MIN } })).toMatchObject({ allow: false, reason: "expired" });
    expect(at(passport, { now: NOW + MIN, share: { state: "live", expiresAt: NOW + MIN } })).toMatchObject({ allow: false, reason: "expired" });
    expect(at(passport, { now: NOW + MIN, share: { state: "live", expiresAt: NOW + MIN + 1 } }).allow).toBe(true);
    expect(at(passport, { share: { state: "expired", expiresAt: exp } })).toMatchObject({ allow: false, reason: "expired" });
  });
  test("a key share is checked against the caller's key; the right key is allowed", () => {
    expect(at(passport, { callerKey: holder }).allow).toBe(true);
    expect(at(passport, { callerKey: stranger })).toMatchObject({ allow: false, reason: "wrong_recipient" });
    expect(at(passport, { callerKey: null })).toMatchObject({ allow: false, reason: "wrong_recipient" });
  });
  test("a verb the catalog no longer offers is denied though passport and grant name it", () => {
    const smaller = new Map([...catalog].filter(([name]) => name !== "ssh.tail_logs"));
    expect(at(passport, { catalog: smaller as typeof catalog })).toEqual({
      allow: false,
      reason: "param_outside_grant",
      message: "ssh.tail_logs is no longer offered by the operator",
    });
  });
  test("inherited names are not verbs or parameters", () => {
    expect(at(passport, { call: { verb: "toString", params: {} } })).toMatchObject({ allow: false, reason: "verb_not_in_passport" });
    expect(at(passport, { call: { verb: "ssh.tail_logs", params: { hasOwnProperty: "1" } } })).toMatchObject({ allow: false, reason: "malformed" });
  });
  test("an allowed call carries exactly the catalog's parameters, given values kept", () => {
    expect(at(passport, { call: { verb: "ssh.tail_logs", params: { lines: "500" } } })).toEqual({ allow: true, params: { lines: "500", service: "web" } });
    expect(at(passport, { call: { verb: "ssh.tail_logs", params: { lines: "501" } } })).toMatchObject({ allow: false, reason: "param_outside_passport" });
    expect(at(passport, { call: { verb: "files.read", params: { name: "notes" } } })).toEqual({ allow: true, params: { name: "notes" } });
  });
  test("32 parameters pass the shape check and 33 do not", () => {
    const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, "1"]));
    expect(at(passport, { call: { verb: "ssh.tail_logs", params: many(32) } })).toMatchObject({ reason: "malformed", message: expect.stringContaining("unknown parameter") });
    expect(at(passport, { call: { verb: "ssh.tail_logs", params: many(33) } })).toEqual({ allow: false, reason: "malformed", message: "malformed call: too many parameters" });
  });
  test("a value of 256 characters passes the shape check and 257 do not", () => {
    const name = (n: number) => ({ verb: "files.read", params: { name: "a".repeat(n) } });
    expect(at(passport, { call: name(256) })).toMatchObject({ allow: false, reason: "param_outside_passport" });
    expect(at(passport, { call: name(257) })).toEqual({ allow: false, reason: "malformed", message: "malformed call: a value is longer than 256 characters" });
  });
});

// The passport is bound to its share (SPEC.md §5.1, §6 check 2): signed for one share id and one
// rendezvous id. A signed passport copied onto another share's row (a database edit) denies.
describe("a passport belongs to one share", () => {
  const otherRid = toBase64url(new Uint8Array(16).fill(10));
  const invalid: Decision = { allow: false, reason: "malformed", message: "this share's passport is invalid" };
  test("on its own row it allows", () => {
    expect(run({}).allow).toBe(true);
  });
  test("on a row with another share id it denies", () => {
    expect(run({ boundTo: { ...bound, shareId: "ba9876543210" } })).toEqual(invalid);
  });
  test("on a row with another rendezvous id it denies", () => {
    expect(run({ boundTo: { ...bound, rid: otherRid } })).toEqual(invalid);
    expect(run({ boundTo: { ...bound, rid: "not base64url!" } })).toEqual(invalid);
  });
  test("a wider share's passport moved onto a narrower share's row denies every call, in scope or not", () => {
    const wider = signPassport(
      buildPassport({ ...passport, shareId: "aaaaaaaaaaaa", ridHash: ridHashOf(new Uint8Array(16).fill(10)), verbs: attenuate(catalog, grant, specs("ssh.tail_logs", "sys.uptime")), now: NOW, ttlMs: 30 * MIN }),
      sk,
    );
    for (const call of [{ verb: "ssh.tail_logs", params: { service: "api", lines: "5" } }, { verb: "sys.uptime", params: {} }, { verb: "ssh.tail_logs", params: { lines: "5" } }])
      expect(run({ signedPassport: wider, call })).toEqual(invalid);
    // On its own row it is fine: the binding, not the content, is what denied.
    expect(run({ signedPassport: wider, boundTo: { shareId: "aaaaaaaaaaaa", rid: otherRid }, call: { verb: "sys.uptime", params: {} } }).allow).toBe(true);
  });
  test("a passport without the binding fields does not verify", () => {
    const { shareId: _s, ridHash: _r, ...unbound } = passport;
    expect(() => signPassport(unbound as Passport, sk)).toThrow();
  });
});
