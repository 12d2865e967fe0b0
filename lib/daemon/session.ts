// The daemon's side of one recipient connection: answers the Noise handshake as responder,
// then serves RPC (hello, list, call, cancel) for one share. Every call goes through the one
// chokepoint `decide`; the intent is audited before the verb starts, the outcome after.
import { bytesToHex } from "@noble/hashes/utils.js";
import { defaultRandom, type Random } from "../noise/crypto.ts";
import { acceptInitiator, MAX_RECORD_DATA, type Channel, type ChannelSink } from "../wire/channel.ts";
import { cryptoFromEnv, signatureCheckFor } from "../platform/crypto.ts";
import type { Catalog } from "../capability/catalog.ts";
import { admits } from "../capability/constraint.ts";
import { OpenScopeError } from "../errors.ts";
import type { GrantVerbs } from "../capability/grant.ts";
import { decideSigned, type Decision, type ShareState } from "../capability/policy.ts";
import { decodePassportUnverified, type Passport } from "../capability/passport.ts";
import {
  decodeClientMessage,
  readableCall,
  encodeChunks,
  encodeMessage,
  MAX_CONCURRENT_CALLS,
  MAX_CONTROL_MESSAGE_BYTES,
  RPC_VERSION,
  type DaemonMessage,
  type VerbInfo,
} from "../wire/rpc.ts";
import type { AuditEvent } from "../store/audit.ts";
import type { RunningVerb, RunResult } from "../exec/process.ts";
import { toBase64url } from "../bytes.ts";
import { describeOutcome, refusal, type Refusal } from "../wire/outcome.ts";
import { NOT_APPROVED, type ApprovalEnd, type ApprovalRequest } from "../share/approval.ts";
import { formatDuration } from "../units.ts";
import type { OutputSink } from "./verb-runner.ts";

/** What a session needs from the daemon around it (kept narrow so tests can drive it). */
export interface SessionHost {
  shareId: string;
  /** The share's rendezvous id (base64url), as stored: the passport must be bound to it. */
  rid: string;
  agent: string;
  /** base64url X25519 key the share is sealed to, or null for a bearer share. */
  recipientKey: string | null;
  psk: Uint8Array;
  prologue: Uint8Array;
  daemonPrivateKey: Uint8Array;
  signPublicKey: Uint8Array;
  fingerprint: string;
  daemonName: string;
  /** Current values, read at every use: the passport is re-signed on extend. */
  passport(): string;
  shareState(): ShareState;
  /** The principal's grant as it is now in the store: its id (a passport is bound to it) and verbs. */
  currentGrant(): { id: string; verbs: GrantVerbs } | undefined;
  catalog(): Catalog;
  audit(event: AuditEvent): void;
  /** Group commit (AuditLog.appendSoon): resolves once the row is durable. Without it, `audit` is used. */
  auditDurable?(event: AuditEvent): Promise<unknown>;
  /** Starts the verb for already-decided params (adapter chosen by the catalog entry). */
  runVerb(verb: string, params: Record<string, string>, onOutput: OutputSink): RunningVerb;
  send(wire: Uint8Array): void;
  bufferedAmount(): number;
  evict(): void;
  now(): number;
  log(line: string): void;
  /** Randomness for the session's tag (default: the platform's CSPRNG). */
  random?: Random;
  /**
   * For a call the chokepoint allowed: opens an approval request when the operator must approve
   * it (SPEC.md §17.2), else undefined. The request holds exactly these params.
   */
  requestApproval?(call: { callId: string; verb: string; params: Record<string, string> }): { request: ApprovalRequest; answer: Promise<ApprovalEnd> } | undefined;
  /** The call stopped waiting (the recipient cancelled or left, the operator killed it). */
  withdrawApproval?(callId: string, why: "cancelled" | "disconnected" | "killed"): void;
  /** A chunk of output exactly as it goes to the recipient, teed to watchers; never waits. */
  tee?(callId: string, stream: "stdout" | "stderr", pieces: readonly Uint8Array[]): void;
}

/** What the audit rows of one call share: its session-unique id, the verb and the params as sent. */
interface CallAbout {
  callId: string;
  verb: string;
  params: Record<string, string>;
}

const HANDSHAKE_TIMEOUT_MS = 10_000;
/** How long a call waits for its first audit row before the recipient hears `internal` (SPEC.md §15.2). */
export const RECORD_DEADLINE_MS = 2_000;
/** OPENSCOPE_CRYPTO, read once: the suite every session's channel runs on. */
let suite: ReturnType<typeof cryptoFromEnv> | undefined;
const sessionCrypto = () => (suite ??= cryptoFromEnv());
const HIGH_WATER_BYTES = 512 * 1024;
/** Output bytes per chunk message: with its 6-byte header it fills one record (SPEC.md §11.3). */
const CHUNK_DATA_MAX = MAX_RECORD_DATA - 6;

export class DaemonSession {
  private channel: Channel | undefined;
  private clientKey: string | null = null;
  private confirmed = false;
  private connectedDetail = "";
  private readonly tag: string;
  private readonly running = new Map<number, RunningVerb>();
  /** Why each cancelled call was cancelled (the first reason given), for its outcome row. */
  private readonly cancelReasons = new Map<number, string>();
  /** Calls whose intent row is being committed (their verb starts once it is durable). */
  private readonly starting = new Set<number>();
  /** Calls waiting for the operator's approval, and what each is (SPEC.md §17.2). */
  private readonly waiting = new Map<number, CallAbout>();
  /** What each running call is, and which ones the operator killed (SPEC.md §17.1). */
  private readonly runningAbout = new Map<number, CallAbout>();
  private readonly killedByOperator = new Set<number>();
  /** Each call from its intent until its outcome, with the params it runs with: re-decided when the grant changes. */
  private readonly decided = new Map<number, { about: CallAbout; params: Record<string, string> }>();
  private handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  private ended = false;
  private draining = false;
  private roomWaiters: Array<() => void> = [];
  private roomTimer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly host: SessionHost) {
    this.tag = bytesToHex((host.random ?? defaultRandom)(4));
    // A client that pairs and never speaks is evicted, so it cannot hold the rid.
    this.handshakeTimer = setTimeout(() => this.fail("handshake timed out"), HANDSHAKE_TIMEOUT_MS);
  }

  /** True once the client proved the psk with a valid record (the handshake alone cannot show it). */
  get established(): boolean {
    return this.confirmed && !this.ended;
  }

  /** A binary frame from the relay. */
  onFrame(frame: Uint8Array): void {
    if (this.ended) {
      // After the share ended: keep applying the client's credit grants so queued records (and
      // "ended") go out; payloads are ignored from now on.
      if (this.draining) this.channel!.take(frame);
      return;
    }
    if (!this.channel) {
      this.handshake(frame);
      return;
    }
    this.channel.take(frame);
  }

  /** Where the channel puts what it produces (in wire order, possibly after an asynchronous seal). */
  private channelSink(): ChannelSink {
    return {
      send: (wire) => {
        // A closed session's late records must not reach the next client on the same leg.
        if (this.ended && !this.draining) return;
        this.host.send(wire);
        if (this.draining && this.channel!.queuedBytes === 0) this.draining = false;
        // a record sealed off the JS thread just left the channel: a verb waiting for room may go
        // on now rather than at the next 5 ms poll
        this.wakeRoomWaiters();
      },
      accepted: () => {
        if (!this.confirmed && !this.ended) {
          // IKpsk2 mixes the psk in at the end of message 2, so only the client's first valid
          // record proves it holds the session secret; until then the handshake timer keeps running.
          this.confirmed = true;
          clearTimeout(this.handshakeTimer);
          this.host.audit({ kind: "share.connected", shareId: this.host.shareId, agent: this.host.agent, detail: this.connectedDetail });
        }
        this.wakeRoomWaiters();
      },
      deliver: (payload) => {
        if (!this.ended) this.onPayload(payload);
      },
      fail: (error) => {
        if (this.ended) {
          this.draining = false;
          return;
        }
        // Altered, replayed, reordered or truncated record: the session ends, nothing runs.
        this.host.audit({ kind: "share.disconnected", shareId: this.host.shareId, detail: error.message });
        this.close(error.message.replace(/^channel: /, ""));
        this.host.evict();
      },
    };
  }

  /** Ends the session: running verbs are killed (and their outcomes audited by their runners). */
  close(why: string): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.handshakeTimer);
    clearInterval(this.roomTimer);
    for (const id of this.running.keys()) this.cancel(id, why);
    for (const about of this.waiting.values()) this.host.withdrawApproval?.(about.callId, "disconnected");
    this.waiting.clear();
    for (const w of this.roomWaiters) w();
    this.roomWaiters = [];
  }

  /** Tells a connected client the share ended, then closes. */
  endShare(state: Exclude<ShareState["state"], "live">): void {
    if (this.channel && !this.ended) {
      this.sendMessage({ type: "ended", state, message: state === "revoked" ? "revoked by the operator" : "expired" });
      // Under a fast stream "ended" waits in the channel behind output for the client's credit:
      // keep taking credit records so it is delivered (payloads are ignored from now on).
      this.draining = this.channel.queuedBytes > 0;
    }
    this.close(state);
  }

  notifyExpiry(expiresAt: number): void {
    if (this.established) this.sendMessage({ type: "expiry", expiresAt });
  }

  private fail(why: string): void {
    if (this.ended) return;
    this.host.log(`warning: share ${this.host.shareId}: ${why}; evicting the client leg`);
    this.host.audit({ kind: "share.disconnected", shareId: this.host.shareId, detail: why });
    this.close(why);
    this.host.evict();
  }

  private handshake(message1: Uint8Array): void {
    let accepted: ReturnType<typeof acceptInitiator>;
    try {
      // A client message is at most the RPC limit: reassembly stops there (THREAT-MODEL.md), so a
      // recipient cannot make the daemon hold more than one record beyond it.
      const channel = { crypto: sessionCrypto(), maxMessageBytes: MAX_CONTROL_MESSAGE_BYTES };
      accepted = acceptInitiator({ daemonPrivateKey: this.host.daemonPrivateKey, prologue: this.host.prologue, message1, channel });
    } catch {
      this.fail("handshake failed");
      return;
    }
    const clientKey = toBase64url(accepted.clientPublicKey);
    if (this.host.recipientKey !== null && clientKey !== this.host.recipientKey) {
      // A --to share: only the registered recipient's static key may complete the handshake.
      this.fail("handshake from a key that is not the share's recipient");
      return;
    }
    let reply: { message2: Uint8Array; channel: Channel };
    try {
      reply = accepted.respond(this.host.psk);
    } catch {
      this.fail("handshake failed");
      return;
    }
    this.channel = reply.channel;
    this.channel.attach(this.channelSink());
    this.clientKey = this.host.recipientKey === null ? null : clientKey;
    this.host.send(reply.message2);
    const state = this.host.shareState();
    if (state.state !== "live" || state.expiresAt <= this.host.now()) {
      this.endShare(state.state === "revoked" ? "revoked" : "expired");
      return;
    }
    this.connectedDetail = this.clientKey ? `key ${clientKey.slice(0, 12)}…` : "bearer";
    this.sendMessage({
      type: "hello",
      version: RPC_VERSION,
      passport: this.host.passport(),
      signPublicKey: toBase64url(this.host.signPublicKey),
      fingerprint: this.host.fingerprint,
      daemonName: this.host.daemonName,
      expiresAt: state.expiresAt,
      now: this.host.now(),
    });
  }

  private sendMessage(msg: DaemonMessage): void {
    this.sendPayload(encodeMessage(msg));
  }

  private sendPayload(payload: Uint8Array): void {
    if (!this.channel || this.ended) return;
    this.channel.send(payload);
  }

  private onPayload(payload: Uint8Array): void {
    let msg;
    try {
      msg = decodeClientMessage(payload);
    } catch (e) {
      const message = e instanceof OpenScopeError ? e.message : "rpc: malformed message";
      // A call whose id is still readable (say a 10 KB value) is answered as a denial under its
      // own id: the client waits on that id and would otherwise hang.
      const call = readableCall(payload);
      if (!call) return this.refuse(null, "unreadable", message, {});
      return this.refuse(call.id, "malformed", message, { callId: this.callId(call.id), ...(call.verb !== undefined ? { verb: call.verb } : {}) });
    }
    switch (msg.type) {
      case "list":
        this.sendMessage({ type: "verbs", id: msg.id, verbs: this.verbList() });
        return;
      case "cancel": {
        const waiting = this.waiting.get(msg.id);
        if (waiting) this.host.withdrawApproval?.(waiting.callId, "cancelled");
        else this.cancel(msg.id, "by the recipient");
        return;
      }
      case "call":
        this.call(msg.id, msg.verb, msg.params);
        return;
    }
  }

  private verbList(): VerbInfo[] {
    const passport: Passport = decodePassportUnverified(this.host.passport());
    const catalog = this.host.catalog();
    return Object.entries(passport.verbs).map(([name, params]) => {
      const def = catalog.get(name);
      return {
        name,
        summary: def?.summary ?? "",
        params: Object.fromEntries(
          Object.entries(params).map(([p, constraint]) => {
            // A catalog default outside this share is not offered: the caller must pick a value.
            const d = def?.params[p]?.default;
            return [p, d === undefined || !admits(constraint, d) ? { constraint } : { constraint, default: d }];
          }),
        ),
      };
    });
  }

  /** Call ids restart at 1 in every connection; the session tag makes the audit's callId unique. */
  private callId(id: number): string {
    return `${this.tag}.${id}`;
  }

  /**
   * A call that does not run: audited with its reason, answered with the code of wire/outcome.ts
   * once the row is durable (or `internal` if it cannot be recorded in time; it is recorded later).
   */
  private refuse(id: number | null, why: Refusal, message: string, about: Partial<CallAbout>): void {
    this.recordCall(
      { kind: "call.denied", shareId: this.host.shareId, agent: this.host.agent, ...about, reason: refusal(why).reason, message },
      () => this.answerRefusal(id, why, message),
      () => this.answerUnrecorded(id),
    );
  }

  /**
   * A call's first row (its refusal or its intent), then `onTime` once it is durable. When that
   * takes longer than RECORD_DEADLINE_MS (another process holds the database's lock) or fails,
   * `late` answers the recipient at once; the row stays queued and is committed when the lock is
   * gone (never lost), and `lateDurable` runs then (THREAT-MODEL.md).
   */
  private recordCall(event: AuditEvent, onTime: () => void, late: (e?: unknown) => void, lateDurable: () => void = () => {}): void {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      late();
    }, RECORD_DEADLINE_MS);
    this.afterDurable(
      event,
      () => {
        clearTimeout(timer);
        if (settled) return lateDurable();
        settled = true;
        onTime();
      },
      (e: unknown) => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        late(e);
      },
    );
  }

  /** The call's row could not be committed in time: nothing ran, the recipient may try again (exit 70). */
  private answerUnrecorded(id: number | null): void {
    this.sendMessage({ type: "error", id, code: "internal", message: "the daemon could not record this call in its audit log in time (its database is busy); nothing ran: try again" });
  }

  /** The recipient's answer for a call that does not run: code and reason from wire/outcome.ts. */
  private answerRefusal(id: number | null, why: Refusal, message: string): void {
    const { code, reason } = refusal(why);
    this.sendMessage({ type: "error", id, code, reason, message });
  }

  /**
   * One call, in the order SPEC.md §13 and §15 require: admitted by the session, decided by the
   * chokepoint, its intent committed, the verb started, its outcome audited when it ends.
   */
  private call(id: number, verb: string, params: Record<string, string>): void {
    const about: CallAbout = { callId: this.callId(id), verb, params };
    const busy = this.admit(id);
    if (busy) return this.refuse(id, busy.why, busy.message, about);
    const decision = this.decide(verb, params);
    if (!decision.allow) return this.refuse(id, decision.reason, decision.message, about);
    // Policy first: only a call the chokepoint allows is put to the operator (SPEC.md §17.2).
    const ticket = this.host.requestApproval?.({ callId: about.callId, verb, params: decision.params });
    if (ticket) return this.awaitApproval(id, about, ticket);
    this.run(id, about, decision.params);
  }

  /** Group commit: the intent joins this tick's batch; once that batch is durable the verb starts. */
  private run(id: number, sent: CallAbout, params: Record<string, string>): void {
    // From the intent on, every row of the call names the params it runs with (defaults and pins
    // filled in), so call.allowed and call.outcome agree (SPEC.md §15.2).
    const about: CallAbout = { ...sent, params };
    this.starting.add(id);
    this.decided.set(id, { about, params });
    this.recordCall(
      { kind: "call.allowed", shareId: this.host.shareId, agent: this.host.agent, ...about, params },
      () => {
        this.starting.delete(id);
        if (this.ended) {
          this.decided.delete(id);
          return this.auditOutcome(about, { exitCode: -1, detail: "not started: the session ended" });
        }
        this.announceStart(id, about, params);
        const running = this.start(id, about, params);
        if (!running) return void this.decided.delete(id);
        const reason = this.cancelReasons.get(id);
        if (reason !== undefined) running.cancel(reason); // cancelled while its intent was committing
        this.awaitOutcome(id, about, running);
      },
      (e?: unknown) => {
        // Never run a verb whose intent is not committed: the recipient hears `internal` now.
        this.starting.delete(id);
        this.decided.delete(id);
        this.cancelReasons.delete(id);
        const why = e === undefined ? `not committed within ${RECORD_DEADLINE_MS / 1000}s` : `could not be recorded: ${String(e)}`;
        this.host.log(`error: share ${this.host.shareId}: the intent of ${about.callId} ${why}; the verb did not run`);
        this.answerUnrecorded(id);
      },
      // Committed after the recipient was told: the outcome row closes it, and nothing runs.
      () => this.auditOutcome(about, { exitCode: -1, detail: "not started: its intent was recorded too late" }),
    );
  }

  /** Appends `event`, then runs `next` once it is durable: at once without group commit, after this tick's batch with it. */
  private afterDurable(event: AuditEvent, next: () => void, failed: (e: unknown) => void): void {
    if (this.host.auditDurable) {
      this.host.auditDurable(event).then(next, failed);
      return;
    }
    try {
      this.host.audit(event);
    } catch (e) {
      return failed(e);
    }
    next();
  }

  /**
   * The call waits for the operator: the client hears `pending` with the request id. Approved, it
   * runs with exactly the request's params after the chokepoint decides again (the share or the
   * grant may have changed meanwhile); anything else answers a denial, and nothing runs.
   */
  private awaitApproval(id: number, about: CallAbout, ticket: { request: ApprovalRequest; answer: Promise<ApprovalEnd> }): void {
    const { request } = ticket;
    this.waiting.set(id, about);
    const timeoutMs = request.expiresAt - request.requestedAt;
    this.sendMessage({ type: "pending", id, request: request.id, timeoutMs, message: `waiting for the operator's approval (request ${request.id})` });
    void ticket.answer.then((end) => {
      this.waiting.delete(id);
      if (this.ended) return;
      // The approval desk audits how the request ended; the recipient hears it by the outcome table.
      const answer = (why: Refusal, message: string) => this.answerRefusal(id, why, message);
      switch (end.kind) {
        case "approved": {
          const params = { ...request.params };
          const again = this.decide(request.verb, params);
          if (!again.allow) return this.refuse(id, again.reason, again.message, { ...about, params });
          return this.run(id, { ...about, params }, params);
        }
        case "denied":
          return answer("operator", `the operator denied ${request.verb}: ${end.reason}`);
        case "timed_out":
          return answer(NOT_APPROVED, `${NOT_APPROVED}: the operator did not approve ${request.verb} within ${formatDuration(timeoutMs)}`);
        case "withdrawn":
          if (end.why === "revoked" || end.why === "expired") {
            return answer(end.why, `the share ${end.why === "revoked" ? "was revoked" : "expired"} before the operator answered`);
          }
          return answer(end.why, end.why === "killed" ? `${request.verb} was cancelled by the operator before it ran` : `${request.verb} was withdrawn before the operator answered`);
      }
    });
  }

  /**
   * The operator ends calls of this share (`share kill`, SPEC.md §17.1): every one, or the one with
   * this audit callId. Running verbs are killed (audited first); waiting ones are withdrawn.
   * Returns the callIds it ended.
   */
  kill(callId?: string): string[] {
    const ended: string[] = [];
    for (const [id, running] of this.running) {
      const about = this.runningAbout.get(id);
      if (!about || (callId !== undefined && about.callId !== callId) || this.killedByOperator.has(id)) continue;
      this.killedByOperator.add(id);
      this.host.audit({ kind: "call.killed", shareId: this.host.shareId, agent: this.host.agent, callId: about.callId, verb: about.verb, detail: "cancelled by the operator" });
      this.cancel(id, "share kill");
      ended.push(about.callId);
    }
    for (const about of [...this.waiting.values()]) {
      if (callId !== undefined && about.callId !== callId) continue;
      this.host.withdrawApproval?.(about.callId, "killed");
      ended.push(about.callId);
    }
    return ended;
  }

  /**
   * The principal's grant (or the catalog) changed (SPEC.md §15.4): every call that runs (or is
   * about to) is decided again with the params it runs with, and one now denied is ended as
   * `share kill` ends it, its `call.killed` row saying why. Returns the callIds it ended.
   */
  recheckGrant(why = "the grant changed"): string[] {
    const ended: string[] = [];
    for (const [id, { about, params }] of this.decided) {
      if (this.killedByOperator.has(id)) continue;
      const again = this.decide(about.verb, params);
      if (again.allow) continue;
      this.killedByOperator.add(id);
      this.host.audit({ kind: "call.killed", shareId: this.host.shareId, agent: this.host.agent, callId: about.callId, verb: about.verb, detail: `${why}: ${again.message}` });
      this.cancel(id, why);
      ended.push(about.callId);
    }
    return ended;
  }

  /** The session's own limits, before any decision: one call per id, at most 4 at once. */
  private admit(id: number): { why: Refusal; message: string } | undefined {
    if (this.running.has(id) || this.waiting.has(id) || this.starting.has(id)) return { why: "call_id_in_use", message: "call id already in use" };
    if (this.running.size + this.waiting.size + this.starting.size >= MAX_CONCURRENT_CALLS) return { why: "busy", message: `at most ${MAX_CONCURRENT_CALLS} calls may run at once in a session` };
    return undefined;
  }

  /** The chokepoint, on the stored passport: its signature is checked at every call, so an edited database row denies. */
  private decide(verb: string, params: Record<string, string>): Decision {
    const grant = this.host.currentGrant();
    return decideSigned({
      call: { verb, params },
      signedPassport: this.host.passport(),
      daemonPublicKey: this.host.signPublicKey,
      currentGrant: grant?.verbs,
      currentGrantId: grant?.id,
      share: this.host.shareState(),
      boundTo: { shareId: this.host.shareId, rid: this.host.rid },
      callerKey: this.clientKey,
      now: this.host.now(),
      catalog: this.host.catalog(),
      checkSignature: signatureCheckFor(sessionCrypto()),
    });
  }

  /** The intent is committed before the verb starts (SPEC.md §15.2); then the client hears `started`. */
  private announceStart(id: number, about: CallAbout, params: Record<string, string>): void {
    const timeoutMs = this.host.catalog().get(about.verb)?.timeoutMs;
    this.sendMessage(timeoutMs === undefined ? { type: "started", id, params } : { type: "started", id, params, timeoutMs });
  }

  /** Starts the verb, its output flowing to the client as the channel has room; undefined if it could not start. */
  private start(id: number, about: CallAbout, params: Record<string, string>): RunningVerb | undefined {
    try {
      const running = this.host.runVerb(about.verb, params, async (stream, pieces) => {
        this.host.tee?.(about.callId, stream, pieces);
        // One chunk message per transport record: a starved daemon can read MBs from the pipe at
        // once, and a message that big would be held whole by the client before its consumer saw any.
        for (const message of encodeChunks(id, stream, pieces, CHUNK_DATA_MAX)) this.sendPayload(message);
        await this.waitForRoom();
      });
      this.running.set(id, running);
      this.runningAbout.set(id, about);
      return running;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.auditOutcome(about, { exitCode: -1, detail: `could not start: ${message}` });
      this.sendMessage({ type: "error", id, code: "internal", message: `the verb could not start: ${message}` });
      return undefined;
    }
  }

  /** When the verb ends: the outcome row, then the result (or an internal error if its runner failed). */
  private awaitOutcome(id: number, about: CallAbout, running: RunningVerb): void {
    running.done.then(
      (r0: RunResult) => {
        this.running.delete(id);
        const cancelReason = this.cancelReasons.get(id);
        this.cancelReasons.delete(id);
        this.runningAbout.delete(id);
        this.decided.delete(id);
        const byOperator = this.killedByOperator.delete(id) && r0.cancelled;
        const r = byOperator ? { ...r0, cancelledBy: "operator" as const } : r0;
        const durationMs = Math.round(r.durationMs);
        const { exitCode, signal, timedOut, cancelled, truncated, bytesOut } = r;
        const redactions = nonEmpty(r.redactions);
        // the recipient hears the result once its outcome row is durable (group commit)
        const result = () =>
          this.sendMessage({ type: "result", id, exitCode, signal, timedOut, cancelled, ...(byOperator ? { cancelledBy: "operator" as const } : {}), truncated, bytesOut, durationMs, ...(redactions && { redactions }) });
        this.auditOutcome(about, {
          exitCode: r.exitCode ?? -1,
          bytesOut: r.bytesOut,
          durationMs,
          outputDigest: r.outputDigest,
          truncated: r.truncated,
          redactions: nonEmpty(r.redactions),
          detail: this.outcomeDetail(r, cancelReason),
        }, result);
      },
      (e: unknown) => {
        this.running.delete(id);
        this.cancelReasons.delete(id);
        this.runningAbout.delete(id);
        this.decided.delete(id);
        this.killedByOperator.delete(id);
        this.auditOutcome(about, { exitCode: -1, detail: `runner failed: ${String(e)}` }, () =>
          this.sendMessage({ type: "error", id, code: "internal", message: "the verb's runner failed" }),
        );
      },
    );
  }

  /** The outcome row, then `next` (the result goes out once the row is durable, or its failure is logged). */
  private auditOutcome(about: CallAbout, outcome: { exitCode: number; bytesOut?: number; durationMs?: number; outputDigest?: string; truncated?: boolean; redactions?: Record<string, number> | undefined; detail?: string | undefined }, next: () => void = () => {}): void {
    this.afterDurable({ kind: "call.outcome", shareId: this.host.shareId, agent: this.host.agent, ...about, ...outcome }, next, (e: unknown) => {
      this.host.log(`error: share ${this.host.shareId}: the outcome of ${about.callId} could not be recorded: ${String(e)}`);
      next();
    });
  }

  /** How the verb ended when not by its own exit (in the words of wire/outcome.ts, with why it was cancelled), and whether the session had ended. */
  private outcomeDetail(r: RunResult & { cancelledBy?: "operator" }, cancelReason: string | undefined): string | undefined {
    const words = describeOutcome(r);
    const how = words.how === "cancelled" && cancelReason ? `${words.phrase} (${cancelReason})` : words.how !== "exit" && words.phrase;
    return [how, this.ended && "session ended"].filter(Boolean).join(", ") || undefined;
  }

  /** Ends a running call; the reason goes into its outcome row (the runner only learns that it was cancelled). */
  private cancel(id: number, reason: string): void {
    if (this.starting.has(id) && !this.cancelReasons.has(id)) this.cancelReasons.set(id, reason); // applied once it starts
    const running = this.running.get(id);
    if (!running) return;
    if (!this.cancelReasons.has(id)) this.cancelReasons.set(id, reason);
    running.cancel(reason);
  }

  /** Resolves when the channel and the socket have room: a slow reader slows the verb, not our memory. */
  private waitForRoom(): Promise<void> {
    if (this.ended || !this.channel) return Promise.resolve();
    const full = () => !this.ended && (this.channel!.queuedBytes > HIGH_WATER_BYTES || this.host.bufferedAmount() > HIGH_WATER_BYTES);
    if (!full()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.roomWaiters.push(resolve);
      // Socket drain has no event on Bun's client WebSocket: poll it while someone waits.
      this.roomTimer ??= setInterval(() => {
        if (!full()) this.wakeRoomWaiters();
      }, 5);
    });
  }

  private wakeRoomWaiters(): void {
    if (this.roomWaiters.length === 0) return;
    const full = !this.ended && this.channel && (this.channel.queuedBytes > HIGH_WATER_BYTES || this.host.bufferedAmount() > HIGH_WATER_BYTES);
    if (full) return;
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    clearInterval(this.roomTimer);
    this.roomTimer = undefined;
    for (const w of waiters) w();
  }
}

/** Redaction counts, or undefined when there were none (the row and the result then leave the field out). */
function nonEmpty(counts: Record<string, number>): Record<string, number> | undefined {
  return Object.keys(counts).length > 0 ? counts : undefined;
}
