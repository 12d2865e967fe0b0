// The product's end-to-end session (SPEC.md §11): a Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s
// handshake bound to a prologue, then typed transport records with split/reassembly and
// credit-based flow control. Sans-IO: callers move the returned byte arrays, one WebSocket
// binary message per Noise message. Every handshake or record failure is one opaque error.
import { OpenScopeError } from "../errors.ts";
import type { CipherState } from "../noise/cipher-state.ts";
import { MAX_MESSAGE_LEN, TAGLEN, type Random } from "../noise/crypto.ts";
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

interface Pending {
  data: Uint8Array;
  off: number;
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
  private readonly manualRelease: boolean;
  private readonly queue: Pending[] = [];
  private queued = 0;
  private fragments: Uint8Array[] = [];
  private fragmentBytes = 0;
  private dead = false;

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
    // A window below this could stall: the sender waits for MIN_FRAGMENT of credit that the
    // receiver only grants after half a window.
    if (this.window < 4 * (MIN_FRAGMENT + RECORD_OVERHEAD) || this.window > MAX_CREDIT / 2 || this.maxRecordData < 1)
      throw new Error("channel: invalid window or record size");
    this.sendCredit = this.window;
    this.recvAllowance = this.window;
  }

  /** Queue one application message (any length; split into records ≤ 65,535-byte Noise messages). Returns the wire messages that may be sent now (may be none while out of credit). */
  write(payload: Uint8Array): Uint8Array[] {
    if (this.dead) throw recordRejected();
    const item = { data: payload, off: 0 };
    this.queue.push(item);
    this.queued += payload.length;
    const out = this.flush();
    // Whatever waits for credit is copied, so the caller may reuse its buffer at once.
    if (this.queue.at(-1) === item) item.data = payload.slice();
    return out;
  }

  /** Process one wire message from the peer. Returns complete application payloads, and wire messages to send now (credit grants, or queued data released by new credit). Any failure (bad tag, replay, reorder, truncation, nonce exhaustion) throws ONE opaque OpenScopeError("connection", "channel: record rejected") and the channel is dead after it. */
  receive(wire: Uint8Array): { payloads: Uint8Array[]; out: Uint8Array[] } {
    if (this.dead) throw recordRejected();
    const payloads: Uint8Array[] = [];
    const out: Uint8Array[] = [];
    try {
      if (wire.length < RECORD_OVERHEAD || wire.length > MAX_MESSAGE_LEN) throw new Error("length");
      const record = this.receiver.decryptWithAd(EMPTY, wire);
      const type = record[0];
      if (type === RecordType.dataMore || type === RecordType.dataEnd) {
        if (wire.length > this.recvAllowance) throw new Error("credit exceeded");
        this.recvAllowance -= wire.length;
        if (this.manualRelease) this.unreleased += wire.length;
        else this.ungranted += wire.length;
        const data = record.subarray(1);
        this.fragmentBytes += data.length;
        if (this.fragmentBytes > this.maxMessageBytes) throw new Error("message too large");
        this.fragments.push(data);
        if (type === RecordType.dataEnd) {
          payloads.push(this.fragments.length === 1 ? this.fragments[0]! : concat(...this.fragments));
          this.fragments = [];
          this.fragmentBytes = 0;
        }
      } else if (type === RecordType.credit) {
        if (record.length !== 5) throw new Error("credit length");
        const grant = new DataView(record.buffer, record.byteOffset + 1, 4).getUint32(0);
        if (grant === 0 || this.sendCredit + grant > MAX_CREDIT) throw new Error("bad grant");
        this.sendCredit += grant;
      } else {
        throw new Error("unknown record type");
      }
      this.grantIfDue(out);
      out.push(...this.flush());
    } catch {
      this.kill();
      throw recordRejected();
    }
    return { payloads, out };
  }

  /**
   * With manualRelease: the application has consumed everything delivered so far. Returns the
   * wire messages to send now (a credit grant when half a window is due).
   */
  release(): Uint8Array[] {
    if (this.dead || this.unreleased === 0) return [];
    this.ungranted += this.unreleased;
    this.unreleased = 0;
    const out: Uint8Array[] = [];
    try {
      this.grantIfDue(out);
    } catch {
      this.kill();
      throw recordRejected();
    }
    return out;
  }

  /** Re-grant once half a window has been taken in (as SSH channel windows do). */
  private grantIfDue(out: Uint8Array[]): void {
    if (this.ungranted < this.window / 2) return;
    const grant = new Uint8Array(5);
    grant[0] = RecordType.credit;
    new DataView(grant.buffer).setUint32(1, this.ungranted);
    out.push(this.sender.encryptWithAd(EMPTY, grant));
    this.recvAllowance += this.ungranted;
    this.ungranted = 0;
  }

  /** Bytes queued locally waiting for credit (a producer pauses when this grows past a threshold). */
  get queuedBytes(): number {
    return this.queued;
  }

  /** Bytes this side may still send before it needs a grant from the peer. */
  get credit(): number {
    return this.sendCredit;
  }

  get isDead(): boolean {
    return this.dead;
  }

  private kill(): void {
    this.dead = true;
    this.queue.length = 0;
    this.queued = 0;
    this.fragments = [];
  }

  private flush(): Uint8Array[] {
    const out: Uint8Array[] = [];
    while (this.queue.length > 0) {
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
      let wire: Uint8Array;
      try {
        wire = this.sender.encryptWithAd(EMPTY, record);
      } catch (e) {
        this.kill();
        throw new OpenScopeError("connection", "channel: session reached its record limit", {
          hints: ["reconnect: every connection runs a fresh handshake"],
          cause: e,
        });
      }
      this.sendCredit -= wire.length;
      item.off += n;
      this.queued -= n;
      out.push(wire);
      if (last) this.queue.shift();
    }
    return out;
  }
}
