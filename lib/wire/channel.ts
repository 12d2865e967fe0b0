// The product's end-to-end session (SPEC.md §11): a Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s
// handshake bound to a prologue, then typed transport records with split/reassembly and
// credit-based flow control. Sans-IO: callers move the returned byte arrays, one WebSocket
// binary message per Noise message. Every handshake or record failure is one opaque error.
// Records may be sealed and opened asynchronously (the suite's bulk cipher, several in flight):
// the nonce is taken when a record is queued, and results leave strictly in that order.
import { OpenScopeError } from "../errors.ts";
import type { CipherState } from "../noise/cipher-state.ts";
import { MAX_MESSAGE_LEN, TAGLEN, type NoiseCrypto, type Random } from "../noise/crypto.ts";
import { concat } from "../bytes.ts";
import { HandshakeState } from "../noise/handshake-state.ts";

export const PROTOCOL_NAME = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
/** The channel protocol version, bound into the prologue (SPEC.md §11.1). */
export const CHANNEL_VERSION = 1;
const PROLOGUE_LABEL = new TextEncoder().encode(`openscope channel v${CHANNEL_VERSION}`);

/** Record types (SPEC.md §11.3): the first plaintext byte of every transport message. */
export const RecordType = {
  /** A fragment of an application message; more fragments follow. */
  dataMore: 0x01,
  /** The last (or only) fragment of an application message. */
  dataEnd: 0x02,
  /** u32 big-endian: more bytes the sender of this record will accept. */
  credit: 0x03,
} as const;

/** Spec constants (SPEC.md §11.4). */
export const INITIAL_WINDOW = 1 << 20;
export const RECORD_OVERHEAD = 1 + TAGLEN;
export const MAX_RECORD_DATA = MAX_MESSAGE_LEN - RECORD_OVERHEAD;
/** Wire length of a credit record: type byte, u32, tag. Any longer record must be data. */
const CREDIT_WIRE_LEN = 5 + TAGLEN;
/** Implementation limits. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 << 20;
const MIN_FRAGMENT = 1024;
const MAX_CREDIT = 2 ** 32;

const EMPTY = new Uint8Array(0);

export interface ChannelOptions {
  /** Receive window, and the peer's assumed window (both sides MUST agree; SPEC.md fixes 1 MiB). */
  window?: number;
  /** Largest reassembled application message accepted. */
  maxMessageBytes?: number;
  /** Largest data per record (tests use small values to exercise splitting). */
  maxRecordData?: number;
  /** Nonce limit of both CipherStates (tests only; default the CipherState's own). */
  nonceLimit?: number;
  /**
   * Grant credit only for data the application has released (`release()`), not as soon as it is
   * decrypted: a consumer that cannot keep up (a stalled stdout pipe) then stops the sender
   * instead of piling delivered data up in memory.
   */
  manualRelease?: boolean;
  /** The primitives (default: the noble reference; lib/platform/crypto.ts has the fast suite). */
  crypto?: NoiseCrypto;
}

function handshakeFailed(cause?: unknown): OpenScopeError {
  return new OpenScopeError("connection", "channel: handshake failed", {
    hints: ["the handle may be for another daemon or an ended share; ask the operator for a fresh handle"],
    cause,
  });
}

function recordRejected(): OpenScopeError {
  return new OpenScopeError("connection", "channel: record rejected");
}

/** Binds protocol version, rendezvous id and relay host into the handshake (SPEC.md §11.1). */
export function buildPrologue(rid: string, relayHost: string): Uint8Array {
  const enc = new TextEncoder();
  const r = enc.encode(rid);
  const h = enc.encode(relayHost.toLowerCase());
  if (r.length > 0xffff || h.length > 0xffff) throw new OpenScopeError("usage", "channel: rid or relay host too long");
  const len = (n: number) => Uint8Array.of(n >>> 8, n & 0xff);
  return concat(PROLOGUE_LABEL, Uint8Array.of(0), len(r.length), r, len(h.length), h);
}

/**
 * The relay host as the prologue binds it (SPEC.md §11.1): the authority of the relay URL, lower
 * case, default port dropped. The daemon (share side) and the client MUST compute it byte for
 * byte alike from the same URL, or every handshake fails; this is the one place that does.
 */
export function prologueRelayHost(relayUrl: string): string {
  return new URL(relayUrl.replace(/^ws/, "http")).host;
}

/** The prologue of one share's sessions: its rendezvous id and its relay URL. */
export function sharePrologue(rid: string, relayUrl: string): Uint8Array {
  return buildPrologue(rid, prologueRelayHost(relayUrl));
}

export function startInitiator(opts: {
  daemonPublicKey: Uint8Array;
  clientPrivateKey: Uint8Array;
  psk: Uint8Array;
  prologue: Uint8Array;
  random?: (n: number) => Uint8Array;
  channel?: ChannelOptions;
}): { message1: Uint8Array; finish(message2: Uint8Array): Channel } {
  let hs: HandshakeState;
  let message1: Uint8Array;
  try {
    hs = new HandshakeState({
      protocolName: PROTOCOL_NAME,
      initiator: true,
      prologue: opts.prologue,
      s: opts.clientPrivateKey,
      rs: opts.daemonPublicKey,
      psks: [opts.psk],
      random: opts.random,
      crypto: opts.channel?.crypto,
    });
    message1 = hs.writeMessage(EMPTY);
  } catch (e) {
    throw handshakeFailed(e);
  }
  let used = false;
  return {
    message1,
    finish(message2: Uint8Array): Channel {
      if (used) throw handshakeFailed();
      used = true;
      try {
        const payload = hs.readMessage(message2);
        if (payload.length !== 0) throw new Error("non-empty handshake payload");
        const [i2r, r2i] = hs.split(opts.channel?.nonceLimit);
        return new Channel(i2r, r2i, hs.handshakeHash, opts.channel);
      } catch (e) {
        throw handshakeFailed(e);
      }
    },
  };
}

export function acceptInitiator(opts: {
  daemonPrivateKey: Uint8Array;
  prologue: Uint8Array;
  message1: Uint8Array;
  random?: (n: number) => Uint8Array;
  channel?: ChannelOptions;
}): { clientPublicKey: Uint8Array; respond(psk: Uint8Array): { message2: Uint8Array; channel: Channel } } {
  const psks: Uint8Array[] = [];
  let hs: HandshakeState;
  let clientPublicKey: Uint8Array;
  try {
    // The psk token comes at the end of message 2: the daemon picks the psk after it has seen
    // message 1 (and the client's static key), so `psks` is filled in by respond().
    hs = new HandshakeState({
      protocolName: PROTOCOL_NAME,
      initiator: false,
      prologue: opts.prologue,
      s: opts.daemonPrivateKey,
      psks,
      random: opts.random,
      crypto: opts.channel?.crypto,
    });
    const payload = hs.readMessage(opts.message1);
    if (payload.length !== 0) throw new Error("non-empty handshake payload");
    clientPublicKey = hs.remoteStatic!;
  } catch (e) {
    throw handshakeFailed(e);
  }
  let used = false;
  return {
    clientPublicKey,
    respond(psk: Uint8Array) {
      if (used) throw handshakeFailed();
      used = true;
      try {
        if (psk.length !== 32) throw new Error("psk must be 32 bytes");
        psks.push(psk);
        const message2 = hs.writeMessage(EMPTY);
        const [i2r, r2i] = hs.split(opts.channel?.nonceLimit);
        return { message2, channel: new Channel(r2i, i2r, hs.handshakeHash, opts.channel) };
      } catch (e) {
        throw handshakeFailed(e);
      }
    },
  };
}

/** Where a channel in sink mode puts what it produces; every call comes in wire order. */
export interface ChannelSink {
  /** A wire message to send now. */
  send(wire: Uint8Array): void;
  /** A complete application payload from the peer. */
  deliver(payload: Uint8Array): void;
  /** A record from the peer authenticated (called before its payload, if any, is delivered). */
  accepted?(): void;
  /** The channel is dead (a record rejected, the record limit reached). Called once; nothing is sent or delivered after it. */
  fail(error: OpenScopeError): void;
}

interface Pending {
  data: Uint8Array;
  off: number;
}

/** A record on its way out: `wire` is there once sealed. */
interface OutSlot {
  wire: Uint8Array | undefined;
  /** Plaintext bytes it carries (counted in queuedBytes until sent). */
  bytes: number;
}

/** A record on its way in: `record` once opened, `bad` if the tag did not verify. */
interface InSlot {
  record: Uint8Array | undefined;
  bad: boolean;
  wireLength: number;
  /** The allowance was already taken on arrival (a record longer than a credit record is data). */
  debited: boolean;
}

export class Channel {
  /** The Noise handshake hash: identical on both ends, usable as a channel binding. */
  readonly handshakeHash: Uint8Array;
  private readonly window: number;
  private readonly maxMessageBytes: number;
  private readonly maxRecordData: number;
  /** Bytes we may still send (granted by the peer). */
  private sendCredit: number;
  /** Bytes the peer may still send us. */
  private recvAllowance: number;
  /** Bytes received (and released, with manualRelease) since our last grant. */
  private ungranted = 0;
  /** With manualRelease: bytes delivered that the application has not released yet. */
  private unreleased = 0;
  /** With manualRelease: wire bytes of the incomplete message counted in `unreleased`. */
  private heldFragments = 0;
  private readonly manualRelease: boolean;
  private readonly queue: Pending[] = [];
  private queued = 0;
  private fragments: Uint8Array[] = [];
  private fragmentBytes = 0;
  private dead = false;
  /** Sealed or sealing records not sent yet, in nonce order, and the plaintext bytes they carry. */
  private outSlots: OutSlot[] = [];
  private unsent = 0;
  /** Received records not processed yet, in nonce order. */
  private inSlots: InSlot[] = [];
  private sink: ChannelSink | undefined;
  private readonly asyncCapable: boolean;

  constructor(
    private readonly sender: CipherState,
    private readonly receiver: CipherState,
    handshakeHash: Uint8Array,
    opts: ChannelOptions = {},
  ) {
    this.handshakeHash = handshakeHash;
    this.window = opts.window ?? INITIAL_WINDOW;
    this.maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.maxRecordData = Math.min(opts.maxRecordData ?? MAX_RECORD_DATA, MAX_RECORD_DATA);
    this.manualRelease = opts.manualRelease ?? false;
    this.asyncCapable = sender.suite.bulk !== undefined || receiver.suite.bulk !== undefined;
    // A window below this could stall: the sender waits for MIN_FRAGMENT of credit that the
    // receiver only grants after half a window.
    if (this.window < 4 * (MIN_FRAGMENT + RECORD_OVERHEAD) || this.window > MAX_CREDIT / 2 || this.maxRecordData < 1)
      throw new Error("channel: invalid window or record size");
    this.sendCredit = this.window;
    this.recvAllowance = this.window;
  }

  /**
   * Sink mode: from now on `send`, `take` and `release` put their results into `sink`, in wire
   * order, possibly later (a bulk cipher is asynchronous). Required with an asynchronous suite.
   */
  attach(sink: ChannelSink): void {
    if (this.sink) throw new Error("channel: already attached");
    this.sink = sink;
  }

  /** Sink mode: queue one application message (any length; split into records). */
  send(payload: Uint8Array): void {
    if (this.dead) return;
    const item = { data: payload, off: 0 };
    this.queue.push(item);
    this.queued += payload.length;
    this.flush();
    // Whatever waits for credit is copied, so the caller may reuse its buffer at once.
    if (this.queue.at(-1) === item) item.data = payload.slice();
  }

  /**
   * Sink mode: one wire message from the peer. Payloads, credit grants and data released by new
   * credit go to the sink; any failure (bad tag, replay, reorder, truncation, credit overrun,
   * nonce exhaustion) kills the channel and reaches `sink.fail` as ONE opaque error.
   */
  take(wire: Uint8Array): void {
    if (this.dead) return;
    let opened: Uint8Array | Promise<Uint8Array>;
    let debited = false;
    try {
      if (wire.length < RECORD_OVERHEAD || wire.length > MAX_MESSAGE_LEN) throw new Error("length");
      // Only data records are longer than a credit record: take their allowance on arrival, so
      // records waiting to be opened never exceed the window.
      if (wire.length > CREDIT_WIRE_LEN) {
        if (wire.length > this.recvAllowance) throw new Error("credit exceeded");
        this.recvAllowance -= wire.length;
        debited = true;
      }
      opened = this.receiver.openRecord(EMPTY, wire);
    } catch {
      this.die(recordRejected());
      return;
    }
    if (opened instanceof Promise) {
      const slot: InSlot = { record: undefined, bad: false, wireLength: wire.length, debited };
      this.inSlots.push(slot);
      opened.then(
        (record) => {
          slot.record = record;
          this.drainIn();
        },
        () => {
          slot.bad = true;
          this.drainIn();
        },
      );
      return;
    }
    if (this.inSlots.length > 0) {
      this.inSlots.push({ record: opened, bad: false, wireLength: wire.length, debited });
      this.drainIn();
      return;
    }
    this.process(opened, wire.length, debited);
  }

  /** Queue one application message. Returns the wire messages that may be sent now (synchronous suites only, no sink). */
  write(payload: Uint8Array): Uint8Array[] {
    return this.collect(() => this.send(payload)).out;
  }

  /** Process one wire message from the peer (synchronous suites only, no sink). Returns complete application payloads, and wire messages to send now (credit grants, or queued data released by new credit). Any failure (bad tag, replay, reorder, truncation, nonce exhaustion) throws ONE opaque OpenScopeError("connection", "channel: record rejected") and the channel is dead after it. */
  receive(wire: Uint8Array): { payloads: Uint8Array[]; out: Uint8Array[] } {
    if (this.dead) throw recordRejected();
    return this.collect(() => this.take(wire));
  }

  /**
   * With manualRelease: the application has consumed everything delivered so far. A credit grant
   * (when half a window is due) goes to the sink, or is returned without one.
   */
  release(): Uint8Array[] {
    if (this.sink) {
      this.grantReleased();
      return [];
    }
    return this.collect(() => this.grantReleased()).out;
  }

  /** Bytes queued locally and not sent yet: waiting for credit, or being sealed (a producer pauses when this grows past a threshold). */
  get queuedBytes(): number {
    return this.queued + this.unsent;
  }

  /** Bytes this side may still send before it needs a grant from the peer. */
  get credit(): number {
    return this.sendCredit;
  }

  get isDead(): boolean {
    return this.dead;
  }

  /** Runs `fn` with a collecting sink: the synchronous API on top of sink mode. */
  private collect(fn: () => void): { payloads: Uint8Array[]; out: Uint8Array[] } {
    if (this.sink) throw new Error("channel: attached to a sink; use send/take");
    if (this.asyncCapable) throw new Error("channel: an asynchronous suite needs a sink (attach)");
    const payloads: Uint8Array[] = [];
    const out: Uint8Array[] = [];
    let failure: OpenScopeError | undefined;
    this.sink = { send: (w) => out.push(w), deliver: (p) => payloads.push(p), fail: (e) => (failure = e) };
    try {
      if (this.dead) throw recordRejected();
      fn();
    } finally {
      this.sink = undefined;
    }
    if (failure) throw failure;
    return { payloads, out };
  }

  private grantReleased(): void {
    if (this.dead || this.unreleased === 0) return;
    this.ungranted += this.unreleased;
    this.unreleased = 0;
    try {
      this.grantIfDue();
    } catch {
      this.die(recordRejected());
    }
  }

  /** Processes in-order records whose opening finished, stopping at the first still pending. */
  private drainIn(): void {
    while (!this.dead && this.inSlots.length > 0) {
      const slot = this.inSlots[0]!;
      if (slot.bad) {
        this.die(recordRejected());
        return;
      }
      if (!slot.record) return;
      this.inSlots.shift();
      this.process(slot.record, slot.wireLength, slot.debited);
    }
  }

  /** One opened record, in order. */
  private process(record: Uint8Array, wireLength: number, debited: boolean): void {
    let payload: Uint8Array | undefined;
    try {
      const type = record[0];
      if (type === RecordType.dataMore || type === RecordType.dataEnd) {
        if (!debited) {
          if (wireLength > this.recvAllowance) throw new Error("credit exceeded");
          this.recvAllowance -= wireLength;
        }
        if (!this.manualRelease) this.ungranted += wireLength;
        else {
          this.unreleased += wireLength;
          this.heldFragments += wireLength;
          // A message bigger than half the window could never complete if its fragments waited for
          // the application (which only releases what it was given): past half a window they are
          // granted as they are buffered (bounded by maxMessageBytes).
          if (type === RecordType.dataEnd) this.heldFragments = 0;
          else if (this.heldFragments >= this.window / 2) {
            this.unreleased -= this.heldFragments;
            this.ungranted += this.heldFragments;
            this.heldFragments = 0;
          }
        }
        const data = record.subarray(1);
        this.fragmentBytes += data.length;
        if (this.fragmentBytes > this.maxMessageBytes) throw new Error("message too large");
        this.fragments.push(data);
        if (type === RecordType.dataEnd) {
          payload = this.fragments.length === 1 ? this.fragments[0]! : concat(...this.fragments);
          this.fragments = [];
          this.fragmentBytes = 0;
        }
      } else if (type === RecordType.credit) {
        if (record.length !== 5 || debited) throw new Error("credit length");
        const grant = new DataView(record.buffer, record.byteOffset + 1, 4).getUint32(0);
        if (grant === 0 || this.sendCredit + grant > MAX_CREDIT) throw new Error("bad grant");
        this.sendCredit += grant;
      } else {
        throw new Error("unknown record type");
      }
      this.grantIfDue();
    } catch {
      this.die(recordRejected());
      return;
    }
    this.flush();
    if (this.dead) return;
    this.sink!.accepted?.();
    if (payload && !this.dead) this.sink!.deliver(payload);
  }

  /** Re-grant once half a window has been taken in (as SSH channel windows do). */
  private grantIfDue(): void {
    if (this.ungranted < this.window / 2) return;
    const grant = new Uint8Array(5);
    grant[0] = RecordType.credit;
    new DataView(grant.buffer).setUint32(1, this.ungranted);
    const sealed = this.sender.encryptWithAd(EMPTY, grant);
    // The allowance moves before the grant leaves: a sink may hand it to the peer at once, and the
    // peer's next records may come back into take() before emit returns.
    this.recvAllowance += this.ungranted;
    this.ungranted = 0;
    this.emit(sealed, 0);
  }

  /** Sends queued data as far as credit allows; a bulk cipher seals several records at once. */
  private flush(): void {
    while (this.queue.length > 0 && !this.dead) {
      const item = this.queue[0]!;
      const remaining = item.data.length - item.off;
      const room = this.sendCredit - RECORD_OVERHEAD;
      if (room < 0) break;
      const n = Math.min(remaining, this.maxRecordData, room);
      // Do not dribble out tiny fragments while waiting for credit.
      if (n < remaining && n < Math.min(MIN_FRAGMENT, this.maxRecordData)) break;
      const last = item.off + n === item.data.length;
      const record = new Uint8Array(1 + n);
      record[0] = last ? RecordType.dataEnd : RecordType.dataMore;
      record.set(item.data.subarray(item.off, item.off + n), 1);
      let sealed: Uint8Array | Promise<Uint8Array>;
      try {
        sealed = this.sender.sealRecord(EMPTY, record);
      } catch (e) {
        this.die(
          new OpenScopeError("connection", "channel: session reached its record limit", {
            hints: ["reconnect: every connection runs a fresh handshake"],
            cause: e,
          }),
        );
        return;
      }
      this.sendCredit -= record.length + TAGLEN;
      item.off += n;
      this.queued -= n;
      if (last) this.queue.shift();
      this.emit(sealed, n);
    }
  }

  /** Sends a sealed record now, or keeps its place in line until it and those before it are sealed. */
  private emit(sealed: Uint8Array | Promise<Uint8Array>, bytes: number): void {
    if (!(sealed instanceof Promise) && this.outSlots.length === 0) {
      this.sink!.send(sealed);
      return;
    }
    const slot: OutSlot = { wire: undefined, bytes };
    this.outSlots.push(slot);
    this.unsent += bytes;
    if (!(sealed instanceof Promise)) {
      slot.wire = sealed;
      return;
    }
    sealed.then(
      (wire) => {
        slot.wire = wire;
        this.drainOut();
      },
      (e) => this.die(new OpenScopeError("connection", "channel: sealing a record failed", { cause: e })),
    );
  }

  private drainOut(): void {
    while (!this.dead && this.outSlots.length > 0 && this.outSlots[0]!.wire) {
      const slot = this.outSlots.shift()!;
      this.unsent -= slot.bytes;
      this.sink!.send(slot.wire!);
    }
  }

  private die(error: OpenScopeError): void {
    if (this.dead) return;
    this.dead = true;
    this.queue.length = 0;
    this.queued = 0;
    this.fragments = [];
    this.outSlots = [];
    this.unsent = 0;
    this.inSlots = [];
    this.sink?.fail(error);
  }
}
