// THREAT-MODEL.md "What must never happen": "any component crashes or hangs on malformed input": malformed, truncated and
// oversized frames straight to the compiled relay and to the daemon's channel, and a client leg
// that pairs and never speaks. Each time the daemon evicts, audits and keeps running, and the
// real recipient still gets through afterwards.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { buildPrologue, startInitiator } from "../../lib/wire/channel.ts";
import { encodeMessage } from "../../lib/wire/rpc.ts";
import { Cluster, type OpenedShare, type Recipient } from "../helpers/cluster.ts";
import { handleTarget, handshakeAs, PAIRED, PEER_GONE, RawLeg, randomRid } from "../helpers/raw-leg.ts";
import { waitFor } from "../helpers/spawn.ts";

setDefaultTimeout(60_000);

let c: Cluster;
let vendor: Recipient;
let share: OpenedShare;
let keyFile: string;

beforeAll(async () => {
  c = await Cluster.start("binary");
  ({ vendor, share } = await c.shareTo({ grant: ["echo.word"], ttl: "10m" }));
  keyFile = join(vendor.configHome, "openscope", "recipient.key");
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

async function relayHealthy(): Promise<void> {
  const r = await fetch(`http://127.0.0.1:${c.relay!.port}/healthz`);
  expect(r.status).toBe(200);
  expect(c.relay!.proc.exitCode).toBeNull();
}

async function legitCallWorks(word: string): Promise<void> {
  // The daemon's stale session may take a moment to let go of the rid: the real client retries on its own.
  const r = await vendor.call(share, "echo.word", [`word=${word}`]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(r.stdout).toBe(`${word}\n`);
  expect(c.daemon!.proc.exitCode).toBeNull();
}

async function disconnects(detail: string): Promise<number> {
  const rows = await c.auditRows(share.id);
  return rows.filter((r) => r.kind === "share.disconnected" && String(r.detail).includes(detail)).length;
}

describe("malformed frames at the relay", () => {
  async function pair(): Promise<{ d: RawLeg; cl: RawLeg }> {
    const rid = randomRid();
    const d = RawLeg.daemon(c.relay!.url, rid, c.token);
    await d.waitOpen();
    const cl = RawLeg.client(c.relay!.url, rid);
    await cl.waitPaired();
    await d.waitPaired();
    return { d, cl };
  }

  test("garbage binary is forwarded unparsed to a peer and dropped without one; the relay stays up", async () => {
    const lone = RawLeg.daemon(c.relay!.url, randomRid(), c.token);
    await lone.waitOpen();
    for (let i = 0; i < 50; i++) lone.send(randomBytes(1 + (i * 997) % 4000));
    lone.send(new Uint8Array(0));
    const { d, cl } = await pair();
    const junk = randomBytes(3000);
    cl.send(junk);
    await d.waitBinaries(1);
    expect(Buffer.from(d.binaries[0]!).equals(junk)).toBe(true);
    expect(lone.isOpen).toBe(true);
    for (const l of [lone, d, cl]) l.close();
    await relayHealthy();
  });

  test("an empty binary message is forwarded and does not end the peer's leg", async () => {
    // Regression: Bun's send() returns 0 for an empty message, which the relay took for "dropped".
    const { d, cl } = await pair();
    cl.send(new Uint8Array(0));
    cl.send(Uint8Array.of(1));
    await d.waitBinaries(2);
    expect(d.binaries.map((b) => b.length)).toEqual([0, 1]);
    expect(d.texts).toEqual([PAIRED]);
    expect(d.isOpen && cl.isOpen).toBe(true);
    d.close();
    cl.close();
  });

  test("a message over the size limit closes that leg with 1009; the peer gets peer_gone and stays", async () => {
    const { d, cl } = await pair();
    cl.send(randomBytes(65 * 1024 + 1));
    expect((await cl.waitClosed()).code).toBe(1009);
    await waitFor(() => d.texts.includes(PEER_GONE), "peer_gone");
    expect(d.isOpen).toBe(true);
    d.send(randomBytes(70 * 1024));
    expect((await d.waitClosed()).code).toBe(1009);
    await relayHealthy();
  });

  test("junk text is never forwarded, and a client leg cannot evict anyone", async () => {
    const { d, cl } = await pair();
    cl.send("not json at all");
    cl.send(JSON.stringify({ type: "evict" }));
    cl.send("{".repeat(60_000));
    d.send("\u0000\uffff junk");
    d.send(JSON.stringify({ type: 42 }));
    d.send(JSON.stringify({ type: "evict", extra: "x".repeat(1000) })); // too long to be a command
    cl.send(Uint8Array.of(7));
    await d.waitBinaries(1);
    expect(d.texts).toEqual([PAIRED]);
    expect(cl.texts).toEqual([PAIRED]);
    expect(cl.isOpen && d.isOpen).toBe(true);
    d.close();
    cl.close();
    await relayHealthy();
  });

  test("malformed upgrade requests get their status; raw bytes that are not HTTP are dropped", async () => {
    const base = `http://127.0.0.1:${c.relay!.port}`;
    expect((await fetch(`${base}/v1/rendezvous/short?role=client`)).status).toBe(400);
    expect((await fetch(`${base}/v1/rendezvous/${randomRid()}?role=nobody`)).status).toBe(400);
    expect((await fetch(`${base}/v1/rendezvous/${randomRid()}?role=daemon`)).status).toBe(401);
    expect((await fetch(`${base}/v1/rendezvous/${randomRid()}?role=daemon`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    expect((await fetch(`${base}/nope/../../etc/passwd`)).status).toBeGreaterThanOrEqual(400);
    const closed = await new Promise<boolean>((resolve) => {
      const sock = connect(c.relay!.port, "127.0.0.1", () => sock.write(randomBytes(4096)));
      sock.on("data", () => {});
      sock.on("error", () => resolve(true));
      sock.on("close", () => resolve(true));
      setTimeout(() => {
        sock.destroy();
        resolve(false);
      }, 10_000);
    });
    expect(closed).toBe(true);
    await relayHealthy();
  });
});

describe("malformed frames at the daemon's channel", () => {
  async function squat(firstFrame: Uint8Array): Promise<RawLeg> {
    const { handle, rid } = handleTarget(share.handle);
    const leg = RawLeg.client(handle.relayUrl, rid);
    await leg.waitPaired();
    leg.send(firstFrame);
    await leg.waitClosed(); // the daemon asked the relay to evict this leg
    return leg;
  }

  test("garbage as the handshake's first message: evicted, audited, the daemon keeps serving", async () => {
    const before = await disconnects("handshake failed");
    await squat(randomBytes(200));
    await squat(new Uint8Array(0));
    await squat(randomBytes(65_000));
    await waitFor(async () => (await disconnects("handshake failed")) >= before + 3, "three failed handshakes audited");
    await legitCallWorks("garbage");
  });

  test("a truncated and a bit-flipped real handshake message are refused the same way", async () => {
    const before = await disconnects("handshake failed");
    const { handle, rid } = handleTarget(share.handle);
    const relayHost = new URL(handle.relayUrl.replace(/^ws/, "http")).host;
    const init = () =>
      startInitiator({ daemonPublicKey: handle.daemonPublicKey, clientPrivateKey: randomBytes(32), psk: randomBytes(32), prologue: buildPrologue(rid, relayHost) }).message1;
    const m1 = init();
    await squat(m1.subarray(0, m1.length - 10));
    const m2 = init();
    m2[40] = m2[40]! ^ 0x80;
    await squat(m2);
    await squat(new Uint8Array([...init(), 1, 2, 3]));
    await waitFor(async () => (await disconnects("handshake failed")) >= before + 3, "failed handshakes audited");
    await legitCallWorks("truncated");
  });

  test("a valid handshake followed by garbage records: evicted, audited 'record rejected', nothing runs", async () => {
    const before = await disconnects("record rejected");
    for (const garbage of [randomBytes(100), new Uint8Array(0), randomBytes(17), randomBytes(65_000)]) {
      const { leg } = await handshakeAs(share.handle, keyFile);
      await leg.waitBinaries(1); // the hello
      leg.send(garbage);
      await leg.waitClosed();
    }
    await waitFor(async () => (await disconnects("record rejected")) >= before + 4, "rejected records audited");
    await legitCallWorks("records");
  });

  test("honest records with malformed RPC inside get a malformed error, audited, and the session goes on", async () => {
    const { leg, channel } = await handshakeAs(share.handle, keyFile);
    await leg.waitBinaries(1);
    const sendPayload = (p: Uint8Array) => {
      for (const w of channel.write(p)) leg.send(w);
    };
    const te = new TextEncoder();
    const bad = [
      te.encode("not json"),
      te.encode("{\"type\":\"call\"}"),
      te.encode(JSON.stringify({ type: "call", id: 1, verb: "echo.word", params: { word: "x".repeat(5000) } })),
      te.encode(JSON.stringify({ type: "call", id: -1, verb: "echo.word", params: {} })),
      te.encode(JSON.stringify({ type: "call", id: 2, verb: "echo.word", params: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, "v"])) })),
      Uint8Array.of(0x01, 0, 0, 0, 1, 1, 65),
      new Uint8Array(0),
      te.encode(`{"type":"list","id":1,"x":"${"y".repeat(60_000)}"}`),
      Uint8Array.of(0x7b, 0xff, 0xfe),
    ];
    for (const p of bad) sendPayload(p);
    sendPayload(encodeMessage({ type: "call", id: 9, verb: "echo.word", params: { word: "still" } }));
    const decoded: string[] = [];
    let processed = 0; // every frame in order, the hello first: record nonces are sequential
    await waitFor(() => {
      for (; processed < leg.binaries.length; processed++) {
        const { payloads, out } = channel.receive(leg.binaries[processed]!);
        for (const w of out) leg.send(w);
        for (const p of payloads) decoded.push(new TextDecoder().decode(p.subarray(p[0] === 1 ? 6 : 0)));
      }
      return decoded.some((d) => d.includes('"type":"result"'));
    }, "the honest call's result");
    const stayedUp = leg.isOpen;
    leg.close();
    expect(stayedUp).toBe(true);
    // One error per bad payload, reason "malformed" (code "denied" when it named a call id).
    expect(decoded.filter((d) => d.includes('"type":"error"') && d.includes('"reason":"malformed"')).length).toBe(bad.length);
    expect(decoded.some((d) => d.includes("still"))).toBe(true);
    const rows = await c.auditRows(share.id);
    expect(rows.filter((r) => r.kind === "call.denied" && r.reason === "malformed").length).toBeGreaterThanOrEqual(bad.length - 1);
    await legitCallWorks("rpc");
  });

  test("one message over the RPC limit (64 KiB): the daemon stops reassembling it, evicts and audits; its memory stays flat", async () => {
    // THREAT-MODEL.md: the daemon's receive side is capped at the RPC limit. Before, it took in up
    // to 64 MiB of one message (granting credit as it went) before refusing it.
    const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${c.daemon!.proc.pid}/status`, "utf8"))![1]) * 1024;
    const before = await disconnects("record rejected");
    const rssBefore = rss();
    const { leg, channel } = await handshakeAs(share.handle, keyFile);
    await leg.waitBinaries(1); // the hello
    let processed = 0;
    let sent = 0;
    const push = (wires: Uint8Array[]) => {
      for (const w of wires) {
        sent += w.length;
        leg.send(w);
      }
    };
    // A 32 MiB "list": sent as fast as the daemon's credit allows (the window is 1 MiB).
    push(channel.write(new TextEncoder().encode(`{"type":"list","id":1,"x":"${"y".repeat(32 << 20)}"}`)));
    await waitFor(() => {
      for (; processed < leg.binaries.length; processed++) {
        try {
          push(channel.receive(leg.binaries[processed]!).out);
        } catch {
          /* not ours to judge */
        }
      }
      return leg.closed !== null || sent >= 32 << 20;
    }, "the daemon to end the session or take it all", 30_000);
    expect(leg.closed).not.toBeNull();
    // No credit beyond the first window: the daemon never let more than 1 MiB (and a record) in.
    expect(sent).toBeLessThanOrEqual((1 << 20) + 65_536);
    expect(rss() - rssBefore).toBeLessThan(24 << 20);
    await waitFor(async () => (await disconnects("record rejected")) === before + 1, "the eviction audited");
    expect(c.daemon!.proc.exitCode).toBeNull();
    await legitCallWorks("capped");
  });

  test("a client that pairs and never speaks is evicted after the handshake timeout; the rid is usable again", async () => {
    const before = await disconnects("handshake timed out");
    const { handle, rid } = handleTarget(share.handle);
    const silent = RawLeg.client(handle.relayUrl, rid);
    await silent.waitPaired();
    // While it squats, the real recipient cannot take the slot...
    const blocked = await vendor.call(share, "echo.word", ["word=blocked"]);
    expect(blocked.code).toBe(4);
    // ...until the daemon gives up on it (10 s, SPEC.md) and has the relay drop it.
    await silent.waitClosed(20_000);
    await waitFor(async () => (await disconnects("handshake timed out")) === before + 1, "the timeout audited");
    await legitCallWorks("free");
  }, 40_000);

  test("after all that the audit chain verifies and every process is still up", async () => {
    const v = await c.openscope(["audit", "--verify"]);
    expect(v.code).toBe(0);
    expect(c.daemon!.proc.exitCode).toBeNull();
    await relayHealthy();
  });
});
