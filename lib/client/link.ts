// One link of the recipient to a share, as a machine with no socket (like relay/state.ts): the
// phases pairing → handshaking → awaiting hello → open, fed the relay's events (text, binary,
// close, the phase timer), answering with effects for the WebSocket adapter (send, arm the timer,
// hand over the channel or the daemon's messages) and ending in one named outcome. The clock is
// passed in with each event; the adapter in session.ts only moves bytes and timers. With an
// asynchronous crypto suite the channel's output can come after an event was handled: those
// effects go to `emit` (with a synchronous suite everything is returned from `on`).
import { verifyPassport, type Passport, type SignatureCheck } from "../capability/passport.ts";
import { fingerprint } from "../crypto/fingerprint.ts";
import { decodeBase64url, equalBytes } from "../bytes.ts";
import { connectionError, shareOverError, type OpenScopeError } from "../errors.ts";
import { parseRelaySignal, STATUS } from "../relay/protocol.ts";
import { startInitiator, type Channel, type ChannelSink } from "../wire/channel.ts";
import type { NoiseCrypto } from "../noise/crypto.ts";
import { helloRefusedError } from "../wire/outcome.ts";
import { DAEMON_NAME, decodeDaemonMessage, type DaemonMessage, type OutputChunk } from "../wire/rpc.ts";

export interface Hello {
  passport: Passport;
  fingerprint: string;
  daemonName: string;
  expiresAt: number;
  /** daemon clock minus ours, so countdowns use the daemon's view of expiry. */
  clockSkewMs: number;
}

/** How long the relay may take to pair us, and the daemon to answer the handshake with its hello. */
export const PAIR_TIMEOUT_MS = 15_000;
export const HANDSHAKE_TIMEOUT_MS = 10_000;

export type Phase =
  | "pairing" //         the leg is dialing or open; waiting for the relay's paired signal
  | "handshaking" //     paired: Noise message 1 sent, waiting for message 2
  | "awaiting_hello" //  the channel is up; waiting for the daemon's hello
  | "open" //            connected: the daemon's messages go to the session
  | "broken" //          open, then a record failed to decrypt: waiting for the socket to close
  | "lost" //            open, then the peer or the socket went: the session reconnects
  | "failed"; //         the attempt ended without a hello (its outcome says why)

/** How an attempt to connect ends. */
export type Outcome =
  | { kind: "connected"; hello: Hello }
  | { kind: "no_daemon" } //                                 not paired within PAIR_TIMEOUT_MS
  | { kind: "handshake_timeout" } //                         paired, no hello within HANDSHAKE_TIMEOUT_MS
  | { kind: "peer_left" } //                                 the daemon's leg left before the hello
  | { kind: "handshake_failed" } //                          Noise message 2 did not verify
  | { kind: "tampered" } //                                  a record failed before the hello
  | { kind: "hello_refused"; detail: string } //             the hello does not verify or names another key
  | { kind: "ended"; state: "revoked" | "expired"; message: string } // the daemon says the share is over
  | { kind: "expired" } //                                   the socket closed after the share's expiry
  | { kind: "refused"; status: number | undefined }; //      the relay refused the upgrade (or was unreachable)

export type Event =
  | { kind: "text"; text: string }
  | { kind: "binary"; frame: Uint8Array; now: number }
  | { kind: "timeout" }
  | { kind: "closed"; status: number | undefined; now: number };

export type Effect =
  | { kind: "send"; data: Uint8Array } //                             a binary message to the relay
  | { kind: "timer"; ms: number | null } //                           (re)arm the phase timer, or clear it
  | { kind: "channel"; channel: Channel } //                          the handshake is done
  | { kind: "settle"; outcome: Outcome } //                           the attempt ended: connected or failed (close the socket)
  | { kind: "deliver"; messages: (DaemonMessage | OutputChunk)[] } // one frame's messages for the session
  | { kind: "broken" } //                                             the open channel failed: close, fail the calls
  | { kind: "lost" }; //                                              the open link dropped: reconnect

export interface LinkOptions {
  daemonPublicKey: Uint8Array;
  /** The handle's passport-signing key: the only key a passport is verified with (SPEC.md §8.2). */
  signPublicKey: Uint8Array;
  /** Whom the passport must name: our own key for a sealed handle, nobody for a bearer one. */
  recipient: Passport["recipient"];
  /** The handle's rendezvous id, hashed as the passport binds it (SPEC.md §5.1). */
  ridHash: string;
  clientPrivateKey: Uint8Array;
  psk: Uint8Array;
  prologue: Uint8Array;
  /** The share's expiry as last known (the handle's, or the daemon's latest word). */
  expiresAt: number;
  random?: (n: number) => Uint8Array;
  /** The channel's primitives (default: the noble reference). */
  crypto?: NoiseCrypto;
  /** The passport signature verifier (default: noble's). */
  checkSignature?: SignatureCheck;
  /** Effects the channel produces outside `on` (an asynchronous suite's records). */
  emit?: (effects: Effect[]) => void;
}

export class Link {
  phase: Phase = "pairing";
  private initiator: ReturnType<typeof startInitiator> | undefined;
  private channel: Channel | undefined;
  private expiresAt: number;
  private readonly daemonFingerprint: string;
  /** While `on` runs, the channel's effects are collected here and returned with the rest. */
  private collecting: Effect[] | undefined;

  constructor(private readonly opts: LinkOptions) {
    this.expiresAt = opts.expiresAt;
    this.daemonFingerprint = fingerprint(opts.daemonPublicKey, opts.signPublicKey);
  }

  /** The socket is dialing: arm the pairing timer. */
  start(): Effect[] {
    return [{ kind: "timer", ms: PAIR_TIMEOUT_MS }];
  }

  on(event: Event): Effect[] {
    switch (event.kind) {
      case "text":
        return this.onText(event.text);
      case "binary": {
        const effects: Effect[] = [];
        this.collecting = effects;
        try {
          this.onBinary(event.frame, event.now);
        } finally {
          this.collecting = undefined;
        }
        return effects;
      }
      case "timeout":
        if (this.phase === "pairing") return this.fail({ kind: "no_daemon" });
        if (this.phase === "handshaking" || this.phase === "awaiting_hello") return this.fail({ kind: "handshake_timeout" });
        return [];
      case "closed":
        return this.onClosed(event.status, event.now);
    }
  }

  private get connecting(): boolean {
    return this.phase === "pairing" || this.phase === "handshaking" || this.phase === "awaiting_hello";
  }

  private fail(outcome: Exclude<Outcome, { kind: "connected" }>): Effect[] {
    this.phase = "failed";
    return [{ kind: "timer", ms: null }, { kind: "settle", outcome }];
  }

  private onText(text: string): Effect[] {
    const signal = parseRelaySignal(text);
    if (signal === "paired" && this.phase === "pairing") {
      this.phase = "handshaking";
      this.initiator = startInitiator({
        daemonPublicKey: this.opts.daemonPublicKey,
        clientPrivateKey: this.opts.clientPrivateKey,
        psk: this.opts.psk,
        prologue: this.opts.prologue,
        ...(this.opts.random ? { random: this.opts.random } : {}),
        // Credit follows what our consumer has taken, not what arrived (a stalled stdout
        // pipe stops the daemon's verb instead of growing this process).
        channel: { manualRelease: true, ...(this.opts.crypto ? { crypto: this.opts.crypto } : {}) },
      });
      return [
        { kind: "timer", ms: HANDSHAKE_TIMEOUT_MS },
        { kind: "send", data: this.initiator.message1 },
      ];
    }
    if (signal === "peer_gone") {
      if (this.connecting) return this.fail({ kind: "peer_left" });
      if (this.phase === "open") return this.lose();
    }
    return [];
  }

  private onClosed(status: number | undefined, now: number): Effect[] {
    // An extended share outlives the handle's expiry: the daemon's latest word counts.
    if (this.connecting) return this.fail(now >= this.expiresAt ? { kind: "expired" } : { kind: "refused", status });
    if (this.phase === "open" || this.phase === "broken") return this.lose();
    return [];
  }

  private lose(): Effect[] {
    this.phase = "lost";
    return [{ kind: "lost" }];
  }

  private onBinary(frame: Uint8Array, now: number): void {
    if (this.phase === "handshaking") {
      try {
        this.channel = this.initiator!.finish(frame);
      } catch {
        this.effect(...this.fail({ kind: "handshake_failed" }));
        return;
      }
      this.channel.attach(this.sink());
      this.phase = "awaiting_hello";
      this.effect({ kind: "channel", channel: this.channel });
      return;
    }
    if (this.phase !== "awaiting_hello" && this.phase !== "open") return;
    this.lastFrameAt = now;
    this.channel!.take(frame);
  }

  /** The time of the last frame, for a hello opened after the event that carried it. */
  private lastFrameAt = 0;

  /** Effects now (inside `on`) or through `emit` (a record opened or sealed later). */
  private effect(...effects: Effect[]): void {
    if (this.collecting) this.collecting.push(...effects);
    else if (effects.length > 0) this.opts.emit?.(effects);
  }

  /** Turns the channel's output into effects, in wire order. */
  private sink(): ChannelSink {
    return {
      send: (data) => this.effect({ kind: "send", data }),
      deliver: (payload) => {
        if (this.phase !== "awaiting_hello" && this.phase !== "open") return;
        let msg: DaemonMessage | OutputChunk;
        try {
          msg = decodeDaemonMessage(payload);
        } catch {
          return; // a daemon speaking a newer dialect: ignore what we cannot parse
        }
        if (msg.type === "hello") {
          if (this.phase === "awaiting_hello") this.effect(...this.onHello(msg, this.lastFrameAt));
          return;
        }
        const effects: Effect[] = [];
        if (msg.type === "expiry") this.expiresAt = msg.expiresAt;
        if (msg.type === "ended" && this.phase === "awaiting_hello") effects.push(...this.fail({ kind: "ended", state: msg.state, message: msg.message }));
        effects.push({ kind: "deliver", messages: [msg] });
        this.effect(...effects);
      },
      fail: () => {
        if (this.phase === "open") {
          this.phase = "broken";
          this.effect({ kind: "broken" });
        } else if (this.phase === "awaiting_hello") {
          this.effect(...this.fail({ kind: "tampered" }), { kind: "broken" });
        }
      },
    };
  }

  /**
   * The daemon's hello (SPEC.md §13): its passport must verify under the handle's signing key
   * (covered by the fingerprint and code the person checked; never a key the peer names now, or
   * whoever holds the Noise key could mint any passport), name the keys the handshake proved,
   * be ours, and the daemon's name must be plain text.
   */
  private onHello(msg: Extract<DaemonMessage, { type: "hello" }>, now: number): Effect[] {
    const named = decodeBase64url(msg.signPublicKey);
    if (!named || !equalBytes(named, this.opts.signPublicKey)) return this.fail({ kind: "hello_refused", detail: "names another passport-signing key than the handle's" });
    let passport: Passport;
    try {
      passport = verifyPassport(msg.passport, this.opts.signPublicKey, this.opts.checkSignature);
    } catch {
      return this.fail({ kind: "hello_refused", detail: "carries a passport that does not verify" });
    }
    if (msg.fingerprint !== this.daemonFingerprint || passport.daemonKeyId !== this.daemonFingerprint) {
      return this.fail({ kind: "hello_refused", detail: "does not match its key" });
    }
    if (passport.ridHash !== this.opts.ridHash) return this.fail({ kind: "hello_refused", detail: "carries a passport for another share" });
    const want = this.opts.recipient;
    const got = passport.recipient;
    if (got.kind !== want.kind || (got.kind === "key" && want.kind === "key" && got.publicKey !== want.publicKey))
      return this.fail({ kind: "hello_refused", detail: "carries a passport for another recipient" });
    // The name is the daemon's own text: refused, never shown, when it could carry escapes or lines.
    if (!DAEMON_NAME.test(msg.daemonName)) return this.fail({ kind: "hello_refused", detail: "names the daemon with more than letters, digits, '.', '_' and '-'" });
    this.phase = "open";
    const hello: Hello = {
      passport,
      fingerprint: msg.fingerprint,
      daemonName: msg.daemonName,
      expiresAt: msg.expiresAt,
      clockSkewMs: msg.now - now,
    };
    return [
      { kind: "timer", ms: null },
      { kind: "settle", outcome: { kind: "connected", hello } },
    ];
  }
}

/** The recipient's words for a share the daemon says is over. */
export function shareEndedError(state: "revoked" | "expired", message: string): OpenScopeError {
  return shareOverError(`share ${message}`, state === "revoked" ? ["ask the operator if you still need access"] : ["ask the operator to extend it or open a new share"]);
}

/** The error a failed attempt reports: exit 4 (connection) or 5 (share over). */
export function linkError(outcome: Exclude<Outcome, { kind: "connected" }>, relayUrl: string): OpenScopeError {
  switch (outcome.kind) {
    case "no_daemon":
      return connectionError("no daemon answered at the relay in time", ["the share's daemon may be offline; ask the operator"]);
    case "handshake_timeout":
      return connectionError("handshake failed: the daemon did not answer");
    case "peer_left":
      return connectionError("the daemon left during the handshake");
    case "handshake_failed":
      return connectionError("handshake failed", ["the handle may belong to another daemon, or the recipient key is not the one the share was sealed to"]);
    case "tampered":
      return tamperedError();
    case "hello_refused":
      return helloRefusedError(outcome.detail);
    case "ended":
      return shareEndedError(outcome.state, outcome.message);
    case "expired":
      return shareOverError("this share has expired", ["ask the operator for a new share"]);
    case "refused":
      return refusedUpgradeError(outcome.status, relayUrl);
  }
}

export function tamperedError(): OpenScopeError {
  return connectionError("the channel to the daemon was tampered with or broken; session ended");
}

/** The relay refused our leg (SPEC.md §12 status codes) or could not be reached at all. */
function refusedUpgradeError(status: number | undefined, relayUrl: string): OpenScopeError {
  switch (status) {
    case STATUS.conflict:
      return connectionError("another client is already connected to this share", [
        "a share takes one recipient session at a time: close the other one (or wait a moment if it just ended)",
      ]);
    case STATUS.tooManyRequests:
      return connectionError("the relay is rate-limiting this address", ["try again in a few seconds"]);
    case STATUS.notFound:
      return connectionError(`no daemon holds this share at the relay (${relayUrl})`, ["the operator's daemon may be offline or the share closed; ask the operator"]);
    default:
      return connectionError(`could not reach the share at the relay (${relayUrl})`, ["the relay may be down, or no daemon holds this share; ask the operator"]);
  }
}
