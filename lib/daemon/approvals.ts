// The daemon's approval desk (SPEC.md §17.2): opens a request for a call the chokepoint allowed
// but the operator must approve, audits every step (requested, approved, denied, timed out),
// runs the timeout timer, and answers the waiting session through a promise. The rules and the
// state live in lib/share/approval.ts; this adds the clock, the timers and the audit.
import { nodeCrypto } from "../platform/node-crypto.ts";
import { formatDuration } from "../units.ts";
import { usageError } from "../errors.ts";
import { ApprovalBook, checkDenyReason, NOT_APPROVED, requestIdFromBytes, type ApprovalEnd, type ApprovalRequest } from "../share/approval.ts";
import type { AuditEvent } from "../store/audit.ts";
import type { ApprovalSummary } from "../control/api.ts";

export interface ApprovalTicket {
  request: ApprovalRequest;
  /** Settles once, with how the request ended. */
  answer: Promise<ApprovalEnd>;
}

export function summarizeRequest(r: ApprovalRequest): ApprovalSummary {
  return {
    id: r.id,
    share: r.shareId,
    agent: r.agent,
    call: r.callId,
    verb: r.verb,
    params: { ...r.params },
    requested_at: new Date(r.requestedAt).toISOString(),
    expires_at: new Date(r.expiresAt).toISOString(),
  };
}

export class ApprovalDesk {
  private readonly book = new ApprovalBook();
  private readonly waiters = new Map<string, { resolve(end: ApprovalEnd): void; timer: ReturnType<typeof setTimeout> }>();

  constructor(
    private readonly deps: {
      audit(event: AuditEvent): void;
      /** Read at each request: a reload of config.toml changes it for new requests. */
      timeoutMs: () => number;
      now: () => number;
    },
  ) {}

  get timeoutMs(): number {
    return this.deps.timeoutMs();
  }

  /** Opens a request for exactly this call; the audit row is written before the client is told. */
  request(call: { shareId: string; agent: string; callId: string; verb: string; params: Record<string, string> }): ApprovalTicket {
    const request = this.book.open(call, this.deps.now(), this.deps.timeoutMs(), () => requestIdFromBytes(new Uint8Array(nodeCrypto().randomBytes(4))));
    this.deps.audit({
      kind: "approval.requested",
      ...this.about(request),
      detail: `waits at most ${formatDuration(request.expiresAt - request.requestedAt)}, until ${new Date(request.expiresAt).toISOString()}`,
    });
    const answer = new Promise<ApprovalEnd>((resolve) => {
      const timer = setTimeout(() => this.timeOut(request.id), Math.max(0, request.expiresAt - this.deps.now()));
      this.waiters.set(request.id, { resolve, timer });
    });
    return { request, answer };
  }

  list(shareId?: string): ApprovalRequest[] {
    return this.book.list(shareId);
  }

  get(id: string): ApprovalRequest | undefined {
    return this.book.get(id);
  }

  /** The operator approves: exactly the recorded call runs (the session re-checks the share first). */
  approve(id: string): ApprovalRequest {
    const r = this.take(id);
    this.deps.audit({ kind: "approval.approved", ...this.about(r) });
    this.finish(r.id, { kind: "approved" });
    return r;
  }

  /** The operator denies, optionally saying why; the recipient gets exit 3 with that reason. */
  deny(id: string, reasonText?: string): ApprovalRequest {
    const text = reasonText === undefined ? undefined : checkDenyReason(reasonText);
    const r = this.take(id);
    const reason = text ?? "denied by the operator";
    this.deps.audit({ kind: "approval.denied", ...this.about(r), reason: "operator", message: reason });
    this.finish(r.id, { kind: "denied", reason });
    return r;
  }

  /** The call stopped waiting (cancelled, caller gone, killed): its request ends. */
  withdraw(shareId: string, callId: string, why: "cancelled" | "disconnected" | "killed"): void {
    const r = this.book.ofCall(shareId, callId);
    if (!r || !this.book.settle(r.id)) return;
    this.deps.audit({ kind: "approval.denied", ...this.about(r), reason: why, message: `the request ended: ${why === "killed" ? "cancelled by the operator" : why === "cancelled" ? "cancelled by the recipient" : "the recipient left"}` });
    this.finish(r.id, { kind: "withdrawn", why });
  }

  /** The share was revoked or expired: every request of it ends. */
  endShare(shareId: string, state: "revoked" | "expired"): void {
    for (const r of this.book.list(shareId)) {
      this.book.settle(r.id);
      this.deps.audit({ kind: "approval.denied", ...this.about(r), reason: state, message: `the share ${state === "revoked" ? "was revoked" : "expired"} before the operator answered` });
      this.finish(r.id, { kind: "withdrawn", why: state });
    }
  }

  shutdown(): void {
    for (const w of this.waiters.values()) clearTimeout(w.timer);
    this.waiters.clear();
  }

  private timeOut(id: string): void {
    const r = this.book.settle(id);
    if (!r) return;
    this.deps.audit({ kind: "approval.timed_out", ...this.about(r), reason: NOT_APPROVED, message: `no answer within ${formatDuration(r.expiresAt - r.requestedAt)}` });
    this.finish(id, { kind: "timed_out" });
  }

  private take(id: string): ApprovalRequest {
    const r = this.book.settle(id);
    if (!r) throw usageError(`no pending request "${id}"`, ["it may have been answered, timed out or ended with its share; see: openscope approvals"]);
    return r;
  }

  private finish(id: string, end: ApprovalEnd): void {
    const w = this.waiters.get(id);
    if (!w) return;
    this.waiters.delete(id);
    clearTimeout(w.timer);
    w.resolve(end);
  }

  private about(r: ApprovalRequest) {
    return { shareId: r.shareId, agent: r.agent, callId: r.callId, verb: r.verb, params: { ...r.params }, requestId: r.id };
  }
}
