// Hostile load on the real relay process (`bun relay.ts`): 2,000 paired sessions forwarding at
// once with every byte intact; a reader that stops reading while its peer floods (the relay's
// RSS stays bounded); 10,000 garbage upgrade attempts, after which sessions still pair.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../helpers/spawn.ts";
import { newRid, openLeg, openPair, PAIRED, PEER_GONE, rawRequest, spawnRelay, upgradeStatus, type RelayProcess, type TestLeg } from "../relay/legs.ts";

const TOKEN = "heavy-" + randomBytes(8).toString("hex");
let relay: RelayProcess;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "relay-heavy-"));
  writeFileSync(join(dir, "tokens.txt"), `${TOKEN}\n`, { mode: 0o600 });
  relay = await spawnRelay(["--tokens-file", join(dir, "tokens.txt"), "--rate", "1000000", "--rate-burst", "1000000", "--max-legs-per-token", "100000"]);
});
afterAll(() => {
  if (relay.proc.exitCode === null) relay.proc.kill("SIGKILL");
});

function relayRss(): number {
  const status = readFileSync(`/proc/${relay.proc.pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

function sha(bufs: Buffer[]): string {
  const h = createHash("sha256");
  for (const b of bufs) h.update(b);
  return h.digest("hex");
}

describe("relay under load", () => {
  test("2,000 concurrent paired sessions forward at once with all data intact", async () => {
    const SESSIONS = 2000;
    const FRAMES = 4;
    const sessions: Array<{ daemon: TestLeg; client: TestLeg }> = [];
    for (let i = 0; i < SESSIONS; i += 100) {
      const batch = await Promise.all(Array.from({ length: Math.min(100, SESSIONS - i) }, () => openPair(relay.url, TOKEN)));
      sessions.push(...batch);
    }
    const metrics = await (await fetch(`${relay.url}/metrics`)).text();
    expect(metrics).toContain(`openscope_relay_sessions{state="paired"} ${SESSIONS}`);

    // Every session sends in both directions at the same time.
    const sent = sessions.map(() => ({ down: [] as Buffer[], up: [] as Buffer[] }));
    for (let f = 0; f < FRAMES; f++) {
      sessions.forEach((s, i) => {
        const d = randomBytes(1 + Math.floor(Math.random() * 8192));
        const u = randomBytes(1 + Math.floor(Math.random() * 8192));
        sent[i]!.down.push(d);
        sent[i]!.up.push(u);
        s.daemon.ws.send(d);
        s.client.ws.send(u);
      });
    }
    await waitFor(
      () => sessions.every((s) => s.client.binaries.length === FRAMES && s.daemon.binaries.length === FRAMES),
      "every frame delivered",
      120_000,
    );
    sessions.forEach((s, i) => {
      expect(sha(s.client.binaries)).toBe(sha(sent[i]!.down));
      expect(sha(s.daemon.binaries)).toBe(sha(sent[i]!.up));
    });
    for (const s of sessions) {
      s.daemon.ws.close();
      s.client.ws.close();
    }
    await waitFor(async () => (await (await fetch(`${relay.url}/metrics`)).text()).includes("openscope_relay_legs 0"), "all legs closed", 60_000);
  }, 300_000);

  test("a reader that stops reading while its peer floods: the relay's RSS stays bounded", async () => {
    const rid = newRid();
    const daemon = openLeg(relay.url, rid, "daemon", TOKEN, { keep: false });
    expect(await daemon.ready).toBe(true);

    // The stalled client leg: a raw socket that completes the upgrade, then never reads again.
    const stalled: Socket = await new Promise((resolve, reject) => {
      const sock = connect({ host: "127.0.0.1", port: relay.port });
      let head = "";
      sock.on("error", reject);
      sock.on("connect", () =>
        sock.write(
          `GET /v1/rendezvous/${rid}?role=client HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        ),
      );
      const onData = (d: Buffer) => {
        head += d.toString("latin1");
        if (head.includes("\r\n\r\n")) {
          sock.off("data", onData);
          sock.pause();
          resolve(sock);
        }
      };
      sock.on("data", onData);
    });
    await daemon.waitText(PAIRED);

    const before = relayRss();
    const frame = randomBytes(64 * 1024);
    const OFFER = 1024 * 1024 * 1024; // offer 1 GiB; the relay must not hold it
    let offered = 0;
    const deadline = Date.now() + 20_000;
    while (offered < OFFER && Date.now() < deadline) {
      // Keep the sender's own queue short so the test process does not hold the flood either.
      if (daemon.ws.bufferedAmount < 8 * 1024 * 1024) {
        daemon.ws.send(frame);
        offered += frame.length;
      } else {
        await Bun.sleep(5);
      }
    }
    const after = relayRss();
    const metrics = await (await fetch(`${relay.url}/metrics`)).text();
    const forwarded = Number(/openscope_relay_forwarded_bytes_total (\d+)/.exec(metrics)![1]);
    // The relay forwarded only what the stalled reader's socket buffers took; it did not queue the rest.
    expect(forwarded).toBeLessThan(256 * 1024 * 1024);
    expect(after - before).toBeLessThan(256 * 1024 * 1024);
    expect(Number(/openscope_relay_backpressure_pauses_total (\d+)/.exec(metrics)![1])).toBeGreaterThanOrEqual(1);

    // When the stalled reader goes away, the flooding leg is told and can go on.
    stalled.destroy();
    await daemon.waitText(PEER_GONE, 1, 30_000);
    expect(daemon.isOpen).toBe(true);
    daemon.ws.close();
  }, 300_000);

  test("10,000 garbage upgrade attempts: no crash, and sessions still pair afterwards", async () => {
    const key = () => randomBytes(16).toString("base64");
    const junk: Array<() => string | Uint8Array> = [
      () => randomBytes(1 + Math.floor(Math.random() * 2048)),
      () => `GET /v1/rendezvous/${randomBytes(12).toString("hex")}?role=client HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key()}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      () => `GET /${randomBytes(40).toString("base64url")} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`,
      () => `GET /v1/rendezvous/${newRid()}?role=${randomBytes(3).toString("hex")} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key()}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      () => `GET /v1/rendezvous/${newRid()}?role=daemon HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${randomBytes(20).toString("hex")}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key()}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      () => `GET /v1/rendezvous/${newRid()}?role=daemon HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: !!\r\nSec-WebSocket-Version: 99\r\n\r\n`,
      () => `GET /v1/rendezvous/%00%ff/../..?role=client HTTP/1.1\r\nHost: x\r\nX-Long: ${"a".repeat(Math.floor(Math.random() * 20000))}\r\n\r\n`,
      () => `POST /v1/rendezvous/${newRid()}?role=client HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello`,
      () => `GET /v1/rendezvous/${"A".repeat(22)}?role=client&role=daemon HTTP/1.0\r\n\r\n`,
    ];
    const TOTAL = 10_000;
    let next = 0;
    const statuses = new Map<number, number>();
    await Promise.all(
      Array.from({ length: 200 }, async () => {
        while (next < TOTAL) {
          next++;
          const pick = junk[Math.floor(Math.random() * junk.length)]!;
          const s = await rawRequest(relay.port, pick(), 10_000);
          statuses.set(s, (statuses.get(s) ?? 0) + 1);
        }
      }),
    );
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(TOTAL);
    expect(statuses.has(101)).toBe(false); // none of the junk became a leg
    expect(relay.proc.exitCode).toBeNull();
    expect(await (await fetch(`${relay.url}/healthz`)).text()).toBe("ok\n");
    const { daemon, client } = await openPair(relay.url, TOKEN);
    client.ws.send(Buffer.from("after the storm"));
    await waitFor(() => daemon.binaries.length === 1, "frame after the storm");
    expect(daemon.binaries[0]!.toString()).toBe("after the storm");
    expect(await upgradeStatus(relay.port, `/v1/rendezvous/${newRid()}?role=daemon`)).toBe(401);
    daemon.ws.close();
    client.ws.close();
  }, 300_000);
});
