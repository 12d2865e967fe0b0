// The control API's contract (SPEC.md §14): its paths, the schemas of requests and answers, and
// the HTTP status of each error kind. The daemon's server and the CLI's client both read it, so
// the two sides parse the same shapes. No sockets here.
import * as v from "valibot";
import { ExitCode, type ErrorKind } from "../errors.ts";

export const CONTROL_PATHS = {
  health: "/v1/health",
  shares: "/v1/shares",
  extend: (id: string) => `/v1/shares/${encodeURIComponent(id)}/extend`,
  revoke: (id: string) => `/v1/shares/${encodeURIComponent(id)}/revoke`,
  // The operator in the loop (SPEC.md §17)
  kill: (id: string) => `/v1/shares/${encodeURIComponent(id)}/kill`,
  watch: "/v1/watch",
  approvals: "/v1/approvals",
  approve: (id: string) => `/v1/approvals/${encodeURIComponent(id)}/approve`,
  deny: (id: string) => `/v1/approvals/${encodeURIComponent(id)}/deny`,
  // Operating the daemon (SPEC.md §14 "Status", "Reload")
  status: "/v1/status",
  reload: "/v1/reload",
} as const;

// ---- requests (the daemon's input: strict)

export const OpenShareBody = v.strictObject({
  agent: v.string(),
  verbs: v.array(v.string()),
  to: v.optional(v.string()),
  bearer: v.optional(v.boolean()),
  ttl: v.string(),
  /** Verbs that need the operator's approval in this share (signed into the passport). */
  approve: v.optional(v.array(v.string())),
});
export type OpenShareBody = v.InferOutput<typeof OpenShareBody>;

export const ExtendBody = v.strictObject({ ttl: v.string() });

/** `share kill`: one call (its audit callId), or every call of the share. */
export const KillBody = v.strictObject({ call: v.optional(v.string()) });
export type KillBody = v.InferOutput<typeof KillBody>;

/** `deny`: the operator's reason, shown to the recipient. */
export const DenyBody = v.strictObject({ reason: v.optional(v.string()) });
export type DenyBody = v.InferOutput<typeof DenyBody>;

// ---- answers (the CLI's input: fields added by a newer daemon are kept, not refused)

export const Health = v.looseObject({ ok: v.literal(true), pid: v.number() });

export { ShareSummary } from "../share/lifetime.ts";

/** `openscope status`: the daemon's view (lib/daemon/status.ts). */
export const DaemonStatus = v.looseObject({
  pid: v.number(),
  version: v.string(),
  started_at: v.string(),
  fingerprint: v.string(),
  relay: v.nullable(
    v.looseObject({
      url: v.string(),
      reachable: v.boolean(),
      tls_trusted: v.nullable(v.boolean()),
      token_accepted: v.nullable(v.boolean()),
      status: v.optional(v.number()),
      problem: v.optional(v.string()),
      ms: v.number(),
    }),
  ),
  catalog: v.looseObject({ verbs: v.number(), digest: v.string(), loaded_at: v.string() }),
  shares: v.looseObject({ live: v.number(), connected: v.number(), ended: v.number(), elsewhere: v.optional(v.array(v.looseObject({ relay: v.string(), live: v.number() }))) }),
});
export type DaemonStatus = v.InferOutput<typeof DaemonStatus>;

/** `openscope reload`: what changed (lib/daemon/settings.ts). */
export const ReloadReport = v.looseObject({
  verbs: v.number(),
  added: v.array(v.string()),
  removed: v.array(v.string()),
  changed: v.array(v.string()),
  relay_changed: v.boolean(),
  token_changed: v.boolean(),
  warnings: v.array(v.string()),
});
export type ReloadReport = v.InferOutput<typeof ReloadReport>;

export const OpenedShare = v.looseObject({
  id: v.string(),
  handle: v.string(),
  fingerprint: v.string(),
  /** The speakable verification code (SPEC.md §8.2), read to the recipient apart from the handle. */
  code: v.string(),
  expires_at: v.string(),
  recipient: v.string(),
  verbs: v.array(v.string()),
  command: v.string(),
  /** Verbs whose every call waits for the operator's approval in this share (SPEC.md §17.2); absent when none. */
  approval: v.optional(v.array(v.string())),
});
export type OpenedShare = v.InferOutput<typeof OpenedShare>;

/** The calls `share kill` ended (running verbs cancelled, requests withdrawn). */
export const KillResult = v.looseObject({ share: v.string(), killed: v.array(v.string()) });
export type KillResult = v.InferOutput<typeof KillResult>;

/** A call waiting for the operator: the exact verb and params it would run with. */
export const ApprovalSummary = v.looseObject({
  id: v.string(),
  share: v.string(),
  agent: v.string(),
  call: v.string(),
  verb: v.string(),
  params: v.record(v.string(), v.string()),
  requested_at: v.string(),
  expires_at: v.string(),
});
export type ApprovalSummary = v.InferOutput<typeof ApprovalSummary>;

// ---- errors: an OpenScopeError crosses the socket as its kind, so its exit code survives

const ERROR_KINDS = Object.keys(ExitCode).filter((k): k is ErrorKind => k !== "ok");

export const ErrorBody = v.strictObject({
  error: v.strictObject({ kind: v.picklist(ERROR_KINDS), message: v.string(), hints: v.array(v.string()) }),
});
export type ErrorBody = v.InferOutput<typeof ErrorBody>;

export const STATUS_OF_KIND: Readonly<Record<ErrorKind, number>> = {
  usage: 400,
  denied: 403,
  shareOver: 410,
  connection: 502,
  verbFailed: 500,
  internal: 500,
};
