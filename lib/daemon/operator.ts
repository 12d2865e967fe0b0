// The operator in the loop, assembled (SPEC.md §17): the audit log with listeners, the watch hub,
// the approval desk and the notifier, and the small hooks the share manager and the control
// server call. One place wires them so shares.ts and control/ only gain a few lines each.
import type { Catalog } from "../capability/catalog.ts";
import { decodePassportUnverified } from "../capability/passport.ts";
import { usageError } from "../errors.ts";
import { approvalTimeoutMs, type Config } from "../host/config.ts";
import { approvalNeeded, type ApprovalEnd, type ApprovalRequest } from "../share/approval.ts";
import type { AuditEvent, AuditRow } from "../store/audit.ts";
import type { Store } from "../store/store.ts";
import type { OperatorControl } from "../control/operator-routes.ts";
import { ApprovalDesk } from "./approvals.ts";
import { Notifier } from "./notifier.ts";
import type { ObservedAuditLog } from "./observed-audit.ts";
import type { ShareManager } from "./shares.ts";
import { WatchHub } from "./watch-hub.ts";

/** What a share's session asks of the operator desk (through the share manager). */
export interface ShareOperatorHooks {
  requestApproval(share: { id: string; agent: string; passport: string }, call: { callId: string; verb: string; params: Record<string, string> }): { request: ApprovalRequest; answer: Promise<ApprovalEnd> } | undefined;
  withdrawApproval(shareId: string, callId: string, why: "cancelled" | "disconnected" | "killed"): void;
  tee(shareId: string, callId: string, stream: "stdout" | "stderr", pieces: readonly Uint8Array[]): void;
}

export class OperatorDesk implements OperatorControl, ShareOperatorHooks {
  readonly hub: WatchHub;
  readonly approvals: ApprovalDesk;
  readonly notifier: Notifier;
  private shares: ShareManager | undefined;

  constructor(
    private readonly deps: {
      audit: ObservedAuditLog;
      store: Store;
      catalog: () => Catalog;
      /** Read at each use: a reload of config.toml reaches new requests and notifications. */
      config: () => Config;
      daemonName: string;
      now: () => number;
      log: (line: string) => void;
    },
  ) {
    this.approvals = new ApprovalDesk({ audit: (e) => this.record(e), timeoutMs: () => approvalTimeoutMs(deps.config()), now: deps.now });
    this.hub = new WatchHub({
      now: deps.now,
      share: (id) => this.shares?.list().find((s) => s.id === id),
      liveShares: () => this.shares?.list().filter((s) => s.state === "live") ?? [],
      history: (id) => deps.audit.list({ shareId: id }),
      pending: (shareId) => this.approvals.list(shareId).map((r) => ({ id: r.id, share: r.shareId, call: r.callId, verb: r.verb, params: { ...r.params }, expires_at: new Date(r.expiresAt).toISOString() })),
    });
    this.notifier = new Notifier({
      config: () => deps.config().notify,
      daemonName: deps.daemonName,
      recipientOf: (id) => {
        const row = deps.store.getShare(id);
        return row ? (row.recipientAlias ?? "bearer") : undefined;
      },
      log: deps.log,
    });
    deps.audit.listen((row) => this.onAuditRow(row));
  }

  /** The share manager, once it exists (it takes these hooks in its own constructor). */
  attach(shares: ShareManager): void {
    this.shares = shares;
  }

  private onAuditRow(row: AuditRow): void {
    // A share that ends takes its waiting requests with it (their rows follow this one).
    if ((row.kind === "share.revoked" || row.kind === "share.expired") && row.shareId) {
      this.approvals.endShare(row.shareId, row.kind === "share.revoked" ? "revoked" : "expired");
    }
    this.hub.onAuditRow(row);
    this.notifier.onAuditRow(row);
  }

  /**
   * An approval's audit row: committed at once, or queued while another process holds the
   * database's lock (AuditLog.appendSoon), so no session stalls and no row is lost (THREAT-MODEL.md).
   */
  private record(e: AuditEvent): void {
    this.deps.audit.appendSoon(e).catch((err: unknown) => this.deps.log(`error: audit: ${e.kind} not recorded: ${String(err)}`));
    this.deps.audit.flushSoon();
  }

  /**
   * After a restart no request is pending (they lived in memory): a request a killed daemon left
   * unanswered is closed in the audit, so the log and the watch never show it waiting forever.
   */
  closeOrphanedRequests(): void {
    const open = new Map<string, AuditRow>();
    for (const r of this.deps.audit.list()) {
      if (!r.requestId) continue;
      if (r.kind === "approval.requested") open.set(r.requestId, r);
      else if (r.kind.startsWith("approval.")) open.delete(r.requestId);
    }
    for (const r of open.values()) {
      this.deps.audit.append({
        kind: "approval.denied",
        shareId: r.shareId,
        agent: r.agent,
        callId: r.callId,
        verb: r.verb,
        params: r.params,
        requestId: r.requestId,
        reason: "disconnected",
        message: "the daemon stopped before the operator answered",
      });
    }
  }

  // ---- ShareOperatorHooks

  requestApproval(share: { id: string; agent: string; passport: string }, call: { callId: string; verb: string; params: Record<string, string> }) {
    const passport = decodePassportUnverified(share.passport); // its signature was checked by the chokepoint just now
    if (!approvalNeeded(call.verb, this.deps.catalog().get(call.verb)?.approval, passport.approval)) return undefined;
    return this.approvals.request({ shareId: share.id, agent: share.agent, ...call });
  }

  withdrawApproval(shareId: string, callId: string, why: "cancelled" | "disconnected" | "killed"): void {
    this.approvals.withdraw(shareId, callId, why);
  }

  tee(shareId: string, callId: string, stream: "stdout" | "stderr", pieces: readonly Uint8Array[]): void {
    this.hub.onOutput(shareId, callId, stream, pieces);
  }

  // ---- OperatorControl

  kill(shareId: string, callId: string | undefined): string[] {
    const killed = this.shares?.kill(shareId, callId) ?? [];
    if (callId !== undefined && killed.length === 0) {
      throw usageError(`call ${callId} is not running in share ${shareId}`, [`see the running calls with: openscope share watch ${shareId}`]);
    }
    return killed;
  }

  requireShare(shareId: string): void {
    if (!/^[0-9a-f]{12}$/.test(shareId) || !this.deps.store.getShare(shareId)) {
      throw usageError(`no share with id "${shareId.slice(0, 40)}"`, ["list shares with: openscope share list"]);
    }
  }

  health(): Record<string, unknown> {
    return { watchers: this.hub.watching, approvals_pending: this.approvals.list().length, notify: this.notifier.counters() };
  }

  shutdown(): void {
    this.approvals.shutdown();
    this.hub.closeAll();
  }
}
