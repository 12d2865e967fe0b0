// Live shares: opening (attenuate → passport → handle), the relay leg and session of each,
// lifetime (expiry timers, extend, revoke, the 10-minute lingering leg of an ended share) and
// recovery after a restart. The only writer of share state in a running daemon.
import { randomBytes } from "node:crypto";
import type { AuditLog } from "../store/audit.ts";
import { sharePrologue } from "../wire/channel.ts";
import type { Catalog } from "../capability/catalog.ts";
import { deniedError, OpenScopeError, shareOverError, usageError } from "../errors.ts";
import { parseShareTtl } from "../capability/limits.ts";
import { startVerb, type RunningVerb } from "../exec/process.ts";
import { attenuate, type GrantVerbs } from "../capability/grant.ts";
import { encodeHandle } from "../wire/handle.ts";
import { decodePublicKey } from "../crypto/keys.ts";
import type { DaemonIdentity } from "../host/keyfile.ts";
import { renderArgv, renderSshArgv } from "../exec/argv.ts";
import { decodePassportUnverified, signPassport, type Passport } from "../capability/passport.ts";
import type { ShareState } from "../capability/policy.ts";
import { sealToRecipient } from "../crypto/sealedbox.ts";
import type { ShareRow, Store } from "../store/store.ts";
import { parseVerbSpec } from "../capability/verbspec.ts";
import { RelayLeg } from "./relay-leg.ts";
import type { RunningVerbs } from "./running-verbs.ts";
import { DaemonSession } from "./session.ts";
import { toBase64url } from "../bytes.ts";
import type { OpenedShare, ShareSummary } from "../control/api.ts";

/** An ended share keeps its relay leg this long, to tell a late recipient why (SPEC.md §15.4). */
export const LINGER_MS = 10 * 60_000;

export interface ShareManagerDeps {
  store: Store;
  audit: AuditLog;
  identity: DaemonIdentity;
  fingerprint: string;
  daemonName: string;
  catalog: () => Catalog;
  relay: { url: string; token: string } | undefined;
  ssh: { knownHostsFile?: string; identityFile?: string };
  /** Where running verbs are recorded, so a restart can end what a killed daemon left. */
  runningVerbs?: RunningVerbs;
  now?: () => number;
  log: (line: string) => void;
}

export interface OpenShareRequest {
  agent: string;
  verbs: string[];
  to?: string;
  bearer?: boolean;
  ttl: string;
}

interface LiveShare {
  row: ShareRow;
  leg: RelayLeg;
  session: DaemonSession | undefined;
  expiryTimer?: ReturnType<typeof setTimeout>;
  lingerTimer?: ReturnType<typeof setTimeout>;
}

export class ShareManager {
  private readonly shares = new Map<string, LiveShare>();
  private readonly now: () => number;

  constructor(private readonly deps: ShareManagerDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** After a restart: live shares come back (never wider), ended ones linger or go. */
  async recover(): Promise<void> {
    this.closeOrphanedCalls();
    for (const row of this.deps.store.listShares()) {
      const now = this.now();
      if (row.state === "live" && row.expiresAt <= now) {
        this.markEnded(row, "expired", row.expiresAt);
      }
      const endedAt = row.state === "live" ? null : (row.endedAt ?? row.expiresAt);
      if (endedAt !== null && endedAt + LINGER_MS <= now) continue;
      if (!this.deps.relay) continue;
      const live = this.attach(row);
      live.leg.start().catch((e) => this.deps.log(`share ${row.id}: ${(e as Error).message}; retrying`));
    }
  }

  /**
   * A daemon killed mid-call leaves intent rows without outcomes (its verbs ran in their own
   * process groups). Say so in the log rather than leave the question open.
   */
  private closeOrphanedCalls(): void {
    const open = new Map<string, { shareId?: string; agent?: string; verb?: string }>();
    for (const r of this.deps.audit.list()) {
      if (!r.callId) continue;
      if (r.kind === "call.allowed") open.set(r.callId, r);
      else if (r.kind === "call.outcome") open.delete(r.callId);
    }
    for (const [callId, r] of open) {
      this.deps.audit.append({ kind: "call.outcome", callId, shareId: r.shareId, agent: r.agent, verb: r.verb, detail: "outcome unknown: the daemon stopped while the verb ran" });
    }
  }

  async open(req: OpenShareRequest): Promise<OpenedShare> {
    const { store, identity } = this.deps;
    if (!this.deps.relay) {
      throw usageError("no relay configured", ["start the daemon with --relay wss://… --relay-token …, or set relay and relay_token in config.toml"]);
    }
    if (req.verbs.length === 0) throw usageError("share open needs at least one --verb");
    if (Boolean(req.to) === Boolean(req.bearer)) {
      throw usageError("say who may connect: --to <alias> or --bearer (exactly one)");
    }
    const ttlMs = parseShareTtl(req.ttl);
    const specs = req.verbs.map((v) => parseVerbSpec(v));
    const grant = store.getGrant(req.agent);
    if (!grant) throw deniedError(`agent "${req.agent}" has no grant`, [`root grants verbs with: openscope grant add --agent ${req.agent} --verb …`]);
    const catalog = this.deps.catalog();
    const verbs = attenuate(catalog, grant.verbs as GrantVerbs, specs);
    let recipientKey: Uint8Array | null = null;
    if (req.to) {
      const r = store.getRecipient(req.to);
      if (!r) throw usageError(`unknown recipient "${req.to}"`, ["register it with: openscope recipients add <alias> <public-key>"]);
      recipientKey = decodePublicKey(r.publicKey);
    }
    const now = this.now();
    const expiresAt = now + ttlMs;
    const passport: Passport = {
      v: 1,
      id: toBase64url(randomBytes(16)),
      principal: req.agent,
      daemonKeyId: this.deps.fingerprint,
      recipient: recipientKey ? { kind: "key", publicKey: toBase64url(recipientKey) } : { kind: "bearer" },
      verbs,
      issuedAt: now,
      expiresAt,
      grantId: grant.id,
      grantRevision: grant.revision,
    };
    const rid = randomBytes(16);
    const psk = new Uint8Array(randomBytes(32));
    const row: ShareRow = {
      id: randomBytes(6).toString("hex"), // short, typeable, never starts with "-"
      agent: req.agent,
      recipientAlias: req.to ?? null,
      recipientKey: recipientKey ? toBase64url(recipientKey) : null,
      rid: toBase64url(rid),
      psk,
      passport: signPassport(passport, identity.signPrivate),
      verbs: Object.keys(verbs),
      state: "live",
      createdAt: now,
      expiresAt,
      endedAt: null,
      originalExpiresAt: expiresAt,
    };
    const handle = encodeHandle({
      relayUrl: this.deps.relay.url,
      rid,
      daemonPublicKey: identity.noisePublic,
      expiresAt,
      secret: recipientKey ? { kind: "sealed", sealed: sealToRecipient(recipientKey, psk) } : { kind: "bearer", psk },
    });
    store.insertShare(row);
    this.deps.audit.append({
      kind: "share.opened",
      shareId: row.id,
      agent: row.agent,
      detail: `to ${req.to ?? "bearer"}; verbs ${row.verbs.join(", ")}; expires ${new Date(expiresAt).toISOString()}`,
    });
    const live = this.attach(row);
    try {
      await live.leg.start();
    } catch (e) {
      // The share cannot be reached: end it rather than leave a handle that leads nowhere.
      this.markEnded(row, "revoked", this.now(), "relay unreachable at open");
      this.detach(row.id);
      throw e;
    }
    return {
      id: row.id,
      handle,
      fingerprint: this.deps.fingerprint,
      expires_at: new Date(expiresAt).toISOString(),
      recipient: req.to ?? "bearer",
      verbs: row.verbs,
      command: `openscope-reflect-client --passport ${handle} --fingerprint '${this.deps.fingerprint}'`,
    };
  }

  list(): ShareSummary[] {
    return this.deps.store.listShares().map((row) => ({
      id: row.id,
      agent: row.agent,
      recipient: row.recipientAlias ?? "bearer",
      verbs: row.verbs,
      state: this.currentState(row).state,
      expires_at: new Date(row.expiresAt).toISOString(),
      connected: this.shares.get(row.id)?.session?.established ?? false,
    }));
  }

  extend(id: string, ttl: string): ShareSummary {
    const row = this.requireLiveRow(id);
    const ttlMs = parseShareTtl(ttl);
    const expiresAt = this.now() + ttlMs;
    // Re-issued now: a passport never spans more than 30 minutes (SPEC.md §5).
    const passport: Passport = { ...this.passportOf(row), issuedAt: this.now(), expiresAt };
    row.expiresAt = expiresAt;
    row.passport = signPassport(passport, this.deps.identity.signPrivate);
    this.deps.store.updateShare(id, { expiresAt, passport: row.passport });
    this.deps.audit.append({ kind: "share.extended", shareId: id, agent: row.agent, detail: `expires ${new Date(expiresAt).toISOString()}` });
    const live = this.shares.get(id);
    if (live) {
      live.row = row;
      this.armExpiry(live);
      live.session?.notifyExpiry(expiresAt);
    }
    return this.list().find((s) => s.id === id)!;
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
    return this.list().find((s) => s.id === id)!;
  }

  connected(id: string): boolean {
    return this.shares.get(id)?.session?.established ?? false;
  }

  shutdown(): void {
    for (const id of [...this.shares.keys()]) this.detach(id);
  }

  // ---- internals ----

  private requireLiveRow(id: string): ShareRow {
    const row = this.deps.store.getShare(id);
    if (!row) throw usageError(`no share with id "${id}"`, ["list shares with: openscope share list"]);
    const state = this.currentState(row);
    if (state.state !== "live") throw shareOverError(`share ${id} is ${state.state}`);
    return row;
  }

  private currentState(row: ShareRow): ShareState {
    if (row.state === "live" && row.expiresAt <= this.now()) return { state: "expired", expiresAt: row.expiresAt };
    return { state: row.state, expiresAt: row.expiresAt };
  }

  private passportOf(row: ShareRow): Passport {
    // The daemon signed it itself; decoding here is for re-signing with a new expiry.
    return decodePassportUnverified(row.passport);
  }

  private markEnded(row: ShareRow, state: "revoked" | "expired", at: number, detail?: string): void {
    row.state = state;
    row.endedAt = at;
    this.deps.store.updateShare(row.id, { state, endedAt: at });
    this.deps.audit.append({ kind: state === "revoked" ? "share.revoked" : "share.expired", shareId: row.id, agent: row.agent, detail });
  }

  private attach(row: ShareRow): LiveShare {
    const relay = this.deps.relay!;
    const prologue = sharePrologue(row.rid, relay.url);
    const live: LiveShare = { row, session: undefined } as LiveShare;
    const host = () => ({
      shareId: row.id,
      agent: row.agent,
      recipientKey: row.recipientKey,
      psk: row.psk,
      prologue,
      daemonPrivateKey: this.deps.identity.noisePrivate,
      signPublicKey: this.deps.identity.signPublic,
      fingerprint: this.deps.fingerprint,
      daemonName: this.deps.daemonName,
      passport: () => live.row.passport,
      shareState: () => this.currentState(live.row),
      currentGrant: () => this.deps.store.getGrant(live.row.agent)?.verbs as GrantVerbs | undefined,
      catalog: this.deps.catalog,
      audit: (e: Parameters<AuditLog["append"]>[0]) => void this.deps.audit.append(e),
      runVerb: (verb: string, params: Record<string, string>, onOutput: (s: "stdout" | "stderr", c: Uint8Array) => Promise<void> | void): RunningVerb =>
        this.runVerb(verb, params, onOutput),
      send: (w: Uint8Array) => live.leg.send(w),
      bufferedAmount: () => live.leg.bufferedAmount,
      evict: () => live.leg.evict(),
      now: this.now,
      log: this.deps.log,
    });
    live.leg = new RelayLeg({
      relayUrl: relay.url,
      rid: row.rid,
      token: relay.token,
      log: this.deps.log,
      events: {
        onPaired: () => {
          live.session?.close("replaced by a new connection");
          live.session = new DaemonSession(host());
        },
        onPeerGone: () => {
          if (live.session?.established) {
            this.deps.audit.append({ kind: "share.disconnected", shareId: row.id, agent: row.agent, detail: "recipient left" });
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
    this.shares.set(row.id, live);
    if (row.state === "live") this.armExpiry(live);
    else this.armLinger(live);
    return live;
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
    const delay = Math.max(0, live.row.expiresAt - this.now());
    live.expiryTimer = setTimeout(() => {
      if (live.row.state !== "live") return;
      if (live.row.expiresAt > this.now()) return this.armExpiry(live);
      this.markEnded(live.row, "expired", live.row.expiresAt);
      // The ended session stays attached so a backlog (and "ended") can still drain to the client.
      live.session?.endShare("expired");
      this.armLinger(live);
    }, Math.min(delay, 2 ** 31 - 1));
  }

  private armLinger(live: LiveShare): void {
    clearTimeout(live.lingerTimer);
    const endedAt = live.row.endedAt ?? this.now();
    live.lingerTimer = setTimeout(() => this.detach(live.row.id), Math.max(0, endedAt + LINGER_MS - this.now()));
  }

  private runVerb(verb: string, params: Record<string, string>, onOutput: (s: "stdout" | "stderr", c: Uint8Array) => Promise<void> | void): RunningVerb {
    const def = this.deps.catalog().get(verb);
    if (!def) throw new OpenScopeError("usage", `verb ${verb} is no longer in the catalog`);
    const argv =
      def.adapter === "ssh"
        ? renderSshArgv(def, params, {
            knownHostsFile: this.deps.ssh.knownHostsFile,
            identityFile: this.deps.ssh.identityFile,
            // Only the operator's known_hosts and key count, not whatever root's ssh config adds.
            extraOptions: ["IdentitiesOnly=yes", "GlobalKnownHostsFile=/dev/null"],
          })
        : renderArgv(def, params);
    const running = startVerb({ argv, timeoutMs: def.timeoutMs, maxOutputBytes: def.maxOutputBytes }, onOutput);
    this.deps.runningVerbs?.add(running.pid);
    void running.done.finally(() => this.deps.runningVerbs?.remove(running.pid));
    return running;
  }
}

