// How a call ends, in one table (SPEC.md §1, §13): why the daemon refused it, the wire error
// code that refusal travels as, the error kind (hence the exit code) the client reports, and the
// reason the audit records; plus the one wording of a finished verb's end (describeOutcome).
// Pure: the daemon, the client and the CLI read it, so they cannot drift apart.
import { DENY_REASONS, type DenyReason } from "../capability/policy.ts";
import { OpenScopeError, type ErrorKind } from "../errors.ts";

/** The `code` of an RPC `error` message (SPEC.md §13). */
export const WIRE_ERROR_CODES = ["denied", "malformed", "busy", "interrupted", "internal", "share_over"] as const;
export type WireErrorCode = (typeof WIRE_ERROR_CODES)[number];

/** What each wire code means to the recipient: the error kind, so the exit code of SPEC.md §1. */
export const KIND_OF_WIRE_CODE: Readonly<Record<WireErrorCode, ErrorKind>> = {
  denied: "denied",
  share_over: "shareOver",
  malformed: "usage",
  // The daemon could not take the call now (too many at once, or the link dropped): try again.
  busy: "connection",
  interrupted: "connection",
  internal: "internal",
};

/**
 * Why a call waiting for the operator's approval did not run (SPEC.md §17.2): the operator said
 * no, nobody answered in time, or the request was withdrawn (the recipient cancelled or left, the
 * operator killed it). A share that ended meanwhile is `revoked` or `expired`, as for any call.
 */
export const APPROVAL_REFUSALS = ["operator", "not_approved", "cancelled", "disconnected", "killed"] as const;
export type ApprovalRefusal = (typeof APPROVAL_REFUSALS)[number];

/**
 * Why a call did not run: the chokepoint's deny reasons (SPEC.md §6), the session's own refusals
 * and the approval's. `malformed` is a call the decision (or the RPC schema, when its id is still
 * readable) refused; `unreadable` a payload with no readable call id; `call_id_in_use` a reused id.
 */
export type Refusal = DenyReason | ApprovalRefusal | "busy" | "call_id_in_use" | "unreadable";

/** The reasons an audit row (and the RPC error's `reason` field) may hold. */
export const AUDIT_REASONS = [...DENY_REASONS, ...APPROVAL_REFUSALS, "busy"] as const;
export type AuditReason = (typeof AUDIT_REASONS)[number];

interface RefusalRow {
  code: WireErrorCode;
  audit: AuditReason;
}

/** THE table: every refusal has one wire code and one audit reason; the exit code follows from the code. */
export const REFUSALS: Readonly<Record<Refusal, RefusalRow>> = {
  verb_not_in_passport: { code: "denied", audit: "verb_not_in_passport" },
  param_outside_passport: { code: "denied", audit: "param_outside_passport" },
  param_outside_grant: { code: "denied", audit: "param_outside_grant" },
  wrong_recipient: { code: "denied", audit: "wrong_recipient" },
  malformed: { code: "denied", audit: "malformed" },
  expired: { code: "share_over", audit: "expired" },
  revoked: { code: "share_over", audit: "revoked" },
  operator: { code: "denied", audit: "operator" },
  not_approved: { code: "denied", audit: "not_approved" },
  cancelled: { code: "denied", audit: "cancelled" },
  disconnected: { code: "denied", audit: "disconnected" },
  killed: { code: "denied", audit: "killed" },
  busy: { code: "busy", audit: "busy" },
  call_id_in_use: { code: "malformed", audit: "malformed" },
  unreadable: { code: "malformed", audit: "malformed" },
};

/** A refusal as the daemon sends and audits it. */
export function refusal(why: Refusal): { code: WireErrorCode; reason: AuditReason; kind: ErrorKind } {
  const row = REFUSALS[why];
  return { code: row.code, reason: row.audit, kind: KIND_OF_WIRE_CODE[row.code] };
}

/** The client's error for an RPC `error` message: its kind (so its exit code) comes from the code. */
export function errorFromWire(code: WireErrorCode, message: string): OpenScopeError {
  return new OpenScopeError(KIND_OF_WIRE_CODE[code], code === "denied" ? `denied: ${message}` : message);
}

/**
 * The client refuses the daemon's hello (SPEC.md §13: a passport that does not verify, or a
 * fingerprint that is not the handshake key's): always a connection failure, whatever the cause,
 * as a fingerprint mismatch is.
 */
export function helloRefusedError(detail: string): OpenScopeError {
  return new OpenScopeError("connection", `the daemon's hello ${detail}; refusing`, {
    hints: ["do not use this share; ask the operator to check the daemon and send a fresh handle"],
  });
}

/** What a verb's end looks like from outside (the RPC `result`, a RunResult). */
export interface VerbEnd {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
  /** Set when the operator ended the call (`share kill`, SPEC.md §17.1). */
  cancelledBy?: "recipient" | "operator";
}

/** How a verb ended, in words: `phrase` stands alone ("[cancelled]"), `clause` follows the verb's name. */
export interface OutcomeWords {
  ok: boolean;
  /** What ended it: its own exit, its timeout, a cancel, or a signal. */
  how: "exit" | "timed_out" | "cancelled" | "signal";
  /** "exit code 0" | "exit code 7" | "timed out" | "cancelled" | "killed by SIGKILL" */
  phrase: string;
  /** "exited with code 7" | "timed out" | "was cancelled" | "was killed by SIGKILL" */
  clause: string;
}

/** The one wording of a verb's end, for the one-shot call, the prompt, MCP and the audit. */
export function describeOutcome(r: VerbEnd): OutcomeWords {
  const exit = { how: "exit", phrase: `exit code ${r.exitCode}`, clause: `exited with code ${r.exitCode}` } as const;
  if (r.exitCode === 0) return { ok: true, ...exit };
  if (r.timedOut) return { ok: false, how: "timed_out", phrase: "timed out", clause: "timed out" };
  if (r.cancelled && r.cancelledBy === "operator")
    return { ok: false, how: "cancelled", phrase: "cancelled by the operator", clause: "was cancelled by the operator" };
  if (r.cancelled) return { ok: false, how: "cancelled", phrase: "cancelled", clause: "was cancelled" };
  if (r.signal) return { ok: false, how: "signal", phrase: `killed by ${r.signal}`, clause: `was killed by ${r.signal}` };
  return { ok: false, ...exit };
}
