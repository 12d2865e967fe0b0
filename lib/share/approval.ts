// Approval requests (SPEC.md §17.2): the book of calls waiting for the operator. A request binds
// one share, one call, one verb and the exact parameters the chokepoint resolved; it ends exactly
// once (approved, denied, timed out, or ended with its share or its caller). Pure: the clock and
// the random id bytes are passed in; timers and audit rows live in the daemon around it.
import { usageError } from "../errors.ts";
import type { ApprovalRefusal } from "../wire/outcome.ts";

export interface ApprovalRequest {
  /** 8 lowercase hex characters: typeable, not a secret (the control socket is the authority). */
  id: string;
  shareId: string;
  agent: string;
  /** The audit's callId of the waiting call. */
  callId: string;
  verb: string;
  /** Exactly the parameters that run if approved (defaults filled in by the chokepoint). */
  params: Readonly<Record<string, string>>;
  requestedAt: number;
  expiresAt: number;
}

/** How a request ended. `withdrawn` covers the caller cancelling or leaving, and the share ending. */
export type ApprovalEnd =
  | { kind: "approved" }
  | { kind: "denied"; reason: string }
  | { kind: "timed_out" }
  | { kind: "withdrawn"; why: "cancelled" | "disconnected" | "revoked" | "expired" | "killed" };

/** The reason code a denied call carries to the recipient when nobody answered in time. */
export const NOT_APPROVED = "not_approved" satisfies ApprovalRefusal;

/**
 * Why a request ended without running (audit `reason`, RPC error `reason`): the operator said no,
 * nobody answered in time, the recipient cancelled or left, the operator killed it, the share ended.
 * Each has its row in the one outcome table (wire/outcome.ts).
 */
export type ApprovalReason = ApprovalRefusal | "revoked" | "expired";

export const REQUEST_ID = /^[0-9a-f]{8}$/;
export const MAX_REASON = 200;

/** A request id from 4 random bytes. */
export function requestIdFromBytes(random4: Uint8Array): string {
  if (random4.length !== 4) throw new Error("a request id needs exactly 4 random bytes");
  return [...random4].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The operator's text for `deny --reason`: it reaches the recipient, so printable and short. */
export function checkDenyReason(text: string): string {
  const t = text.trim();
  if (t.length === 0) throw usageError("--reason: must not be empty");
  if (t.length > MAX_REASON) throw usageError(`--reason: at most ${MAX_REASON} characters`);
  if (!/^[\x20-\x7e\u00a0-\u024f]+$/.test(t)) throw usageError("--reason: only printable text (no control characters)");
  return t;
}

export function checkRequestId(text: string | undefined): string {
  if (!text || !REQUEST_ID.test(text)) {
    throw usageError(`"${(text ?? "").slice(0, 40)}" is not a request id`, ["see the pending requests with: openscope approvals"]);
  }
  return text;
}

/**
 * Whether a call needs the operator: the catalog says `approval = "always"`, or the share's signed
 * passport lists the verb (`share open --approve`). Either one is enough: approval only narrows.
 */
export function approvalNeeded(verb: string, catalogApproval: "always" | undefined, passportApprovals: readonly string[] | undefined): boolean {
  return catalogApproval === "always" || (passportApprovals ?? []).includes(verb);
}

export class ApprovalBook {
  private readonly pending = new Map<string, ApprovalRequest>();

  /** Records a request; `randomId` is asked again on the (unlikely) collision with a pending id. */
  open(
    input: Omit<ApprovalRequest, "id" | "requestedAt" | "expiresAt">,
    now: number,
    timeoutMs: number,
    randomId: () => string,
  ): ApprovalRequest {
    let id = randomId();
    for (let i = 0; this.pending.has(id); i++) {
      if (i > 16) throw new Error("approval: no free request id");
      id = randomId();
    }
    const request: ApprovalRequest = Object.freeze({
      ...input,
      params: Object.freeze({ ...input.params }),
      id,
      requestedAt: now,
      expiresAt: now + timeoutMs,
    });
    this.pending.set(id, request);
    return request;
  }

  get(id: string): ApprovalRequest | undefined {
    return this.pending.get(id);
  }

  /** Pending requests, oldest first (in the order opened when the clock ties); of one share when given. */
  list(shareId?: string): ApprovalRequest[] {
    // A Map iterates in insertion order and sort is stable: ties keep the order they were opened in.
    return [...this.pending.values()].filter((r) => shareId === undefined || r.shareId === shareId).sort((a, b) => a.requestedAt - b.requestedAt);
  }

  /** The request waiting on this call, if any. */
  ofCall(shareId: string, callId: string): ApprovalRequest | undefined {
    for (const r of this.pending.values()) if (r.shareId === shareId && r.callId === callId) return r;
    return undefined;
  }

  /** Ends a request; returns it, or undefined when it already ended (an answer counts once). */
  settle(id: string): ApprovalRequest | undefined {
    const r = this.pending.get(id);
    if (r) this.pending.delete(id);
    return r;
  }

  /** Requests whose time ran out at `now` (still pending: the caller settles them). */
  due(now: number): ApprovalRequest[] {
    return this.list().filter((r) => r.expiresAt <= now);
  }

  get size(): number {
    return this.pending.size;
  }
}

/**
 * The approval list signed into a new share's passport: the shared verbs named by `--approve`,
 * and those the catalog marks `approval = "always"`; sorted, or undefined when none. Naming a verb
 * the share does not carry is a usage error (exit 2): it would approve nothing.
 */
export function passportApprovals(requested: readonly string[], sharedVerbs: readonly string[], catalogApproval: (verb: string) => "always" | undefined): string[] | undefined {
  for (const verb of requested) {
    if (!sharedVerbs.includes(verb)) {
      throw usageError(`--approve ${verb}: the share does not carry this verb`, [`name one of the shared verbs: ${sharedVerbs.join(", ")}`]);
    }
  }
  const list = [...new Set([...requested, ...sharedVerbs.filter((v) => catalogApproval(v) === "always")])].sort();
  return list.length ? list : undefined;
}
