// Live shares in a running daemon: each share's relay leg and session, its timers (expiry, the
// 10-minute linger of an ended share), the store writes and audit rows of its life, and recovery
// after a restart. Issuance and the lifetime rules are pure (lib/share/); this module is wiring
// and timers only, and the only writer of share state in a running daemon.
import { isLocked, type AuditEvent, type AuditLog } from "../store/audit.ts";
import type { ShareRow, Store } from "../store/store.ts";
import type { Catalog } from "../capability/catalog.ts";
import type { GrantVerbs } from "../capability/grant.ts";
import type { ShareState } from "../capability/policy.ts";
import { OpenScopeError, shareOverError, usageError } from "../errors.ts";
import type { DaemonIdentity } from "../host/keyfile.ts";
import { defaultRandom, type Random } from "../noise/crypto.ts";
import { sharePrologue } from "../wire/channel.ts";
import { issueShare, type ShareRequest } from "../share/issue.ts";
import { afterRestart, currentState, delayUntil, extendShare, lingerEndsAt, pskIsSpent, summarize } from "../share/lifetime.ts";
import type { OpenedShare, ShareSummary } from "../control/api.ts";
import { RelayLeg } from "./relay-leg.ts";
import type { RunningVerbs } from "./running-verbs.ts";
import { DaemonSession, type SessionHost } from "./session.ts";
import { runVerb } from "./verb-runner.ts";
import { decodePassportUnverified } from "../capability/passport.ts";
import type { ShareOperatorHooks } from "./operator.ts";

export interface ShareManagerDeps {
  store: Store;
  audit: AuditLog;
  identity: DaemonIdentity;
  fingerprint: string;
  code: string;
  daemonName: string;
  catalog: () => Catalog;
  relay: { url: string; token: string } | undefined;
  ssh: { knownHostsFile?: string; identityFile?: string };
  /** Where running verbs are recorded, so a restart can end what a killed daemon left. */
  runningVerbs?: RunningVerbs;
  now?: () => number;
  /** Randomness for ids, rendezvous ids, session secrets and seals (default: the platform's CSPRNG). */
  random?: Random;
  log: (line: string) => void;
  /** Approvals and the watch tee (SPEC.md §17); absent in tests of shares alone. */
  operator?: ShareOperatorHooks;
}

interface LiveShare {
  row: ShareRow;
  /** The relay its leg dials (the one its handle names). */
  relayUrl: string;
  leg: RelayLeg;
  session: DaemonSession | undefined;
  expiryTimer?: ReturnType<typeof setTimeout>;
  lingerTimer?: ReturnType<typeof setTimeout>;
}

type Relay = NonNullable<ShareManagerDeps["relay"]>;

export class ShareManager {
  private readonly shares = new Map<string, LiveShare>();
  private readonly now: () => number;
  private readonly random: Random;

  constructor(private readonly deps: ShareManagerDeps) {
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? defaultRandom;
  }

  /**
   * After a restart: live shares come back (never wider), ended ones linger or go. Each is dialed
   * at the relay it was opened at (its handle and prologue name it), with the deployment token now
   * in force, even when the daemon now uses another relay (SPEC.md §15.4).
   */
  async recover(): Promise<void> {
    this.closeOrphanedCalls();
    for (const row of this.deps.store.listShares()) {
      const { expire, attach } = afterRestart(row, this.now());
      if (expire) this.markEnded(row, "expired", row.expiresAt);
      // A linger that ended while the daemon was down: the secret goes now.
      if (pskIsSpent(row, this.now()) && row.psk.some((b) => b !== 0)) this.deps.store.forgetPsk(row.id);
      if (!attach || !this.deps.relay) continue;
      const live = this.attach(row, this.relayOf(row, this.deps.relay));
      live.leg.start().catch((e) => this.deps.log(`warning: share ${row.id}: ${(e as Error).message}; retrying`));
    }
  }

  /**
   * A daemon killed mid-call leaves intent rows without outcomes (its verbs ran in their own
   * process groups). Say so in the log rather than leave the question open.
   */
  private closeOrphanedCalls(): void {
    // The store keeps the open intents apart (an index kept by triggers): no walk of the whole log.
    for (const r of this.deps.audit.openIntents()) {
      if (!r.callId) continue;
      this.deps.audit.append({ kind: "call.outcome", callId: r.callId, shareId: r.shareId, agent: r.agent, verb: r.verb, detail: "outcome unknown: the daemon stopped while the verb ran" });
    }
  }

  /** `share open`: issued (pure), stored, audited, then answered once the relay holds its leg. */
  async open(req: ShareRequest): Promise<OpenedShare> {
    const { store, fingerprint } = this.deps;
    const relay = this.requireRelay();
    const { row, handle, passport } = issueShare(req, store.getGrant(req.agent), this.deps.catalog(), {
      now: this.now(),
      random: this.random,
      identity: this.deps.identity,
      fingerprint,
      relayUrl: relay.url,
      recipientKey: req.to ? store.getRecipient(req.to)?.publicKey : undefined,
    });
    store.insertShare(row);
    const recipient = row.recipientAlias ?? "bearer";
    const expires_at = new Date(row.expiresAt).toISOString();
    // Durable before the handle is handed out; waiting on a lock held elsewhere without stalling the daemon.
    await this.deps.audit.appendSoon({ kind: "share.opened", shareId: row.id, agent: row.agent, detail: `to ${recipient}; verbs ${row.verbs.join(", ")}; expires ${expires_at}` });
    const live = this.attach(row, relay);
    try {
      await live.leg.start();
    } catch (e) {
      // The share cannot be reached: end it rather than leave a handle that leads nowhere.
      this.markEnded(row, "revoked", this.now(), "relay unreachable at open");
      this.detach(row.id);
      throw e;
    }
    // Never the fingerprint or code: a swapped message would carry a swapped one (SPEC.md §8.2).
    // A bearer handle is the secret itself: it goes in a file, never on the recipient's command
    // line (every local user can read argv). A sealed handle is useless without their key.
    const command = row.recipientKey === null ? "openscope-reflect-client --passport-file HANDLE_FILE   # the handle saved in a file" : `openscope-reflect-client --passport ${handle}`;
    const { approval } = decodePassportUnverified(passport); // signed by us a moment ago
    return { id: row.id, handle, fingerprint, code: this.deps.code, expires_at, recipient, verbs: row.verbs, command, ...(approval ? { approval } : {}) };
  }

  list(): ShareSummary[] {
    return this.deps.store.listShares().map((row) => this.summary(row));
  }

  /** `share extend`: a new expiry and a passport re-issued now (lib/share/lifetime.ts), told to a connected client. */
  extend(id: string, ttl: string): ShareSummary {
    const row = this.requireLiveRow(id);
    const { signPrivate: signPrivateKey, signPublic: signPublicKey } = this.deps.identity;
    let extended: { expiresAt: number; passport: string };
    try {
      extended = extendShare(row, ttl, this.now(), { signPrivateKey, signPublicKey });
    } catch (e) {
      // An edited row is refused and recorded, never re-signed (THREAT-MODEL.md).
      if (e instanceof OpenScopeError && e.kind === "denied") this.record({ kind: "share.extend_refused", shareId: id, agent: row.agent, detail: e.message });
      throw e;
    }
    const { expiresAt, passport } = extended;
    row.expiresAt = expiresAt;
    row.passport = passport;
    this.deps.store.updateShare(id, { expiresAt, passport });
    this.record({ kind: "share.extended", shareId: id, agent: row.agent, detail: `expires ${new Date(expiresAt).toISOString()}` });
    const live = this.shares.get(id);
    if (live) {
      live.row = row;
      this.armExpiry(live);
      live.session?.notifyExpiry(expiresAt);
    }
    return this.summary(row);
  }

  revoke(id: string): ShareSummary {
    const row = this.requireLiveRow(id);
    this.markEnded(row, "revoked", this.now());
    const live = this.shares.get(id);
    if (live) {
      live.row = row;
      clearTimeout(live.expiryTimer);
      // The ended session stays attached so a backlog (and "ended") can still drain to the client.
      live.session?.endShare("revoked");
      this.armLinger(live);
    }
    return this.summary(row);
  }

  /** `share kill`: ends the share's running (and waiting) calls, or the one with this callId. */
  kill(id: string, callId?: string): string[] {
    return this.shares.get(id)?.session?.kill(callId) ?? [];
  }

  /**
   * The grants of these agents changed (lib/daemon/grant-watch.ts): each of their live shares'
   * running calls is decided again, and those the current grant no longer admits end.
   */
  grantChanged(agents: readonly string[]): void {
    for (const live of this.shares.values()) {
      if (live.row.state !== "live" || !agents.includes(live.row.agent)) continue;
      const ended = live.session?.recheckGrant() ?? [];
      if (ended.length > 0) this.deps.log(`share ${live.row.id}: the grant of ${live.row.agent} changed; ended ${ended.join(", ")}`);
    }
  }

  /** The catalog was reloaded with verbs removed or changed: every live share's running calls are decided again. */
  catalogChanged(): void {
    for (const live of this.shares.values()) {
      if (live.row.state !== "live") continue;
      const ended = live.session?.recheckGrant("the catalog changed") ?? [];
      if (ended.length > 0) this.deps.log(`share ${live.row.id}: the catalog changed; ended ${ended.join(", ")}`);
    }
  }

  /**
   * Live shares whose leg dials another relay than the daemon's current one (opened before a
   * restart or reload with another relay; SPEC.md §15.4), counted per relay: `openscope status`
   * names them, so the operator knows the old relay is still needed until they end.
   */
  elsewhere(): Array<{ relay: string; live: number }> {
    const counts = new Map<string, number>();
    for (const live of this.shares.values()) {
      if (live.row.state !== "live" || live.relayUrl === this.deps.relay?.url) continue;
      counts.set(live.relayUrl, (counts.get(live.relayUrl) ?? 0) + 1);
    }
    return [...counts].map(([relay, n]) => ({ relay, live: n }));
  }

  connected(id: string): boolean {
    return this.shares.get(id)?.session?.established ?? false;
  }

  shutdown(): void {
    for (const id of [...this.shares.keys()]) this.detach(id);
    // What still waits for another process's lock is written now, waiting on it this time.
    clearTimeout(this.unsavedTimer);
    for (const { what, write } of this.unsaved.splice(0)) {
      try {
        write();
      } catch (e) {
        this.deps.log(`${what}: not saved at shutdown: ${(e as Error)?.message ?? String(e)}`);
      }
    }
  }

  // ---- internals ----

  private summary(row: ShareRow): ShareSummary {
    return summarize(row, this.now(), this.connected(row.id));
  }

  private requireRelay(): Relay {
    if (this.deps.relay) return this.deps.relay;
    throw usageError("no relay configured", ["start the daemon with --relay wss://… and --relay-token-file …, or set relay and relay_token in config.toml"]);
  }

  /** Where a share's leg dials: its own relay (a share stored before schema 3 has none: the current one). */
  private relayOf(row: ShareRow, current: Relay): Relay {
    if (!row.relayUrl || row.relayUrl === current.url) return current;
    this.deps.log(`warning: share ${row.id}: dialing the relay its handle names, ${row.relayUrl} (the daemon now uses ${current.url}); with the current deployment token`);
    // The deployment token in force, also after a reload rotates it (a token per relay is not kept).
    const deps = this.deps;
    return {
      url: row.relayUrl,
      get token() {
        return deps.relay?.token ?? current.token;
      },
    };
  }

  private requireLiveRow(id: string): ShareRow {
    const row = this.deps.store.getShare(id);
    if (!row) throw usageError(`no share with id "${id}"`, ["list shares with: openscope share list"]);
    const { state } = currentState(row, this.now());
    if (state !== "live") throw shareOverError(`share ${id} is ${state}`);
    return row;
  }

  private markEnded(row: ShareRow, state: Exclude<ShareState["state"], "live">, at: number, detail?: string, save: "now" | "soon" = "now"): void {
    row.state = state;
    row.endedAt = at;
    if (save === "now") this.deps.store.updateShare(row.id, { state, endedAt: at });
    else this.saveSoon(`save share ${row.id} as ${state}`, () => this.deps.store.updateShare(row.id, { state, endedAt: at }));
    this.record({ kind: state === "revoked" ? "share.revoked" : "share.expired", shareId: row.id, agent: row.agent, detail });
  }

  /**
   * A store write from a timer (an expiry, the end of a linger), where no caller could be told of a
   * failure: tried without waiting on another process's lock, and while one is held, tried again
   * (25 ms doubling to 1 s) in the order asked, so it neither stalls the daemon nor crashes it.
   * A restart re-derives what an unsaved expiry would have saved (lib/share/lifetime.ts afterRestart).
   */
  private saveSoon(what: string, write: () => void): void {
    this.unsaved.push({ what, write });
    if (this.unsaved.length === 1) this.flushUnsaved(0);
  }

  private readonly unsaved: Array<{ what: string; write: () => void }> = [];
  private unsavedTimer: ReturnType<typeof setTimeout> | undefined;

  private flushUnsaved(attempt: number): void {
    clearTimeout(this.unsavedTimer);
    this.unsavedTimer = undefined;
    while (this.unsaved.length > 0) {
      const next = this.unsaved[0]!;
      try {
        this.deps.store.withoutWaiting(next.write);
      } catch (e) {
        if (isLocked(e)) {
          if (attempt === 0) this.deps.log(`${next.what}: the database is locked by another process; trying again shortly`);
          this.unsavedTimer = setTimeout(() => this.flushUnsaved(attempt + 1), Math.min(1_000, 25 * 2 ** Math.min(attempt, 6)));
          return;
        }
        this.deps.log(`${next.what}: ${(e as Error)?.message ?? String(e)}`);
      }
      this.unsaved.shift();
    }
  }

  /**
   * An audit row from a running daemon: committed at once, or, while another process holds the
   * database's lock, queued (AuditLog.appendSoon) and committed once the lock is gone: nothing
   * stalls, nothing is lost (THREAT-MODEL.md).
   */
  private record(e: AuditEvent): void {
    this.deps.audit.appendSoon(e).catch((err: unknown) => this.deps.log(`error: audit: ${e.kind} not recorded: ${String(err)}`));
    // Committed now when nothing holds the lock, so listeners (watch, approvals) see it in order.
    this.deps.audit.flushSoon();
  }

  /** The agent's current grant for the chokepoint; a stored grant that does not parse grants nothing. */
  private currentGrant(agent: string): { id: string; verbs: GrantVerbs } | undefined {
    try {
      return this.deps.store.getGrant(agent);
    } catch (e) {
      this.deps.log(`error: ${(e as Error).message}; denying its calls`);
      return undefined;
    }
  }

  /** Holds the share's relay leg; a recipient who pairs gets a fresh session. */
  private attach(row: ShareRow, relay: Relay): LiveShare {
    const prologue = sharePrologue(row.rid, relay.url);
    const deps = this.deps;
    const leg = new RelayLeg({
      relayUrl: relay.url,
      rid: row.rid,
      // A reload may rotate the deployment token: a reconnect presents the one now in force for this relay.
      get token() {
        return deps.relay?.url === relay.url ? deps.relay.token : relay.token;
      },
      log: this.deps.log,
      label: row.id,
      events: {
        onPaired: () => {
          live.session?.close("replaced by a new connection");
          live.session = new DaemonSession(this.sessionHost(live, prologue));
        },
        onPeerGone: () => {
          if (live.session?.established) {
            this.record({ kind: "share.disconnected", shareId: row.id, agent: row.agent, detail: "recipient left" });
          }
          live.session?.close("recipient left");
          live.session = undefined;
        },
        onBinary: (frame) => live.session?.onFrame(frame),
        onDisconnected: () => {
          live.session?.close("relay connection lost");
          live.session = undefined;
        },
      },
    });
    const live: LiveShare = { row, relayUrl: relay.url, leg, session: undefined };
    this.shares.set(row.id, live);
    if (row.state === "live") this.armExpiry(live);
    else this.armLinger(live);
    return live;
  }

  /** What one session reads of its share, at every use (the passport is re-signed on extend). */
  private sessionHost(live: LiveShare, prologue: Uint8Array): SessionHost {
    const { row } = live;
    return {
      shareId: row.id,
      rid: row.rid,
      agent: row.agent,
      recipientKey: row.recipientKey,
      psk: row.psk,
      prologue,
      daemonPrivateKey: this.deps.identity.noisePrivate,
      signPublicKey: this.deps.identity.signPublic,
      fingerprint: this.deps.fingerprint,
      daemonName: this.deps.daemonName,
      passport: () => live.row.passport,
      shareState: () => currentState(live.row, this.now()),
      currentGrant: () => this.currentGrant(live.row.agent),
      catalog: this.deps.catalog,
      // Queued, never waiting on another process's lock: a busy database stalls no session (THREAT-MODEL.md).
      audit: (e: AuditEvent) => this.record(e),
      auditDurable: (e: AuditEvent) => this.deps.audit.appendSoon(e),
      runVerb: (verb, params, onOutput) => runVerb(this.deps, verb, params, onOutput),
      send: (w) => live.leg.send(w),
      bufferedAmount: () => live.leg.bufferedAmount,
      evict: () => live.leg.evict(),
      now: this.now,
      log: this.deps.log,
      random: this.random,
      requestApproval: (call) => this.deps.operator?.requestApproval(live.row, call),
      withdrawApproval: (callId, why) => this.deps.operator?.withdrawApproval(row.id, callId, why),
      tee: (callId, stream, pieces) => this.deps.operator?.tee(row.id, callId, stream, pieces),
    };
  }

  private detach(id: string): void {
    const live = this.shares.get(id);
    if (!live) return;
    clearTimeout(live.expiryTimer);
    clearTimeout(live.lingerTimer);
    live.session?.close("share closed");
    live.leg.close();
    this.shares.delete(id);
  }

  private armExpiry(live: LiveShare): void {
    clearTimeout(live.expiryTimer);
    live.expiryTimer = setTimeout(() => {
      if (live.row.state !== "live") return;
      if (live.row.expiresAt > this.now()) return this.armExpiry(live);
      // Ended in memory at once (the chokepoint reads this row); saved without stalling on a lock.
      this.markEnded(live.row, "expired", live.row.expiresAt, undefined, "soon");
      // The ended session stays attached so a backlog (and "ended") can still drain to the client.
      live.session?.endShare("expired");
      this.armLinger(live);
    }, delayUntil(live.row.expiresAt, this.now()));
  }

  private armLinger(live: LiveShare): void {
    clearTimeout(live.lingerTimer);
    const now = this.now();
    live.lingerTimer = setTimeout(() => {
      // The linger is over: no session can open any more, so the secret is not kept at rest.
      if (live.row.state !== "live") {
        const id = live.row.id;
        this.saveSoon(`forget the secret of share ${id}`, () => this.deps.store.forgetPsk(id));
        live.row.psk.fill(0);
      }
      this.detach(live.row.id);
    }, delayUntil(lingerEndsAt(live.row) ?? now, now));
  }
}
