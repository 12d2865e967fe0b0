// The approval desk (lib/daemon/approvals.ts, SPEC.md §17.2): every way a request ends is audited
// once, with the exact verb and params, and answers the waiting call once.
import { describe, expect, test } from "bun:test";
import { ApprovalDesk } from "../../lib/daemon/approvals.ts";
import { OpenScopeError } from "../../lib/errors.ts";
import type { AuditEvent } from "../../lib/store/audit.ts";

function desk(timeoutMs = 60_000) {
  const rows: AuditEvent[] = [];
  const d = new ApprovalDesk({ audit: (e) => void rows.push(e), timeoutMs: () => timeoutMs, now: Date.now });
  return { d, rows };
}
const call = (callId = "t.1") => ({ shareId: "aaaaaaaaaaaa", agent: "you", callId, verb: "ssh.restart_service", params: { service: "web" } });

describe("approval desk", () => {
  test("requested is audited before anyone answers; approve answers approved once", async () => {
    const { d, rows } = desk();
    const t = d.request(call());
    expect(rows).toEqual([expect.objectContaining({ kind: "approval.requested", requestId: t.request.id, verb: "ssh.restart_service", params: { service: "web" }, callId: "t.1" })]);
    expect(d.list().map((r) => r.id)).toEqual([t.request.id]);
    d.approve(t.request.id);
    expect(await t.answer).toEqual({ kind: "approved" });
    expect(rows.map((r) => r.kind)).toEqual(["approval.requested", "approval.approved"]);
    expect(() => d.approve(t.request.id)).toThrow(OpenScopeError);
    expect(() => d.deny(t.request.id)).toThrow(OpenScopeError);
    d.shutdown();
  });

  test("deny carries the operator's reason (checked), or a default", async () => {
    const { d, rows } = desk();
    const a = d.request(call("t.1"));
    const b = d.request(call("t.2"));
    expect(() => d.deny(a.request.id, "bad\x1b[2J")).toThrow(OpenScopeError);
    d.deny(a.request.id, "not now");
    d.deny(b.request.id);
    expect(await a.answer).toEqual({ kind: "denied", reason: "not now" });
    expect(await b.answer).toEqual({ kind: "denied", reason: "denied by the operator" });
    expect(rows.filter((r) => r.kind === "approval.denied")).toEqual([
      expect.objectContaining({ reason: "operator", message: "not now" }),
      expect.objectContaining({ reason: "operator", message: "denied by the operator" }),
    ]);
  });

  test("no answer in time: timed out, reason not_approved", async () => {
    const { d, rows } = desk(30);
    const t = d.request(call());
    expect(await t.answer).toEqual({ kind: "timed_out" });
    expect(rows.at(-1)).toMatchObject({ kind: "approval.timed_out", reason: "not_approved", requestId: t.request.id });
    expect(d.list()).toEqual([]);
  });

  test("the share's end and the caller leaving end requests, each once", async () => {
    const { d, rows } = desk();
    const a = d.request(call("t.1"));
    const b = d.request(call("t.2"));
    const other = d.request({ ...call("u.1"), shareId: "bbbbbbbbbbbb" });
    d.withdraw("aaaaaaaaaaaa", "t.1", "cancelled");
    d.withdraw("aaaaaaaaaaaa", "t.1", "disconnected"); // already ended: nothing more
    d.endShare("aaaaaaaaaaaa", "revoked");
    expect(await a.answer).toEqual({ kind: "withdrawn", why: "cancelled" });
    expect(await b.answer).toEqual({ kind: "withdrawn", why: "revoked" });
    expect(d.list().map((r) => r.id)).toEqual([other.request.id]);
    expect(rows.filter((r) => r.kind === "approval.denied").map((r) => (r as { reason?: string }).reason)).toEqual(["cancelled", "revoked"]);
    d.shutdown();
  });
});
