// The operator's live view (cmd/openscope/watch-view.ts): events become escaped lines, output is
// printed by whole lines (held until its newline, or flushed), and the status line follows what
// runs and what waits.
import { describe, expect, test } from "bun:test";
import { WatchView } from "../cmd/openscope/watch-view.ts";
import { extendTtl } from "../cmd/openscope/watch-keys.ts";
import { outputEvent } from "../lib/share/watch.ts";

const S = "aaaaaaaaaaaa";
const share = { id: S, agent: "you", recipient: "vendor-b", verbs: ["v.x"], state: "live" as const, expires_at: new Date(Date.UTC(2030, 0, 1, 0, 10)).toISOString(), connected: true };
const T0 = Date.UTC(2030, 0, 1, 0, 0, 0);
const enc = (s: string) => new TextEncoder().encode(s);

describe("watch view", () => {
  test("header, a call with its output by lines, its outcome; the status line follows", () => {
    const v = new WatchView(S);
    expect(v.apply({ kind: "watch.started", at: T0, shares: [share], pending: [] })).toEqual([`share ${S} → vendor-b (agent you) · live, 10m left · connected · verbs v.x`]);
    expect(v.apply({ kind: "call.allowed", at: T0, shareId: S, callId: "t.1", verb: "v.x", params: { n: "1" } })).toEqual(["00:00:00 ▶ t.1 v.x n=1: allowed"]);
    expect(v.status(T0 + 5000)).toContain("1 running (t.1 5s)");
    expect(v.apply(outputEvent(T0, S, "t.1", "stdout", enc("one\ntw")))).toEqual(["  t.1 │ one"]);
    expect(v.apply(outputEvent(T0, S, "t.1", "stdout", enc("o\n")))).toEqual(["  t.1 │ two"]);
    expect(v.apply(outputEvent(T0, S, "t.1", "stdout", enc("half")))).toEqual([]);
    expect(v.flush()).toEqual(["  t.1 │ half"]);
    expect(v.apply({ kind: "call.outcome", at: T0 + 1, shareId: S, callId: "t.1", verb: "v.x", exitCode: 0, durationMs: 12, bytesOut: 2048 })).toEqual(["00:00:00 ■ t.1 v.x: exit 0 · 12 ms · 2.0 KiB"]);
    expect(v.status(T0)).toBe(`[share ${S} → vendor-b · connected · 10m left]  k kill · a approve · d deny · x revoke · e +15m · q quit`);
  });

  test("outsider text is escaped: output, verb names, values, reasons", () => {
    const v = new WatchView(S);
    v.apply({ kind: "watch.started", at: T0, shares: [share], pending: [] });
    const out = v.apply(outputEvent(T0, S, "t.1", "stdout", enc("\x1b]0;x\x07\x1b[2Jok\r\n")));
    expect(out).toEqual(["  t.1 │ \\e]0;x\\u{7}\\e[2Jok\\r"]);
    const denied = v.apply({ kind: "call.denied", at: T0, shareId: S, callId: "t.2", verb: "v.x\nfake", params: { a: "\u202e" }, reason: "malformed", message: "m\x1b" });
    expect(denied.join("\n")).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f\u202e]/);
    expect(denied).toHaveLength(1);
  });

  test("requests wait, show in the status line and go when answered; the oldest is what a and d act on", () => {
    const v = new WatchView(undefined);
    v.apply({ kind: "watch.started", at: T0, shares: [share], pending: [] });
    v.apply({ kind: "approval.requested", at: T0, shareId: S, callId: "t.3", requestId: "00000001", verb: "v.x", params: {} });
    v.apply({ kind: "approval.requested", at: T0, shareId: S, callId: "t.4", requestId: "00000002", verb: "v.x", params: {} });
    expect(v.status(T0)).toContain("2 waiting for approval");
    expect(v.oldestPending()?.id).toBe("00000001");
    expect(v.apply({ kind: "approval.timed_out", at: T0, shareId: S, requestId: "00000001" })).toEqual([`00:00:00 [${S}] ✘ request 00000001 timed out: not approved`]);
    expect(v.oldestPending()?.id).toBe("00000002");
    expect(v.target()).toBe(S); // the only live share
    expect(v.apply({ kind: "watch.dropped", at: T0, count: 7 })[0]).toContain("7 event(s) not shown");
  });

  test("a kill says why when it was not share kill (a grant or catalog change); a refused extend shows", () => {
    const v = new WatchView(S);
    v.apply({ kind: "watch.started", at: T0, shares: [share], pending: [] });
    expect(v.apply({ kind: "call.killed", at: T0, shareId: S, callId: "t.5", verb: "v.x", detail: "cancelled by the operator" })).toEqual(["00:00:00 ✂ t.5 v.x: killed by the operator"]);
    expect(v.apply({ kind: "call.killed", at: T0, shareId: S, callId: "t.6", verb: "v.x", detail: "the grant changed: v.x is no longer granted by the operator\x1b" })).toEqual([
      "00:00:00 ✂ t.6 v.x: killed by the operator (the grant changed: v.x is no longer granted by the operator\\e)",
    ]);
    expect(v.apply({ kind: "share.extend_refused", at: T0, shareId: S, detail: "the stored passport does not verify" })).toEqual(["00:00:00 ✘ share extend refused: the stored passport does not verify"]);
  });
});

describe("the e key's ttl (share extend sets now + ttl)", () => {
  const now = Date.parse("2026-11-29T10:00:00.000Z");
  test("15 minutes more than is left, so a share with 20 minutes left is never shortened", () => {
    expect(extendTtl("2026-11-29T10:20:00.000Z", now)).toBe("1800s"); // 35m capped at 30m
    expect(extendTtl("2026-11-29T10:10:00.000Z", now)).toBe("1500s");
    expect(extendTtl("2026-11-29T10:00:30.500Z", now)).toBe("931s");
  });
  test("an expiry in the past or unknown gives 15 minutes from now", () => {
    expect(extendTtl("2026-11-29T09:00:00.000Z", now)).toBe("900s");
    expect(extendTtl(undefined, now)).toBe("900s");
    expect(extendTtl("not a date", now)).toBe("900s");
  });
});
