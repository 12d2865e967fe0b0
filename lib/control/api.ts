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
} as const;

// ---- requests (the daemon's input: strict)

export const OpenShareBody = v.strictObject({
  agent: v.string(),
  verbs: v.array(v.string()),
  to: v.optional(v.string()),
  bearer: v.optional(v.boolean()),
  ttl: v.string(),
});
export type OpenShareBody = v.InferOutput<typeof OpenShareBody>;

export const ExtendBody = v.strictObject({ ttl: v.string() });

// ---- answers (the CLI's input: fields added by a newer daemon are kept, not refused)

export const Health = v.looseObject({ ok: v.literal(true), pid: v.number() });

export { ShareSummary } from "../share/lifetime.ts";

export const OpenedShare = v.looseObject({
  id: v.string(),
  handle: v.string(),
  fingerprint: v.string(),
  expires_at: v.string(),
  recipient: v.string(),
  verbs: v.array(v.string()),
  command: v.string(),
});
export type OpenedShare = v.InferOutput<typeof OpenedShare>;

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
