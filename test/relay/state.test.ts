// The pure pairing state machine (lib/relay/state.ts): admissions, pairing, takeover, evict,
// revocation, the unpaired wait, and the outcome each leg ends with. No sockets, a fake clock.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { RelayState, type Effect, type LegId } from "../../lib/relay/state.ts";

const LIMITS = { unpairedMaxMs: 60_000, maxLegsPerToken: 3, maxLegs: 100 };
const A = "token-a";
const B = "token-b";

function admitted(s: RelayState, rid: string, role: "daemon" | "client", token: string | null, now = 0): { leg: LegId; effects: Effect[] } {
  const a = s.admit(rid, role, token, now);
  if (a.kind !== "admit") throw new Error(`expected admit, got ${JSON.stringify(a)}`);
  return { leg: a.leg, effects: a.effects };
}

function pair(s: RelayState, rid: string, token = A): { d: LegId; c: LegId } {
  const d = admitted(s, rid, "daemon", token).leg;
  expect(s.opened(d)).toEqual([]);
  const c = admitted(s, rid, "client", null).leg;
  expect(s.opened(c)).toEqual([{ kind: "paired", daemon: d, client: c }]);
  return { d, c };
}

describe("admission", () => {
  test("a client leg with no daemon leg waits; a second client leg is taken", () => {
    const s = new RelayState(LIMITS);
    expect(s.admit("r", "client", null, 0)).toEqual({ kind: "wait" });
    const d = admitted(s, "r", "daemon", A).leg;
    admitted(s, "r", "client", null);
    expect(s.admit("r", "client", null, 0)).toEqual({ kind: "refuse", refusal: "taken" });
    expect(s.counters.refusals.taken).toBe(1);
    expect(s.hasDaemon("r")).toBe(true);
    void d;
  });

  test("a daemon leg with a different token for a held rid is taken; with none it is bad_token", () => {
    const s = new RelayState(LIMITS);
    admitted(s, "r", "daemon", A);
    expect(s.admit("r", "daemon", B, 0)).toEqual({ kind: "refuse", refusal: "taken" });
    expect(s.admit("r", "daemon", null, 0)).toEqual({ kind: "refuse", refusal: "bad_token" });
  });

  test("legs per token and legs in all are bounded", () => {
    const s = new RelayState({ ...LIMITS, maxLegs: 6 });
    for (const rid of ["1", "2", "3"]) admitted(s, rid, "daemon", A);
    expect(s.admit("4", "daemon", A, 0)).toEqual({ kind: "refuse", refusal: "too_many_legs" });
    // A takeover does not count against the token's allowance.
    expect(s.admit("1", "daemon", A, 0).kind).toBe("admit");
    admitted(s, "5", "daemon", B);
    admitted(s, "5", "client", null);
    expect(s.admit("6", "daemon", B, 0)).toEqual({ kind: "refuse", refusal: "too_many_legs" });
  });

  test("check answers like admit without taking a slot or counting", () => {
    const s = new RelayState(LIMITS);
    expect(s.check("r", "daemon", A)).toBe("ok");
    expect(s.check("r", "client", null)).toBe("wait");
    expect(s.gauges().legs).toBe(0);
    expect(Object.values(s.counters.refusals).every((n) => n === 0)).toBe(true);
  });
});

describe("pairing and endings", () => {
  test("happy: paired legs that close count as happy; the peer hears peer_gone", () => {
    const s = new RelayState(LIMITS);
    const { d, c } = pair(s, "r");
    expect(s.gauges()).toEqual({ legs: 2, waiting: 0, paired: 1 });
    expect(s.closed(c, 1)).toEqual({ outcome: "happy", effects: [{ kind: "peerGone", leg: d }] });
    expect(s.gauges()).toEqual({ legs: 1, waiting: 1, paired: 0 });
    expect(s.closed(d, 2)).toEqual({ outcome: "happy", effects: [] });
    expect(s.gauges()).toEqual({ legs: 0, waiting: 0, paired: 0 });
    expect(s.counters.outcomes.happy).toBe(2);
  });

  test("jilted: a leg that leaves before pairing; lonely: one left unpaired past the wait", () => {
    const s = new RelayState(LIMITS);
    const d1 = admitted(s, "r1", "daemon", A).leg;
    s.opened(d1);
    expect(s.closed(d1, 10).outcome).toBe("jilted");
    const d2 = admitted(s, "r2", "daemon", A, 1000).leg;
    s.opened(d2);
    expect(s.tick(60_999)).toEqual([]);
    expect(s.tick(61_000)).toEqual([{ kind: "close", leg: d2, code: 4004, reason: "no peer within the unpaired wait" }]);
    expect(s.closed(d2, 61_001).outcome).toBe("lonely");
  });

  test("the unpaired wait restarts when a peer leaves", () => {
    const s = new RelayState(LIMITS);
    const { d, c } = pair(s, "r");
    s.closed(c, 50_000);
    expect(s.tick(100_000)).toEqual([]);
    expect(s.tick(110_000).map((e) => e.kind)).toEqual(["close"]);
    expect(s.closed(d, 110_001).outcome).toBe("lonely");
  });

  test("redundant: a reconnecting daemon leg replaces the old one; the client re-pairs with it", () => {
    const s = new RelayState(LIMITS);
    const { d, c } = pair(s, "r");
    const next = admitted(s, "r", "daemon", A, 5);
    expect(next.effects).toEqual([
      { kind: "peerGone", leg: c },
      { kind: "close", leg: d, code: 4001, reason: "replaced by a newer daemon leg" },
    ]);
    expect(s.closed(d, 6)).toEqual({ outcome: "redundant", effects: [] });
    expect(s.opened(next.leg)).toEqual([{ kind: "paired", daemon: next.leg, client: c }]);
  });

  test("a rid remembers its daemon's token while the client leg waits there", () => {
    const s = new RelayState(LIMITS);
    const { d } = pair(s, "r");
    s.closed(d, 1);
    expect(s.admit("r", "daemon", B, 2)).toEqual({ kind: "refuse", refusal: "taken" });
    expect(s.admit("r", "daemon", A, 2).kind).toBe("admit");
  });

  test("evicted: the daemon leg's evict closes the client leg; a client cannot evict", () => {
    const s = new RelayState(LIMITS);
    const { d, c } = pair(s, "r");
    expect(s.evict(c, 1)).toEqual([]);
    expect(s.evict(d, 1)).toEqual([
      { kind: "peerGone", leg: d },
      { kind: "close", leg: c, code: 4002, reason: "evicted by the daemon" },
    ]);
    expect(s.closed(c, 2).outcome).toBe("evicted");
    // The slot is free again for a new client leg.
    expect(s.admit("r", "client", null, 3).kind).toBe("admit");
  });

  test("revoked: a reload that drops a token ends its daemon legs and nothing else", () => {
    const s = new RelayState(LIMITS);
    const p1 = pair(s, "r1", A);
    const p2 = pair(s, "r2", B);
    const effects = s.revokeTokens((k) => k === B, 1);
    expect(effects).toContainEqual({ kind: "close", leg: p1.d, code: 4003, reason: "deployment token revoked" });
    expect(effects).toContainEqual({ kind: "peerGone", leg: p1.c });
    expect(effects.some((e) => "leg" in e && (e.leg === p2.d || e.leg === p2.c))).toBe(false);
    expect(s.closed(p1.d, 2).outcome).toBe("revoked");
  });

  test("oversized is counted when the transport says so; shutdown closes every leg with 1001", () => {
    const s = new RelayState(LIMITS);
    const { d, c } = pair(s, "r");
    expect(s.closed(c, 1, "oversized").outcome).toBe("oversized");
    const pending = admitted(s, "r2", "daemon", A).leg; // admitted, never opened
    expect(s.shutdown(2)).toEqual([{ kind: "close", leg: d, code: 1001, reason: "relay shutting down" }]);
    // A leg that opens after shutdown began is closed at once.
    expect(s.opened(pending)).toEqual([{ kind: "close", leg: pending, code: 1001, reason: "relay shutting down" }]);
  });

  test("abandon frees an admitted slot without counting an outcome", () => {
    const s = new RelayState(LIMITS);
    const d = admitted(s, "r", "daemon", A).leg;
    s.abandon(d, 1);
    expect(s.gauges().legs).toBe(0);
    expect(Object.values(s.counters.outcomes).reduce((a, b) => a + b, 0)).toBe(0);
  });
});

describe("properties", () => {
  test("any sequence of events keeps the gauges consistent and every closed leg counted once", () => {
    const rid = fc.constantFrom("r1", "r2", "r3");
    const event = fc.oneof(
      fc.record({ t: fc.constant("admit" as const), rid, role: fc.constantFrom("daemon" as const, "client" as const), token: fc.constantFrom(A, B) }),
      fc.record({ t: fc.constantFrom("open" as const, "close" as const, "evict" as const), i: fc.nat(20) }),
      fc.record({ t: fc.constant("tick" as const), dt: fc.nat(100_000) }),
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 60 }), (events) => {
        const s = new RelayState({ unpairedMaxMs: 50_000, maxLegsPerToken: 4, maxLegs: 8 });
        const live: LegId[] = [];
        let now = 0;
        let closedCount = 0;
        const apply = (effects: Effect[]) => {
          for (const e of effects) if (e.kind === "close" && live.includes(e.leg)) {
            live.splice(live.indexOf(e.leg), 1);
            if (s.closed(e.leg, now).outcome) closedCount++;
          }
        };
        for (const ev of events) {
          if (ev.t === "admit") {
            const a = s.admit(ev.rid, ev.role, ev.role === "daemon" ? ev.token : null, now);
            if (a.kind === "admit") {
              live.push(a.leg);
              apply(a.effects);
            }
          } else if (ev.t === "tick") {
            now += ev.dt;
            apply(s.tick(now));
          } else if (live.length > 0) {
            const leg = live[ev.i % live.length]!;
            if (ev.t === "open") apply(s.opened(leg));
            else if (ev.t === "evict") apply(s.evict(leg, now));
            else {
              live.splice(live.indexOf(leg), 1);
              const r = s.closed(leg, now);
              if (r.outcome) closedCount++;
              apply(r.effects);
            }
          }
          const g = s.gauges();
          expect(g.legs).toBe(live.length);
          expect(g.paired * 2).toBeLessThanOrEqual(g.legs);
        }
        expect(Object.values(s.counters.outcomes).reduce((a, b) => a + b, 0)).toBe(closedCount);
        for (const leg of [...live]) s.closed(leg, now);
        expect(s.gauges()).toEqual({ legs: 0, waiting: 0, paired: 0 });
      }),
      { numRuns: 300 },
    );
  });
});
