// Relay benchmark (issue 5): forwarding throughput for 64 KiB messages and message rate for
// 100-byte messages through the real relay process, against a direct WebSocket between the same
// two ends in the same run (the ratio is the headline), for 1 and 100 sessions; and the relay's
// RSS per idle paired session. Numbers only. bench/run.ts calls benchRelay; `bun bench/relay.ts
// [--full]` runs it alone, prints a table and the JSON rows.
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  baseline?: number;
  ratio?: number;
}

const ROOT = join(import.meta.dir, "..");
const TOKEN = "bench-" + randomBytes(8).toString("hex");

interface End {
  ws: WebSocket;
  received: number;
}

function ridFor(seed: string, i: number): string {
  return createHash("sha256").update(`${seed}:${i}`).digest().subarray(0, 16).toString("base64url");
}

/** One leg that resolves once the relay says "paired" (or once open, with `paired: false`). */
function openEnd(url: string, headers: Record<string, string> = {}, waitPaired = true): Promise<End> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false } as unknown as string[]);
    (ws as unknown as { binaryType: string }).binaryType = "nodebuffer";
    const end: End = { ws, received: 0 };
    ws.onmessage = (e) => {
      if (typeof e.data === "string") {
        if (e.data.includes('"paired"')) resolve(end);
      } else end.received += (e.data as Buffer).byteLength;
    };
    ws.onopen = () => {
      if (!waitPaired) resolve(end);
    };
    ws.onerror = () => reject(new Error(`bench: cannot open ${url.replace(/rendezvous\/[^?]+/, "rendezvous/…")}`));
  });
}

function legUrl(base: string, rid: string, role: "daemon" | "client"): string {
  return `${base.replace(/^http/, "ws")}/v1/rendezvous/${rid}?role=${role}`;
}

interface RelayProc {
  proc: ReturnType<typeof Bun.spawn>;
  url: string;
}

/** openscope-relay from source, or the bare forwarder of bench/bare-relay.ts (it pairs by path, ignores the token). */
async function spawnRelay(kind: "openscope" | "bare" = "openscope"): Promise<RelayProc> {
  const dir = mkdtempSync(join(tmpdir(), "relay-bench-"));
  writeFileSync(join(dir, "tokens.txt"), `${TOKEN}\n`, { mode: 0o600 });
  const cmd =
    kind === "bare"
      ? [process.execPath, join(ROOT, "bench", "bare-relay.ts")]
      : [process.execPath, join(ROOT, "relay.ts"), "--listen", "127.0.0.1:0", "--tokens-file", join(dir, "tokens.txt"),
          "--rate", "1000000", "--rate-burst", "1000000", "--max-legs-per-token", "100000"];
  const proc = Bun.spawn(cmd, { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  let err = "";
  const dec = new TextDecoder();
  const reader = (proc.stderr as ReadableStream<Uint8Array>).getReader();
  let url: string | undefined;
  while (!url) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`bench: relay exited: ${err}`);
    err += dec.decode(value);
    url = /listening on (http:\/\/\S+)/.exec(err)?.[1];
  }
  void (async () => {
    while (!(await reader.read()).done); // keep draining so the relay never blocks on stderr
  })();
  return { proc, url };
}

function rssOf(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024;
}

const tick = () => new Promise<void>((r) => setImmediate(r));

/** Each sender pushes `perSender` bytes of `msg`; returns seconds until every byte arrived. */
async function pump(pairs: Array<{ from: WebSocket; to: () => number }>, msg: Uint8Array, perSender: number): Promise<number> {
  const start0 = pairs.map((p) => p.to());
  const t = performance.now();
  await Promise.all(
    pairs.map(async ({ from }) => {
      let sent = 0;
      while (sent < perSender) {
        if (from.bufferedAmount < 2 * 1024 * 1024) {
          from.send(msg);
          sent += msg.byteLength;
        } else {
          await tick();
        }
      }
    }),
  );
  while (!pairs.every((p, i) => p.to() - start0[i]! >= perSender)) await Bun.sleep(1);
  return (performance.now() - t) / 1000;
}

/** Direct baseline: the same sender ends talking straight to a Bun.serve receiver. */
async function directPairs(n: number): Promise<{ pairs: Array<{ from: WebSocket; to: () => number }>; close: () => void }> {
  const counts: number[] = [];
  const server = Bun.serve<{ i: number }>({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req, srv) {
      const i = Number(new URL(req.url).searchParams.get("i"));
      return srv.upgrade(req, { data: { i } }) ? undefined : new Response("no", { status: 400 });
    },
    websocket: {
      maxPayloadLength: 65 * 1024,
      perMessageDeflate: false,
      message(ws, m) {
        counts[ws.data.i]! += typeof m === "string" ? m.length : m.byteLength;
      },
    },
  });
  const pairs = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      counts[i] = 0;
      const end = await openEnd(`ws://127.0.0.1:${server.port}/?i=${i}`, {}, false);
      return { from: end.ws, to: () => counts[i]! };
    }),
  );
  return {
    pairs,
    close: () => {
      for (const p of pairs) p.from.close();
      void server.stop(true);
    },
  };
}

async function relayPairs(relay: RelayProc, n: number): Promise<{ pairs: Array<{ from: WebSocket; to: () => number }>; close: () => void }> {
  const seed = randomBytes(8).toString("hex");
  const ends = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const rid = ridFor(seed, i);
      const d = openEnd(legUrl(relay.url, rid, "daemon"), { authorization: `Bearer ${TOKEN}` });
      await Bun.sleep(0);
      const c = openEnd(legUrl(relay.url, rid, "client"));
      return { daemon: await d, client: await c };
    }),
  );
  return {
    pairs: ends.map((e) => ({ from: e.daemon.ws, to: () => e.client.received })),
    close: () => {
      for (const e of ends) {
        e.daemon.ws.close();
        e.client.ws.close();
      }
    },
  };
}

async function throughput(relay: RelayProc, sessions: number, msgSize: number, totalBytes: number): Promise<{ relay: number; direct: number }> {
  const msg = randomBytes(msgSize);
  const perSender = Math.max(msgSize, Math.floor(totalBytes / sessions / msgSize) * msgSize);
  const rate = (secs: number) => (msgSize >= 1024 ? (perSender * sessions) / 1e6 / secs : (perSender * sessions) / msgSize / secs);
  const d = await directPairs(sessions);
  await pump(d.pairs, msg, Math.min(perSender, msgSize * 64)); // warm up
  const direct = rate(await pump(d.pairs, msg, perSender));
  d.close();
  const r = await relayPairs(relay, sessions);
  await pump(r.pairs, msg, Math.min(perSender, msgSize * 64));
  const viaRelay = rate(await pump(r.pairs, msg, perSender));
  r.close();
  return { relay: viaRelay, direct };
}

/** Messages (or MB) per second through one relay process only. */
async function relayRate(relay: RelayProc, sessions: number, msgSize: number, totalBytes: number): Promise<number> {
  const msg = randomBytes(msgSize);
  const perSender = Math.max(msgSize, Math.floor(totalBytes / sessions / msgSize) * msgSize);
  const r = await relayPairs(relay, sessions);
  try {
    await pump(r.pairs, msg, Math.min(perSender, msgSize * 64));
    const secs = await pump(r.pairs, msg, perSender);
    return msgSize >= 1024 ? (perSender * sessions) / 1e6 / secs : (perSender * sessions) / msgSize / secs;
  } finally {
    r.close();
  }
}

async function idleRss(relay: RelayProc, n: number): Promise<number> {
  await Bun.sleep(200);
  Bun.gc(true);
  const before = rssOf(relay.proc.pid);
  const seed = randomBytes(8).toString("hex");
  const child = Bun.spawn([process.execPath, import.meta.path, "--hold-daemon-legs", relay.url, seed, String(n), TOKEN], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "inherit",
  });
  const out = (child.stdout as ReadableStream<Uint8Array>).getReader();
  const first = await out.read();
  if (first.done || !new TextDecoder().decode(first.value).includes("ready")) throw new Error("bench: daemon legs helper failed");
  const clients: End[] = [];
  try {
    for (let i = 0; i < n; i += 500) {
      clients.push(...(await Promise.all(Array.from({ length: Math.min(500, n - i) }, (_, k) => openEnd(legUrl(relay.url, ridFor(seed, i + k), "client"))))));
    }
    await Bun.sleep(500);
    return (rssOf(relay.proc.pid) - before) / n;
  } finally {
    for (const c of clients) c.ws.close();
    child.kill();
    await child.exited;
  }
}

/** Sessions that fit: the relay holds two sockets per session within its open-files limit. */
function sessionsThatFit(wanted: number): number {
  const m = /Max open files\s+(\d+)/.exec(readFileSync("/proc/self/limits", "utf8"));
  const limit = m ? Number(m[1]) : Infinity;
  return Math.min(wanted, Math.floor((limit - 256) / 2 / 500) * 500);
}

export async function benchRelay(opts: { quick: boolean }): Promise<BenchRow[]> {
  const relay = await spawnRelay();
  const rows: BenchRow[] = [];
  const row = (name: string, unit: string, r: { relay: number; direct: number }) =>
    rows.push({ name, value: round(r.relay), unit, baseline: round(r.direct), ratio: Math.round((r.relay / r.direct) * 100) / 100 });
  try {
    const big = opts.quick ? 64 << 20 : 512 << 20;
    const small = opts.quick ? 4_000_000 : 20_000_000; // bytes of 100-byte messages
    row("relay 64 KiB messages, 1 session", "MB/s", await throughput(relay, 1, 64 * 1024, big));
    row("relay 100 B messages, 1 session", "msgs/s", await throughput(relay, 1, 100, small));
    row("relay 64 KiB messages, 100 sessions", "MB/s", await throughput(relay, 100, 64 * 1024, big));
    row("relay 100 B messages, 100 sessions", "msgs/s", await throughput(relay, 100, 100, small));
    // The per-message cost above the least a Bun forwarder can do: the same ends through
    // bench/bare-relay.ts (a direct socket has one hop less, so it is a harder baseline).
    const bare = await spawnRelay("bare");
    try {
      for (const n of [1, 100]) {
        const ours = await relayRate(relay, n, 100, small);
        const theirs = await relayRate(bare, n, 100, small);
        rows.push({ name: `relay 100 B messages, ${n} session${n === 1 ? "" : "s"} (vs the bare forwarder)`, value: round(ours), unit: "msgs/s", baseline: round(theirs), ratio: Math.round((ours / theirs) * 100) / 100 });
      }
    } finally {
      bare.proc.kill("SIGTERM");
      await bare.proc.exited;
    }
    // 10,000 sessions need 20,000 sockets in the relay; fewer fit under a low open-files limit.
    const n = sessionsThatFit(opts.quick ? 1_000 : 10_000);
    rows.push({ name: `relay RSS per idle paired session (${n.toLocaleString("en")} sessions)`, value: round((await idleRss(relay, n)) / 1024), unit: "KiB" });
  } finally {
    relay.proc.kill("SIGTERM");
    await relay.proc.exited;
  }
  return rows;
}

function round(x: number): number {
  return x >= 100 ? Math.round(x) : Math.round(x * 100) / 100;
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  if (argv[0] === "--hold-daemon-legs") {
    // Child mode for idleRss (file-descriptor room); the token is passed in: each process makes its own.
    const [, url, seed, n, token] = argv;
    await holdDaemonLegs(url!, seed!, Number(n), token!);
  } else {
    const rows = await benchRelay({ quick: !argv.includes("--full") });
    for (const r of rows) {
      const base = r.baseline === undefined ? "" : `   direct ${r.baseline} ${r.unit}   ratio ${r.ratio}`;
      console.log(`${r.name.padEnd(52)} ${String(r.value).padStart(10)} ${r.unit}${base}`);
    }
    console.log(JSON.stringify(rows, null, 2));
  }
}

/** Opens `n` idle daemon legs for rids derived from `seed`, says "ready", and holds them. */
async function holdDaemonLegs(url: string, seed: string, n: number, token: string): Promise<void> {
  for (let i = 0; i < n; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, n - i) }, (_, k) =>
        openEnd(legUrl(url, ridFor(seed, i + k), "daemon"), { authorization: `Bearer ${token}` }, false),
      ),
    );
  }
  process.stdout.write("ready\n");
  await new Promise(() => {});
}
