// The CLI's side of the control API (SPEC.md §14): one request to the running daemon over its
// unix socket, the answer parsed with the schemas of api.ts, and an error rebuilt into the
// OpenScopeError the daemon threw, so its exit code survives the hop. The only control module
// cmd/ imports.
import { accessSync, constants } from "node:fs";
import * as v from "valibot";
import { connectionError, OpenScopeError } from "../errors.ts";
import { ApprovalSummary, CONTROL_PATHS, DaemonStatus, DenyBody, ErrorBody, ExtendBody, Health, KillBody, KillResult, OpenedShare, OpenShareBody, ReloadReport, ShareSummary } from "./api.ts";

export type { ApprovalSummary, DaemonStatus, KillResult, OpenedShare, ReloadReport, ShareSummary } from "./api.ts";

/** True when the socket (or its folder) exists for someone but this user may not use it. */
function socketDenied(socketPath: string): boolean {
  try {
    accessSync(socketPath, constants.W_OK);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EACCES";
  }
}

async function request<T>(
  socketPath: string,
  method: "GET" | "POST",
  path: string,
  answer: v.GenericSchema<unknown, T>,
  opts: { body?: unknown; token?: string } = {},
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`http://openscope${path}`, {
      unix: socketPath,
      method,
      headers: { "content-type": "application/json", ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    } as RequestInit);
  } catch {
    if (socketDenied(socketPath))
      throw connectionError(`no permission to use the daemon's control socket ${socketPath}`, [
        "run as root, or ask root to set control_group in config.toml to a group you are in",
      ]);
    throw connectionError(`the daemon is not reachable; is \`openscope daemon\` running? (socket ${socketPath})`, [
      "start it with: openscope daemon --relay wss://… --relay-token-file …",
    ]);
  }
  const json: unknown = await res.json().catch(() => null);
  const err = v.safeParse(ErrorBody, json);
  if (err.success) throw new OpenScopeError(err.output.error.kind, err.output.error.message, { hints: err.output.error.hints });
  if (!res.ok) throw connectionError(`the daemon answered ${res.status}`);
  const ok = v.safeParse(answer, json);
  if (!ok.success) throw connectionError(`the daemon's answer is malformed: ${v.summarize(ok.issues).replace(/\n/g, "; ")}`);
  return ok.output;
}

/** `openscope status`: the daemon's view, its relay probed as a share's leg would dial it. */
export function daemonStatus(socketPath: string): Promise<DaemonStatus> {
  return request(socketPath, "GET", CONTROL_PATHS.status, DaemonStatus);
}

/** `openscope reload`: verbs.toml and config.toml again (a file that fails its checks is a usage error, nothing changes). */
export function reloadDaemon(socketPath: string): Promise<ReloadReport> {
  return request(socketPath, "POST", CONTROL_PATHS.reload, ReloadReport, { body: {} });
}

/** `share open`: the agent's local credential goes with the request. */
export function openShare(socketPath: string, token: string, body: OpenShareBody): Promise<OpenedShare> {
  return request(socketPath, "POST", CONTROL_PATHS.shares, OpenedShare, { token, body });
}

export function listShares(socketPath: string): Promise<ShareSummary[]> {
  return request(socketPath, "GET", CONTROL_PATHS.shares, v.array(ShareSummary));
}

export function extendShare(socketPath: string, id: string, ttl: string): Promise<ShareSummary> {
  const body: v.InferOutput<typeof ExtendBody> = { ttl };
  return request(socketPath, "POST", CONTROL_PATHS.extend(id), ShareSummary, { body });
}

export function revokeShare(socketPath: string, id: string): Promise<ShareSummary> {
  return request(socketPath, "POST", CONTROL_PATHS.revoke(id), ShareSummary);
}

/** `share kill`: ends one call of the share, or all of them (running and waiting for approval). */
export function killCalls(socketPath: string, id: string, call?: string): Promise<KillResult> {
  const body: KillBody = call === undefined ? {} : { call };
  return request(socketPath, "POST", CONTROL_PATHS.kill(id), KillResult, { body });
}

export function listApprovals(socketPath: string): Promise<ApprovalSummary[]> {
  return request(socketPath, "GET", CONTROL_PATHS.approvals, v.array(ApprovalSummary));
}

export function approveRequest(socketPath: string, id: string): Promise<ApprovalSummary> {
  return request(socketPath, "POST", CONTROL_PATHS.approve(id), ApprovalSummary, { body: {} });
}

export function denyRequest(socketPath: string, id: string, reason?: string): Promise<ApprovalSummary> {
  const body: DenyBody = reason === undefined ? {} : { reason };
  return request(socketPath, "POST", CONTROL_PATHS.deny(id), ApprovalSummary, { body });
}

/** `share watch`: the daemon's stream of watch events (SPEC.md §17.1), one JSON object per line. */
export async function openWatchStream(socketPath: string, shareId: string | undefined): Promise<ReadableStream<Uint8Array>> {
  let res: Response;
  try {
    res = await fetch(`http://openscope${CONTROL_PATHS.watch}${shareId ? `?share=${encodeURIComponent(shareId)}` : ""}`, { unix: socketPath } as RequestInit);
  } catch {
    throw connectionError(`the daemon is not reachable; is \`openscope daemon\` running? (socket ${socketPath})`, ["start it with: openscope daemon"]);
  }
  if (!res.ok || !res.body) {
    const err = v.safeParse(ErrorBody, await res.json().catch(() => null));
    if (err.success) throw new OpenScopeError(err.output.error.kind, err.output.error.message, { hints: err.output.error.hints });
    throw connectionError(`the daemon answered ${res.status}`);
  }
  return res.body;
}

/** True when a daemon already serves this socket (a stale file from a killed daemon answers nothing). */
export async function controlSocketAnswers(socketPath: string): Promise<boolean> {
  try {
    const res = await fetch(`http://openscope${CONTROL_PATHS.health}`, { unix: socketPath, signal: AbortSignal.timeout(1000) } as RequestInit);
    return v.safeParse(Health, await res.json()).success;
  } catch {
    return false;
  }
}
