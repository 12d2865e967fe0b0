// A smoke test of the bench harness so `bun run bench` does not rot: the statistics, the table and
// results.json writer, argument parsing, and tiny measures through the bare and the real relay
// process. Asserts shapes and sanity (finite, positive, bytes arrived), never a timing.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { coldStartMs } from "../bench/binaries.ts";
import { benchCatalog } from "../bench/deployment.ts";
import { benchScanner, secretLog } from "../bench/redaction.ts";
import { cpuPerGB, cpuSeconds, maxPairedSessions, rssBytes, startRelayProcess } from "../bench/relay-cost.ts";
import { formatNumber, formatTable, fromPiece, machineInfo, median, percentile, withRatio, writeResults, type Row } from "../bench/report.ts";
import { parseBenchArgs } from "../bench/run.ts";
import { ensureTransitRelay, startTransitRelay, transitThroughput } from "../bench/transit.ts";
import { parseCatalog } from "../lib/capability/catalog.ts";

const dir = mkdtempSync(join(tmpdir(), "openscope-bench-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("bench statistics and report", () => {
  test("percentile is nearest-rank and median averages the middle pair", () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted on purpose
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  test("withRatio divides by the baseline and leaves rows without one alone", () => {
    expect(withRatio({ item: 2, name: "x", value: 10, unit: "ms", baseline: 40 }).ratio).toBe(0.25);
    expect(withRatio({ item: 2, name: "x", value: 10, unit: "ms" }).ratio).toBeUndefined();
    expect(withRatio({ item: 2, name: "x", value: 10, unit: "ms", baseline: 0 }).ratio).toBeUndefined();
    const lifted = fromPiece(1, { name: "relay", value: 500, unit: "MB/s", baseline: 1000, ratio: 0.5 }, "direct WebSocket");
    expect(lifted).toMatchObject({ item: 1, ratio: 0.5, baselineName: "direct WebSocket" });
  });

  test("numbers round to whole units from 100 and to three significant digits below", () => {
    expect(formatNumber(12345.6)).toBe("12,346");
    expect(formatNumber(12.345)).toBe("12.3");
    expect(formatNumber(1.2345)).toBe("1.23");
    expect(formatNumber(0.012345)).toBe("0.012");
    expect(formatNumber(Number.NaN)).toBe("—");
  });

  test("the table has a header, a rule and one aligned line per row", () => {
    const rows: Row[] = [
      withRatio({ item: 2, name: "round trip p50", value: 3.2, unit: "ms", baseline: 64, baselineName: "ssh fresh" }),
      { item: 0, name: "context", value: 130, unit: "MB/s" },
    ];
    const lines = formatTable(rows).split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^\| # +\| measure +\| OpenScope +\| baseline +\| ratio +\|$/);
    expect(lines[1]).toMatch(/^\|-+\|-+\|-+\|-+\|-+\|$/);
    expect(lines[2]).toContain("3.20 ms");
    expect(lines[2]).toContain("64.0 ms — ssh fresh");
    expect(lines[2]).toContain("0.050×");
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
  });

  test("results.json carries the machine and the rows", async () => {
    const path = join(dir, "results.json");
    const machine = machineInfo(new Date(0));
    await writeResults(path, { machine, mode: "quick", durationS: 1, rows: [{ item: 6, name: "size", value: 90, unit: "MB" }], skipped: [] });
    const back = JSON.parse(readFileSync(path, "utf8"));
    expect(back.machine.cores).toBeGreaterThan(0);
    expect(back.machine.memoryBytes).toBeGreaterThan(0);
    expect(back.machine.bun).toBe(Bun.version);
    expect(back.machine.date).toBe("1970-01-01T00:00:00.000Z");
    expect(typeof back.machine.cpu).toBe("string");
    expect(back.rows[0]).toEqual({ item: 6, name: "size", value: 90, unit: "MB" });
  });

  test("arguments: --quick, --only and --out", () => {
    const o = parseBenchArgs(["--quick", "--only", "2,7,9", "--out", "/tmp/x.json"]);
    expect(o.quick).toBe(true);
    expect([...o.only!]).toEqual([2, 7]);
    expect(o.out).toBe("/tmp/x.json");
    expect(parseBenchArgs([]).out).toEndWith(join("bench", "results.json"));
  });

  test("the bench catalog parses", () => {
    const catalog = parseCatalog(benchCatalog("/var/log/bench.log"));
    expect([...catalog.keys()].sort()).toEqual(["bench.stream", "bench.true"]);
  });

  test("the redaction bench: its verbs (one with redact = false) and a log with 1 secret per 1,000 lines", () => {
    const catalog = parseCatalog(benchCatalog("/var/log/bench.log", "/var/log/secrets.log"));
    expect([...catalog.keys()].sort()).toEqual(["bench.stream", "bench.stream_secrets", "bench.stream_secrets_raw", "bench.true"]);
    expect(catalog.get("bench.stream_secrets_raw")!.redact).toBe(false);
    expect(catalog.get("bench.stream_secrets")!.redact).toBeUndefined();
    const lines = secretLog(300_000).split("\n").filter(Boolean);
    expect(lines.length % 1000).toBe(0);
    expect(lines.filter((l) => l.includes("AKIA")).length).toBe(lines.length / 1000);
    const scanner = benchScanner(100_000);
    expect(scanner).toHaveLength(2);
    for (const row of scanner) {
      expect(row).toMatchObject({ item: 8, unit: "MB/s", baselineName: "the same rules without the SIMD search" });
      expect(row.value).toBeGreaterThan(0);
      expect(row.ratio).toBeGreaterThan(0);
    }
  });
});

describe("bench micro-measures (tiny counts)", () => {
  test("cold start median of a few runs of true", async () => {
    const ms = await coldStartMs(["true"], 3);
    expect(Number.isFinite(ms) && ms > 0).toBe(true);
  });

  test("paired sessions per relay process follow the open-files limit", () => {
    expect(maxPairedSessions("Max open files            20000                20000                files     \n")).toBe(9872);
    expect(maxPairedSessions("Max open files            unlimited            unlimited            files     \n")).toBe(Number.POSITIVE_INFINITY);
    expect(maxPairedSessions()).toBeGreaterThan(0);
  });

  test("process CPU and RSS readings", () => {
    expect(cpuSeconds(process.pid)).toBeGreaterThan(0);
    expect(rssBytes(process.pid)).toBeGreaterThan(1 << 20);
  });

  for (const kind of ["bare", "openscope"] as const) {
    test(`1 MiB through the ${kind} relay process, CPU per GB is finite`, async () => {
      const relay = await startRelayProcess(kind);
      try {
        const perGB = await cpuPerGB(relay, 1 << 20);
        expect(Number.isFinite(perGB) && perGB >= 0).toBe(true);
      } finally {
        await relay.stop();
      }
    });
  }

  test("2 MiB through the magic-wormhole transit relay (its handshake, 2 sessions) all arrive", async () => {
    const relay = await startTransitRelay(await ensureTransitRelay());
    try {
      const mbs = await transitThroughput(relay.port, 2, 64 * 1024, 2 << 20); // waits for every byte
      expect(Number.isFinite(mbs) && mbs > 0).toBe(true);
    } finally {
      await relay.stop();
    }
  }, 60_000);
});
