// The watch tee (lib/daemon/watch-hub.ts, SPEC.md §17.1): a watcher of one share gets the share's
// history then its live events, never another share's; output is encoded only when someone
// watches; a watcher that does not read loses its own events, counted, while publishing never
// waits; the stream of one share ends once the share is over and nothing of it runs or waits.
import { describe, expect, test } from "bun:test";
import { WatchHub } from "../../lib/daemon/watch-hub.ts";
import type { WatchedShare } from "../../lib/share/watch.ts";
import type { AuditRow } from "../../lib/store/audit.ts";

let seq = 0;
const row = (r: Partial<AuditRow> & { kind: AuditRow["kind"] }): AuditRow => ({ seq: ++seq, at: 1000 + seq, prevHash: "p", hash: "h", ...r }) as AuditRow;
const shareOf = (id: string, state: WatchedShare["state"] = "live"): WatchedShare => ({ id, agent: "you", recipient: "vendor-b", verbs: ["v.x"], state, expires_at: "2030-01-01T00:00:00.000Z", connected: false });

function hub(history: AuditRow[] = [], bufferBytes?: number) {
  const states = new Map<string, WatchedShare>([["aaaaaaaaaaaa", shareOf("aaaaaaaaaaaa")], ["bbbbbbbbbbbb", shareOf("bbbbbbbbbbbb")]]);
  const h = new WatchHub({
    now: () => 5,
    share: (id) => states.get(id),
    liveShares: () => [...states.values()].filter((s) => s.state === "live"),
    history: (id) => history.filter((r) => r.shareId === id),
    pending: () => [],
    bufferBytes,
  });
  return { h, states };
}

/** Reads a stream in steps: each step takes what is queued now (a read left waiting is kept for the next step). */
function lineReader(stream: ReadableStream<Uint8Array>) {
  const reader = stream.getReader();
  let pending: ReturnType<typeof reader.read> | undefined;
  let closed = false;
  return async (): Promise<{ lines: Array<Record<string, unknown>>; closed: boolean }> => {
    let text = "";
    while (!closed) {
      pending ??= reader.read();
      const r = await Promise.race([pending, Bun.sleep(20).then(() => "wait" as const)]);
      if (r === "wait") break;
      pending = undefined;
      if (r.done) closed = true;
      else text += new TextDecoder().decode(r.value);
    }
    return { lines: text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>), closed };
  };
}

const drain = (stream: ReadableStream<Uint8Array>) => lineReader(stream)();

describe("watch hub", () => {
  test("one share: the snapshot, its history flagged replay, then live events of that share only", async () => {
    const history = [row({ kind: "share.opened", shareId: "aaaaaaaaaaaa", agent: "you" }), row({ kind: "share.opened", shareId: "bbbbbbbbbbbb" })];
    const { h } = hub(history);
    const stream = h.subscribe("aaaaaaaaaaaa");
    h.onAuditRow(row({ kind: "call.allowed", shareId: "aaaaaaaaaaaa", callId: "t.1", verb: "v.x", params: {} }));
    h.onAuditRow(row({ kind: "call.allowed", shareId: "bbbbbbbbbbbb", callId: "u.1", verb: "v.x", params: {} }));
    h.onOutput("aaaaaaaaaaaa", "t.1", "stdout", [new TextEncoder().encode("hi\n")]);
    const { lines } = await drain(stream);
    expect(lines.map((l) => l.kind)).toEqual(["watch.started", "share.opened", "call.allowed", "call.output"]);
    expect(lines[0]!.shares).toEqual([shareOf("aaaaaaaaaaaa")]);
    expect(lines[1]).toMatchObject({ replay: true, shareId: "aaaaaaaaaaaa" });
    expect(lines[1]!.hash).toBeUndefined();
    expect(lines[3]).toMatchObject({ callId: "t.1", encoding: "utf8", data: "hi\n" });
  });

  test("output is not encoded for nobody; a share row is followed by the share's state", async () => {
    const { h, states } = hub();
    expect(h.wants("aaaaaaaaaaaa")).toBe(false);
    const stream = h.subscribe(undefined);
    expect(h.wants("bbbbbbbbbbbb")).toBe(true);
    states.set("bbbbbbbbbbbb", { ...shareOf("bbbbbbbbbbbb"), connected: true });
    h.onAuditRow(row({ kind: "share.connected", shareId: "bbbbbbbbbbbb" }));
    const { lines } = await drain(stream);
    expect(lines.map((l) => l.kind)).toEqual(["watch.started", "share.connected", "share.state"]);
    expect((lines[0]!.shares as unknown[]).length).toBe(2);
    expect(lines[2]!.share).toMatchObject({ id: "bbbbbbbbbbbb", connected: true });
  });

  test("a watcher that does not read loses its own events, and is told how many; publishing never waits", async () => {
    const { h } = hub([], 4096);
    const slow = h.subscribe("aaaaaaaaaaaa");
    const chunk = new Uint8Array(1000).fill(0x61);
    for (let i = 0; i < 100; i++) h.onOutput("aaaaaaaaaaaa", "t.1", "stdout", [chunk]); // returns at once each time
    h.onAuditRow(row({ kind: "call.outcome", shareId: "aaaaaaaaaaaa", callId: "t.1" }));
    const { lines } = await drain(slow);
    const delivered = lines.filter((l) => l.kind !== "watch.started" && l.kind !== "watch.dropped").length;
    const dropped = lines.find((l) => l.kind === "watch.dropped");
    expect(delivered).toBeLessThan(5);
    expect(Number(dropped!.count) + delivered).toBe(101); // every event delivered or counted
  });

  test("the stream of one share ends once it is over and nothing of it runs or waits", async () => {
    const { h, states } = hub();
    const read = lineReader(h.subscribe("aaaaaaaaaaaa"));
    h.onAuditRow(row({ kind: "call.allowed", shareId: "aaaaaaaaaaaa", callId: "t.1" }));
    h.onAuditRow(row({ kind: "approval.requested", shareId: "aaaaaaaaaaaa", callId: "t.2", requestId: "00000001" }));
    states.set("aaaaaaaaaaaa", shareOf("aaaaaaaaaaaa", "revoked"));
    h.onAuditRow(row({ kind: "share.revoked", shareId: "aaaaaaaaaaaa" }));
    expect((await read()).closed).toBe(false); // a call still runs, a request still waits
    h.onAuditRow(row({ kind: "approval.denied", shareId: "aaaaaaaaaaaa", callId: "t.2", requestId: "00000001", reason: "revoked" }));
    expect((await read()).closed).toBe(false);
    h.onAuditRow(row({ kind: "call.outcome", shareId: "aaaaaaaaaaaa", callId: "t.1" }));
    const end = await read();
    expect(end.closed).toBe(true);
    expect(end.lines.map((l) => l.kind)).toEqual(["call.outcome"]);
    expect(h.watching).toBe(0);
  });
});
