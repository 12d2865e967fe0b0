// The recipient's connection to a share: handle → relay client leg → Noise handshake (initiator)
// → hello (signed passport) → RPC. The link's phases live in link.ts (no socket); this module is
// its WebSocket adapter plus the RPC calls in flight. Reconnects with backoff while the share's
// TTL runs; a call in flight when the link drops is reported as interrupted, never repeated.
import { sharePrologue, type Channel } from "../wire/channel.ts";
import { cryptoFromEnv, signatureCheckFor } from "../platform/crypto.ts";
import { defaultRandom, type NoiseCrypto } from "../noise/crypto.ts";
import { connectionError, OpenScopeError, shareOverError, usageError } from "../errors.ts";
import { sealContext, type Handle } from "../wire/handle.ts";
import { ridHashOf } from "../capability/passport.ts";
import { encodeMessage, type ClientMessage, type DaemonMessage, type OutputChunk, type VerbInfo } from "../wire/rpc.ts";
import { errorFromWire } from "../wire/outcome.ts";
import { backoffDelay, LEG_CLOSE, rendezvousUrl, type Backoff } from "../relay/protocol.ts";
import type { RunResult } from "../exec/process.ts";
import { openSealed } from "../crypto/sealedbox.ts";
import { toBase64url } from "../bytes.ts";
import { Link, linkError, shareEndedError, tamperedError, type Effect, type Event, type Hello } from "./link.ts";
import { diagnoseDial, unreachableError } from "../relay/reach.ts";

export type { Hello };

/** What the daemon reports of a finished verb (its RunResult less the digest), with the params it ran with. */
export type CallResult = Omit<RunResult, "outputDigest"> & { params: Record<string, string>; cancelledBy?: "recipient" | "operator" };
// redactions: counts by rule id of the secrets the daemon replaced (SPEC.md §17.3); {} when none

/** What a caller may hear of a call before its output: it waits for approval, then it started. */
export interface CallEvents {
  onPending?(p: PendingApproval): void;
  onStarted?(): void;
}

/** A call that waits for the operator's approval (SPEC.md §17.2): the request id to quote, and for how long. */
export interface PendingApproval {
  request: string;
  timeoutMs: number;
  message: string;
}

export interface SessionEvents {
  onEnded?(state: "revoked" | "expired", message: string): void;
  onExpiry?(expiresAt: number): void;
  onReconnecting?(attempt: number): void;
  onReconnected?(): void;
}

interface PendingCall {
  /** May return a promise: credit for more output is granted only once it settles (backpressure). */
  onChunk?: (stream: "stdout" | "stderr", data: Uint8Array) => unknown;
  events?: CallEvents;
  resolve(r: CallResult): void;
  reject(e: unknown): void;
  params: Record<string, string>;
  started: boolean;
}

/** How long the daemon may take to accept or refuse a request, and the grace past a verb's own timeout. */
const ANSWER_DEADLINE_MS = 30_000;
const RESULT_GRACE_MS = 10_000;

/** What the handle's secret and our key give: the psk and the static key to handshake with. */
export function sessionKeys(handle: Handle, recipientPrivateKey: Uint8Array | undefined, suite: NoiseCrypto = cryptoFromEnv()): { psk: Uint8Array; clientPrivateKey: Uint8Array } {
  if (handle.secret.kind === "bearer") {
    // a fresh static key per connection: 32 random bytes (its public key is the handshake's business)
    return { psk: handle.secret.psk, clientPrivateKey: defaultRandom(32) };
  }
  if (!recipientPrivateKey) {
    throw usageError("this handle is sealed to a recipient key, and no key was found", [
      "create one with: openscope-reflect-client keygen (and send the public key to the operator), or pass --key FILE",
    ]);
  }
  return { psk: openSealed(recipientPrivateKey, handle.secret.sealed, sealContext(handle), suite), clientPrivateKey: recipientPrivateKey };
}

/** Backoff between reconnect attempts while the share's TTL runs. */
const RECONNECT_BACKOFF: Backoff = { minMs: 200, maxMs: 5_000 };

export class ClientSession {
  hello: Hello | undefined;
  private ws: WebSocket | undefined;
  private channel: Channel | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, PendingCall>();
  private readonly lists = new Map<number, { resolve(v: VerbInfo[]): void; reject(e: unknown): void }>();
  private closed = false;
  private ended: OpenScopeError | undefined;
  private readonly ridText: string;
  /** The suite the channel runs on (OPENSCOPE_CRYPTO; a bad value is a usage error here). */
  private readonly suite: NoiseCrypto = cryptoFromEnv();

  constructor(
    private readonly handle: Handle,
    private readonly keys: { psk: Uint8Array; clientPrivateKey: Uint8Array },
    private readonly events: SessionEvents = {},
  ) {
    this.ridText = toBase64url(handle.rid);
  }

  get clientPublicKey(): Uint8Array {
    return this.suite.publicKey(this.keys.clientPrivateKey);
  }

  /** Connects, handshakes and waits for the hello. Errors carry exit codes 4 (connection) or 5 (share over). */
  async connect(): Promise<Hello> {
    const hello = await this.connectOnce();
    this.hello = hello;
    return hello;
  }

  async list(): Promise<VerbInfo[]> {
    const id = this.nextId++;
    return new Promise<VerbInfo[]>((resolve, reject) => {
      this.lists.set(id, { resolve, reject });
      this.armDeadline(id, ANSWER_DEADLINE_MS);
      this.send({ type: "list", id });
    });
  }

  /** Sends a call; the daemon decides. Returns the result; rejects with denied (3), share over (5), interrupted (4). */
  call(
    verb: string,
    params: Record<string, string>,
    onChunk?: PendingCall["onChunk"],
    events?: CallEvents,
  ): { id: number; done: Promise<CallResult> } {
    const id = this.nextId++;
    const done = new Promise<CallResult>((resolve, reject) => {
      if (this.ended) return reject(this.ended);
      this.pending.set(id, { onChunk, events, resolve, reject, params, started: false });
      this.armDeadline(id, ANSWER_DEADLINE_MS);
      this.send({ type: "call", id, verb, params });
    });
    return { id, done };
  }

  cancel(id: number): void {
    if (this.pending.has(id)) this.send({ type: "cancel", id });
  }

  close(): void {
    this.closed = true;
    this.ws?.close(LEG_CLOSE.bye.code, LEG_CLOSE.bye.reason);
    this.failAll(connectionError("session closed"));
  }

  // ---- internals ----

  private send(msg: ClientMessage): void {
    if (!this.channel || this.ws?.readyState !== WebSocket.OPEN) {
      const err = connectionError("not connected to the daemon", ["the client is reconnecting; try again in a moment"]);
      this.rejectOne(msg.id, err);
      return;
    }
    this.channel.send(encodeMessage(msg)); // the records go out through the link's effects
  }

  /**
   * A frame the relay drops at the very end of a call (its result) leaves nothing for Noise to
   * notice. Every request therefore has a deadline; when it passes, the request fails as
   * interrupted and the connection is renewed with a fresh handshake.
   */
  private readonly deadlines = new Map<number, ReturnType<typeof setTimeout>>();

  private armDeadline(id: number, ms: number): void {
    this.clearDeadline(id);
    this.deadlines.set(
      id,
      setTimeout(() => {
        this.deadlines.delete(id);
        if (!this.pending.has(id) && !this.lists.has(id)) return;
        this.rejectOne(id, connectionError("interrupted: no answer from the daemon in time; the call was not repeated", [
          "the connection may have lost a message; the client reconnects with a fresh handshake",
        ]));
        this.ws?.close(LEG_CLOSE.requestDeadline.code, LEG_CLOSE.requestDeadline.reason);
      }, ms),
    );
  }

  private clearDeadline(id: number): void {
    clearTimeout(this.deadlines.get(id));
    this.deadlines.delete(id);
  }

  private rejectOne(id: number, err: unknown): void {
    this.clearDeadline(id);
    const p = this.pending.get(id);
    if (p) {
      this.pending.delete(id);
      p.reject(err);
    }
    const l = this.lists.get(id);
    if (l) {
      this.lists.delete(id);
      l.reject(err);
    }
  }

  private failAll(err: unknown): void {
    for (const id of [...this.pending.keys(), ...this.lists.keys()]) this.rejectOne(id, err);
  }

  /** One attempt: a fresh Link machine, and a WebSocket that feeds it events and carries out its effects. */
  private connectOnce(): Promise<Hello> {
    const link = new Link({
      daemonPublicKey: this.handle.daemonPublicKey,
      signPublicKey: this.handle.signPublicKey,
      clientPrivateKey: this.keys.clientPrivateKey,
      // A sealed handle is ours alone: its passport must name our key; a bearer handle's, nobody's.
      recipient: this.handle.secret.kind === "sealed" ? { kind: "key", publicKey: toBase64url(this.clientPublicKey) } : { kind: "bearer" },
      ridHash: ridHashOf(this.handle.rid),
      psk: this.keys.psk,
      prologue: sharePrologue(this.ridText, this.handle.relayUrl),
      expiresAt: this.hello?.expiresAt ?? this.handle.expiresAt,
      crypto: this.suite,
      checkSignature: signatureCheckFor(this.suite),
      // records sealed or opened after the event that caused them
      emit: (effects) => carryLater(effects),
    });
    let carryLater: (effects: Effect[]) => void = () => {};
    const ws = new WebSocket(rendezvousUrl(this.handle.relayUrl, this.ridText, "client"), { perMessageDeflate: false } as unknown as string[]);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    return new Promise<Hello>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let upgradeStatus: number | undefined;
      let dialError = "";
      const feed = (event: Event) => carryOut(link.on(event));
      carryLater = (effects) => carryOut(effects);
      const carryOut = (effects: Effect[]) => {
        for (const e of effects) {
          switch (e.kind) {
            case "send":
              ws.send(e.data);
              break;
            case "timer":
              clearTimeout(timer);
              if (e.ms !== null) timer = setTimeout(() => feed({ kind: "timeout" }), e.ms);
              break;
            case "channel":
              this.channel = e.channel;
              break;
            case "settle":
              if (e.outcome.kind === "connected") {
                resolve(e.outcome.hello);
                break;
              }
              // A failed attempt is not a lost link: its close must not start another reconnect loop.
              if (this.ws === ws) this.ws = undefined;
              ws.close();
              if (e.outcome.kind === "refused" && e.outcome.status === undefined) {
                void unreachableLinkError(this.handle.relayUrl, dialError, linkError(e.outcome, this.handle.relayUrl)).then(reject);
              } else reject(linkError(e.outcome, this.handle.relayUrl));
              break;
            case "deliver": {
              const done = this.startConsuming();
              for (const msg of e.messages) this.onMessage(msg);
              done();
              break;
            }
            case "broken":
              ws.close();
              this.failAll(tamperedError());
              break;
            case "lost":
              if (this.ws === ws) this.onLinkLost();
              break;
          }
        }
      };
      carryOut(link.start());
      ws.onmessage = (ev) =>
        feed(typeof ev.data === "string" ? { kind: "text", text: ev.data } : { kind: "binary", frame: new Uint8Array(ev.data as ArrayBuffer), now: Date.now() });
      ws.onclose = () => feed({ kind: "closed", status: upgradeStatus, now: Date.now() });
      ws.onerror = (ev) => {
        // onclose follows; Bun names the refused upgrade's status in the message ("Expected 101 status code: 409").
        dialError = (ev as ErrorEvent).message ?? "";
        const m = /status code:? (\d{3})/.exec((ev as ErrorEvent).message ?? "");
        if (m) upgradeStatus = Number(m[1]);
      };
    });
  }

  /**
   * Counts deliveries still being consumed on the current channel; when none is left, what was
   * delivered is released and credit flows again. The returned function marks one as done.
   */
  private consuming = 0;
  private startConsuming(): () => void {
    const channel = this.channel;
    this.consuming++;
    let once = false;
    return () => {
      if (once || channel !== this.channel || !channel) return;
      once = true;
      if (--this.consuming > 0) return;
      channel.release(); // a grant, if due, goes out through the link's effects
    };
  }

  /** The daemon's messages on an open (or opening) link; the hello is the Link's own. */
  private onMessage(msg: DaemonMessage | OutputChunk): void {
    switch (msg.type) {
      case "hello":
        return;
      case "ended": {
        const err = shareEndedError(msg.state, msg.message);
        this.ended = err;
        this.failAll(err);
        this.events.onEnded?.(msg.state, msg.message);
        this.closed = true;
        this.ws?.close();
        return;
      }
      case "expiry":
        if (this.hello) this.hello.expiresAt = msg.expiresAt;
        this.events.onExpiry?.(msg.expiresAt);
        return;
      case "verbs": {
        const l = this.lists.get(msg.id);
        if (l) {
          this.lists.delete(msg.id);
          this.clearDeadline(msg.id);
          l.resolve(msg.verbs);
        }
        return;
      }
      case "pending": {
        const p = this.pending.get(msg.id);
        if (p) {
          // Waiting for a person: the answer deadline is the request's own timeout, plus a grace.
          this.armDeadline(msg.id, msg.timeoutMs + RESULT_GRACE_MS);
          p.events?.onPending?.({ request: msg.request, timeoutMs: msg.timeoutMs, message: msg.message });
        }
        return;
      }
      case "started": {
        const p = this.pending.get(msg.id);
        if (p) {
          p.params = msg.params;
          p.started = true;
          p.events?.onStarted?.();
          this.armDeadline(msg.id, (msg.timeoutMs ?? 30 * 60_000) + RESULT_GRACE_MS);
        }
        return;
      }
      case "chunk": {
        const taken = this.pending.get(msg.id)?.onChunk?.(msg.stream, msg.data);
        if (taken instanceof Promise) {
          const done = this.startConsuming();
          taken.then(done, done);
        }
        return;
      }
      case "result": {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        this.clearDeadline(msg.id);
        const { type: _t, id: _i, redactions, ...rest } = msg;
        p.resolve({ ...rest, redactions: redactions ?? {}, params: p.params });
        return;
      }
      case "error": {
        const err = errorFromWire(msg.code, msg.message);
        if (msg.id === null) {
          // Not tied to a call: whatever of ours the daemon could not read is among the requests
          // it has not started; fail those rather than leave them waiting.
          for (const [id, p] of this.pending) if (!p.started) this.rejectOne(id, err);
          for (const id of [...this.lists.keys()]) this.rejectOne(id, err);
          return;
        }
        this.rejectOne(msg.id, err);
        return;
      }
    }
  }

  /** The relay link dropped: interrupt calls in flight, then reconnect while the TTL runs. */
  private onLinkLost(): void {
    this.channel = undefined;
    this.consuming = 0;
    // On peer_gone our leg is still open and would sit in the share's one client slot, paired
    // with the restarted daemon but silent, until its handshake timeout: free it first.
    const stale = this.ws;
    this.ws = undefined;
    stale?.close(LEG_CLOSE.reconnecting.code, LEG_CLOSE.reconnecting.reason);
    this.failAll(connectionError("interrupted: the connection to the daemon dropped while the call ran; it was not repeated"));
    if (this.closed || this.ended) return;
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    for (let attempt = 1; !this.closed && !this.ended; attempt++) {
      if (Date.now() >= (this.hello?.expiresAt ?? this.handle.expiresAt)) {
        this.ended = shareOverError("share expired");
        this.events.onEnded?.("expired", "expired");
        return;
      }
      this.events.onReconnecting?.(attempt);
      await Bun.sleep(backoffDelay(attempt - 1, RECONNECT_BACKOFF, Math.random));
      if (this.closed || this.ended) return; // closed during the backoff: do not take the rid again
      try {
        const hello = await this.connectOnce();
        this.hello = hello;
        this.events.onReconnected?.();
        return;
      } catch (e) {
        if (e instanceof OpenScopeError && e.kind === "shareOver") {
          // An "ended" message already told the caller (revoked or expired); else the share's
          // expiry passed while we were away: tell it now, a prompt waiting on input must stop too.
          if (!this.ended) {
            this.ended = e;
            this.failAll(e);
            this.events.onEnded?.("expired", "expired");
          }
          return;
        }
      }
    }
  }
}

/**
 * A leg that failed before the relay answered at all: the cause named (connection refused, DNS,
 * TLS and which, timeout) when a probe finds one; else the link's own words (`fallback`).
 */
async function unreachableLinkError(relayUrl: string, dialError: string, fallback: OpenScopeError): Promise<OpenScopeError> {
  const u = await diagnoseDial(relayUrl, dialError, { timeoutMs: 2_000 });
  return u.cause === "status" ? fallback : unreachableError(u, relayUrl, "client");
}
