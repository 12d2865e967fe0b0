// The client's link machine (lib/client/link.ts) without a socket: each row feeds a sequence of
// relay events (signals, the daemon's real Noise answer and messages, timeouts, closes) and
// asserts the phase it ends in and the named outcome of the attempt, as relay/state.test.ts does
// for the relay.
import { describe, expect, test } from "bun:test";
import { ed25519 } from "@noble/curves/ed25519.js";
import { Link, linkError, type Effect, type Outcome, type Phase } from "../../lib/client/link.ts";
import { ridHashOf, signPassport, type Passport } from "../../lib/capability/passport.ts";
import { fingerprint } from "../../lib/crypto/fingerprint.ts";
import { generateX25519 } from "../../lib/crypto/keys.ts";
import { fromBase64url, toBase64url } from "../../lib/bytes.ts";
import { encodeSignal } from "../../lib/relay/protocol.ts";
import { acceptInitiator, sharePrologue, type Channel } from "../../lib/wire/channel.ts";
import { encodeChunk, encodeMessage, RPC_VERSION, type DaemonMessage } from "../../lib/wire/rpc.ts";
import { platform } from "../../lib/platform/crypto.ts";

const NOW = 1_790_000_000_000;
const EXPIRES = NOW + 10 * 60_000;
const daemon = generateX25519();
const client = generateX25519();
const psk = new Uint8Array(32).fill(3);
const RID = "cmlkLXJpZC1yaWQtcmlkLXJp";
const RID_HASH = ridHashOf(fromBase64url(RID));
const prologue = sharePrologue(RID, "ws://relay.test:8080");
const signKey = new Uint8Array(32).fill(7);
const signPublic = ed25519.getPublicKey(signKey);
const FP = fingerprint(daemon.publicKey, signPublic);
/** Someone who holds (or replaced) the daemon's Noise key but not its passport-signing key. */
const foreignSignKey = new Uint8Array(32).fill(8);

function passport(over: Partial<Passport> = {}): Passport {
  return {
    v: 1,
    id: toBase64url(new Uint8Array(16).fill(1)),
    shareId: "0123456789ab",
    ridHash: RID_HASH,
    principal: "you",
    daemonKeyId: FP,
    recipient: { kind: "bearer" },
    verbs: { "echo.word": {} },
    issuedAt: NOW,
    expiresAt: EXPIRES,
    grantId: "g1",
    grantRevision: 1,
    ...over,
  } as Passport;
}

function hello(over: Partial<Extract<DaemonMessage, { type: "hello" }>> = {}, p = passport(), signer = signKey): DaemonMessage {
  return {
    type: "hello",
    version: RPC_VERSION,
    passport: signPassport(p, signer),
    signPublicKey: toBase64url(ed25519.getPublicKey(signKey)),
    fingerprint: FP,
    daemonName: "d1",
    expiresAt: EXPIRES,
    now: NOW + 2_000,
    ...over,
  };
}

/** The link, and a daemon on the far side of a perfect relay. */
class Harness {
  readonly link = new Link({
    daemonPublicKey: daemon.publicKey,
    signPublicKey: signPublic,
    recipient: { kind: "bearer" },
    ridHash: RID_HASH,
    clientPrivateKey: client.privateKey,
    psk,
    prologue,
    expiresAt: EXPIRES,
  });
  readonly effects: Effect[] = [...this.link.start()];
  private daemonChannel: Channel | undefined;

  feed(...effects: Effect[]): void {
    this.effects.push(...effects);
  }
  text(text: string): void {
    this.feed(...this.link.on({ kind: "text", text }));
  }
  binary(frame: Uint8Array, now = NOW): void {
    this.feed(...this.link.on({ kind: "binary", frame, now }));
  }
  /** The daemon reads message 1 (the last thing the link sent) and answers with message 2. */
  answerHandshake(): void {
    const message1 = this.sent().at(-1)!;
    const { message2, channel } = acceptInitiator({ daemonPrivateKey: daemon.privateKey, prologue, message1 }).respond(psk);
    this.daemonChannel = channel;
    this.binary(message2);
  }
  daemonSays(msg: DaemonMessage, now = NOW): void {
    for (const w of this.daemonChannel!.write(encodeMessage(msg))) this.binary(w, now);
  }
  sent(): Uint8Array[] {
    return this.effects.flatMap((e) => (e.kind === "send" ? [e.data] : []));
  }
  outcomes(): Outcome[] {
    return this.effects.flatMap((e) => (e.kind === "settle" ? [e.outcome] : []));
  }
  kinds(): string[] {
    return this.effects.map((e) => e.kind);
  }
}

const timeout = (h: Harness) => h.feed(...h.link.on({ kind: "timeout" }));
const closed = (status: number | undefined, now = NOW) => (h: Harness) => h.feed(...h.link.on({ kind: "closed", status, now }));
const paired = (h: Harness) => h.text(encodeSignal("paired"));
const peerGone = (h: Harness) => h.text(encodeSignal("peer_gone"));
const handshake = (h: Harness) => h.answerHandshake();
const says = (msg: DaemonMessage, now?: number) => (h: Harness) => h.daemonSays(msg, now);
const connected = [paired, handshake, says(hello())];

type Row = [name: string, steps: ((h: Harness) => void)[], phase: Phase, outcome: Outcome["kind"] | null];

const rows: Row[] = [
  ["paired, handshake, a good hello: connected", connected, "open", "connected"],
  ["never paired: no daemon answered", [timeout], "failed", "no_daemon"],
  ["paired, no answer to message 1", [paired, timeout], "failed", "handshake_timeout"],
  ["handshake done, no hello", [paired, handshake, timeout], "failed", "handshake_timeout"],
  ["peer_gone while pairing", [peerGone], "failed", "peer_left"],
  ["peer_gone during the handshake", [paired, peerGone], "failed", "peer_left"],
  ["peer_gone before the hello", [paired, handshake, peerGone], "failed", "peer_left"],
  ["a garbled message 2", [paired, (h) => h.binary(new Uint8Array(48).fill(1))], "failed", "handshake_failed"],
  ["a garbled record before the hello", [paired, handshake, (h) => h.binary(new Uint8Array(40).fill(2))], "failed", "tampered"],
  ["a hello with another fingerprint", [paired, handshake, says(hello({ fingerprint: "SHA256:someone-else" }))], "failed", "hello_refused"],
  ["a hello whose passport names another key", [paired, handshake, says(hello({}, passport({ daemonKeyId: "SHA256:someone-else" })))], "failed", "hello_refused"],
  ["a hello whose passport does not verify", [paired, handshake, says(hello({ signPublicKey: toBase64url(ed25519.getPublicKey(new Uint8Array(32).fill(8))) }))], "failed", "hello_refused"],
  // A forged hello (SPEC.md §13): the peer completed the handshake with the daemon's Noise key but
  // names its own signing key and signs a passport of its choosing with it. Only the handle's key counts.
  [
    "a forged hello: a foreign signing key with a passport it signed itself",
    [paired, handshake, says(hello({ signPublicKey: toBase64url(ed25519.getPublicKey(foreignSignKey)) }, passport(), foreignSignKey))],
    "failed",
    "hello_refused",
  ],
  ["a hello naming the handle's key but with a passport signed by another", [paired, handshake, says(hello({}, passport(), foreignSignKey))], "failed", "hello_refused"],
  ["a hello whose signing key is not base64url", [paired, handshake, says(hello({ signPublicKey: "!!" }))], "failed", "hello_refused"],
  [
    "a hello whose passport is for a recipient key, on a bearer handle",
    [paired, handshake, says(hello({}, passport({ recipient: { kind: "key", publicKey: toBase64url(client.publicKey) } })))],
    "failed",
    "hello_refused",
  ],
  ["a hello whose passport is for another share's rendezvous id", [paired, handshake, says(hello({}, passport({ ridHash: ridHashOf(new Uint8Array(16)) })))], "failed", "hello_refused"],
  ["a daemon name with a terminal escape", [paired, handshake, says(hello({ daemonName: 'prod-db" fingerprint: SHA256:x\x1b[8m' }))], "failed", "hello_refused"],
  ["a daemon name with a newline", [paired, handshake, says(hello({ daemonName: "vm\nSHA256:AAAA other" }))], "failed", "hello_refused"],
  ["a daemon name of 65 characters", [paired, handshake, says(hello({ daemonName: "a".repeat(65) }))], "failed", "hello_refused"],
  ["the share ended before the hello", [paired, handshake, says({ type: "ended", state: "revoked", message: "revoked" })], "failed", "ended"],
  ["refused upgrade (409) before the expiry", [closed(409)], "failed", "refused"],
  ["closed after the handle's expiry", [closed(404, EXPIRES)], "failed", "expired"],
  ["an extension before the close counts", [paired, handshake, says({ type: "expiry", expiresAt: EXPIRES + 60_000 }), closed(undefined, EXPIRES)], "failed", "refused"],
  ["open, then peer_gone: lost", [...connected, peerGone], "lost", "connected"],
  ["open, then the socket closes: lost", [...connected, closed(undefined)], "lost", "connected"],
  ["open, then a tampered record: broken until the close", [...connected, (h) => h.binary(new Uint8Array(40).fill(2))], "broken", "connected"],
  ["broken, then closed: lost", [...connected, (h) => h.binary(new Uint8Array(40).fill(2)), closed(undefined)], "lost", "connected"],
  ["junk text and a second paired are ignored", [(h) => h.text("{nope"), paired, paired, (h) => h.text('{"type":"evict"}')], "handshaking", null],
  ["a timer firing once open does nothing", [...connected, timeout], "open", "connected"],
  ["after a failure, nothing more happens", [timeout, paired, peerGone, closed(409), timeout], "failed", "no_daemon"],
];

describe("link phases", () => {
  for (const [name, steps, phase, outcome] of rows) {
    test(name, () => {
      const h = new Harness();
      for (const step of steps) step(h);
      expect(h.link.phase).toBe(phase);
      expect(h.outcomes().map((o) => o.kind)).toEqual(outcome === null ? [] : [outcome]);
    });
  }
});

describe("link effects", () => {
  test("timers: 15 s to pair, then 10 s for the handshake and hello, cleared once settled", () => {
    const h = new Harness();
    for (const step of connected) step(h);
    const timers = h.effects.flatMap((e) => (e.kind === "timer" ? [e.ms] : []));
    expect(timers).toEqual([15_000, 10_000, null]);
  });

  test("paired sends Noise message 1 (96 bytes); the channel is handed over after message 2", () => {
    const h = new Harness();
    paired(h);
    expect(h.sent().map((s) => s.length)).toEqual([96]);
    handshake(h);
    expect(h.kinds().filter((k) => k === "channel")).toHaveLength(1);
  });

  test("the hello gives the passport, the daemon's name and its clock skew", () => {
    const h = new Harness();
    for (const step of connected) step(h);
    const o = h.outcomes()[0]!;
    if (o.kind !== "connected") throw new Error(o.kind);
    expect(o.hello.daemonName).toBe("d1");
    expect(o.hello.fingerprint).toBe(FP);
    expect(o.hello.passport.daemonKeyId).toBe(FP);
    expect(o.hello.clockSkewMs).toBe(2_000);
  });

  test("messages other than the hello are delivered to the session, before and after it", () => {
    const h = new Harness();
    paired(h);
    handshake(h);
    says({ type: "expiry", expiresAt: EXPIRES + 1 })(h);
    says(hello())(h);
    says({ type: "verbs", id: 1, verbs: [] })(h);
    const delivered = h.effects.flatMap((e) => (e.kind === "deliver" ? e.messages.map((m) => m.type) : []));
    expect(delivered).toEqual(["expiry", "verbs"]);
  });

  test("the share ending before the hello both settles the attempt and reaches the session", () => {
    const h = new Harness();
    for (const step of [paired, handshake, says({ type: "ended", state: "expired", message: "expired" })]) step(h);
    expect(h.kinds().slice(-3)).toEqual(["timer", "settle", "deliver"]);
  });

  test("a tampered record on an open link fails the calls (broken), and the close then reconnects", () => {
    const h = new Harness();
    for (const step of connected) step(h);
    h.binary(new Uint8Array(40).fill(2));
    closed(undefined)(h);
    expect(h.kinds().slice(-2)).toEqual(["broken", "lost"]);
  });

  test("each failure's error: exit 4 for the link, 5 for a share that is over", () => {
    const relay = "ws://relay.test:8080";
    const cases: [Exclude<Outcome, { kind: "connected" }>, number, string][] = [
      [{ kind: "no_daemon" }, 4, "no daemon answered at the relay in time"],
      [{ kind: "handshake_timeout" }, 4, "handshake failed: the daemon did not answer"],
      [{ kind: "peer_left" }, 4, "the daemon left during the handshake"],
      [{ kind: "handshake_failed" }, 4, "handshake failed"],
      [{ kind: "tampered" }, 4, "the channel to the daemon was tampered with or broken; session ended"],
      [{ kind: "hello_refused", detail: "does not match its key" }, 4, "the daemon's hello does not match its key; refusing"],
      [{ kind: "ended", state: "revoked", message: "revoked" }, 5, "share revoked"],
      [{ kind: "expired" }, 5, "this share has expired"],
      [{ kind: "refused", status: 409 }, 4, "another client is already connected to this share"],
      [{ kind: "refused", status: 429 }, 4, "the relay is rate-limiting this address"],
      [{ kind: "refused", status: 404 }, 4, `no daemon holds this share at the relay (${relay})`],
      [{ kind: "refused", status: undefined }, 4, `could not reach the share at the relay (${relay})`],
    ];
    for (const [outcome, exit, message] of cases) {
      const e = linkError(outcome, relay);
      expect([e.exitCode as number, e.message]).toEqual([exit, message]);
    }
  });

  test("on an asynchronous suite, records opened after their event reach emit, in wire order", async () => {
    const later: Effect[] = [];
    const link = new Link({
      daemonPublicKey: daemon.publicKey,
      signPublicKey: signPublic,
      recipient: { kind: "bearer" },
      ridHash: RID_HASH,
      clientPrivateKey: client.privateKey,
      psk,
      prologue,
      expiresAt: EXPIRES,
      crypto: platform,
      emit: (e) => later.push(...e),
    });
    const now: Effect[] = [...link.start(), ...link.on({ kind: "text", text: encodeSignal("paired") })];
    const message1 = now.flatMap((e) => (e.kind === "send" ? [e.data] : [])).at(-1)!;
    const { message2, channel } = acceptInitiator({ daemonPrivateKey: daemon.privateKey, prologue, message1 }).respond(psk);
    now.push(...link.on({ kind: "binary", frame: message2, now: NOW }));
    const frames = [hello(), { type: "expiry", expiresAt: EXPIRES + 1 } as DaemonMessage].flatMap((m) => channel.write(encodeMessage(m)));
    frames.push(...channel.write(encodeChunk(1, "stdout", new Uint8Array(50_000).fill(5))));
    frames.push(...channel.write(encodeMessage({ type: "expiry", expiresAt: EXPIRES + 2 })));
    for (const frame of frames) now.push(...link.on({ kind: "binary", frame, now: NOW }));
    const deadline = Date.now() + 5000;
    while (!later.some((e) => e.kind === "deliver" && e.messages.some((m) => m.type === "expiry" && m.expiresAt === EXPIRES + 2))) {
      if (Date.now() > deadline) throw new Error("the records never came");
      await Bun.sleep(1);
    }
    const all = [...now, ...later];
    expect(link.phase).toBe("open");
    expect(all.flatMap((e) => (e.kind === "settle" ? [e.outcome.kind] : []))).toEqual(["connected"]);
    // the 50 KB chunk was opened off the event (bulk), and the small record behind it waited for it
    const delivered = later.flatMap((e) => (e.kind === "deliver" ? e.messages.map((m) => m.type) : []));
    expect(delivered).toEqual(["chunk", "expiry"]);
  });
});
