import { describe, expect, test } from "bun:test";
import { notificationFor } from "../../lib/notify/event.ts";

const facts = { daemon: "ops-1", recipient: "vendor-b" };
const at = Date.UTC(2026, 10, 28, 12, 0, 0);

describe("notifications", () => {
  test("each event of the contract, with a human text line", () => {
    const table: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ kind: "share.opened", agent: "you" }, "share.opened", /share s1 opened for vendor-b \(agent you\)/],
      [{ kind: "share.connected" }, "recipient.connected", /vendor-b connected to share s1/],
      [{ kind: "share.disconnected" }, "recipient.disconnected", /vendor-b left share s1/],
      [{ kind: "call.denied", verb: "ssh.tail_logs", params: { service: "db" }, reason: "param_not_allowed" }, "call.denied", /denied ssh\.tail_logs service=db in share s1 \(param_not_allowed\)/],
      [{ kind: "approval.requested", verb: "ssh.restart_service", params: { service: "web" }, requestId: "0badf00d" }, "approval.requested", /openscope approve 0badf00d/],
      [{ kind: "share.revoked" }, "share.ended", /share s1 was revoked/],
      [{ kind: "share.expired" }, "share.ended", /share s1 expired/],
    ];
    for (const [row, event, text] of table) {
      const n = notificationFor({ at, shareId: "s1", ...row } as never, facts)!;
      expect(n.event).toBe(event as never);
      expect(n.text).toMatch(text);
      expect(n.text).toStartWith("OpenScope on ops-1: ");
      expect(n).toMatchObject({ at: "2026-11-28T12:00:00.000Z", daemon: "ops-1", share: "s1", recipient: "vendor-b" });
    }
  });

  test("the request and the exact call travel as fields too", () => {
    const n = notificationFor({ kind: "approval.requested", at, shareId: "s1", verb: "v.x", params: { a: "1" }, requestId: "00000001" }, facts)!;
    expect(n).toMatchObject({ request: "00000001", verb: "v.x", params: { a: "1" } });
    expect(notificationFor({ kind: "share.revoked", at, shareId: "s1" }, facts)!.state).toBe("revoked");
  });

  test("rows the operator is not told of give nothing", () => {
    for (const kind of ["call.allowed", "call.outcome", "share.extended", "grant.changed", "approval.approved"]) {
      expect(notificationFor({ kind, at, shareId: "s1" }, facts)).toBeUndefined();
    }
    expect(notificationFor({ kind: "share.opened", at }, facts)).toBeUndefined();
  });

  test("control characters never reach the text", () => {
    const n = notificationFor({ kind: "call.denied", at, shareId: "s1", verb: "v.x", params: { a: "x\x1b[2J\u202e" }, reason: "r\n" }, facts)!;
    expect(n.text).not.toMatch(/[\x00-\x1f\u202e]/);
  });
});
