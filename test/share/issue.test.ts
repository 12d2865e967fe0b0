// Issuing a share (lib/share/issue.ts) as a pure function: a fixed clock and a fixed random
// source give one fixed row, passport and handle; the handle opens to the row's rendezvous id and
// session secret (sealed to the recipient, or in clear for a bearer share); the passport is the
// attenuated grant; and every refusal is the documented error before anything is drawn.
import { describe, expect, test } from "bun:test";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { parseCatalog } from "../../lib/capability/catalog.ts";
import { grantVerbsFromSpecs } from "../../lib/capability/grant.ts";
import { ridHashOf, verifyPassport } from "../../lib/capability/passport.ts";
import { parseVerbSpec } from "../../lib/capability/verbspec.ts";
import { fingerprint } from "../../lib/crypto/fingerprint.ts";
import { encodePublicKey } from "../../lib/crypto/keys.ts";
import { openSealed } from "../../lib/crypto/sealedbox.ts";
import { OpenScopeError } from "../../lib/errors.ts";
import { issueShare, type IssueContext, type ShareRequest } from "../../lib/share/issue.ts";
import { decodeHandle, sealContext } from "../../lib/wire/handle.ts";
import { toBase64url } from "../../lib/bytes.ts";

const NOW = 1_790_000_000_000;
const catalog = parseCatalog(await Bun.file(`${import.meta.dir}/../vectors/capability-catalog.toml`).text());
const grant = { id: "g1", revision: 2, verbs: grantVerbsFromSpecs(catalog, ["ssh.tail_logs:lines=1..500", "ssh.restart_service"].map(parseVerbSpec)) };

const signPrivate = new Uint8Array(32).fill(3);
const noisePrivate = new Uint8Array(32).fill(4);
const recipientPrivate = new Uint8Array(32).fill(5);
const recipientPublic = x25519.getPublicKey(recipientPrivate);
const noisePublic = x25519.getPublicKey(noisePrivate);
const signPublic = ed25519.getPublicKey(signPrivate);

/** Bytes 0, 1, 2, … across calls: each draw is visible in the output. */
function counter(): (n: number) => Uint8Array {
  let next = 0;
  return (n) => Uint8Array.from({ length: n }, () => next++ & 0xff);
}
const bytes = (from: number, n: number) => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);

function ctx(over: Partial<IssueContext> = {}): IssueContext {
  return {
    now: NOW,
    random: counter(),
    identity: { signPrivate, signPublic, noisePublic },
    fingerprint: fingerprint(noisePublic, signPublic),
    relayUrl: "wss://relay.example:8443",
    recipientKey: encodePublicKey(recipientPublic),
    ...over,
  };
}

const GOLDEN_HANDLE =
  "osh1AgAAAaDEYruAEBAREhMUFRYXGBkaGxwdHh-sAbIgnoY1T7hTI3td4PT6sTx_y_QzphwBk2lhf-zxC-1JKMYo0cLG6ukDOJBZlWEpWSc6XGP5NjbBRhSshzfRABh3c3M6Ly9yZWxheS5leGFtcGxlOjg0NDMUP9xaB7Vy0mOdnRQG4dLFxsSgGTsTAj7FiUeNALFmO66smnyJTfaEhZ6_We-DpqCQxsEZf2OMcz8IoqFModBqmr_PM3PUh7R39GAp2BuADjMJ45g";

const toVendor: ShareRequest = { agent: "you", verbs: ["ssh.tail_logs:service=web,lines=1..50"], to: "vendor-b", ttl: "20m" };

describe("issueShare", () => {
  test("a fixed clock and random source give a fixed row, passport and handle", () => {
    const a = issueShare(toVendor, grant, catalog, ctx());
    const b = issueShare(toVendor, grant, catalog, ctx());
    expect(b).toEqual(a);
    expect(a.row).toEqual({
      id: "404142434445", // the fourth draw: bytes 64..69
      agent: "you",
      recipientAlias: "vendor-b",
      recipientKey: toBase64url(recipientPublic),
      rid: toBase64url(bytes(16, 16)),
      psk: bytes(32, 32),
      passport: a.passport,
      verbs: ["ssh.tail_logs"],
      state: "live",
      createdAt: NOW,
      expiresAt: NOW + 20 * 60_000,
      endedAt: null,
      originalExpiresAt: NOW + 20 * 60_000,
      relayUrl: "wss://relay.example:8443", // where its leg dials again after a restart
    });
    // Pinned: a change of draw order, encoding or signing shows here first.
    expect(a.handle).toBe(GOLDEN_HANDLE);
    expect(a.passport.endsWith(".2DbXdLxNlkONda1omQeb4sRocMpRiqeWYQL8xCuZiQn0MJu1UPBDjQPpzl1Z_pgAxly1BV0YJA9q1tKDZz3NDw")).toBe(true);
  });

  test("the passport is the attenuated grant, signed by the daemon, bound to the recipient key", () => {
    const { passport } = issueShare(toVendor, grant, catalog, ctx());
    expect(verifyPassport(passport, ed25519.getPublicKey(signPrivate))).toEqual({
      v: 1,
      id: toBase64url(bytes(0, 16)),
      // Bound to its share: the share id (the fourth draw) and the hash of the rid (the second).
      shareId: "404142434445",
      ridHash: ridHashOf(bytes(16, 16)),
      principal: "you",
      daemonKeyId: fingerprint(noisePublic, signPublic),
      recipient: { kind: "key", publicKey: toBase64url(recipientPublic) },
      verbs: { "ssh.tail_logs": { lines: { kind: "range", min: 1, max: 50 }, service: { kind: "enum", values: ["web"] } } },
      issuedAt: NOW,
      expiresAt: NOW + 20 * 60_000,
      grantId: "g1",
      grantRevision: 2,
    });
  });

  test("a --to handle carries the rid, the daemon key and the secret sealed to the recipient", () => {
    const { row, handle } = issueShare(toVendor, grant, catalog, ctx());
    const h = decodeHandle(handle);
    expect(h.relayUrl).toBe("wss://relay.example:8443");
    expect(toBase64url(h.rid)).toBe(row.rid);
    expect(h.daemonPublicKey).toEqual(noisePublic);
    expect(h.signPublicKey).toEqual(signPublic);
    expect(h.expiresAt).toBe(row.expiresAt);
    if (h.secret.kind !== "sealed") throw new Error("expected a sealed secret");
    expect(openSealed(recipientPrivate, h.secret.sealed, sealContext(h))).toEqual(row.psk);
  });

  test("a bearer handle carries the secret in clear and the passport names no key", () => {
    const { row, handle, passport } = issueShare({ agent: "you", verbs: ["ssh.restart_service"], bearer: true, ttl: "5m" }, grant, catalog, ctx());
    expect(row.recipientAlias).toBeNull();
    expect(row.recipientKey).toBeNull();
    expect(decodeHandle(handle).secret).toEqual({ kind: "bearer", psk: row.psk });
    expect(verifyPassport(passport, ed25519.getPublicKey(signPrivate)).recipient).toEqual({ kind: "bearer" });
  });

  test("other randomness gives other ids and secrets", () => {
    const a = issueShare(toVendor, grant, catalog, ctx());
    const b = issueShare(toVendor, grant, catalog, ctx({ random: (n) => new Uint8Array(n).fill(0xa5) }));
    expect(b.row.id).not.toBe(a.row.id);
    expect(b.row.rid).not.toBe(a.row.rid);
    expect(b.row.psk).not.toEqual(a.row.psk);
    expect(b.handle).not.toBe(a.handle);
  });

  const refusals: Array<[string, ShareRequest, Partial<IssueContext>, typeof grant | undefined, string, RegExp]> = [
    ["no verb", { ...toVendor, verbs: [] }, {}, grant, "usage", /at least one --verb/],
    ["both --to and --bearer", { ...toVendor, bearer: true }, {}, grant, "usage", /exactly one/],
    ["neither --to nor --bearer", { ...toVendor, to: undefined }, {}, grant, "usage", /exactly one/],
    ["a TTL over the cap", { ...toVendor, ttl: "31m" }, {}, grant, "usage", /over the 30m cap/],
    ["a malformed --verb", { ...toVendor, verbs: ["ssh.tail_logs:service"] }, {}, grant, "usage", /./],
    ["an agent with no grant", toVendor, {}, undefined, "denied", /has no grant/],
    ["a verb outside the grant", { ...toVendor, verbs: ["ssh.reboot"] }, {}, grant, "denied", /not in your grant/],
    ["a value outside the grant", { ...toVendor, verbs: ["ssh.tail_logs:lines=1..900"] }, {}, grant, "denied", /not in your grant/],
    ["an unregistered recipient", toVendor, { recipientKey: undefined }, grant, "usage", /unknown recipient "vendor-b"/],
  ];
  for (const [label, req, over, g, kind, message] of refusals)
    test(`refuses ${label}`, () => {
      let draws = 0;
      let err: unknown;
      try {
        issueShare(req, g, catalog, ctx({ ...over, random: (n) => (draws++, new Uint8Array(n)) }));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OpenScopeError);
      expect((err as OpenScopeError).kind).toBe(kind as OpenScopeError["kind"]);
      expect((err as OpenScopeError).message).toMatch(message);
      expect(draws).toBe(0);
    });
});
