// Why a relay cannot be reached (lib/relay/reach.ts) and the daemon's leg failing fast with that
// cause (lib/daemon/relay-leg.ts): the words Bun and fetch give, classified; then real relays on
// 127.0.0.1 with a wrong port, a wrong token, a rate limit, a self-signed certificate, a name
// mismatch and an expired certificate, a silent listener (timeout) and a name that does not resolve.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { classifyDialError, describeUnreachable, probeRelay } from "../../lib/relay/reach.ts";
import { startRelay, type RelayHandle } from "../../lib/relay/server.ts";
import { RelayLeg } from "../../lib/daemon/relay-leg.ts";
import { OpenScopeError } from "../../lib/errors.ts";
import { freePort } from "../helpers/haproxy.ts";
import { makeCerts, type CertPair } from "../helpers/tls.ts";
import { newRid } from "./legs.ts";

describe("classifyDialError", () => {
  test.each([
    ["WebSocket connection to 'ws://x/' failed: Expected 101 status code: 401", undefined, { cause: "status", status: 401 }],
    ["WebSocket connection to 'ws://x/' failed: Expected 101 status code: 429", undefined, { cause: "status", status: 429 }],
    ["WebSocket connection to 'wss://x/' failed: TLS handshake failed: self signed certificate", undefined, { cause: "tls", problem: "unknown_ca", detail: "self signed certificate" }],
    ["WebSocket connection to 'wss://x/' failed: TLS handshake failed: Hostname/IP does not match certificate's altnames", undefined, { cause: "tls", problem: "name_mismatch" }],
    ["WebSocket connection to 'wss://x/' failed: TLS handshake failed: certificate has expired", undefined, { cause: "tls", problem: "expired" }],
    ["self signed certificate", "DEPTH_ZERO_SELF_SIGNED_CERT", { cause: "tls", problem: "unknown_ca" }],
    ["unable to get local issuer certificate", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", { cause: "tls", problem: "unknown_ca" }],
    ["ERR_TLS_CERT_ALTNAME_INVALID fetching", "ERR_TLS_CERT_ALTNAME_INVALID", { cause: "tls", problem: "name_mismatch" }],
    ["certificate has expired", "CERT_HAS_EXPIRED", { cause: "tls", problem: "expired" }],
    ["ECONNREFUSED: Unable to connect. Is the computer able to access the url?", "ECONNREFUSED", { cause: "refused" }],
    ["getaddrinfo ENOTFOUND relay.invalid", "ENOTFOUND", { cause: "dns" }],
    ["The operation timed out.", "TimeoutError", { cause: "timeout" }],
  ] as const)("%s", (message, code, want) => {
    expect(classifyDialError(message, code)).toMatchObject(want);
  });

  test("Bun's bare 'Failed to connect' names no cause (the probe must find it)", () => {
    expect(classifyDialError("WebSocket connection to 'ws://127.0.0.1:1/x' failed: Failed to connect")).toBeUndefined();
  });

  test("a refused token reads differently for the daemon and the client", () => {
    expect(describeUnreachable({ cause: "status", status: 401 }, "ws://r", "daemon")).toBe("the relay refused the deployment token (401)");
    expect(describeUnreachable({ cause: "status", status: 401 }, "ws://r", "client")).toBe("the relay answered 401");
  });
});

const TOKEN = "tok-" + crypto.randomUUID();
const dir = mkdtempSync(join(tmpdir(), "openscope-reach-"));
let certs: { good: CertPair; otherName: CertPair; expired: CertPair };
let plain: RelayHandle;
let limited: RelayHandle;
let tls: RelayHandle;

beforeAll(() => {
  certs = makeCerts(join(dir, "certs"));
  plain = startRelay({ tokens: [TOKEN] });
  limited = startRelay({ tokens: [TOKEN], ratePerSecond: 0.001, rateBurst: 1 });
  tls = startRelay({ tokens: [TOKEN], tls: certs.good });
});
afterAll(async () => {
  await Promise.all([plain, limited, tls].map((r) => r.stop(false)));
  rmSync(dir, { recursive: true, force: true });
});

const ws = (r: RelayHandle) => r.url.replace(/^http/, "ws");

/** Starts a daemon leg; resolves to the error it failed with (or "open"). */
async function dial(relayUrl: string, token = TOKEN, timeoutMs = 10_000): Promise<{ error?: OpenScopeError; ms: number; logs: string[] }> {
  const logs: string[] = [];
  const leg = new RelayLeg({ relayUrl, rid: newRid(), token, log: (l) => logs.push(l), label: "s1", events: { onPaired() {}, onPeerGone() {}, onBinary() {}, onDisconnected() {} } });
  const started = Date.now();
  try {
    await leg.start(timeoutMs);
    return { ms: Date.now() - started, logs };
  } catch (e) {
    return { error: e as OpenScopeError, ms: Date.now() - started, logs };
  } finally {
    leg.close();
  }
}

describe("the daemon's leg names the cause", () => {
  test("the right relay and token: the leg opens", async () => {
    expect((await dial(ws(plain))).error).toBeUndefined();
  });

  test.each([
    ["a wrong port", () => `ws://127.0.0.1:${freePort()}`, TOKEN, /^relay ws:\/\/127\.0\.0\.1:\d+: connection refused at 127\.0\.0\.1:\d+ \(nothing listens there\)$/, /check the port/],
    ["a wrong token", () => ws(plain), "not-the-token", /^relay ws:\/\/127\.0\.0\.1:\d+: the relay refused the deployment token \(401\)$/, /relay's tokens file/],
    ["a self-signed certificate", () => `wss://127.0.0.1:${tls.port}`, TOKEN, /TLS: its certificate is not signed by a trusted CA \(self-signed or unknown issuer\) \(self signed certificate\)$/, /NODE_EXTRA_CA_CERTS/],
    ["a host name that does not resolve", () => "ws://relay.invalid:8443", TOKEN, /: host name "relay\.invalid" does not resolve \(DNS\)$/, /host name in the relay URL/],
  ])("%s", async (_, url, token, message, hint) => {
    const r = await dial(url(), token);
    expect(r.error).toBeInstanceOf(OpenScopeError);
    expect(r.error!.exitCode).toBe(4);
    expect(r.error!.message).toMatch(message);
    expect(r.error!.hints.join("\n")).toMatch(hint);
    expect(r.logs.join("\n")).not.toContain(token);
  });

  test("a relay that rate-limits this address (429)", async () => {
    await probeRelay(ws(limited)); // spends the one token of the bucket
    const r = await dial(ws(limited));
    expect(r.error!.message).toMatch(/the relay is rate-limiting this address \(429\)$/);
  });

  test("a listener that never answers: a timeout, named as one", async () => {
    const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const r = await dial(`ws://127.0.0.1:${silent.port}`, TOKEN, 800);
      expect(r.error!.message).toMatch(/no answer from 127\.0\.0\.1:\d+ within 0\.8s \(timeout\)$/);
    } finally {
      silent.stop(true);
    }
  });
});

describe("probeRelay", () => {
  test("token accepted (426), token refused (401), unknown CA, name mismatch", async () => {
    expect((await probeRelay(ws(plain), { token: TOKEN })).status).toBe(426);
    expect((await probeRelay(ws(plain), { token: "nope" })).status).toBe(401);
    expect((await probeRelay(ws(plain))).status).toBe(400);
    expect((await probeRelay(`wss://127.0.0.1:${tls.port}`, { token: TOKEN })).problem).toMatchObject({ cause: "tls", problem: "unknown_ca" });
    expect((await probeRelay(`ws://127.0.0.1:${freePort()}`)).problem).toEqual({ cause: "refused" });
  });
});
