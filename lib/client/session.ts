// The recipient's connection to a share: handle → relay client leg → Noise handshake (initiator)
// → hello (signed passport) → RPC. Reconnects with backoff while the share's TTL runs; a call in
// flight when the link drops is reported as interrupted, never silently repeated.
import { sharePrologue, startInitiator, type Channel } from "../wire/channel.ts";
import { connectionError, OpenScopeError, shareOverError, usageError } from "../errors.ts";
import { fingerprint } from "../crypto/fingerprint.ts";
import { type Handle } from "../wire/handle.ts";
import { generateX25519, x25519Public } from "../crypto/keys.ts";
import { verifyPassport, type Passport } from "../capability/passport.ts";
import {
  decodeDaemonMessage,
  encodeMessage,
  type ClientMessage,
  type DaemonMessage,
  type OutputChunk,
  type VerbInfo,
} from "../wire/rpc.ts";
import { backoffDelay, LEG_CLOSE, parseRelaySignal, rendezvousUrl, STATUS, type Backoff } from "../relay/protocol.ts";
import type { RunResult } from "../exec/process.ts";
import { openSealed } from "../crypto/sealedbox.ts";
import { fromBase64url, toBase64url } from "../bytes.ts";

export interface Hello {
  passport: Passport;
  fingerprint: string;
  daemonName: string;
  expiresAt: number;
  /** daemon clock minus ours, so countdowns use the daemon's view of expiry. */
  clockSkewMs: number;
}

/** What the daemon reports of a finished verb (its RunResult less the digest), with the params it ran with. */
export type CallResult = Omit<RunResult, "outputDigest"> & { params: Record<string, string> };

export interface SessionEvents {
  onEnded?(state: "revoked" | "expired", message: string): void;
  onExpiry?(expiresAt: number): void;
  onReconnecting?(attempt: number): void;
  onReconnected?(): void;
}

interface PendingCall {
  /** May return a promise: credit for more output is granted only once it settles (backpressure). */
  onChunk?: (stream: "stdout" | "stderr", data: Uint8Array) => unknown;
  resolve(r: CallResult): void;
  reject(e: unknown): void;
  params: Record<string, string>;
  started: boolean;
}

/** How long the daemon may take to accept or refuse a request, and the grace past a verb's own timeout. */
const ANSWER_DEADLINE_MS = 30_000;
const RESULT_GRACE_MS = 10_000;

/** What the handle's secret and our key give: the psk and the static key to handshake with. */
export function sessionKeys(handle: Handle, recipientPrivateKey: Uint8Array | undefined): { psk: Uint8Array; clientPrivateKey: Uint8Array } {
  if (handle.secret.kind === "bearer") {
    return { psk: handle.secret.psk, clientPrivateKey: generateX25519().privateKey }; // fresh static key per connection
  }
  if (!recipientPrivateKey) {
    throw usageError("this handle is sealed to a recipient key, and no key was found", [
      "create one with: openscope-reflect-client keygen (and send the public key to the operator), or pass --key FILE",
    ]);
  }
  return { psk: openSealed(recipientPrivateKey, handle.secret.sealed), clientPrivateKey: recipientPrivateKey };
}

/** The relay refused our leg (SPEC.md §12 status codes) or could not be reached at all. */
function refusedUpgradeError(status: number | undefined, relayUrl: string): OpenScopeError {
  if (status === STATUS.conflict) {
    return connectionError("another client is already connected to this share", [
      "a share takes one recipient session at a time: close the other one (or wait a moment if it just ended)",
    ]);
  }
  if (status === STATUS.tooManyRequests) return connectionError("the relay is rate-limiting this address", ["try again in a few seconds"]);
  if (status === STATUS.notFound) {
    return connectionError(`no daemon holds this share at the relay (${relayUrl})`, ["the operator's daemon may be offline or the share closed; ask the operator"]);
  }
  return connectionError(`could not reach the share at the relay (${relayUrl})`, [
    "the relay may be down, or no daemon holds this share; ask the operator",
  ]);
}

const PAIR_TIMEOUT_MS = 15_000;
/** Backoff between reconnect attempts while the share's TTL runs. */
const RECONNECT_BACKOFF: Backoff = { minMs: 200, maxMs: 5_000 };
const HANDSHAKE_TIMEOUT_MS = 10_000;

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

  constructor(
    private readonly handle: Handle,
    private readonly keys: { psk: Uint8Array; clientPrivateKey: Uint8Array },
    private readonly events: SessionEvents = {},
  ) {
    this.ridText = toBase64url(handle.rid);
  }

  get daemonFingerprint(): string {
    return fingerprint(this.handle.daemonPublicKey);
  }

  get clientPublicKey(): Uint8Array {
    return x25519Public(this.keys.clientPrivateKey);
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
  call(verb: string, params: Record<string, string>, onChunk?: PendingCall["onChunk"]): { id: number; done: Promise<CallResult> } {
    const id = this.nextId++;
    const done = new Promise<CallResult>((resolve, reject) => {
      if (this.ended) return reject(this.ended);
      this.pending.set(id, { onChunk, resolve, reject, params, started: false });
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
    for (const w of this.channel.write(encodeMessage(msg))) this.ws.send(w);
  }

  /**
   * A frame the relay drops at the very end of a call (its result) leaves nothing for Noise to
   * notice. Every request therefore has a deadline; when it passes, the request fails as
   * interrupted and the connection is renewed with a fresh handshake.
   */
  private readonly deadlines = new Map<number, ReturnType<typeof setTimeout>>();

  private armDeadline(id: number, ms: number): void {
    clearTimeout(this.deadlines.get(id));
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

  private rejectOne(id: number, err: unknown): void {
    clearTimeout(this.deadlines.get(id));
    this.deadlines.delete(id);
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

  private connectOnce(): Promise<Hello> {
    const url = rendezvousUrl(this.handle.relayUrl, this.ridText, "client");
    return new Promise<Hello>((resolve, reject) => {
      let settled = false;
      let paired = false;
      let handshakeDone = false;
      let initiator: ReturnType<typeof startInitiator> | undefined;
      let upgradeStatus: number | undefined;
      const ws = new WebSocket(url, { perMessageDeflate: false } as unknown as string[]);
      ws.binaryType = "arraybuffer";
      this.ws = ws;
      const settle = (err: unknown, hello?: Hello) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          // A failed attempt is not a lost link: its close must not start another reconnect loop.
          if (this.ws === ws) this.ws = undefined;
          ws.close();
          reject(err);
        } else resolve(hello!);
      };
      let timer = setTimeout(
        () => settle(connectionError("no daemon answered at the relay in time", ["the share's daemon may be offline; ask the operator"])),
        PAIR_TIMEOUT_MS,
      );
      ws.onmessage = (ev) => {
        if (typeof ev.data === "string") {
          const type = parseRelaySignal(ev.data);
          if (type === "paired" && !paired) {
            paired = true;
            clearTimeout(timer);
            timer = setTimeout(() => settle(connectionError("handshake failed: the daemon did not answer")), HANDSHAKE_TIMEOUT_MS);
            initiator = startInitiator({
              daemonPublicKey: this.handle.daemonPublicKey,
              clientPrivateKey: this.keys.clientPrivateKey,
              psk: this.keys.psk,
              prologue: sharePrologue(this.ridText, this.handle.relayUrl),
              // Credit follows what our consumer has taken, not what arrived (a stalled stdout
              // pipe stops the daemon's verb instead of growing this process).
              channel: { manualRelease: true },
            });
            ws.send(initiator.message1);
          } else if (type === "peer_gone") {
            if (!settled) settle(connectionError("the daemon left during the handshake"));
            else this.onLinkLost();
          }
          return;
        }
        const frame = new Uint8Array(ev.data as ArrayBuffer);
        if (!handshakeDone) {
          if (!initiator) return;
          try {
            this.channel = initiator.finish(frame);
            handshakeDone = true;
          } catch {
            settle(connectionError("handshake failed", ["the handle may belong to another daemon, or the recipient key is not the one the share was sealed to"]));
          }
          return;
        }
        this.onFrame(frame, settled ? undefined : settle);
      };
      ws.onclose = () => {
        if (!settled) {
          // An extended share outlives the handle's expiry: the daemon's latest word counts.
          if (Date.now() >= (this.hello?.expiresAt ?? this.handle.expiresAt)) {
            settle(shareOverError("this share has expired", ["ask the operator for a new share"]));
          } else {
            settle(refusedUpgradeError(upgradeStatus, this.handle.relayUrl));
          }
          return;
        }
        if (this.ws === ws) this.onLinkLost();
      };
      ws.onerror = (ev) => {
        // onclose follows; Bun names the refused upgrade's status in the message ("Expected 101 status code: 409").
        const m = /status code:? (\d{3})/.exec((ev as ErrorEvent).message ?? "");
        if (m) upgradeStatus = Number(m[1]);
      };
    });
  }

  private onFrame(frame: Uint8Array, onHello: ((err: unknown, hello?: Hello) => void) | undefined): void {
    if (!this.channel) return;
    let result: { payloads: Uint8Array[]; out: Uint8Array[] };
    try {
      result = this.channel.receive(frame);
    } catch {
      const err = connectionError("the channel to the daemon was tampered with or broken; session ended");
      onHello?.(err);
      this.ws?.close();
      this.failAll(err);
      return;
    }
    for (const w of result.out) this.ws?.send(w);
    const done = this.startConsuming();
    for (const p of result.payloads) {
      let msg: DaemonMessage | OutputChunk;
      try {
        msg = decodeDaemonMessage(p);
      } catch {
        continue; // a daemon speaking a newer dialect: ignore what we cannot parse
      }
      this.onMessage(msg, onHello);
    }
    done();
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
      try {
        for (const w of channel.release()) this.ws?.send(w);
      } catch {
        /* a dead channel: the link-lost path reports it */
      }
    };
  }

  private onMessage(msg: DaemonMessage | OutputChunk, onHello: ((err: unknown, hello?: Hello) => void) | undefined): void {
    switch (msg.type) {
      case "hello": {
        if (!onHello) return;
        let passport: Passport;
        try {
          passport = verifyPassport(msg.passport, fromBase64url(msg.signPublicKey));
        } catch (e) {
          onHello(e);
          return;
        }
        if (msg.fingerprint !== this.daemonFingerprint || passport.daemonKeyId !== this.daemonFingerprint) {
          onHello(connectionError("the daemon's hello does not match its key; refusing"));
          return;
        }
        onHello(undefined, {
          passport,
          fingerprint: msg.fingerprint,
          daemonName: msg.daemonName,
          expiresAt: msg.expiresAt,
          clockSkewMs: msg.now - Date.now(),
        });
        return;
      }
      case "ended": {
        const err = shareOverError(`share ${msg.message}`, msg.state === "revoked" ? ["ask the operator if you still need access"] : ["ask the operator to extend it or open a new share"]);
        this.ended = err;
        onHello?.(err);
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
          clearTimeout(this.deadlines.get(msg.id));
          this.deadlines.delete(msg.id);
          l.resolve(msg.verbs);
        }
        return;
      }
      case "started": {
        const p = this.pending.get(msg.id);
        if (p) {
          p.params = msg.params;
          p.started = true;
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
        clearTimeout(this.deadlines.get(msg.id));
        this.deadlines.delete(msg.id);
        const { type: _t, id: _i, ...rest } = msg;
        p.resolve({ ...rest, params: p.params });
        return;
      }
      case "error": {
        const kind = msg.code === "denied" ? "denied" : msg.code === "share_over" ? "shareOver" : msg.code === "malformed" ? "usage" : "connection";
        const err = new OpenScopeError(kind, msg.code === "denied" ? `denied: ${msg.message}` : msg.message);
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
