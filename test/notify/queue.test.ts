import { describe, expect, test } from "bun:test";
import type { Notification } from "../../lib/notify/event.ts";
import { NotifyQueue, type NotifyTarget } from "../../lib/notify/queue.ts";

const ev = (share: string): Notification => ({ event: "share.opened", at: "x", daemon: "d", share, text: "t" });

describe("notify queue", () => {
  test("every event goes to every target, in order", async () => {
    const got: string[] = [];
    const target = (name: string): NotifyTarget => ({ name, deliver: async (n) => void got.push(`${name}:${n.share}`) });
    const q = new NotifyQueue({ targets: [target("a"), target("b")], log: () => {} });
    q.push(ev("1"));
    q.push(ev("2"));
    await q.idle();
    expect(got).toEqual(["a:1", "b:1", "a:2", "b:2"]);
    expect(q.counters()).toEqual({ sent: 4, failed: 0, dropped: 0, queued: 0 });
  });

  test("push returns at once even when a target hangs; the hung delivery times out and is counted", async () => {
    const logs: string[] = [];
    let aborted = false;
    const hang: NotifyTarget = {
      name: "hang",
      deliver: (_n, signal) =>
        new Promise<void>(() => {
          signal.addEventListener("abort", () => (aborted = true));
        }),
    };
    const q = new NotifyQueue({ targets: [hang], log: (l) => logs.push(l), timeoutMs: 50 });
    expect(q.push(ev("1"))).toBe(true);
    expect(q.counters().queued + (q.counters().sent + q.counters().failed)).toBeLessThanOrEqual(1);
    await q.idle();
    expect(aborted).toBe(true);
    expect(q.counters()).toMatchObject({ sent: 0, failed: 1 });
    expect(logs.join("\n")).toContain("hang: share.opened for share 1 not delivered: no answer within 50 ms");
  });

  test("a failing target is logged and counted; the others still get the event", async () => {
    const logs: string[] = [];
    const ok: string[] = [];
    const q = new NotifyQueue({
      targets: [{ name: "bad", deliver: async () => Promise.reject(new Error("answered 500")) }, { name: "good", deliver: async (n) => void ok.push(n.share) }],
      log: (l) => logs.push(l),
    });
    q.push(ev("1"));
    await q.idle();
    expect(ok).toEqual(["1"]);
    expect(q.counters()).toMatchObject({ sent: 1, failed: 1 });
    expect(logs[0]).toContain("bad: share.opened for share 1 not delivered: answered 500");
  });

  test("the queue is bounded: past capacity new events are dropped and counted", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const q = new NotifyQueue({ targets: [{ name: "slow", deliver: () => gate }], log: () => {}, capacity: 3 });
    const accepted = Array.from({ length: 10 }, (_, i) => q.push(ev(String(i))));
    // the first is taken by the worker at once, 3 wait, the rest are dropped
    expect(accepted.filter(Boolean).length).toBe(4);
    expect(q.counters()).toMatchObject({ dropped: 6, queued: 3 });
    release();
    await q.idle();
    expect(q.counters()).toMatchObject({ sent: 4, dropped: 6, queued: 0 });
  });

  test("with no target nothing is queued", () => {
    const q = new NotifyQueue({ targets: [], log: () => {} });
    expect(q.enabled).toBe(false);
    expect(q.push(ev("1"))).toBe(false);
  });
});
