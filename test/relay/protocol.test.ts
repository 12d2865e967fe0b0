// The relay protocol table: the rendezvous URL and path, signals both ways, and the backoff.
import { describe, expect, test } from "bun:test";
import {
  backoffDelay,
  encodeSignal,
  parseLegSignal,
  parseRelaySignal,
  parseRendezvousPath,
  parseRole,
  REFUSALS,
  rendezvousUrl,
} from "../../lib/relay/protocol.ts";

describe("rendezvous path", () => {
  test("the URL a leg dials keeps the relay's base and names rid and role", () => {
    const cases: [string, string, "daemon" | "client", string][] = [
      ["ws://127.0.0.1:4000", "cmlk", "client", "ws://127.0.0.1:4000/v1/rendezvous/cmlk?role=client"],
      ["wss://relay.example", "cmlk", "daemon", "wss://relay.example/v1/rendezvous/cmlk?role=daemon"],
      ["wss://relay.example/base/", "a-b_c", "daemon", "wss://relay.example/base/v1/rendezvous/a-b_c?role=daemon"],
      ["ws://[::1]:8080/", "x", "client", "ws://[::1]:8080/v1/rendezvous/x?role=client"],
    ];
    for (const [relay, rid, role, url] of cases) expect(rendezvousUrl(relay, rid, role)).toBe(url);
  });

  test("the relay reads the rid from exactly /v1/rendezvous/{rid}", () => {
    expect(parseRendezvousPath("/v1/rendezvous/abc")).toBe("abc");
    expect(parseRendezvousPath("/v1/rendezvous/")).toBe("");
    for (const p of ["/v2/rendezvous/abc", "/v1/rendezvous/a/b", "/v1/rendezvous", "/"]) expect(parseRendezvousPath(p)).toBeUndefined();
    expect(parseRole("daemon")).toBe("daemon");
    expect(parseRole("client")).toBe("client");
    for (const r of [null, "", "Daemon", "relay"]) expect(parseRole(r)).toBeUndefined();
  });
});

describe("signals", () => {
  test("each signal's text is the SPEC.md §12 JSON object and parses back", () => {
    expect(encodeSignal("paired")).toBe('{"type":"paired"}');
    expect(encodeSignal("peer_gone")).toBe('{"type":"peer_gone"}');
    expect(encodeSignal("evict")).toBe('{"type":"evict"}');
    expect(parseRelaySignal(encodeSignal("paired"))).toBe("paired");
    expect(parseRelaySignal(encodeSignal("peer_gone"))).toBe("peer_gone");
    expect(parseLegSignal(encodeSignal("evict"))).toBe("evict");
  });

  test("anything else is no signal: the direction matters, and junk is ignored", () => {
    const junk = ["", "paired", "null", "[]", '{"type":1}', '{"kind":"paired"}', "{", `{"type":"evict","pad":"${"x".repeat(300)}"}`];
    for (const t of [...junk, encodeSignal("evict")]) expect(parseRelaySignal(t)).toBeUndefined();
    for (const t of [...junk, encodeSignal("paired"), encodeSignal("peer_gone")]) expect(parseLegSignal(t)).toBeUndefined();
  });
});

describe("refusals and backoff", () => {
  test("refusal statuses are the SPEC.md §12 table", () => {
    expect(REFUSALS).toEqual({
      rate_limited: 429,
      bad_path: 404,
      bad_rid: 400,
      bad_role: 400,
      bad_token: 401,
      unknown_rid: 404,
      taken: 409,
      too_many_legs: 429,
      not_websocket: 426,
      shutting_down: 503,
    });
  });

  test("backoff doubles from min to max, jittered over the upper half", () => {
    const b = { minMs: 200, maxMs: 5_000 };
    const rows: [number, number][] = [
      [0, 200],
      [1, 400],
      [2, 800],
      [4, 3_200],
      [5, 5_000],
      [40, 5_000],
    ];
    for (const [attempt, base] of rows) {
      expect(backoffDelay(attempt, b, () => 0)).toBe(base / 2);
      expect(backoffDelay(attempt, b, () => 0.999999)).toBeLessThan(base);
      expect(backoffDelay(attempt, b, () => 0.5)).toBe(base * 0.75);
    }
  });
});
