// The daemon's half of `openscope status` (SPEC.md §14 "Status"): what it runs with (catalog
// digest and size, relay), whether the relay answers it as it would a share's leg (reachable, TLS
// trusted, deployment token accepted, by a plain GET that takes no slot), and its shares. The CLI
// adds what it reads from disk (the catalog there, the audit chain head) and decides the verdict.
import { describeUnreachable, probeRelay } from "../relay/reach.ts";
import { STATUS } from "../relay/protocol.ts";
import type { ShareSummary } from "../control/api.ts";
import type { Settings } from "./settings.ts";
import { VERSION } from "../version.ts";

export interface RelayCheck {
  url: string;
  reachable: boolean;
  /** true/false for wss:// (false: the TLS handshake failed); null for ws://. */
  tls_trusted: boolean | null;
  token_accepted: boolean | null;
  /** The status the relay answered the probe with, if it answered. */
  status?: number;
  /** The cause in words when something is wrong. */
  problem?: string;
  ms: number;
}

export interface DaemonStatusAnswer {
  pid: number;
  version: string;
  started_at: string;
  fingerprint: string;
  relay: RelayCheck | null;
  catalog: { verbs: number; digest: string; loaded_at: string };
  /** `elsewhere`: live shares whose leg dials another relay than `relay` (their handles name it). */
  shares: { live: number; connected: number; ended: number; elsewhere?: Array<{ relay: string; live: number }> };
}

/** Probes the relay as the daemon would dial it, with its token. */
export async function checkRelay(relay: { url: string; token: string }, timeoutMs = 3_000): Promise<RelayCheck> {
  const probe = await probeRelay(relay.url, { token: relay.token, timeoutMs });
  const wss = relay.url.startsWith("wss:");
  const base = { url: relay.url, ms: probe.ms };
  if (probe.problem) {
    const tlsFailed = probe.problem.cause === "tls";
    return { ...base, reachable: tlsFailed, tls_trusted: wss && tlsFailed ? false : null, token_accepted: null, problem: describeUnreachable(probe.problem, relay.url, "daemon") };
  }
  const status = probe.status!;
  const token_accepted = status === STATUS.upgradeRequired ? true : status === STATUS.unauthorized ? false : null;
  const check: RelayCheck = { ...base, reachable: true, tls_trusted: wss ? true : null, token_accepted, status };
  if (status !== STATUS.upgradeRequired) check.problem = describeUnreachable({ cause: "status", status }, relay.url, "daemon");
  return check;
}

export async function daemonStatus(input: { settings: Settings; startedAt: number; fingerprint: string; shares: ShareSummary[]; elsewhere?: Array<{ relay: string; live: number }> }): Promise<DaemonStatusAnswer> {
  const { settings, shares } = input;
  return {
    pid: process.pid,
    version: VERSION,
    started_at: new Date(input.startedAt).toISOString(),
    fingerprint: input.fingerprint,
    relay: settings.relay ? await checkRelay(settings.relay) : null,
    catalog: { verbs: settings.catalog.size, digest: settings.catalogDigest, loaded_at: new Date(settings.loadedAt).toISOString() },
    shares: {
      live: shares.filter((s) => s.state === "live").length,
      connected: shares.filter((s) => s.connected).length,
      ended: shares.filter((s) => s.state !== "live").length,
      ...(input.elsewhere?.length ? { elsewhere: input.elsewhere } : {}),
    },
  };
}
