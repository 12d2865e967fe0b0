// The bench's output: one Row per measure (ours next to a baseline measured in the same run and
// their ratio), statistics over samples, the machine description, the text table and
// bench/results.json. Pure apart from machineInfo (reads the OS) and writeResults (writes a file).
import { cpus, platform, release, totalmem } from "node:os";

export interface Row {
  /** Issue 10 item (1–7), or 0 for extra context rows. */
  item: number;
  name: string;
  value: number;
  unit: string;
  baselineName?: string;
  baseline?: number;
  /** value ÷ baseline; computed by `withRatio` when both are there. */
  ratio?: number;
  note?: string;
}

/** What benchChannel / benchRelay return; lifted into a Row. */
export interface PieceRow {
  name: string;
  value: number;
  unit: string;
  baseline?: number;
  ratio?: number;
}

export function fromPiece(item: number, r: PieceRow, baselineName?: string): Row {
  return withRatio({ item, name: r.name, value: r.value, unit: r.unit, baseline: r.baseline, baselineName: r.baseline === undefined ? undefined : baselineName, ratio: r.ratio });
}

export function withRatio(r: Row): Row {
  if (r.ratio === undefined && r.baseline !== undefined && r.baseline !== 0 && Number.isFinite(r.value)) {
    return { ...r, ratio: r.value / r.baseline };
  }
  return r;
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples; NaN when empty. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Whole numbers from 100 (12,346), three significant digits below (12.3, 1.23, 0.012); no exponent. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return "—";
  const a = Math.abs(n);
  if (a >= 100) return Math.round(n).toLocaleString("en-US");
  if (a >= 10) return n.toFixed(1);
  if (a >= 1) return n.toFixed(2);
  if (a === 0) return "0";
  return n.toPrecision(2);
}

export function formatRatio(r: number | undefined): string {
  if (r === undefined || !Number.isFinite(r)) return "";
  return `${formatNumber(r)}×`;
}

/** A Markdown table (readable as plain text too): one line per row. */
export function formatTable(rows: readonly Row[]): string {
  const head = ["#", "measure", "OpenScope", "baseline", "ratio"];
  const body = rows.map((r) => [
    r.item ? String(r.item) : "",
    r.note ? `${r.name} (${r.note})` : r.name,
    `${formatNumber(r.value)} ${r.unit}`,
    r.baseline === undefined ? "" : `${formatNumber(r.baseline)} ${r.unit}${r.baselineName ? ` — ${r.baselineName}` : ""}`,
    formatRatio(r.ratio),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)].join("\n");
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryBytes: number;
  os: string;
  bun: string;
  date: string;
}

export function machineInfo(now: Date): MachineInfo {
  const c = cpus();
  return {
    cpu: c[0]?.model.trim() ?? "unknown",
    cores: c.length,
    memoryBytes: totalmem(),
    os: `${platform()} ${release()}`,
    bun: Bun.version,
    date: now.toISOString(),
  };
}

export interface Results {
  machine: MachineInfo;
  mode: "quick" | "full";
  durationS: number;
  rows: Row[];
  /** Sections that could not run, with the reason (e.g. no sshd). */
  skipped: Array<{ item: number; reason: string }>;
}

export async function writeResults(path: string, results: Results): Promise<void> {
  await Bun.write(path, `${JSON.stringify(results, null, 2)}\n`);
}
