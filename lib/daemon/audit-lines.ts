// The daemon's log line for each audit row it commits (share opened, connected, ended; call
// allowed, denied with its reason, ended with its exit; approvals; kills): the event, the ids
// that let an operator find the row (`openscope audit`), never the params, the verb's output or
// anything secret. Pure: a row in, a level, message and fields out.
import type { LogFields, LogLevel } from "../host/log.ts";
import type { AuditRow } from "../store/audit.ts";

export interface LogEvent {
  level: LogLevel;
  msg: string;
  fields: LogFields;
}

/** The words of each kind in a log line (a kind not named here reads as itself: "share extend refused"). */
const MESSAGES: Partial<Record<AuditRow["kind"], string>> = {
  "share.opened": "share opened",
  "share.connected": "share connected",
  "share.disconnected": "share disconnected",
  "share.extended": "share extended",
  "share.revoked": "share revoked",
  "share.expired": "share expired",
  "call.allowed": "call allowed",
  "call.denied": "call denied",
  "call.outcome": "call ended",
  "grant.changed": "grant changed",
  "recipient.changed": "recipient changed",
  "approval.requested": "approval requested",
  "approval.approved": "call approved",
  "approval.denied": "call not approved",
  "approval.timed_out": "approval timed out",
  "call.killed": "call killed",
};

export function auditLogEvent(row: AuditRow): LogEvent {
  const fields: LogFields = {
    share: row.shareId,
    agent: row.agent,
    call: row.callId,
    verb: row.verb,
    request: row.requestId,
    reason: row.reason,
    message: row.message,
    exit: row.exitCode,
    bytes: row.bytesOut,
    ms: row.durationMs === undefined ? undefined : Math.round(row.durationMs),
    truncated: row.truncated || undefined,
    detail: row.detail,
    audit: row.seq,
  };
  // An outcome the daemon could not learn (a restart mid-call) or a runner failure deserves a look.
  const level: LogLevel = row.kind === "call.outcome" && row.exitCode === -1 ? "warn" : "info";
  return { level, msg: MESSAGES[row.kind] ?? row.kind.replace(/[._]/g, " "), fields };
}
