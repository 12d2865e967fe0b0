// `bun run bench [--quick] [--only 1,4,…] [--out FILE]`: the issue 10 numbers, each next to a
// baseline measured in the same run (ratio = OpenScope ÷ baseline), printed as a table and written
// to bench/results.json with the machine. It collects bench/relay.ts and bench/channel.ts and adds
// the rest (bench/verbs.ts, relay-cost.ts, binaries.ts). Nothing here asserts a timing.
import { join } from "node:path";
import { benchBinaries } from "./binaries.ts";
import { benchChannel } from "./channel.ts";
import { startBenchDeployment, type BenchDeployment } from "./deployment.ts";
import { benchRelay } from "./relay.ts";
import { cpuPerGB, idleRssPerSession, maxPairedSessions, startRelayProcess } from "./relay-cost.ts";
import { formatTable, fromPiece, machineInfo, withRatio, writeResults, type Results, type Row } from "./report.ts";
import { startSshBaseline, sshUnavailable, type SshBaseline } from "./ssh.ts";
import { ensureTransitRelay, startTransitRelay, transitThroughput } from "./transit.ts";
import { benchRedactedStreaming, benchScanner, REDACTION_STREAM_MIN_BYTES } from "./redaction.ts";
import { benchAudit, benchRoundTrip, benchSessionSetup, benchStreaming, FULL_SIZES, QUICK_SIZES } from "./verbs.ts";

export interface BenchOptions {
  quick: boolean;
  only?: Set<number>;
  out: string;
  log?: (line: string) => void;
}

/** What to stop when the run is interrupted (Ctrl-C), so no relay, daemon or sshd outlives it. */
const onInterrupt = new Set<() => Promise<void>>();

export function parseBenchArgs(argv: string[]): BenchOptions {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const only = value("--only");
  return {
    quick: argv.includes("--quick"),
    only: only === undefined ? undefined : new Set(only.split(",").map(Number).filter((n) => n >= 1 && n <= 8)),
    out: value("--out") ?? join(import.meta.dir, "results.json"),
  };
}

export async function runBench(opts: BenchOptions): Promise<Results> {
  const started = performance.now();
  const log = opts.log ?? ((line: string) => process.stderr.write(`bench: ${line}\n`));
  const want = (...items: number[]) => !opts.only || items.some((i) => opts.only!.has(i));
  const rows: Row[] = [];
  const skipped: Results["skipped"] = [];
  const sizes = opts.quick ? QUICK_SIZES : FULL_SIZES;
  const section = async (items: number[], label: string, fn: () => Promise<void>) => {
    if (!want(...items)) return;
    log(`${label}…`);
    const t = performance.now();
    try {
      await fn();
    } catch (e) {
      const reason = `failed: ${(e as Error).message.split("\n")[0]}`;
      log(`${label} ${reason}`);
      for (const item of items) skipped.push({ item, reason });
    }
    log(`${label} done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  };

  const relay64: Record<number, number> = {};
  await section([1], "relay forwarding vs direct WebSocket (bench/relay.ts)", async () => {
    for (const r of await benchRelay({ quick: opts.quick })) {
      // its RSS row is taken after the throughput runs, on a relay whose heap then shrinks (it
      // can come out negative); item 5 below measures RSS on fresh processes, with a baseline
      if (!/RSS/.test(r.name)) rows.push(fromPiece(1, r, /bare forwarder/.test(r.name) ? "bare Bun forwarder" : "direct WebSocket"));
      const m = /^relay 64 KiB messages, (\d+) sessions?$/.exec(r.name);
      if (m) relay64[Number(m[1])] = r.value;
    }
  });

  await section([1], "relay 64 KiB vs magic-wormhole transit relay (bench/transit.ts)", async () => {
    const transit = await startTransitRelay(await ensureTransitRelay(log));
    try {
      for (const n of [1, 100]) {
        const theirs = await transitThroughput(transit.port, n, 64 * 1024, opts.quick ? 64 << 20 : 512 << 20);
        const name = `relay 64 KiB messages, ${n} session${n === 1 ? "" : "s"}`;
        if (relay64[n] !== undefined) rows.push(withRatio({ item: 1, name, value: relay64[n]!, unit: "MB/s", baseline: theirs, baselineName: "magic-wormhole transit relay (TCP)" }));
        else rows.push({ item: 0, name: `magic-wormhole transit relay, 64 KiB messages, ${n} session${n === 1 ? "" : "s"}`, value: theirs, unit: "MB/s" });
      }
    } finally {
      await transit.stop();
    }
  });

  await section([5], "relay memory and CPU per GB vs a bare Bun forwarder", async () => {
    const n = Math.min(opts.quick ? 1_000 : 10_000, maxPairedSessions()); // 10,000 needs > 20,000 fds
    const gb = opts.quick ? 256 << 20 : 1 << 30;
    const measured: Record<string, { rss: number; cpu: number }> = {};
    for (const kind of ["openscope", "bare"] as const) {
      const relay = await startRelayProcess(kind);
      try {
        const rss = await idleRssPerSession(relay, n); // first, on a fresh process
        measured[kind] = { rss, cpu: await cpuPerGB(relay, gb) };
      } finally {
        await relay.stop();
      }
    }
    const ours = measured.openscope!;
    const bare = measured.bare!;
    const rssName = `relay RSS per idle paired session (${n.toLocaleString("en-US")} sessions, fresh process)`;
    rows.push(withRatio({ item: 5, name: rssName, value: ours.rss / 1024, unit: "KiB", baseline: bare.rss / 1024, baselineName: "bare Bun forwarder" }));
    rows.push(withRatio({ item: 5, name: `relay CPU per GB forwarded (64 KiB messages, ${Math.round(gb / 1e6)} MB)`, value: ours.cpu, unit: "CPU s/GB", baseline: bare.cpu, baselineName: "bare Bun forwarder" }));
  });

  const channel: { transportMBs?: number; webCryptoMBs?: number } = {};
  await section([4], "channel micro-benchmarks (bench/channel.ts)", async () => {
    for (const r of await benchChannel({ quick: opts.quick })) {
      if (/transport/.test(r.name)) channel.transportMBs = r.value;
      if (/raw WebCrypto/.test(r.name)) channel.webCryptoMBs = r.value;
      rows.push(withRatio({ item: 0, ...r }));
    }
  });

  await section([8], "redaction scanner alone", async () => void rows.push(...benchScanner(opts.quick ? 20e6 : 100e6)));

  if (want(2, 3, 4, 7, 8)) {
    let ssh: SshBaseline | undefined;
    const noSsh = sshUnavailable();
    if (noSsh && want(2, 3, 4)) skipped.push({ item: 2, reason: `ssh baseline: ${noSsh}` });
    let d: BenchDeployment | undefined;
    try {
      await section([2, 3, 4, 7, 8], "starting a loopback deployment and sshd", async () => {
        d = await startBenchDeployment({ logBytes: sizes.streamBytes });
        onInterrupt.add(d.stop);
        if (!noSsh && want(2, 3, 4)) {
          ssh = await startSshBaseline();
          onInterrupt.add(ssh.stop);
        }
      });
      if (d) {
        const dep = d;
        await section([2], "verb round trip vs ssh", async () => void rows.push(...(await benchRoundTrip(dep, ssh, sizes))));
        await section([3], "session setup vs ssh", async () => void rows.push(...(await benchSessionSetup(dep, ssh, sizes))));
        await section([4], "streaming vs raw Noise, raw WebCrypto and ssh", async () => void rows.push(...(await benchStreaming(dep, ssh, sizes, channel))));
        await section([7], "audit: calls per second", async () => void rows.push(...(await benchAudit(dep, sizes))));
        await section([8], "streaming with redaction on vs off", async () => void rows.push(...(await benchRedactedStreaming(dep, Math.max(sizes.streamBytes, REDACTION_STREAM_MIN_BYTES)))));
      }
    } finally {
      for (const x of [ssh, d]) {
        if (!x) continue;
        onInterrupt.delete(x.stop);
        await x.stop();
      }
    }
  }

  await section([6], "compiled binaries: size and cold start", async () => void rows.push(...(await benchBinaries(20))));

  rows.sort((a, b) => (a.item || 99) - (b.item || 99));
  const results: Results = {
    machine: machineInfo(new Date()),
    mode: opts.quick ? "quick" : "full",
    durationS: Math.round((performance.now() - started) / 100) / 10,
    rows,
    skipped,
  };
  await writeResults(opts.out, results);
  return results;
}

if (import.meta.main) {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      void Promise.allSettled([...onInterrupt].map((stop) => stop())).then(() => process.exit(130));
    });
  }
  const opts = parseBenchArgs(process.argv.slice(2));
  const results = await runBench(opts);
  const m = results.machine;
  console.log(`\nOpenScope bench (${results.mode}, ${results.durationS} s) — ${m.cpu}, ${m.cores} cores, ${(m.memoryBytes / 2 ** 30).toFixed(0)} GiB, ${m.os}, Bun ${m.bun}, ${m.date}`);
  console.log("ratio = OpenScope ÷ baseline (for ms, KiB, MB and CPU s/GB lower is better; for MB/s and per-second rates higher is better)\n");
  console.log(formatTable(results.rows));
  for (const s of results.skipped) console.log(`item ${s.item}: ${s.reason}`);
  console.log(`\nwrote ${opts.out}`);
  process.exit(results.skipped.some((s) => s.reason.startsWith("failed")) ? 1 : 0);
}
