// Relay scale-out behind HAProxy (issue 9, docs/scale-out.md): three relays and HAProxy on
// loopback routing by a consistent hash of the rendezvous path. 300 sessions through HAProxy all
// pair and echo both ways, they spread over the three instances (each relay's /metrics), and
// stopping one instance breaks only its own sessions, whose daemons then reconnect and pair again.
// A relay behind HAProxy with --trust-proxy applies its per-source rate limit to each client's
// own address (HAProxy's X-Forwarded-For), not to HAProxy's.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../helpers/spawn.ts";
import { freePort, haproxyConfig, metricValue, startHaproxy, startRelay, stopProcess, type Running } from "../helpers/haproxy.ts";

const SESSIONS = 300;
const BATCH = 25;
const TOKEN = "scaleout-deployment-token-0123456789";
const PAIRED = 'openscope_relay_sessions{state="paired"}';

const dir = mkdtempSync(join(tmpdir(), "openscope-scaleout-"));
const relayPorts = [freePort(), freePort(), freePort()];
const frontendPort = freePort();
const relays: Running[] = [];
let haproxy: Running | undefined;

/** One WebSocket leg: records `paired`, `peer_gone`, binary messages and whether it closed. */
class Leg {
  readonly ws: WebSocket;
  opened = false;
  paired = false;
  closed = false;
  failed = false;
  readonly received: string[] = [];
  constructor(url: string, headers: Record<string, string> = {}) {
    this.ws = new WebSocket(url, { headers, perMessageDeflate: false } as unknown as string[]);
    this.ws.binaryType = "arraybuffer";
    this.ws.onopen = () => (this.opened = true);
    this.ws.onerror = () => (this.failed = true);
    this.ws.onclose = () => (this.closed = true);
    this.ws.onmessage = (ev) => {
      if (typeof ev.data === "string") {
        const t = (JSON.parse(ev.data) as { type: string }).type;
        if (t === "paired") this.paired = true;
      } else this.received.push(new TextDecoder().decode(ev.data as ArrayBuffer));
    };
  }
  close() {
    if (!this.closed) this.ws.close();
  }
}

interface Session {
  i: number;
  rid: string;
  daemon: Leg;
  client: Leg;
}

const url = (rid: string, role: "daemon" | "client") => `ws://127.0.0.1:${frontendPort}/v1/rendezvous/${rid}?role=${role}`;
const newRid = () => Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64url");

/** Dials the daemon leg, then the client leg, until both report paired (bounded retries). */
async function pair(i: number, rid: string): Promise<Session> {
  let lastError = "";
  for (let attempt = 0; attempt < 12; attempt++) {
    const daemon = new Leg(url(rid, "daemon"), { authorization: `Bearer ${TOKEN}` });
    try {
      await waitFor(() => daemon.opened || daemon.closed, `daemon leg ${i} open`, 10_000);
      if (daemon.opened && !daemon.closed) {
        const client = new Leg(url(rid, "client"));
        const ok = await waitFor(() => (daemon.paired && client.paired) || client.closed || daemon.closed, `session ${i} paired`, 10_000);
        if (ok && daemon.paired && client.paired && !client.closed && !daemon.closed) return { i, rid, daemon, client };
        client.close();
        lastError = `client closed=${client.closed} daemon closed=${daemon.closed}`;
      } else lastError = "daemon leg refused";
    } catch (e) {
      lastError = String(e);
    }
    daemon.close();
    await Bun.sleep(100 * (attempt + 1)); // a dialer's backoff, not synchronisation
  }
  throw new Error(`session ${i} never paired: ${lastError}`);
}

/** Client → daemon, then daemon → client, through the relay; asserts both arrive unchanged. */
async function echo(s: Session, round: string): Promise<void> {
  const up = `c:${s.i}:${round}`;
  const down = `d:${s.i}:${round}`;
  s.client.ws.send(new TextEncoder().encode(up));
  await waitFor(() => s.daemon.received.includes(up), `session ${s.i} ${round} client→daemon`, 15_000);
  s.daemon.ws.send(new TextEncoder().encode(down));
  await waitFor(() => s.client.received.includes(down), `session ${s.i} ${round} daemon→client`, 15_000);
}

async function inBatches<T, R>(items: T[], fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let k = 0; k < items.length; k += BATCH) out.push(...(await Promise.all(items.slice(k, k + BATCH).map(fn))));
  return out;
}

beforeAll(async () => {
  const tokens = join(dir, "tokens.txt");
  writeFileSync(tokens, `# scale-out test\n${TOKEN}\n`, { mode: 0o600 });
  // Behind HAProxy every leg comes from HAProxy's address: the per-source limit belongs in HAProxy.
  const extra = ["--rate", "100000", "--rate-burst", "100000"];
  relays.push(...(await Promise.all(relayPorts.map((p) => startRelay(p, tokens, extra)))));
  haproxy = await startHaproxy(dir, haproxyConfig(frontendPort, relayPorts.map((port, k) => ({ name: `relay${k + 1}`, port }))), frontendPort);
}, 60_000);

afterAll(async () => {
  await Promise.all([...relays, ...(haproxy ? [haproxy] : [])].map((r) => stopProcess(r, "SIGKILL")));
  rmSync(dir, { recursive: true, force: true });
});

test(
  `${SESSIONS} sessions through HAProxy pair, spread over 3 relays, and survive losing one`,
  async () => {
    // 1. Every session pairs through HAProxy and echoes both ways.
    const sessions = await inBatches([...Array(SESSIONS).keys()], (i) => pair(i, newRid()));
    await inBatches(sessions, (s) => echo(s, "first"));
    expect(sessions.every((s) => s.daemon.paired && s.client.paired)).toBe(true);

    // 2. Both legs of each session met on one instance, and all three instances carry sessions.
    const perRelay = await Promise.all(relayPorts.map((p) => metricValue(p, PAIRED)));
    expect(perRelay.reduce((a, b) => a + b, 0)).toBe(SESSIONS);
    for (const n of perRelay) expect(n).toBeGreaterThan(SESSIONS / 10);
    const waiting = await Promise.all(relayPorts.map((p) => metricValue(p, 'openscope_relay_sessions{state="waiting"}')));
    expect(waiting).toEqual([0, 0, 0]);

    // 3. Stop the busiest instance: exactly its sessions break.
    const victim = perRelay.indexOf(Math.max(...perRelay));
    await stopProcess(relays[victim]!, "SIGKILL");
    const isBroken = (s: Session) => s.daemon.closed || s.client.closed;
    await waitFor(() => sessions.filter(isBroken).length >= perRelay[victim]!, "the stopped instance's sessions to close", 20_000);
    const survivors = sessions.filter((s) => !isBroken(s));
    await inBatches(survivors, (s) => echo(s, "after-stop"));
    const broken = sessions.filter(isBroken);
    expect(broken.length).toBe(perRelay[victim]!);
    expect(survivors.length).toBe(SESSIONS - perRelay[victim]!);
    expect(survivors.every((s) => !s.daemon.closed && !s.client.closed)).toBe(true);

    // 4. The broken sessions' daemons reconnect (same rid and token) and pair again elsewhere.
    for (const s of broken) {
      s.daemon.close();
      s.client.close();
    }
    const again = await inBatches(broken, (s) => pair(s.i, s.rid));
    await inBatches(again, (s) => echo(s, "reconnected"));
    const live = relayPorts.filter((_, k) => k !== victim);
    const after = await Promise.all(live.map((p) => metricValue(p, PAIRED)));
    expect(after.reduce((a, b) => a + b, 0)).toBe(SESSIONS);
    // The survivors stayed where they were: each live instance gained only rids from the stopped one.
    live.forEach((_, k) => expect(after[k]!).toBeGreaterThanOrEqual(perRelay[relayPorts.indexOf(live[k]!)]!));

    for (const s of [...survivors, ...again]) {
      s.daemon.close();
      s.client.close();
    }
  },
  240_000,
);

/** A plain GET through HAProxy from a chosen loopback source address; resolves to the status. */
function getFrom(localAddress: string, port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: "127.0.0.1", port, localAddress });
    let data = "";
    sock.on("connect", () => {
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
      sock.write(`GET ${path} HTTP/1.1\r\nHost: relay.test\r\nConnection: close\r\n${extra}\r\n`);
    });
    sock.on("data", (b) => (data += b.toString()));
    sock.on("close", () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0)));
    sock.on("error", reject);
  });
}

test(
  "behind HAProxy with --trust-proxy the per-source rate limit applies to the real source",
  async () => {
    const relayPort = freePort();
    const front = freePort();
    const tokens = join(dir, "tokens.txt");
    const relay = await startRelay(relayPort, tokens, ["--trust-proxy", "127.0.0.1", "--rate", "1", "--rate-burst", "3", "--log-level", "debug"]);
    const proxy = await startHaproxy(join(dir, "trust"), haproxyConfig(front, [{ name: "relay1", port: relayPort }]), front);
    try {
      // Through HAProxy every connection reaches the relay from 127.0.0.1. The health checks and
      // startHaproxy's probe come from 127.0.0.1 too; the clients below use other sources.
      const path = () => `/v1/rendezvous/${newRid()}?role=daemon`;
      const wrong = { authorization: "Bearer not-a-token" };
      const a: number[] = [];
      for (let i = 0; i < 10; i++) a.push(await getFrom("127.0.0.2", front, path(), wrong));
      expect(a.slice(0, 3)).toEqual([401, 401, 401]);
      expect(a.filter((s) => s === 429).length).toBeGreaterThanOrEqual(5);
      // Another source behind the same proxy has its own bucket.
      expect(await getFrom("127.0.0.3", front, path(), wrong)).toBe(401);
      // A client naming another address in its own X-Forwarded-For is still itself.
      const spoofed: number[] = [];
      for (let i = 0; i < 5; i++) spoofed.push(await getFrom("127.0.0.2", front, path(), { ...wrong, "x-forwarded-for": `198.51.100.${i}` }));
      expect(spoofed.filter((s) => s === 429).length).toBeGreaterThanOrEqual(3);
      // The relay's log names the real source.
      await waitFor(() => relay.stderr().includes("request refused: rate limited"), "rate-limit log line");
      const limited = relay.stderr().split("\n").filter((l) => l.includes("request refused: rate limited"));
      expect(limited.every((l) => l.includes("source=127.0.0.2"))).toBe(true);
      expect(relay.stderr()).toContain("source=127.0.0.3");
      expect(relay.stderr()).not.toContain("198.51.100.");
    } finally {
      await stopProcess(proxy, "SIGKILL");
      await stopProcess(relay, "SIGKILL");
    }
  },
  60_000,
);
