// The relay contract of SPEC.md §12 against the in-process Bun.serve adapter on 127.0.0.1:
// pairing messages, byte-exact forwarding both ways, text not forwarded, refusals with their
// HTTP status, oversize → 1009, peer_gone and re-pairing, daemon takeover, evict, metrics.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { isValidRid, startRelay, type RelayHandle } from "../../lib/relay/server.ts";
import { waitFor } from "../helpers/spawn.ts";
import { createLogger } from "../../cmd/log.ts";
import { newRid, openLeg, openPair, PAIRED, PEER_GONE, rawRequest, upgradeStatus } from "./legs.ts";

const TOKEN = "tok-" + randomBytes(12).toString("hex");
const OTHER = "tok-" + randomBytes(12).toString("hex");
const LIMIT = 65 * 1024;
let relay: RelayHandle;
const logs: string[] = [];

beforeAll(() => {
  relay = startRelay({ tokens: [TOKEN, OTHER], graceMs: 300, ratePerSecond: 10_000, rateBurst: 10_000, logger: createLogger({ level: "debug", write: (l) => logs.push(l) }) });
});
afterAll(async () => {
  await relay.stop(false);
});

function metric(name: string): number {
  const line = relay.metricsText().split("\n").find((l) => l.startsWith(name + " "));
  return line ? Number(line.split(" ").at(-1)) : NaN;
}

describe("pairing and forwarding", () => {
  test("both legs get paired, frames of 1 B to the size limit arrive byte-exact both ways", async () => {
    const { daemon, client } = await openPair(relay.url, TOKEN);
    const sizes = [1, 2, 100, 4096, 65_535, LIMIT, ...Array.from({ length: 20 }, () => 1 + Math.floor(Math.random() * LIMIT))];
    const down = sizes.map((n) => randomBytes(n));
    const up = sizes.map((n) => randomBytes(n));
    for (const f of down) daemon.ws.send(f);
    for (const f of up) client.ws.send(f);
    await waitFor(() => client.binaries.length === down.length && daemon.binaries.length === up.length, "all frames");
    down.forEach((f, i) => expect(Buffer.compare(client.binaries[i]!, f)).toBe(0));
    up.forEach((f, i) => expect(Buffer.compare(daemon.binaries[i]!, f)).toBe(0));
    expect(daemon.texts).toEqual([PAIRED]);
    expect(client.texts).toEqual([PAIRED]);
    daemon.ws.close();
    client.ws.close();
  });

  test("an empty binary message is forwarded and does not end the peer's leg", async () => {
    const { daemon, client } = await openPair(relay.url, TOKEN);
    client.ws.send(new Uint8Array(0));
    client.ws.send(Buffer.from("after empty"));
    await waitFor(() => daemon.binaries.length === 2, "both frames");
    expect(daemon.binaries[0]!.byteLength).toBe(0);
    expect(daemon.binaries[1]!.toString()).toBe("after empty");
    expect(daemon.isOpen && client.isOpen).toBe(true);
    daemon.ws.close();
    client.ws.close();
  });

  test("text messages from legs are not forwarded", async () => {
    const { daemon, client } = await openPair(relay.url, TOKEN);
    client.ws.send("hello daemon");
    daemon.ws.send('{"type":"paired"}');
    daemon.ws.send(Buffer.from("marker"));
    client.ws.send(Buffer.from("marker"));
    await waitFor(() => client.binaries.length === 1 && daemon.binaries.length === 1, "markers");
    expect(client.texts).toEqual([PAIRED]);
    expect(daemon.texts).toEqual([PAIRED]);
    daemon.ws.close();
    client.ws.close();
  });

  test("a message over the size limit closes that leg with 1009; the peer gets peer_gone", async () => {
    const { daemon, client } = await openPair(relay.url, TOKEN);
    client.ws.send(randomBytes(LIMIT + 1));
    const c = await client.waitClosed();
    expect(c.code).toBe(1009);
    await daemon.waitText(PEER_GONE);
    expect(daemon.isOpen).toBe(true);
    await waitFor(() => metric('openscope_relay_outcomes_total{outcome="oversized"}') >= 1, "oversized counted");
    daemon.ws.close();
  });

  test("peer_gone, then a new client leg re-pairs with the same daemon leg", async () => {
    const { rid, daemon, client } = await openPair(relay.url, TOKEN);
    client.ws.close();
    await daemon.waitText(PEER_GONE);
    const client2 = openLeg(relay.url, rid, "client");
    await client2.waitText(PAIRED);
    await daemon.waitText(PAIRED, 2);
    daemon.ws.send(Buffer.from([1, 2, 3]));
    await waitFor(() => client2.binaries.length === 1, "frame to new client");
    expect([...client2.binaries[0]!]).toEqual([1, 2, 3]);
    daemon.ws.close();
    client2.ws.close();
  });

  test("a daemon reconnecting with the same token takes over; the client leg stays and re-pairs", async () => {
    const { rid, daemon, client } = await openPair(relay.url, TOKEN);
    const daemon2 = openLeg(relay.url, rid, "daemon", TOKEN);
    const old = await daemon.waitClosed();
    expect(old.code).toBe(4001);
    await client.waitText(PEER_GONE);
    await client.waitText(PAIRED, 2);
    await daemon2.waitText(PAIRED);
    expect(client.isOpen).toBe(true);
    daemon2.ws.send(Buffer.from("after takeover"));
    await waitFor(() => client.binaries.length === 1, "frame from new daemon leg");
    expect(client.binaries[0]!.toString()).toBe("after takeover");
    daemon2.ws.close();
    client.ws.close();
  });

  test("a client leg that arrives first waits out the grace period and pairs when the daemon comes", async () => {
    const slow = startRelay({ tokens: [TOKEN], graceMs: 5_000 });
    try {
      const rid = newRid(32);
      const client = openLeg(slow.url, rid, "client");
      await Bun.sleep(0);
      const daemon = openLeg(slow.url, rid, "daemon", TOKEN);
      await client.waitText(PAIRED);
      await daemon.waitText(PAIRED);
    } finally {
      await slow.stop(false);
    }
  });

  // Frames sent while a leg has no peer are dropped and counted, never held for a later peer
  // (SPEC.md §12; mutation testing, issue 22: a relay that buffered and flushed them survived).
  test("frames a daemon leg sends before pairing are dropped and counted; the client gets only later frames", async () => {
    const dropped = () => metric('openscope_relay_dropped_messages_total{reason="unpaired"}');
    const before = dropped();
    const rid = newRid();
    const daemon = openLeg(relay.url, rid, "daemon", TOKEN);
    expect(await daemon.ready).toBe(true);
    daemon.ws.send(Buffer.from("early-1"));
    daemon.ws.send(Buffer.from("early-2"));
    await waitFor(() => dropped() === before + 2, "two unpaired drops counted");
    const client = openLeg(relay.url, rid, "client");
    await client.waitText(PAIRED);
    await daemon.waitText(PAIRED);
    daemon.ws.send(Buffer.from("late"));
    client.ws.send(Buffer.from("marker"));
    // one ordered stream: a backlog flushed at pairing would have arrived before "late"
    await waitFor(() => client.binaries.at(-1)?.toString() === "late" && daemon.binaries.length === 1, "the late frame");
    expect(client.binaries.map((b) => b.toString())).toEqual(["late"]);
    expect(dropped()).toBe(before + 2);
    daemon.ws.close();
    client.ws.close();
  });

  test("frames sent after the peer left are dropped, not delivered to the next client leg", async () => {
    const dropped = () => metric('openscope_relay_dropped_messages_total{reason="unpaired"}');
    const { rid, daemon, client } = await openPair(relay.url, TOKEN);
    client.ws.close();
    await daemon.waitText(PEER_GONE);
    const before = dropped();
    daemon.ws.send(Buffer.from("to nobody"));
    await waitFor(() => dropped() === before + 1, "the unpaired drop counted");
    const client2 = openLeg(relay.url, rid, "client");
    await client2.waitText(PAIRED);
    await daemon.waitText(PAIRED, 2);
    daemon.ws.send(Buffer.from("to client2"));
    await waitFor(() => client2.binaries.at(-1)?.toString() === "to client2", "a frame to the new client");
    expect(client2.binaries.map((b) => b.toString())).toEqual(["to client2"]);
    daemon.ws.close();
    client2.ws.close();
  });

  test("evict from the daemon leg closes the client leg, not the daemon leg", async () => {
    const { daemon, client } = await openPair(relay.url, TOKEN);
    daemon.ws.send('{"type":"evict"}');
    const c = await client.waitClosed();
    expect(c.code).toBe(4002);
    await daemon.waitText(PEER_GONE);
    expect(daemon.isOpen).toBe(true);
    daemon.ws.close();
  });

  test("an evict sent by a client leg does nothing", async () => {
    const { daemon, client } = await openPair(relay.url, TOKEN);
    client.ws.send('{"type":"evict"}');
    client.ws.send(Buffer.from("still here"));
    await waitFor(() => daemon.binaries.length === 1, "frame after fake evict");
    expect(daemon.isOpen && client.isOpen).toBe(true);
    daemon.ws.close();
    client.ws.close();
  });
});

describe("liveness", () => {
  test("a leg without a peer past the unpaired wait is closed with 4004 (lonely)", async () => {
    const short = startRelay({ tokens: [TOKEN], unpairedMaxMs: 100 });
    try {
      const leg = openLeg(short.url, newRid(), "daemon", TOKEN);
      expect((await leg.waitClosed()).code).toBe(4004);
      expect(short.metricsText()).toContain('openscope_relay_outcomes_total{outcome="lonely"} 1');
    } finally {
      await short.stop(false);
    }
  });

  test("the relay pings its legs", async () => {
    const pinging = startRelay({ tokens: [TOKEN], pingIntervalMs: 50 });
    try {
      const rid = newRid();
      let seen = "";
      const sock = connect({ host: "127.0.0.1", port: pinging.port });
      sock.on("data", (d) => (seen += d.toString("latin1")));
      sock.on("connect", () =>
        sock.write(
          `GET /v1/rendezvous/${rid}?role=daemon HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nUpgrade: websocket\r\n` +
            `Connection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        ),
      );
      // A ping frame from the server: FIN + opcode 9, unmasked, empty payload.
      await waitFor(() => seen.split("\r\n\r\n")[1]?.includes("\x89\x00"), "a ping frame");
      sock.destroy();
    } finally {
      await pinging.stop(false);
    }
  });
});

describe("refusals", () => {
  const path = (rid: string, role: string) => `/v1/rendezvous/${rid}?role=${role}`;

  test("401 for a daemon leg with no token or a wrong one", async () => {
    const rid = newRid();
    expect(await upgradeStatus(relay.port, path(rid, "daemon"))).toBe(401);
    expect(await upgradeStatus(relay.port, path(rid, "daemon"), { authorization: "Bearer nope" })).toBe(401);
    expect(await upgradeStatus(relay.port, path(rid, "daemon"), { authorization: `Basic ${TOKEN}` })).toBe(401);
  });

  test("404 for a client leg whose rid no daemon holds, after the grace wait", async () => {
    expect(await upgradeStatus(relay.port, path(newRid(), "client"))).toBe(404);
  });

  test("409 for a second client leg, and for a daemon leg with a different token", async () => {
    const { rid, daemon, client } = await openPair(relay.url, TOKEN);
    expect(await upgradeStatus(relay.port, path(rid, "client"))).toBe(409);
    expect(await upgradeStatus(relay.port, path(rid, "daemon"), { authorization: `Bearer ${OTHER}` })).toBe(409);
    expect(daemon.isOpen && client.isOpen).toBe(true);
    daemon.ws.close();
    client.ws.close();
  });

  test("400 for a malformed rid or role; 404 for other paths", async () => {
    for (const rid of ["short", "a".repeat(44), "AAAAAAAAAAAAAAAAAAAAAA==", "AAAAAAAAAAAAAAAAAAAAA+", "AAAAAAAAAAAAAAAAAAAAAB"]) {
      expect(await upgradeStatus(relay.port, path(rid, "client"))).toBe(400);
    }
    expect(await upgradeStatus(relay.port, path(newRid(), "root"))).toBe(400);
    expect(await upgradeStatus(relay.port, `/v1/rendezvous/${newRid()}`)).toBe(400);
    expect(await upgradeStatus(relay.port, "/v2/rendezvous/x?role=client")).toBe(404);
  });

  test("429 past the per-source rate limit", async () => {
    const tight = startRelay({ tokens: [TOKEN], ratePerSecond: 1, rateBurst: 3 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push(await upgradeStatus(tight.port, path(newRid(), "daemon")));
      expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
      expect(statuses.at(-1)).toBe(429);
      expect(tight.metricsText()).toMatch(/openscope_relay_refusals_total\{reason="rate_limited"\} [1-9]/);
    } finally {
      await tight.stop(false);
    }
  });

  test("429 past the legs allowed per token", async () => {
    const few = startRelay({ tokens: [TOKEN], maxLegsPerToken: 2 });
    try {
      const a = openLeg(few.url, newRid(), "daemon", TOKEN);
      const b = openLeg(few.url, newRid(), "daemon", TOKEN);
      expect(await a.ready).toBe(true);
      expect(await b.ready).toBe(true);
      expect(await upgradeStatus(few.port, path(newRid(), "daemon"), { authorization: `Bearer ${TOKEN}` })).toBe(429);
      a.ws.close();
      b.ws.close();
    } finally {
      await few.stop(false);
    }
  });

  test("a plain GET learns the status an upgrade would get (426 when it would be accepted)", async () => {
    const res = await fetch(`${relay.url}${path(newRid(), "daemon")}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(426);
    expect((await fetch(`${relay.url}${path(newRid(), "client")}`)).status).toBe(404);
  });

  test("an HTTP/1.0 request without Host (a proxy's health check) is answered, not a 500", async () => {
    expect(await rawRequest(relay.port, "GET /healthz HTTP/1.0\r\n\r\n")).toBe(200);
    expect(await rawRequest(relay.port, "GET /v1/rendezvous/short?role=client HTTP/1.0\r\n\r\n")).toBe(400);
  });

  test("garbage requests get an answer and no crash", async () => {
    expect(await rawRequest(relay.port, "NOT HTTP AT ALL\r\n\r\n")).toBeGreaterThanOrEqual(0);
    expect((await fetch(`${relay.url}/healthz`)).status).toBe(200);
  });
});

describe("metrics and logs", () => {
  test("/healthz and /metrics answer; metrics count forwarded bytes and outcomes", async () => {
    expect(await (await fetch(`${relay.url}/healthz`)).text()).toBe("ok\n");
    const before = metric("openscope_relay_forwarded_bytes_total");
    const { daemon, client } = await openPair(relay.url, TOKEN);
    expect(metric('openscope_relay_sessions{state="paired"}')).toBeGreaterThanOrEqual(1);
    daemon.ws.send(randomBytes(1000));
    await waitFor(() => client.binaries.length === 1, "frame");
    expect(metric("openscope_relay_forwarded_bytes_total") - before).toBe(1000);
    const happy = metric('openscope_relay_outcomes_total{outcome="happy"}');
    daemon.ws.close();
    client.ws.close();
    await waitFor(() => metric('openscope_relay_outcomes_total{outcome="happy"}') >= happy + 2, "happy outcomes");
    const text = await (await fetch(`${relay.url}/metrics`)).text();
    for (const name of ["openscope_relay_sessions", "openscope_relay_refusals_total", "process_resident_memory_bytes", "openscope_relay_forwarded_messages_total"]) {
      expect(text).toContain(`# TYPE ${name}`);
    }
  });

  test("logs carry a short rid hash, never the rid", async () => {
    const { rid, daemon, client } = await openPair(relay.url, TOKEN);
    daemon.ws.close();
    client.ws.close();
    await client.waitClosed();
    await waitFor(() => logs.some((l) => l.includes("leg down")), "a log line");
    expect(logs.join("\n")).not.toContain(rid);
    expect(logs.join("\n")).not.toContain(TOKEN);
  });

  test("each leg up and down is one timestamped line with a level, its role, rid hash, outcome and source", async () => {
    const { daemon, client } = await openPair(relay.url, TOKEN);
    client.ws.close();
    await client.waitClosed();
    daemon.ws.close();
    await waitFor(() => logs.filter((l) => / info  client leg down: happy /.test(l)).length > 0, "a leg-down line");
    const down = logs.find((l) => / info  client leg down: happy /.test(l))!;
    expect(down).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info  client leg down: happy role=client rid=#[0-9a-f]{8} outcome=happy code=\d+ source=127\.0\.0\.1 seconds=\d+$/);
    expect(logs.some((l) => / info  daemon leg up role=daemon rid=#[0-9a-f]{8} source=127\.0\.0\.1$/.test(l))).toBe(true);
  });

  test("a refused deployment token is a warning naming the source, never the token", async () => {
    const wrong = "wrong-" + randomBytes(8).toString("hex");
    expect(await upgradeStatus(relay.port, `/v1/rendezvous/${newRid()}?role=daemon`, { Authorization: `Bearer ${wrong}` })).toBe(401);
    await waitFor(() => logs.some((l) => l.includes("deployment token not accepted")), "the warning");
    const line = logs.find((l) => l.includes("deployment token not accepted"))!;
    expect(line).toMatch(/ warn  daemon leg refused: deployment token not accepted refusal=bad_token status=401 source=127\.0\.0\.1 rid=#[0-9a-f]{8}$/);
    expect(logs.join("\n")).not.toContain(wrong);
  });

  test("isValidRid accepts base64url of 16 to 32 bytes only", () => {
    expect(isValidRid(newRid(16))).toBe(true);
    expect(isValidRid(newRid(32))).toBe(true);
    expect(isValidRid(newRid(24))).toBe(true);
    expect(isValidRid(randomBytes(15).toString("base64url"))).toBe(false);
    expect(isValidRid(randomBytes(33).toString("base64url"))).toBe(false);
  });
});
