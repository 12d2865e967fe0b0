// Noise HandshakeState (rev. 34 §5.3): runs a pattern's tokens for one side, with psk support
// (§9). Keys may be fixed (test vectors) or generated from the passed-in randomness. Errors are
// thrown as-is; the channel layer turns every one into a single opaque handshake failure.
import type { CipherState } from "./cipher-state.ts";
import {
  concat,
  defaultRandom,
  DHLEN,
  generateKeyPair,
  keyPairFromPrivate,
  MAX_MESSAGE_LEN,
  noble,
  TAGLEN,
  type KeyPair,
  type NoiseCrypto,
  type Random,
} from "./crypto.ts";
import { parseProtocolName, type Protocol } from "./patterns.ts";
import { SymmetricState } from "./symmetric-state.ts";

export interface HandshakeOptions {
  protocolName: string;
  initiator: boolean;
  prologue: Uint8Array;
  /** Local static private key. */
  s?: Uint8Array;
  /** Local ephemeral private key: fixed only by test vectors. */
  e?: Uint8Array;
  /** Remote static / ephemeral public keys known in advance (pre-messages). */
  rs?: Uint8Array;
  re?: Uint8Array;
  psks?: Uint8Array[];
  random?: Random;
  /** The primitives to run on (default: the noble reference). */
  crypto?: NoiseCrypto;
}

export class HandshakeState {
  readonly protocol: Protocol;
  readonly initiator: boolean;
  private readonly ss: SymmetricState;
  private s?: KeyPair;
  private e?: KeyPair;
  private rsKey?: Uint8Array;
  private reKey?: Uint8Array;
  private readonly psks: Uint8Array[];
  private readonly random: Random;
  private readonly suite: NoiseCrypto;
  private msgIndex = 0;
  private pskIndex = 0;

  constructor(opts: HandshakeOptions) {
    const protocol = parseProtocolName(opts.protocolName);
    if (!protocol) throw new Error(`noise: unsupported protocol ${opts.protocolName}`);
    this.protocol = protocol;
    this.initiator = opts.initiator;
    this.suite = opts.crypto ?? noble;
    this.ss = new SymmetricState(protocol.name, this.suite.hash(protocol.hashName), this.suite);
    this.random = opts.random ?? defaultRandom;
    if (opts.s) this.s = keyPairFromPrivate(opts.s, this.suite);
    if (opts.e) this.e = keyPairFromPrivate(opts.e, this.suite);
    this.rsKey = opts.rs;
    this.reKey = opts.re;
    this.psks = opts.psks ?? [];
    for (const psk of this.psks) if (psk.length !== 32) throw new Error("noise: a psk must be 32 bytes");

    this.ss.mixHash(opts.prologue);
    const p = protocol.pattern;
    // Pre-message keys are hashed initiator's first (§7.1).
    for (const [tokens, ofInitiator] of [
      [p.preInitiator, true],
      [p.preResponder, false],
    ] as const) {
      const mine = ofInitiator === this.initiator;
      for (const t of tokens) {
        const key = t === "s" ? (mine ? this.s?.publicKey : this.rsKey) : mine ? this.e?.publicKey : this.reKey;
        if (!key) throw new Error(`noise: pre-message key ${t} missing`);
        this.ss.mixHash(key);
        if (t === "e" && p.psk) this.ss.mixKey(key);
      }
    }
  }

  get isFinished(): boolean {
    return this.msgIndex >= this.protocol.pattern.messages.length;
  }

  /** True when this side writes the next handshake message. */
  get isMyTurn(): boolean {
    return !this.isFinished && (this.msgIndex % 2 === 0) === this.initiator;
  }

  get handshakeHash(): Uint8Array {
    return this.ss.handshakeHash;
  }

  get remoteStatic(): Uint8Array | undefined {
    return this.rsKey;
  }

  writeMessage(payload: Uint8Array): Uint8Array {
    if (!this.isMyTurn) throw new Error("noise: not this side's turn to write");
    const parts: Uint8Array[] = [];
    for (const t of this.protocol.pattern.messages[this.msgIndex]!) {
      if (t === "e") {
        this.e ??= generateKeyPair(this.random, this.suite);
        parts.push(this.e.publicKey);
        this.ss.mixHash(this.e.publicKey);
        if (this.protocol.pattern.psk) this.ss.mixKey(this.e.publicKey);
      } else if (t === "s") {
        if (!this.s) throw new Error("noise: local static key missing");
        parts.push(this.ss.encryptAndHash(this.s.publicKey));
      } else {
        this.token(t);
      }
    }
    parts.push(this.ss.encryptAndHash(payload));
    this.msgIndex++;
    const message = concat(...parts);
    if (message.length > MAX_MESSAGE_LEN) throw new Error("noise: message too long");
    return message;
  }

  readMessage(message: Uint8Array): Uint8Array {
    if (this.isFinished || this.isMyTurn) throw new Error("noise: not this side's turn to read");
    if (message.length > MAX_MESSAGE_LEN) throw new Error("noise: message too long");
    let off = 0;
    const take = (n: number): Uint8Array => {
      if (off + n > message.length) throw new Error("noise: message too short");
      const out = message.subarray(off, off + n);
      off += n;
      return out;
    };
    for (const t of this.protocol.pattern.messages[this.msgIndex]!) {
      if (t === "e") {
        this.reKey = take(DHLEN).slice();
        this.ss.mixHash(this.reKey);
        if (this.protocol.pattern.psk) this.ss.mixKey(this.reKey);
      } else if (t === "s") {
        this.rsKey = this.ss.decryptAndHash(take(this.ss.hasKey() ? DHLEN + TAGLEN : DHLEN)).slice();
      } else {
        this.token(t);
      }
    }
    const payload = this.ss.decryptAndHash(message.subarray(off));
    this.msgIndex++;
    return payload;
  }

  /** After the last message: [initiator→responder, responder→initiator] CipherStates. */
  split(nonceLimit?: number): [CipherState, CipherState] {
    if (!this.isFinished) throw new Error("noise: handshake not finished");
    return this.ss.split(nonceLimit);
  }

  private token(t: "ee" | "es" | "se" | "ss" | "psk"): void {
    if (t === "psk") {
      const psk = this.psks[this.pskIndex++];
      if (!psk) throw new Error("noise: psk missing");
      this.ss.mixKeyAndHash(psk);
      return;
    }
    // "es": initiator's ephemeral with responder's static; "se" the reverse (§7.1).
    const localKind = t === "ee" ? "e" : t === "ss" ? "s" : (t === "es") === this.initiator ? "e" : "s";
    const remoteKind = t === "ee" ? "e" : t === "ss" ? "s" : (t === "es") === this.initiator ? "s" : "e";
    const local = localKind === "e" ? this.e : this.s;
    const remote = remoteKind === "e" ? this.reKey : this.rsKey;
    if (!local || !remote) throw new Error(`noise: key missing for ${t}`);
    this.ss.mixKey(this.suite.dh(local.privateKey, remote));
  }
}
