// The one table of OpenScope's limits (SPEC.md §16): a share's lifetime, the size of a call's
// parameters, and the one TTL parser with one wording. Every layer that enforces a limit reads it
// here, so the CLI, the RPC schema and the chokepoint can never disagree. Pure.
import { usageError } from "../errors.ts";
import { parseDuration } from "../units.ts";

export const LIMITS = {
  /** The hard cap on a share's lifetime, and on how far `share extend` may set its expiry. */
  shareTtlMaxMs: 30 * 60_000,
  /** The shortest share a person can mean; shorter is a typo (`5` for `5m`). */
  shareTtlMinMs: 5_000,
  /** Parameters in one call, on the wire and at the chokepoint. */
  paramsPerCall: 32,
  /** A parameter name: the catalog's PARAM_NAME rule bounds it at 64 characters. */
  paramNameLength: 64,
  /** A parameter value, on the wire and at the chokepoint (patterns match at most this much). */
  valueLength: 256,
} as const;

/**
 * A share's lifetime from `--ttl` (open and extend): a positive duration between 5s and 30m.
 * Throws a usage error (exit 2) with the one wording every command shows.
 */
export function parseShareTtl(text: string): number {
  const ms = parseDuration(text, "--ttl");
  if (ms > LIMITS.shareTtlMaxMs)
    throw usageError(`--ttl ${text} is over the 30m cap`, ["a share lives at most 30 minutes from now; use share extend to go on"]);
  if (ms < LIMITS.shareTtlMinMs) throw usageError(`--ttl ${text} is under 5s`, ["give the share time to be used, e.g. 5m"]);
  return ms;
}

/** Whether a passport's lifetime is within the cap (the chokepoint and the decoder re-check it). */
export function lifetimeWithinCap(issuedAt: number, expiresAt: number): boolean {
  return expiresAt > issuedAt && expiresAt - issuedAt <= LIMITS.shareTtlMaxMs;
}
