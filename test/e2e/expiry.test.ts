// Expiry at the TTL on the compiled binaries: shares of 5 s while `stream.forever` and `logs.follow`
// stream. At expiry the stream is cut, the client exits 5 saying "expired", a later call exits 5
// "expired", and the audit shows share.expired and the call's outcome.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { Cluster, type OpenedShare, type Recipient } from "../helpers/cluster.ts";
import { shareRow, startClient } from "../helpers/e2e.ts";
import { waitFor } from "../helpers/spawn.ts";

// Each test runs the compiled programs several times: more than bun's default 5 s on 2 cores.
setDefaultTimeout(60_000);

let c: Cluster;
let vendor: Recipient;

beforeAll(async () => {
  c = await Cluster.start("binary");
  expect((await c.openscope(["grant", "add", "--agent", "you", "--verb", "stream.seq", "--verb", "stream.forever", "--verb", "logs.follow", "--verb", "echo.word"])).code).toBe(0);
  vendor = c.recipient("vendor");
  expect((await c.openscope(["recipients", "add", "vendor-b", await vendor.keygen()])).code).toBe(0);
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

async function expectExpiredInAudit(share: OpenedShare, verb: string): Promise<void> {
  // The outcome row is written once the killed verb is reaped: poll for it.
  const rows = await waitFor(async () => {
    const rows = await c.auditRows(share.id);
    return rows.some((r) => r.kind === "call.outcome" && r.verb === verb) && rows.some((r) => r.kind === "share.expired") ? rows : undefined;
  }, "share.expired and the call's outcome in the audit");
  const kinds = rows.map((r) => r.kind);
  expect(kinds.filter((k) => k === "share.expired").length).toBe(1);
  const allowed = rows.find((r) => r.kind === "call.allowed" && r.verb === verb)!;
  const outcome = rows.find((r) => r.kind === "call.outcome" && r.verb === verb)!;
  expect(allowed.seq as number).toBeLessThan(outcome.seq as number);
  expect(outcome.callId).toBe(allowed.callId);
  // Cut short: not a clean exit of the verb.
  expect(outcome.exitCode).not.toBe(0);
  expect(outcome.bytesOut as number).toBeGreaterThan(0);
}

describe("a share ends at its TTL (5s) or at revoke while the client is on", () => {
  // stream.forever, not seq: at today's speed seq 1..50000000 reaches its output cap before a 5 s TTL.
  test("stream.forever: output flows, is cut at expiry, the client exits 5 'expired'; a later call exits 5 'expired'; audited", async () => {
    const share = await c.openShare(["--agent", "you", "--verb", "stream.forever", "--verb", "echo.word", "--to", "vendor-b", "--ttl", "5s"]);
    const t0 = Date.now();
    const r = await vendor.client(["--passport", share.handle, "--fingerprint", share.fingerprint, "call", "stream.forever"], { timeoutMs: 30_000 });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("expired");
    // It streamed (the output began at 1, in order) and was cut well before 50,000,000.
    expect(r.stdout.startsWith("1\n2\n3\n")).toBe(true);
    const lines = r.stdout.split("\n");
    expect(lines.length).toBeGreaterThan(1000);
    // It did not end before the TTL.
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(share.expires_at) - 50);
    expect(Date.parse(share.expires_at) - t0).toBeLessThanOrEqual(5000);

    const later = await vendor.call(share, "echo.word", ["word=late"]);
    expect(later.code).toBe(5);
    expect(later.stderr).toContain("expired");
    expect(later.stdout).toBe("");
    expect((await shareRow(c, share.id))?.state).toBe("expired");
    await expectExpiredInAudit(share, "stream.forever");
    const ext = await c.openscope(["share", "extend", share.id, "--ttl", "5m"]);
    expect(ext.code).toBe(5);
  }, 60_000);

  test("logs.follow (tail -f) in the interactive prompt: new lines arrive, then expiry cuts it and the client exits 5", async () => {
    const share = await c.openShare(["--agent", "you", "--verb", "logs.follow:service=web", "--to", "vendor-b", "--ttl", "5s"]);
    const client = startClient(vendor, c.mode, ["--passport", share.handle, "--fingerprint", share.fingerprint]);
    try {
      client.send("logs.follow");
      await waitFor(() => client.stdout().includes("web line 100"), "the follow to print the last line", 10_000);
      appendFileSync(join(c.dir, "data", "logs", "web.log"), "fresh line while following\n");
      await waitFor(() => client.stdout().includes("fresh line while following"), "the appended line to stream", 10_000);
      expect(await client.exited).toBe(5);
      expect(client.stderr()).toContain("expired");
    } finally {
      client.kill();
    }
    await expectExpiredInAudit(share, "logs.follow");
    const later = await vendor.call(share, "logs.follow");
    expect(later.code).toBe(5);
    expect(later.stderr).toContain("expired");
  }, 60_000);

  test("an idle interactive client is told 'expired' at the TTL and exits 5; share list shows it expired, not connected", async () => {
    const share = await c.openShare(["--agent", "you", "--verb", "echo.word", "--to", "vendor-b", "--ttl", "5s"]);
    const client = startClient(vendor, c.mode, ["--passport", share.handle, "--fingerprint", share.fingerprint]);
    try {
      client.send("echo.word word=early");
      await waitFor(() => client.stdout().includes("early"), "the first call's output", 10_000);
      expect(await client.exited).toBe(5);
      expect(client.stderr()).toContain("expired");
    } finally {
      client.kill();
    }
    const row = await waitFor(async () => {
      const s = await shareRow(c, share.id);
      return s && !s.connected ? s : undefined;
    }, "the share to show not connected");
    expect(row.state).toBe("expired");
  }, 60_000);

  test("revoke while stream.seq streams fast: the client is told 'revoked by the operator' (exit 5), the verb is killed and audited", async () => {
    const share = await c.openShare(["--agent", "you", "--verb", "stream.seq", "--to", "vendor-b", "--ttl", "5m"]);
    const client = startClient(vendor, c.mode, ["--passport", share.handle, "--fingerprint", share.fingerprint, "call", "stream.seq", "count=50000000"]);
    try {
      await waitFor(() => client.stdout().length > 1_000_000, "a megabyte of output", 20_000);
      expect((await c.openscope(["share", "revoke", share.id])).code).toBe(0);
      expect(await client.exited).toBe(5);
      expect(client.stderr()).toContain("revoked by the operator");
    } finally {
      client.kill();
    }
    const rows = await waitFor(async () => {
      const rows = await c.auditRows(share.id);
      return rows.some((r) => r.kind === "call.outcome") ? rows : undefined;
    }, "the killed call's outcome");
    const outcome = rows.find((r) => r.kind === "call.outcome")!;
    expect(outcome.seq as number).toBeGreaterThan(rows.find((r) => r.kind === "share.revoked")!.seq as number);
    expect(outcome.exitCode).not.toBe(0);
  }, 60_000);
});
