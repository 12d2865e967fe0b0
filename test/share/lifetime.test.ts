// A share's lifetime rules (lib/share/lifetime.ts, SPEC.md §15.4) as a table: the state at a
// moment, when an ended share's leg is let go, what a restart does with each stored share, and an
// extension that re-issues the passport now.
import { describe, expect, test } from "bun:test";
import { ed25519 } from "@noble/curves/ed25519.js";
import { buildPassport, decodePassportUnverified, signPassport, verifyPassport } from "../../lib/capability/passport.ts";
import { OpenScopeError } from "../../lib/errors.ts";
import { afterRestart, currentState, delayUntil, extendShare, LINGER_MS, lingerEndsAt, summarize, type ShareRow } from "../../lib/share/lifetime.ts";
import { decodeBase64url, toBase64url } from "../../lib/bytes.ts";

const NOW = 1_790_000_000_000;
const MIN = 60_000;

describe("currentState", () => {
  test("a live share past its expiry is expired; ended states are final", () => {
    expect(currentState({ state: "live", expiresAt: NOW + 1 }, NOW)).toEqual({ state: "live", expiresAt: NOW + 1 });
    expect(currentState({ state: "live", expiresAt: NOW }, NOW)).toEqual({ state: "expired", expiresAt: NOW });
    expect(currentState({ state: "revoked", expiresAt: NOW + MIN }, NOW)).toEqual({ state: "revoked", expiresAt: NOW + MIN });
    expect(currentState({ state: "expired", expiresAt: NOW - MIN }, NOW)).toEqual({ state: "expired", expiresAt: NOW - MIN });
  });
});

describe("linger and restart", () => {
  test("an ended share's leg goes 10 minutes after it ended (its expiry when the end is not known)", () => {
    expect(LINGER_MS).toBe(10 * MIN);
    expect(lingerEndsAt({ state: "live", endedAt: null, expiresAt: NOW })).toBeNull();
    expect(lingerEndsAt({ state: "revoked", endedAt: NOW, expiresAt: NOW + 20 * MIN })).toBe(NOW + 10 * MIN);
    expect(lingerEndsAt({ state: "expired", endedAt: null, expiresAt: NOW })).toBe(NOW + 10 * MIN);
  });

  const cases: Array<[string, { state: "live" | "revoked" | "expired"; endedAt: number | null; expiresAt: number }, { expire: boolean; attach: boolean }]> = [
    ["live and in time: back as it was", { state: "live", endedAt: null, expiresAt: NOW + MIN }, { expire: false, attach: true }],
    ["expired while the daemon was down, lately: expired and lingers", { state: "live", endedAt: null, expiresAt: NOW - MIN }, { expire: true, attach: true }],
    ["expired while the daemon was down, long ago: expired and gone", { state: "live", endedAt: null, expiresAt: NOW - 11 * MIN }, { expire: true, attach: false }],
    ["revoked within its linger: lingers", { state: "revoked", endedAt: NOW - 9 * MIN, expiresAt: NOW + MIN }, { expire: false, attach: true }],
    ["revoked past its linger: gone", { state: "revoked", endedAt: NOW - 10 * MIN, expiresAt: NOW + MIN }, { expire: false, attach: false }],
  ];
  for (const [label, row, want] of cases) test(label, () => expect(afterRestart(row, NOW)).toEqual(want));
});

describe("extendShare", () => {
  const sk = new Uint8Array(32).fill(7);
  const keys = { signPrivateKey: sk, signPublicKey: ed25519.getPublicKey(sk) };
  const SHARE = "0a1b2c3d4e5f";
  const signed = signPassport(
    buildPassport({
      id: toBase64url(new Uint8Array(16).fill(1)),
      shareId: "0123456789ab",
      ridHash: toBase64url(new Uint8Array(32).fill(2)),
      principal: "you",
      daemonKeyId: "SHA256:test",
      recipient: { kind: "bearer" },
      verbs: { "ssh.restart_service": { service: { kind: "enum", values: ["web"] } } },
      now: NOW - 25 * MIN,
      ttlMs: 30 * MIN,
      grantId: "g1",
      grantRevision: 1,
    }),
    sk,
  );

  test("the expiry becomes now + ttl and the passport is re-issued now, same id and verbs", () => {
    const { expiresAt, passport } = extendShare({ id: SHARE, passport: signed }, "15m", NOW, keys);
    expect(expiresAt).toBe(NOW + 15 * MIN);
    const before = verifyPassport(signed, ed25519.getPublicKey(sk));
    expect(verifyPassport(passport, ed25519.getPublicKey(sk))).toEqual({ ...before, issuedAt: NOW, expiresAt: NOW + 15 * MIN });
  });

  test("a TTL over the cap is a usage error", () => {
    expect(() => extendShare({ id: SHARE, passport: signed }, "31m", NOW, keys)).toThrow(OpenScopeError);
  });

  // THREAT-MODEL.md: an edited database row is never given a fresh signature.
  const edits: Array<[string, (s: string) => string]> = [
    ["a verb added to the payload, the old signature kept", (s) => {
      const [, payload, sig] = s.split(".");
      const doc = JSON.parse(new TextDecoder().decode(decodeBase64url(payload!)!));
      doc.verbs["ssh.tail_logs"] = {};
      return `osp1.${toBase64url(new TextEncoder().encode(JSON.stringify(doc)))}.${sig}`;
    }],
    ["one flipped signature character", (s) => s.slice(0, -2) + (s.at(-2) === "A" ? "B" : "A") + s.at(-1)],
    ["signed by another key", () => signPassport(decodePassportUnverified(signed), new Uint8Array(32).fill(9))],
    ["not a passport", () => "osp1.garbage"],
  ];
  for (const [what, edit] of edits)
    test(`a stored passport that does not verify is refused (denied), not re-signed: ${what}`, () => {
      let thrown: unknown;
      try {
        extendShare({ id: SHARE, passport: edit(signed) }, "15m", NOW, keys);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(OpenScopeError);
      expect((thrown as OpenScopeError).kind).toBe("denied");
      expect((thrown as OpenScopeError).message).toContain(`share ${SHARE}: the stored passport does not verify`);
    });
});

test("delayUntil is never negative and fits a timer", () => {
  expect(delayUntil(NOW - 5, NOW)).toBe(0);
  expect(delayUntil(NOW + 5, NOW)).toBe(5);
  expect(delayUntil(NOW + 2 ** 40, NOW)).toBe(2 ** 31 - 1);
});

test("summarize: a row as share list shows it, its state as of now", () => {
  const row: ShareRow = {
    id: "0a1b2c3d4e5f",
    agent: "you",
    recipientAlias: null,
    recipientKey: null,
    rid: "rid",
    psk: new Uint8Array(32),
    passport: "osp1.x.y",
    verbs: ["ssh.tail_logs"],
    state: "live",
    createdAt: NOW - MIN,
    expiresAt: NOW,
    endedAt: null,
    originalExpiresAt: NOW,
  };
  expect(summarize(row, NOW, false)).toEqual({
    id: "0a1b2c3d4e5f",
    agent: "you",
    recipient: "bearer",
    verbs: ["ssh.tail_logs"],
    state: "expired",
    expires_at: new Date(NOW).toISOString(),
    connected: false,
  });
  expect(summarize({ ...row, recipientAlias: "vendor-b" }, NOW - 1, true)).toMatchObject({ recipient: "vendor-b", state: "live", connected: true });
});
