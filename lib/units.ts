// Parsing of the human units used on the CLI and in verbs.toml: durations ("90s", "5m", "1h")
// and byte sizes ("64KiB", "1MiB"). Pure; errors are OpenScopeError("usage").
import { usageError } from "./errors.ts";

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_UNITS: Record<string, number> = {
  B: 1,
  KB: 1000,
  MB: 1000 ** 2,
  GB: 1000 ** 3,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
};

/** "90s" → 90000. A bare number is refused: the unit is part of the meaning. */
export function parseDuration(text: string, what = "duration"): number {
  const m = /^(\d{1,9})(ms|s|m|h)$/.exec(text.trim());
  if (!m) throw usageError(`${what}: "${text}" is not a duration`, ["use a number and a unit, e.g. 90s, 5m, 30m"]);
  const ms = Number(m[1]) * DURATION_UNITS_MS[m[2]!]!;
  if (ms <= 0) throw usageError(`${what}: must be positive, got "${text}"`);
  return ms;
}

/** "1MiB" → 1048576. */
export function parseSize(text: string, what = "size"): number {
  const m = /^(\d{1,12})\s*(B|KB|MB|GB|KiB|MiB|GiB)$/.exec(text.trim());
  if (!m) throw usageError(`${what}: "${text}" is not a size`, ["use a number and a unit, e.g. 64KiB, 1MiB"]);
  const n = Number(m[1]) * SIZE_UNITS[m[2]!]!;
  if (n <= 0) throw usageError(`${what}: must be positive, got "${text}"`);
  return n;
}

/** 95000 → "1m35s", for people. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return "0s";
  const total = Math.ceil(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return [h ? `${h}h` : "", m ? `${m}m` : "", s || (!h && !m) ? `${s}s` : ""].join("");
}
