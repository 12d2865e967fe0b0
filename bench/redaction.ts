// Issue 16's numbers: the redaction scanner alone (MB/s over log lines with one secret per
// 1,000 lines, and over keyword-dense lines, each against the same rules without the SIMD
// search), and a verb streaming that log to the client with redaction on vs the same verb
// with `redact = false`, in the same run over the same deployment (bench/deployment.ts).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUILTIN_RULES } from "../lib/redact/rules.ts";
import { builtinRuleSet, compileRules, type RuleSet } from "../lib/redact/scanner.ts";
import { LineRedactor } from "../lib/redact/stream.ts";
import type { BenchDeployment } from "./deployment.ts";
import { cpuSeconds } from "./relay-cost.ts";
import { withRatio, type Row } from "./report.ts";

const LINES = [
  "2026-11-24T12:00:00.000Z INFO web[4242]: GET /api/items?page=3 200 12ms bytes=5120 ua=curl/8.5",
  '{"level":"info","ts":"2026-11-24T12:00:00Z","msg":"request done","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","status":200}',
  "Nov 24 12:00:00 web-1 sshd[2211]: Accepted publickey for deploy from 10.0.4.17 port 53122 ssh2",
  "2026-11-24T12:00:01.456Z WARN  api slow query took 1532ms: SELECT id FROM users WHERE org_id = $1 LIMIT 50",
];
const SECRET_LINE = "2026-11-24T12:00:02.000Z DEBUG env AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE region=eu-west-1";

/**
 * The least the redaction stream rows send, also in --quick: the kernel counts CPU time in 10 ms
 * ticks, so 20 MB would measure the daemon's CPU per GB in steps of 0.5 s (100 MB: 0.1 s).
 */
export const REDACTION_STREAM_MIN_BYTES = 100e6;

/** A log of about `bytes` with one secret line per 1,000 lines. */
export function secretLog(bytes: number): string {
  const block: string[] = [];
  for (let i = 0; i < 1000; i++) block.push(i === 999 ? SECRET_LINE : LINES[i % LINES.length]!);
  const text = block.join("\n") + "\n";
  return text.repeat(Math.max(1, Math.ceil(bytes / text.length)));
}

export function writeSecretLog(path: string, bytes: number): void {
  writeFileSync(path, secretLog(bytes));
}

/** MB/s of a LineRedactor over `input` in 64 KiB chunks, best of 5 passes. */
function redactorMBs(rules: RuleSet, input: Uint8Array): number {
  let best = 0;
  for (let pass = 0; pass < 5; pass++) {
    const r = new LineRedactor(rules);
    const t = performance.now();
    let out = 0;
    for (let at = 0; at < input.length; at += 65536) for (const p of r.push(input.subarray(at, at + 65536))) out += p.length;
    for (const p of r.flush()) out += p.length;
    if (out === 0) throw new Error("bench: the redactor produced nothing");
    best = Math.max(best, input.length / 1e6 / ((performance.now() - t) / 1000));
  }
  return best;
}

/**
 * The scanner alone (LineRedactor, 64 KiB chunks): on the bench's log (1 secret per 1,000 lines)
 * and on the redaction tests' benign corpus (a key, token or password word on almost every line),
 * each against the same rules without the SIMD search (the string path), in the same run.
 */
export function benchScanner(bytes: number): Row[] {
  const withSimd = builtinRuleSet();
  const stringPath = compileRules(BUILTIN_RULES, { simd: false });
  const logs: [string, Uint8Array][] = [
    [`log lines with 1 secret per 1,000 (${Math.round(bytes / 1e6)} MB, 64 KiB chunks)`, new TextEncoder().encode(secretLog(bytes))],
    [`keyword-dense lines, test/redact/corpus/benign.txt (${Math.round(bytes / 1e6)} MB, 64 KiB chunks)`, repeatedTo(readFileSync(DENSE_CORPUS), bytes)],
  ];
  return logs.map(([what, input]) =>
    withRatio({ item: 8, name: `redaction scanner alone, ${what}`, value: redactorMBs(withSimd, input), unit: "MB/s", baseline: redactorMBs(stringPath, input), baselineName: "the same rules without the SIMD search" }),
  );
}

const DENSE_CORPUS = join(import.meta.dir, "..", "test", "redact", "corpus", "benign.txt");

function repeatedTo(text: Uint8Array, bytes: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes / text.length) * text.length);
  for (let at = 0; at < out.length; at += text.length) out.set(text, at);
  return out;
}

/**
 * The same log streamed by a redacting verb and by a `redact = false` verb, interleaved, best of
 * 5 each: MB/s end to end, and the daemon's CPU seconds per GB (steadier on a shared machine,
 * where wall-clock throughput swings with other processes).
 */
export async function benchRedactedStreaming(d: BenchDeployment, bytes: number): Promise<Row[]> {
  const s = await d.connect();
  const daemonPid = d.cluster.daemon!.proc.pid;
  const once = async (verb: string): Promise<{ mbs: number; cpuPerGB: number }> => {
    let got = 0;
    const cpu0 = cpuSeconds(daemonPid);
    const t = performance.now();
    const r = await s.call(verb, { bytes: String(bytes) }, (_stream, data) => void (got += data.length)).done;
    if (r.exitCode !== 0 || got < bytes * 0.99) throw new Error(`bench: ${verb} gave ${got} of ${bytes} bytes (exit ${r.exitCode})`);
    const mbs = bytes / 1e6 / ((performance.now() - t) / 1000);
    return { mbs, cpuPerGB: ((cpuSeconds(daemonPid) - cpu0) * 1e9) / bytes };
  };
  try {
    await once("bench.stream_secrets"); // warm up both paths
    await once("bench.stream_secrets_raw");
    const on = { mbs: 0, cpuPerGB: Infinity };
    const off = { mbs: 0, cpuPerGB: Infinity };
    // best of 5 each, interleaved: on a shared machine the best runs are the least disturbed
    for (let i = 0; i < 5; i++) {
      for (const [verb, best] of [["bench.stream_secrets", on], ["bench.stream_secrets_raw", off]] as const) {
        const m = await once(verb);
        best.mbs = Math.max(best.mbs, m.mbs);
        best.cpuPerGB = Math.min(best.cpuPerGB, m.cpuPerGB);
      }
    }
    const what = `${Math.round(bytes / 1e6)} MB of log lines (1 secret per 1,000) with redaction on`;
    return [
      withRatio({ item: 8, name: `stream ${what}`, value: on.mbs, unit: "MB/s", baseline: off.mbs, baselineName: "the same verb with redact = false" }),
      withRatio({ item: 8, name: `daemon CPU per GB streamed, ${what}`, value: on.cpuPerGB, unit: "CPU s/GB", baseline: off.cpuPerGB, baselineName: "the same verb with redact = false" }),
    ];
  } finally {
    s.close();
  }
}
