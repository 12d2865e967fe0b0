// Issue 10 items 2, 3, 4 and 7 over a real loopback deployment (bench/deployment.ts): verb round
// trip on a warm session, session setup, streaming a log to the client, and calls per second with
// durable audit rows — each next to its baseline (ssh, raw Noise, raw spawn/SQLite) from this run.
import { rmSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditLog } from "../lib/store/audit.ts";
import { MAX_CONCURRENT_CALLS } from "../lib/wire/rpc.ts";
import { Store } from "../lib/store/store.ts";
import type { BenchDeployment } from "./deployment.ts";
import { median, percentile, withRatio, type Row } from "./report.ts";
import type { SshBaseline } from "./ssh.ts";
import { coldStartMs } from "./binaries.ts";

export interface VerbBenchSizes {
  roundTrips: number;
  sshFresh: number;
  sshReused: number;
  sessions: number;
  cliCalls: number;
  streamBytes: number;
  auditCalls: number;
}

export const QUICK_SIZES: VerbBenchSizes = { roundTrips: 300, sshFresh: 15, sshReused: 100, sessions: 30, cliCalls: 10, streamBytes: 20e6, auditCalls: 400 };
export const FULL_SIZES: VerbBenchSizes = { roundTrips: 1000, sshFresh: 100, sshReused: 1000, sessions: 100, cliCalls: 50, streamBytes: 200e6, auditCalls: 3000 };

async function callOk(d: BenchDeployment, s: Awaited<ReturnType<BenchDeployment["connect"]>>, verb: string, params: Record<string, string>): Promise<void> {
  const r = await s.call(verb, params).done;
  if (r.exitCode !== 0) throw new Error(`bench: ${verb} exited ${r.exitCode} (share ${d.share.id})`);
}

/** Item 2: `true` through client → relay → daemon → back, p50/p99, vs ssh fresh and ControlMaster. */
export async function benchRoundTrip(d: BenchDeployment, ssh: SshBaseline | undefined, n: VerbBenchSizes): Promise<Row[]> {
  const s = await d.connect();
  try {
    for (let i = 0; i < 20; i++) await callOk(d, s, "bench.true", {}); // warm up JIT and page cache
    const ours: number[] = [];
    for (let i = 0; i < n.roundTrips; i++) {
      const t = performance.now();
      await callOk(d, s, "bench.true", {});
      ours.push(performance.now() - t);
    }
    const rows: Row[] = [];
    const fresh = ssh ? await ssh.fresh(n.sshFresh) : undefined;
    const reused = ssh ? await ssh.reused(n.sshReused) : undefined;
    for (const p of [50, 99]) {
      const v = percentile(ours, p);
      rows.push(withRatio({ item: 2, name: `verb \`true\` round trip, warm session, p${p} (n=${n.roundTrips})`, value: v, unit: "ms", baseline: fresh && percentile(fresh, p), baselineName: fresh && `ssh true, fresh connection (n=${n.sshFresh})` }));
      if (reused) rows.push(withRatio({ item: 2, name: `verb \`true\` round trip, warm session, p${p}`, value: v, unit: "ms", baseline: percentile(reused, p), baselineName: `ssh true, ControlMaster reused (n=${n.sshReused})` }));
    }
    return rows;
  } finally {
    s.close();
  }
}

/** Item 3: handle → handshake → passport shown, p50, vs an ssh connection (fresh `ssh true`). */
export async function benchSessionSetup(d: BenchDeployment, ssh: SshBaseline | undefined, n: VerbBenchSizes): Promise<Row[]> {
  const ours: number[] = [];
  for (let i = 0; i < n.sessions + 3; i++) {
    const t = performance.now();
    const s = await d.connect();
    const ms = performance.now() - t;
    s.close();
    if (i >= 3) ours.push(ms); // the first few warm up the relay and daemon paths
    await Bun.sleep(5); // let the relay and daemon see the leg go before the next one pairs
  }
  const cli: number[] = [];
  for (let i = 0; i < n.cliCalls; i++) {
    const t = performance.now();
    const r = await d.cliCall("bench.true");
    if (r.code !== 0) throw new Error(`bench: client call exited ${r.code}: ${r.stderr}`);
    cli.push(performance.now() - t);
  }
  // The one-shot process's split: its binary's cold start, a session setup and a warm call
  // measured alone; the rest is what the process does around them (key and known-daemons files,
  // the CLI layer, exit).
  const coldStart = d.clientBinary ? await coldStartMs([d.clientBinary, "--version"], 10) : Number.NaN;
  const warm = await d.connect();
  const calls: number[] = [];
  try {
    for (let i = 0; i < 25; i++) {
      const t = performance.now();
      await callOk(d, warm, "bench.true", {});
      if (i >= 5) calls.push(performance.now() - t);
    }
  } finally {
    warm.close();
  }
  const split = { start: coldStart, setup: median(ours), call: median(calls) };
  const rest = median(cli) - split.start - split.setup - split.call;
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  const setups = n.sshFresh;
  const connect = ssh ? await ssh.connectOnly(setups) : undefined;
  const fresh = ssh ? (ssh.freshSamples.length >= 10 ? ssh.freshSamples : await ssh.fresh(n.sshFresh)) : undefined;
  return [
    withRatio({
      item: 3,
      name: `session setup: handle → handshake → passport, p50 (n=${n.sessions})`,
      value: median(ours),
      unit: "ms",
      baseline: connect && median(connect),
      baselineName: connect && `ssh connection setup: TCP, kex, auth (n=${setups})`,
    }),
    withRatio({
      item: 3,
      name: `one-shot \`openscope-reflect-client call\` process, p50 (n=${n.cliCalls})`,
      value: median(cli),
      unit: "ms",
      baseline: fresh && median(fresh),
      baselineName: fresh && `ssh true, fresh connection (n=${fresh.length})`,
      note: `split: cold start ${ms(split.start)}, session setup ${ms(split.setup)}, call ${ms(split.call)}, rest ${ms(rest)}`,
    }),
  ];
}

/** Item 4: a verb streaming log lines to the client, MB/s end to end, vs raw Noise, raw WebCrypto ChaCha and ssh. */
export async function benchStreaming(
  d: BenchDeployment,
  ssh: SshBaseline | undefined,
  n: VerbBenchSizes,
  channel: { transportMBs?: number; webCryptoMBs?: number },
): Promise<Row[]> {
  // One full-size warm-up, then the best of 3 (for ssh too): on a shared machine the best run is
  // the least disturbed one, and the first streams pay for the JIT.
  const RUNS = 3;
  const s = await d.connect();
  let mbs = 0;
  try {
    for (let i = 0; i <= RUNS; i++) {
      let got = 0;
      const t = performance.now();
      const r = await s.call("bench.stream", { bytes: String(n.streamBytes) }, (_stream, data) => (got += data.length)).done;
      if (r.exitCode !== 0 || got !== n.streamBytes) throw new Error(`bench: stream gave ${got} of ${n.streamBytes} bytes (exit ${r.exitCode})`);
      if (i > 0) mbs = Math.max(mbs, n.streamBytes / 1e6 / ((performance.now() - t) / 1000));
    }
  } finally {
    s.close();
  }
  let sshMBs = 0;
  for (let i = 0; ssh && i <= RUNS; i++) {
    const v = await ssh.streamMBs(d.logFile, n.streamBytes);
    if (i > 0) sshMBs = Math.max(sshMBs, v);
  }
  const name = `stream ${Math.round(n.streamBytes / 1e6)} MB of log lines to the client`;
  const rows: Row[] = [];
  if (channel.transportMBs) rows.push(withRatio({ item: 4, name, value: mbs, unit: "MB/s", baseline: channel.transportMBs, baselineName: "raw Noise transport (platform suite), one process" }));
  if (channel.webCryptoMBs) rows.push(withRatio({ item: 4, name, value: mbs, unit: "MB/s", baseline: channel.webCryptoMBs, baselineName: "raw WebCrypto ChaCha20-Poly1305" }));
  if (ssh) rows.push(withRatio({ item: 4, name, value: mbs, unit: "MB/s", baseline: sshMBs, baselineName: "ssh head -c, ControlMaster" }));
  if (rows.length === 0) rows.push({ item: 4, name, value: mbs, unit: "MB/s" });
  return rows;
}

/** Item 7: calls/s the daemon sustains (MAX_CONCURRENT_CALLS in flight), each with durable audit rows. */
export async function benchAudit(d: BenchDeployment, n: VerbBenchSizes): Promise<Row[]> {
  const before = (await d.cluster.auditRows(d.share.id)).length;
  const s = await d.connect();
  let perSec: number;
  try {
    let next = 0;
    const t = performance.now();
    const worker = async () => {
      while (next < n.auditCalls) {
        next++;
        await callOk(d, s, "bench.true", {});
      }
    };
    await Promise.all(Array.from({ length: MAX_CONCURRENT_CALLS }, worker));
    perSec = n.auditCalls / ((performance.now() - t) / 1000);
  } finally {
    s.close();
  }
  const after = (await d.cluster.auditRows(d.share.id)).length;
  const rowsPerCall = (after - before) / n.auditCalls;
  if (rowsPerCall < 1) throw new Error(`bench: ${after - before} audit rows for ${n.auditCalls} calls`);
  const spawn = await spawnTruePerSec(Math.min(n.auditCalls, 1000), MAX_CONCURRENT_CALLS);
  const appends = auditAppendsPerSec(Math.min(n.auditCalls, 1000));
  const name = `calls/s with durable audit (${MAX_CONCURRENT_CALLS} in flight, ${rowsPerCall.toFixed(1)} rows per call)`;
  return [
    withRatio({ item: 7, name, value: perSec, unit: "calls/s", baseline: spawn, baselineName: `Bun.spawn(\`true\`), ${MAX_CONCURRENT_CALLS} in flight, no audit` }),
    withRatio({ item: 7, name, value: perSec, unit: "calls/s", baseline: appends / rowsPerCall, baselineName: "lib/store/audit.ts appends (synchronous=FULL) ÷ rows per call" }),
  ];
}

async function spawnTruePerSec(count: number, concurrency: number): Promise<number> {
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        await Bun.spawn(["true"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" }).exited;
      }
    }),
  );
  return count / ((performance.now() - t) / 1000);
}

function auditAppendsPerSec(count: number): number {
  const dir = mkdtempSync(join(tmpdir(), "openscope-bench-audit-"));
  try {
    const store = Store.open(join(dir, "state.db"));
    const audit = new AuditLog(store);
    const t = performance.now();
    for (let i = 0; i < count; i++) audit.append({ kind: "call.allowed", shareId: "0123456789ab", agent: "bench", callId: String(i), verb: "bench.true", params: {} });
    const perSec = count / ((performance.now() - t) / 1000);
    store.close();
    return perSec;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
