// The relay's pairing state machine (SPEC.md §12): which legs hold which rendezvous id, when a
// daemon leg and a client leg are paired, and the named outcome each leg ends with. No sockets:
// callers pass the clock in and carry out the returned effects (send a text message, close a leg).
// Counters for /metrics live here too, so every way a session ends is counted in one place.

import { CLOSE, REFUSALS, type Refusal, type Role } from "./protocol.ts";

export type LegId = number;

/** How a leg ended. Each one is a counter in /metrics and a line in the log. */
export const OUTCOMES = [
  "happy", //        had been paired, then closed (by either side)
  "jilted", //       never paired; closed by its own side before the unpaired wait ran out
  "lonely", //       never paired within the unpaired wait; closed by the relay
  "redundant", //    a daemon leg replaced by a reconnect with the same token
  "evicted", //      a client leg closed because its daemon sent the evict signal
  "revoked", //      a daemon leg whose token left the tokens file at a reload
  "oversized", //    sent a message over the size limit (closed with 1009)
  "backpressure", // its peer could not keep up and the relay could not queue more
  "shutdown", //     the relay stopped (closed with 1001)
] as const;
export type Outcome = (typeof OUTCOMES)[number];

export type Effect =
  | { kind: "paired"; daemon: LegId; client: LegId } // link the two; send the paired signal to both
  | { kind: "peerGone"; leg: LegId } //                  unlink; send the peer_gone signal
  | { kind: "close"; leg: LegId; code: number; reason: string };

export type Admission =
  | { kind: "admit"; leg: LegId; effects: Effect[] }
  | { kind: "wait" } // client leg, no daemon leg yet: retry until the grace wait runs out
  | { kind: "refuse"; refusal: Refusal };

export interface RelayLimits {
  unpairedMaxMs: number;
  maxLegsPerToken: number;
  maxLegs: number;
}

interface Leg {
  id: LegId;
  rid: string;
  role: Role;
  tokenKey: string | null;
  open: boolean;
  everPaired: boolean;
  /** Since when this leg has been without a peer (for the unpaired wait). */
  unpairedSince: number;
  /** Set when the relay decided to end this leg; the outcome it will be counted with. */
  ending: Outcome | null;
}

interface Rendezvous {
  daemon: Leg | null;
  client: Leg | null;
  /** The token of the daemon that holds this rid; kept while any leg is present. */
  tokenKey: string | null;
  paired: boolean;
}

export interface Counters {
  forwardedBytes: number;
  forwardedMessages: number;
  droppedUnpaired: number;
  ignoredText: number;
  /** Times a sender was paused because its peer was over the backpressure allowance. */
  pauses: number;
  outcomes: Record<Outcome, number>;
  refusals: Record<Refusal, number>;
}

export class RelayState {
  private readonly legs = new Map<LegId, Leg>();
  private readonly rids = new Map<string, Rendezvous>();
  private readonly legsPerToken = new Map<string, number>();
  private nextLeg = 1;
  private paired = 0;
  readonly counters: Counters;

  constructor(readonly limits: RelayLimits) {
    this.counters = {
      forwardedBytes: 0,
      forwardedMessages: 0,
      droppedUnpaired: 0,
      ignoredText: 0,
      pauses: 0,
      outcomes: Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>,
      refusals: Object.fromEntries(Object.keys(REFUSALS).map((r) => [r, 0])) as Record<Refusal, number>,
    };
  }

  refuse(refusal: Refusal): { kind: "refuse"; refusal: Refusal } {
    this.counters.refusals[refusal]++;
    return { kind: "refuse", refusal };
  }

  /** Whether a daemon leg (open or about to open) holds `rid`. */
  hasDaemon(rid: string): boolean {
    return this.rids.get(rid)?.daemon != null;
  }

  /**
   * An authenticated upgrade request asks for a leg. `tokenKey` identifies the daemon's token
   * (null for a client leg). A client leg for a rid with no daemon leg gets "wait"; the caller
   * retries until its grace wait runs out, then calls `refuse("unknown_rid")`.
   */
  admit(rid: string, role: Role, tokenKey: string | null, now: number): Admission {
    const verdict = this.check(rid, role, tokenKey);
    if (verdict === "wait") return { kind: "wait" };
    if (verdict !== "ok") return this.refuse(verdict);
    const effects: Effect[] = [];
    const replacing = role === "daemon" ? (this.rids.get(rid)?.daemon ?? null) : null;
    if (replacing) effects.push(...this.end(replacing, "redundant", now));
    return { kind: "admit", leg: this.addLeg(rid, role, tokenKey, now).id, effects };
  }

  /** What `admit` would answer, without taking a slot or counting anything (for plain GETs). */
  check(rid: string, role: Role, tokenKey: string | null): "ok" | "wait" | Refusal {
    if (this.legs.size >= this.limits.maxLegs) return "too_many_legs";
    const r = this.rids.get(rid);
    if (role === "daemon") {
      if (tokenKey === null) return "bad_token";
      if (r && r.tokenKey !== null && r.tokenKey !== tokenKey) return "taken";
      const held = this.legsPerToken.get(tokenKey) ?? 0;
      if (held - (r?.daemon ? 1 : 0) >= this.limits.maxLegsPerToken) return "too_many_legs";
      return "ok";
    }
    if (r?.client) return "taken";
    if (!r || r.daemon === null) return "wait";
    return "ok";
  }

  private addLeg(rid: string, role: Role, tokenKey: string | null, now: number): Leg {
    const leg: Leg = { id: this.nextLeg++, rid, role, tokenKey, open: false, everPaired: false, unpairedSince: now, ending: null };
    let r = this.rids.get(rid);
    if (!r) {
      r = { daemon: null, client: null, tokenKey: null, paired: false };
      this.rids.set(rid, r);
    }
    if (role === "daemon") {
      r.daemon = leg;
      r.tokenKey = tokenKey;
      this.legsPerToken.set(tokenKey!, (this.legsPerToken.get(tokenKey!) ?? 0) + 1);
    } else {
      r.client = leg;
    }
    this.legs.set(leg.id, leg);
    return leg;
  }

  /** The upgrade completed: the leg's socket is open. Pairs it when its peer is open too. */
  opened(id: LegId): Effect[] {
    const leg = this.legs.get(id);
    if (!leg) return [];
    leg.open = true;
    if (leg.ending) {
      const c = CLOSE[leg.ending as keyof typeof CLOSE];
      return [{ kind: "close", leg: id, code: c.code, reason: c.reason }];
    }
    const r = this.rids.get(leg.rid)!;
    if (r.daemon?.open && r.client?.open && !r.paired && !r.daemon.ending && !r.client.ending) {
      r.paired = true;
      this.paired++;
      r.daemon.everPaired = r.client.everPaired = true;
      return [{ kind: "paired", daemon: r.daemon.id, client: r.client.id }];
    }
    return [];
  }

  /**
   * The relay decides to end a leg with `outcome`: detach it from its rid at once (so a new
   * leg can take the slot), tell the peer, and return the close to carry out.
   */
  end(leg: Leg | LegId, outcome: Outcome, now: number): Effect[] {
    const l = typeof leg === "number" ? this.legs.get(leg) : leg;
    if (!l || l.ending) return [];
    l.ending = outcome;
    const effects = this.detach(l, now);
    const c = CLOSE[outcome as keyof typeof CLOSE] ?? { code: 1000, reason: outcome };
    if (l.open) effects.push({ kind: "close", leg: l.id, code: c.code, reason: c.reason });
    return effects;
  }

  /** Removes a leg from its rendezvous; tells a paired peer it is gone. */
  private detach(l: Leg, now: number): Effect[] {
    const r = this.rids.get(l.rid);
    if (!r || (r.daemon !== l && r.client !== l)) return [];
    const effects: Effect[] = [];
    const peer = l.role === "daemon" ? r.client : r.daemon;
    if (r.paired) {
      r.paired = false;
      this.paired--;
      if (peer) {
        peer.unpairedSince = now;
        effects.push({ kind: "peerGone", leg: peer.id });
      }
    }
    if (l.role === "daemon") {
      r.daemon = null;
      const n = (this.legsPerToken.get(l.tokenKey!) ?? 1) - 1;
      if (n > 0) this.legsPerToken.set(l.tokenKey!, n);
      else this.legsPerToken.delete(l.tokenKey!);
    } else {
      r.client = null;
    }
    if (!r.daemon && !r.client) this.rids.delete(l.rid);
    return effects;
  }

  /**
   * A leg's socket closed (or its upgrade failed). `cause` is set when the transport knows why
   * (a message over the size limit). Counts the outcome and returns what the peer must hear.
   */
  closed(id: LegId, now: number, cause?: Outcome): { outcome: Outcome | null; effects: Effect[] } {
    const l = this.legs.get(id);
    if (!l) return { outcome: null, effects: [] };
    this.legs.delete(id);
    const effects = l.ending ? [] : this.detach(l, now);
    const outcome = l.ending ?? cause ?? (l.everPaired ? "happy" : "jilted");
    this.counters.outcomes[outcome]++;
    return { outcome, effects };
  }

  /** The upgrade of an admitted leg failed before it opened: free the slot, count nothing. */
  abandon(id: LegId, now: number): Effect[] {
    const l = this.legs.get(id);
    if (!l) return [];
    this.legs.delete(id);
    return l.ending ? [] : this.detach(l, now);
  }

  /** The daemon leg sent the evict signal: close the client leg of its rid. */
  evict(daemonLeg: LegId, now: number): Effect[] {
    const l = this.legs.get(daemonLeg);
    if (!l || l.role !== "daemon" || l.ending) return [];
    const client = this.rids.get(l.rid)?.client;
    return client ? this.end(client, "evicted", now) : [];
  }

  /** Tokens were reloaded: end the daemon legs whose token is no longer valid. */
  revokeTokens(stillValid: (tokenKey: string) => boolean, now: number): Effect[] {
    const effects: Effect[] = [];
    for (const l of [...this.legs.values()]) {
      if (l.role === "daemon" && !l.ending && !stillValid(l.tokenKey!)) effects.push(...this.end(l, "revoked", now));
    }
    // A rid remembers its daemon's token while a client leg waits there; forget a revoked one.
    for (const r of this.rids.values()) if (r.tokenKey !== null && !r.daemon && !stillValid(r.tokenKey)) r.tokenKey = null;
    return effects;
  }

  /** Periodic check: legs left without a peer longer than the unpaired wait are "lonely". */
  tick(now: number): Effect[] {
    const effects: Effect[] = [];
    for (const r of this.rids.values()) {
      if (r.paired) continue;
      for (const l of [r.daemon, r.client]) {
        if (l && l.open && !l.ending && now - l.unpairedSince >= this.limits.unpairedMaxMs) effects.push(...this.end(l, "lonely", now));
      }
    }
    return effects;
  }

  /** Shutdown: every open leg closes with 1001. */
  shutdown(now: number): Effect[] {
    const effects: Effect[] = [];
    for (const l of [...this.legs.values()]) effects.push(...this.end(l, "shutdown", now).filter((e) => e.kind === "close"));
    return effects;
  }

  /** Gauges for /metrics. */
  gauges(): { legs: number; waiting: number; paired: number } {
    return { legs: this.legs.size, waiting: this.rids.size - this.paired, paired: this.paired };
  }

  roleOf(id: LegId): Role | undefined {
    return this.legs.get(id)?.role;
  }
}
