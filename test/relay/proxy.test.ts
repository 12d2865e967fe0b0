// The relay behind a proxy (lib/relay/proxy.ts and `--trust-proxy`, `--metrics-listen`): CIDR
// parsing and matching, the X-Forwarded-For walk that believes only trusted hops, and against a
// real relay on 127.0.0.1 the per-source rate limit keyed by the forwarded client address, and
// /metrics moved to its own listener.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { clientAddress, inCidr, parseCidr, parseIp } from "../../lib/relay/proxy.ts";
import { parseTrustProxy, startRelay, type RelayHandle } from "../../lib/relay/server.ts";
import { newRid, upgradeStatus } from "./legs.ts";

const ranges = (...t: string[]) => t.map((x) => parseCidr(x)!);

describe("addresses and ranges", () => {
  test.each([
    ["127.0.0.1", true],
    ["10.1.2.3", true],
    ["::1", true],
    ["[::1]", true],
    ["2001:db8::8a2e:370:7334", true],
    ["::ffff:192.0.2.1", true],
    ["fe80::1%eth0", true],
    ["256.0.0.1", false],
    ["01.2.3.4", false],
    ["1.2.3", false],
    ["1::2::3", false],
    ["1:2:3:4:5:6:7:8:9", false],
    ["unknown", false],
    ["", false],
  ])("parseIp(%p) → %p", (text, ok) => {
    expect(parseIp(text) !== undefined).toBe(ok);
  });

  test.each([
    ["10.0.0.0/8", "10.200.3.4", true],
    ["10.0.0.0/8", "11.0.0.1", false],
    ["192.168.1.0/24", "192.168.1.255", true],
    ["192.168.1.0/24", "192.168.2.0", false],
    ["172.16.0.0/12", "172.31.255.255", true],
    ["172.16.0.0/12", "172.32.0.0", false],
    ["127.0.0.1", "127.0.0.1", true],
    ["127.0.0.1", "127.0.0.2", false],
    ["0.0.0.0/0", "8.8.8.8", true],
    ["0.0.0.0/0", "::1", false],
    ["::1", "::1", true],
    ["2001:db8::/32", "2001:db8:ffff::1", true],
    ["2001:db8::/32", "2001:db9::1", false],
    ["10.0.0.0/8", "::ffff:10.0.0.7", true],
  ])("%p contains %p: %p", (cidr, ip, inside) => {
    expect(inCidr(parseIp(ip)!, parseCidr(cidr)!)).toBe(inside);
  });

  test("malformed ranges are refused as usage errors", () => {
    for (const bad of ["10.0.0.0/33", "::1/129", "10.0.0.0/8/1", "example.com", "10.0.0.0/", "/8"]) {
      expect(parseCidr(bad)).toBeUndefined();
      expect(() => parseTrustProxy([bad])).toThrow(/--trust-proxy .* is not an address or CIDR range/);
    }
  });
});

describe("clientAddress", () => {
  const proxy = ranges("10.0.0.0/8");
  test.each([
    ["no trusted proxies: the peer, whatever the header says", "203.0.113.9", "198.51.100.1", [], "203.0.113.9"],
    ["an untrusted peer cannot speak for anyone", "203.0.113.9", "198.51.100.1", proxy, "203.0.113.9"],
    ["a trusted peer names the client", "10.0.0.2", "198.51.100.1", proxy, "198.51.100.1"],
    ["no header from a trusted peer: the peer", "10.0.0.2", null, proxy, "10.0.0.2"],
    ["a client's own forged entry on the left is ignored", "10.0.0.2", "1.1.1.1, 198.51.100.1", proxy, "198.51.100.1"],
    ["trusted hops on the right are skipped", "10.0.0.2", "198.51.100.1, 10.0.0.5", proxy, "198.51.100.1"],
    ["a malformed entry stops the walk at the hop that added it", "10.0.0.2", "198.51.100.1, garbage", proxy, "10.0.0.2"],
    ["every hop trusted: the leftmost", "10.0.0.2", "10.0.0.9, 10.0.0.5", proxy, "10.0.0.9"],
    ["IPv6 entries", "10.0.0.2", "2001:db8::1", proxy, "2001:db8::1"],
  ] as const)("%s", (_, peer, header, trusted, want) => {
    expect(clientAddress(peer, header, trusted as never)).toBe(want);
  });
});

describe("a relay with --trust-proxy and --metrics-listen", () => {
  const TOKEN = "tok-" + randomBytes(12).toString("hex");
  let relay: RelayHandle;
  beforeAll(() => {
    relay = startRelay({ tokens: [TOKEN], ratePerSecond: 0.001, rateBurst: 3, trustProxy: ["127.0.0.1/32"], metricsListen: { hostname: "127.0.0.1", port: 0 } });
  });
  afterAll(() => relay.stop(false));

  const attempt = (xff?: string) => upgradeStatus(relay.port, `/v1/rendezvous/${newRid()}?role=daemon`, { Authorization: "Bearer nope", ...(xff ? { "X-Forwarded-For": xff } : {}) });

  test("the rate limit applies to the forwarded client address, not to the proxy's", async () => {
    const a: number[] = [];
    for (let i = 0; i < 5; i++) a.push(await attempt("198.51.100.1"));
    expect(a.slice(0, 3)).toEqual([401, 401, 401]);
    expect(a.slice(3)).toEqual([429, 429]);
    // Another client behind the same proxy has its own bucket.
    expect(await attempt("198.51.100.2")).toBe(401);
    // A client cannot escape its bucket by writing its own header: the proxy appends the real one.
    expect(await attempt("203.0.113.77, 198.51.100.1")).toBe(429);
  });

  test("/metrics is served on its own listener only", async () => {
    expect(relay.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const m = await fetch(`${relay.metricsUrl}/metrics`);
    expect(m.status).toBe(200);
    expect(await m.text()).toContain('openscope_relay_refusals_total{reason="rate_limited"}');
    expect((await fetch(`${relay.url}/metrics`)).status).not.toBe(200);
    expect((await fetch(`${relay.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${relay.metricsUrl}/v1/rendezvous/${newRid()}?role=client`)).status).toBe(404);
  });
});
