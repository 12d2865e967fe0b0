// Issue 10 item 5, the parts bench/relay.ts leaves out: the relay process's CPU time per GB
// forwarded, and a baseline for both that and RSS per idle paired session — a bare Bun forwarder
// (bench/bare-relay.ts) measured the same way in the same run. CPU comes from /proc/PID/stat.
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBackground, type Background } from "../test/helpers/cluster.ts";
import { ROOT } from "../test/helpers/spawn.ts";

export interface RelayUnderTest {
  name: string;
  pid: number;
  url: string; // ws://127.0.0.1:PORT
  token: string;
  stop(): Promise<void>;
}

const READY = /listening on http:\/\/([\d.]+:\d+)/;

export async function startRelayProcess(kind: "openscope" | "bare"): Promise<RelayUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), "openscope-bench-relay-"));
  const token = randomBytes(16).toString("hex");
  writeFileSync(join(dir, "tokens.txt"), `${token}\n`, { mode: 0o600 });
  const cmd =
    kind === "bare"
      ? [process.execPath, join(ROOT, "bench", "bare-relay.ts")]
      : [process.execPath, join(ROOT, "relay.ts"), "--listen", "127.0.0.1:0", "--tokens-file", join(dir, "tokens.txt"),
          "--rate", "1000000", "--rate-burst", "1000000", "--max-legs-per-token", "100000"];
  let bg: Background & { match: RegExpMatchArray };
  try {
    bg = await startBackground(cmd, {}, READY);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    name: kind === "bare" ? "bare Bun forwarder" : "openscope-relay",
    pid: bg.proc.pid,
    url: `ws://${bg.match[1]}`,
    token,
    async stop() {
      await bg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** user+system CPU seconds of a process so far (Linux). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ (100 on Linux)
}

export function rssBytes(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? Number.NaN) * 1024;
}

/** Paired sessions one relay process can hold: two sockets each under its open-files limit. */
export function maxPairedSessions(limitsText = readFileSync("/proc/self/limits", "utf8")): number {
  const soft = Number(/Max open files\s+(\d+|unlimited)/.exec(limitsText)?.[1] ?? Number.NaN);
  return Number.isFinite(soft) ? Math.floor((soft - 256) / 2) : Number.POSITIVE_INFINITY;
}

function ridFor(seed: string, i: number): string {
  return createHash("sha256").update(`${seed}:${i}`).digest().subarray(0, 16).toString("base64url");
}

interface Leg {
  ws: WebSocket;
  received: number;
  paired: Promise<void>;
}

function openLeg(relay: { url: string; token: string }, rid: string, role: "daemon" | "client"): Promise<Leg> {
  return new Promise((resolveOpen, reject) => {
    const headers: Record<string, string> = role === "daemon" ? { authorization: `Bearer ${relay.token}` } : {};
    const ws = new WebSocket(`${relay.url}/v1/rendezvous/${rid}?role=${role}`, { headers, perMessageDeflate: false } as unknown as string[]);
    ws.binaryType = "arraybuffer";
    let markPaired: () => void = () => {};
    const leg: Leg = { ws, received: 0, paired: new Promise<void>((r) => (markPaired = r)) };
    ws.onmessage = (e) => {
      if (typeof e.data === "string") {
        if (e.data.includes('"paired"')) markPaired();
      } else leg.received += (e.data as ArrayBuffer).byteLength;
    };
    ws.onopen = () => resolveOpen(leg);
    ws.onerror = () => reject(new Error(`bench: ${role} leg refused by the relay`));
  });
}

/** Relay CPU seconds per GB forwarded, one session, 64 KiB messages from client to daemon. */
export async function cpuPerGB(relay: RelayUnderTest, bytes: number): Promise<number> {
  const rid = randomBytes(16).toString("base64url");
  const daemon = await openLeg(relay, rid, "daemon");
  const client = await openLeg(relay, rid, "client");
  await Promise.all([daemon.paired, client.paired]);
  const msg = randomBytes(64 * 1024);
  const send = async (total: number) => {
    const target = daemon.received + total;
    for (let sent = 0; sent < total; ) {
      if (client.ws.bufferedAmount < 2 << 20) {
        client.ws.send(msg);
        sent += msg.length;
      } else await Bun.sleep(0);
    }
    while (daemon.received < target) await Bun.sleep(1);
  };
  await send(16 << 20); // warm up
  const before = cpuSeconds(relay.pid);
  const total = Math.ceil(bytes / msg.length) * msg.length;
  await send(total);
  const cpu = cpuSeconds(relay.pid) - before;
  client.ws.close();
  daemon.ws.close();
  return cpu / (total / 1e9);
}

/** RSS growth of the relay per idle paired session; the daemon legs live in a child process (fds). */
export async function idleRssPerSession(relay: RelayUnderTest, n: number): Promise<number> {
  Bun.gc(true);
  await Bun.sleep(200);
  const before = rssBytes(relay.pid);
  const seed = randomBytes(8).toString("hex");
  const holder = Bun.spawn([process.execPath, import.meta.path, "--hold-daemon-legs", relay.url, relay.token, seed, String(n)], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "inherit",
  });
  try {
    const first = await holder.stdout.getReader().read();
    if (first.done || !new TextDecoder().decode(first.value).includes("ready")) throw new Error("bench: the daemon-leg holder failed");
    const clients: Leg[] = [];
    for (let i = 0; i < n; i += 500) {
      const batch = await Promise.all(Array.from({ length: Math.min(500, n - i) }, (_, k) => openLeg(relay, ridFor(seed, i + k), "client")));
      await Promise.all(batch.map((l) => l.paired));
      clients.push(...batch);
    }
    await Bun.sleep(500);
    const after = rssBytes(relay.pid);
    for (const c of clients) c.ws.close();
    return (after - before) / n;
  } finally {
    holder.kill();
    await holder.exited;
  }
}

async function holdDaemonLegs(url: string, token: string, seed: string, n: number): Promise<void> {
  for (let i = 0; i < n; i += 500) {
    await Promise.all(Array.from({ length: Math.min(500, n - i) }, (_, k) => openLeg({ url, token }, ridFor(seed, i + k), "daemon")));
  }
  process.stdout.write("ready\n");
  await new Promise(() => {});
}

if (import.meta.main && process.argv[2] === "--hold-daemon-legs") {
  const [url, token, seed, n] = process.argv.slice(3);
  await holdDaemonLegs(url!, token!, seed!, Number(n));
}
