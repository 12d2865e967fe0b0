// The product channel: handshake round trip and its failures, transport records altered,
// replayed, reordered, dropped or truncated (one opaque error), split/reassembly, nonce limit,
// and flow control (a property: the sender never exceeds the receiver's credit). Sink mode runs
// the same on the platform suite (asynchronous WebCrypto records): identical wire bytes to noble,
// strict order, the window kept, one failure.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { OpenScopeError } from "../../lib/errors.ts";
import {
  acceptInitiator,
  buildPrologue,
  prologueRelayHost,
  sharePrologue,
  Channel,
  INITIAL_WINDOW,
  MAX_RECORD_DATA,
  PROTOCOL_NAME,
  startInitiator,
  type ChannelOptions,
} from "../../lib/wire/channel.ts";
import { generateX25519 } from "../../lib/crypto/keys.ts";
import { noble, type NoiseCrypto } from "../../lib/noise/crypto.ts";
import { platform } from "../../lib/platform/crypto.ts";
import type { ChannelSink } from "../../lib/wire/channel.ts";

const daemon = generateX25519();
const client = generateX25519();
const psk = crypto.getRandomValues(new Uint8Array(32));
const prologue = buildPrologue("cmlkX3JlbmRlenZvdXMtaWQ", "relay.example.com");

function pair(channel?: ChannelOptions): { a: Channel; b: Channel } {
  const init = startInitiator({ daemonPublicKey: daemon.publicKey, clientPrivateKey: client.privateKey, psk, prologue, channel });
  const acc = acceptInitiator({ daemonPrivateKey: daemon.privateKey, prologue, message1: init.message1, channel });
  expect(acc.clientPublicKey).toEqual(client.publicKey);
  const { message2, channel: b } = acc.respond(psk);
  const a = init.finish(message2);
  expect(a.handshakeHash).toEqual(b.handshakeHash);
  return { a, b };
}

function expectRejected(f: () => unknown): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(OpenScopeError);
  expect((err as OpenScopeError).kind).toBe("connection");
  expect((err as OpenScopeError).message).toBe("channel: record rejected");
}

function expectHandshakeFailed(f: () => unknown): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(OpenScopeError);
  expect((err as OpenScopeError).kind).toBe("connection");
  expect((err as OpenScopeError).message).toBe("channel: handshake failed");
}

const text = (s: string) => new TextEncoder().encode(s);

describe("handshake", () => {
  test("protocol name is the WireGuard pattern", () => {
    expect(PROTOCOL_NAME).toBe("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s");
  });

  test("round trip both ways", () => {
    const { a, b } = pair();
    const w = a.write(text("list verbs"));
    expect(w.length).toBe(1);
    expect(b.receive(w[0]!).payloads).toEqual([text("list verbs")]);
    const r = b.write(text("ok"));
    expect(a.receive(r[0]!).payloads).toEqual([text("ok")]);
  });

  test("the record on the wire does not contain the plaintext", () => {
    const { a } = pair();
    const secret = text("a very recognisable secret string");
    const wire = a.write(secret)[0]!;
    expect(Buffer.from(wire).includes(Buffer.from(secret))).toBe(false);
  });

  test("wrong psk: the initiator's finish fails, opaque", () => {
    const init = startInitiator({ daemonPublicKey: daemon.publicKey, clientPrivateKey: client.privateKey, psk, prologue });
    const acc = acceptInitiator({ daemonPrivateKey: daemon.privateKey, prologue, message1: init.message1 });
    const { message2 } = acc.respond(crypto.getRandomValues(new Uint8Array(32)));
    expectHandshakeFailed(() => init.finish(message2));
  });

  test("wrong daemon key, prologue (rid, relay host) or altered message 1 fails at the daemon", () => {
    const other = generateX25519();
    const wrongKey = startInitiator({ daemonPublicKey: other.publicKey, clientPrivateKey: client.privateKey, psk, prologue });
    expectHandshakeFailed(() => acceptInitiator({ daemonPrivateKey: daemon.privateKey, prologue, message1: wrongKey.message1 }));
    const init = startInitiator({ daemonPublicKey: daemon.publicKey, clientPrivateKey: client.privateKey, psk, prologue });
    for (const p of [buildPrologue("cmlkX3JlbmRlenZvdXMtaWR", "relay.example.com"), buildPrologue("cmlkX3JlbmRlenZvdXMtaWQ", "relay.example.net")])
      expectHandshakeFailed(() => acceptInitiator({ daemonPrivateKey: daemon.privateKey, prologue: p, message1: init.message1 }));
    for (let i = 0; i < init.message1.length; i += 7) {
      const m = init.message1.slice();
      m[i]! ^= 1;
      expectHandshakeFailed(() => acceptInitiator({ daemonPrivateKey: daemon.privateKey, prologue, message1: m }));
    }
    expectHandshakeFailed(() => acceptInitiator({ daemonPrivateKey: daemon.privateKey, prologue, message1: init.message1.subarray(0, 40) }));
  });

  test("altered message 2 fails at the client", () => {
    const init = startInitiator({ daemonPublicKey: daemon.publicKey, clientPrivateKey: client.privateKey, psk, prologue });
    const { message2 } = acceptInitiator({ daemonPrivateKey: daemon.privateKey, prologue, message1: init.message1 }).respond(psk);
    const m = message2.slice();
    m[m.length - 1]! ^= 0x80;
    expectHandshakeFailed(() => init.finish(m));
  });

  test("every handshake is fresh: same keys, different ephemeral, different session", () => {
    const one = pair();
    const two = pair();
    expect(one.a.handshakeHash).not.toEqual(two.a.handshakeHash);
    // A record from one session is rejected by another.
    expectRejected(() => two.b.receive(one.a.write(text("x"))[0]!));
  });

  test("deterministic with injected randomness", () => {
    let seed = 1;
    const random = (n: number) => new Uint8Array(n).fill(seed++);
    seed = 1;
    const m1 = startInitiator({ daemonPublicKey: daemon.publicKey, clientPrivateKey: client.privateKey, psk, prologue, random }).message1;
    seed = 1;
    const m2 = startInitiator({ daemonPublicKey: daemon.publicKey, clientPrivateKey: client.privateKey, psk, prologue, random }).message1;
    expect(m1).toEqual(m2);
    expect(m1.length).toBe(32 + 48 + 16);
  });

  test("prologue binds version, rid and relay host unambiguously", () => {
    expect(buildPrologue("ab", "c")).not.toEqual(buildPrologue("a", "bc"));
    expect(buildPrologue("ab", "Relay.Example")).toEqual(buildPrologue("ab", "relay.example"));
    expect(new TextDecoder().decode(buildPrologue("r", "h")).startsWith("openscope channel v1")).toBe(true);
  });

  test("the prologue's relay host is the URL's authority: lower case, default port dropped", () => {
    const cases: [string, string][] = [
      ["ws://Relay.Example:80", "relay.example"],
      ["wss://relay.example:443/base", "relay.example"],
      ["wss://relay.example:8443", "relay.example:8443"],
      ["ws://[::1]:8080", "[::1]:8080"],
      ["ws://127.0.0.1:41234", "127.0.0.1:41234"],
    ];
    for (const [url, host] of cases) expect(prologueRelayHost(url)).toBe(host);
    expect(sharePrologue("rid", "wss://Relay.Example:443")).toEqual(buildPrologue("rid", "relay.example"));
  });
});

describe("transport records", () => {
  test("altered (every byte of a record), each one kills the session", () => {
    const len = pair().a.write(text("call ssh.tail_logs lines=50"))[0]!.length;
    for (let i = 0; i < len; i++) {
      const fresh = pair();
      const w = fresh.a.write(text("call ssh.tail_logs lines=50"))[0]!;
      const bad = w.slice();
      bad[i]! ^= 1 << (i % 8);
      expectRejected(() => fresh.b.receive(bad));
      expect(fresh.b.isDead).toBe(true);
      expectRejected(() => fresh.b.receive(w)); // dead after the failure, even for a good record
      expectRejected(() => fresh.b.write(text("more")));
    }
  });

  test("replayed record", () => {
    const { a, b } = pair();
    const [w] = a.write(text("one"));
    expect(b.receive(w!).payloads).toEqual([text("one")]);
    expectRejected(() => b.receive(w!));
  });

  test("reordered records", () => {
    const { a, b } = pair();
    const [w1] = a.write(text("one"));
    const [w2] = a.write(text("two"));
    expectRejected(() => b.receive(w2!));
    expectRejected(() => b.receive(w1!));
  });

  test("dropped record", () => {
    const { a, b } = pair();
    a.write(text("one"));
    const [w2] = a.write(text("two"));
    expectRejected(() => b.receive(w2!));
  });

  test("truncated record, empty message, oversized message", () => {
    for (const cut of [1, 16, 17, 30]) {
      const { a, b } = pair();
      const [w] = a.write(text("hello there, a record"));
      expectRejected(() => b.receive(w!.subarray(0, w!.length - cut)));
    }
    const { b } = pair();
    expectRejected(() => b.receive(new Uint8Array(0)));
    expectRejected(() => pair().b.receive(new Uint8Array(65_536)));
  });

  test("a record sent back to its own sender (reflection) is rejected", () => {
    const { a } = pair();
    const [w] = a.write(text("reflect me"));
    expectRejected(() => a.receive(w!));
  });

  test("empty application message round trips", () => {
    const { a, b } = pair();
    const [w] = a.write(new Uint8Array(0));
    expect(b.receive(w!).payloads).toEqual([new Uint8Array(0)]);
  });

  test("1 MiB payload is split into Noise-sized records and reassembled", () => {
    const { a, b } = pair();
    const big = crypto.getRandomValues(new Uint8Array(1 << 20).subarray(0, 65536)); // random head
    const payload = new Uint8Array(1 << 20);
    for (let i = 0; i < payload.length; i += 65536) payload.set(big, i);
    payload[payload.length - 1] = 7;
    const toB = [...a.write(payload)];
    const got: Uint8Array[] = [];
    while (toB.length > 0) {
      const w = toB.shift()!;
      expect(w.length).toBeLessThanOrEqual(65_535);
      const r = b.receive(w);
      got.push(...r.payloads);
      for (const g of r.out) toB.push(...a.receive(g).out);
    }
    expect(got.length).toBe(1);
    expect(got[0]!.length).toBe(payload.length);
    expect(Buffer.from(got[0]!).equals(Buffer.from(payload))).toBe(true);
    expect(a.queuedBytes).toBe(0);
    expect(Math.ceil(payload.length / MAX_RECORD_DATA)).toBe(17);
  });

  test("the caller may reuse its buffer once write returns", () => {
    const { a, b } = pair({ window: 8192, maxRecordData: 1000 });
    const buf = new Uint8Array(20_000).fill(1);
    const first = a.write(buf);
    buf.fill(2);
    const toB = [...first];
    const got: Uint8Array[] = [];
    while (toB.length) {
      const r = b.receive(toB.shift()!);
      got.push(...r.payloads);
      for (const g of r.out) toB.push(...a.receive(g).out);
    }
    expect(got[0]!.every((x) => x === 1)).toBe(true);
  });

  test("a message larger than maxMessageBytes is rejected by the receiver", () => {
    const { a } = pair();
    const small = pair({ maxMessageBytes: 1000 });
    void a;
    const w = small.a.write(new Uint8Array(5000));
    expectRejected(() => {
      for (const x of w) small.b.receive(x);
    });
  });

  test("nonce limit: the receiver refuses before the nonce could wrap, the sender too", () => {
    const { a, b } = pair({ nonceLimit: 3 });
    for (const m of ["1", "2", "3"]) expect(b.receive(a.write(text(m))[0]!).payloads).toEqual([text(m)]);
    let err: unknown;
    try {
      a.write(text("4"));
    } catch (e) {
      err = e;
    }
    expect((err as OpenScopeError).kind).toBe("connection");
    expect((err as OpenScopeError).message).toBe("channel: session reached its record limit");
    // The receiver side: a sender with a higher limit is refused at the receiver's limit.
    const r = pairMixed(10, 2);
    for (const m of ["1", "2"]) r.b.receive(r.a.write(text(m))[0]!);
    expectRejected(() => r.b.receive(r.a.write(text("3"))[0]!));
  });
});

// Pairs whose two ends use different options (tests of misbehaving peers).
function pairMixed(aLimit: number, bLimit: number, aOpts: ChannelOptions = {}, bOpts: ChannelOptions = {}) {
  const init = startInitiator({ daemonPublicKey: daemon.publicKey, clientPrivateKey: client.privateKey, psk, prologue, channel: { ...aOpts, nonceLimit: aLimit } });
  const { message2, channel: b } = acceptInitiator({ daemonPrivateKey: daemon.privateKey, prologue, message1: init.message1, channel: { ...bOpts, nonceLimit: bLimit } }).respond(psk);
  return { a: init.finish(message2), b };
}

describe("flow control", () => {
  test("a sender that ignores the receiver's window is rejected", () => {
    // b grants 8 KiB; a believes in 1 MiB and sends a 20 KB record at once.
    const { a, b } = pairMixed(1e9, 1e9, { window: 1 << 20, maxRecordData: 20_000 }, { window: 8192 });
    const w = a.write(new Uint8Array(200_000));
    expect(w[0]!.length).toBeGreaterThan(8192);
    expectRejected(() => {
      for (const x of w) b.receive(x);
    });
  });

  test("manualRelease: no credit for delivered data until the application releases it", () => {
    const { a, b } = pairMixed(1e9, 1e9, {}, { manualRelease: true });
    // 16 one-record messages fill the window (a message bigger than half of it would be granted
    // as its fragments are buffered: see the sink-mode test of a message bigger than the window)
    const first = Array.from({ length: 16 }, () => a.write(new Uint8Array(MAX_RECORD_DATA))).flat();
    let grants: Uint8Array[] = [];
    let delivered = 0;
    for (const w of first) {
      const r = b.receive(w);
      grants.push(...r.out);
      delivered += r.payloads.reduce((n, p) => n + p.length, 0);
    }
    expect(grants).toEqual([]); // delivered, not released: the sender stays blocked
    expect(a.write(new Uint8Array(10)).length).toBe(0);
    grants = b.release();
    expect(grants.length).toBe(1);
    expect(b.release()).toEqual([]); // nothing new to release
    const resumed = a.receive(grants[0]!).out; // the grant lets the queued data go
    expect(resumed.length).toBeGreaterThan(0);
    let more = 0;
    for (const w of resumed) more += b.receive(w).payloads.reduce((n, p) => n + p.length, 0);
    expect(delivered + more).toBe(16 * MAX_RECORD_DATA + 10);
  });

  test("without grants the sender stops at the window and queues the rest", () => {
    const { a } = pair();
    const wires = a.write(new Uint8Array(3 << 20));
    const sent = wires.reduce((s, w) => s + w.length, 0);
    expect(sent).toBeLessThanOrEqual(INITIAL_WINDOW);
    expect(sent).toBeGreaterThan(INITIAL_WINDOW - 2048);
    expect(a.queuedBytes).toBeGreaterThan((3 << 20) - INITIAL_WINDOW);
    expect(a.write(text("later")).length).toBe(0); // queued behind, in order
  });

  test("property: in-flight data never exceeds the window; every message arrives intact and in order", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 30_000 }), { minLength: 1, maxLength: 10 }),
        fc.array(fc.nat(5), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 5000, max: 60_000 }),
        fc.integer({ min: 500, max: 9000 }),
        (sizes, schedule, window, maxRecordData) => {
          const { a, b } = pair({ window, maxRecordData });
          const toB: Uint8Array[] = [];
          const toA: Uint8Array[] = [];
          const inFlight = () => toB.reduce((s, w) => s + w.length, 0);
          const sentMsgs = sizes.map((n, i) => new Uint8Array(n).fill(i + 1));
          const got: Uint8Array[] = [];
          let next = 0;
          let step = 0;
          // Interleave writes, deliveries to b and deliveries of grants to a, by the schedule.
          for (let guard = 0; guard < 100_000; guard++) {
            const choice = schedule[step++ % schedule.length]!;
            if (choice <= 1 && next < sentMsgs.length) toB.push(...a.write(sentMsgs[next++]!));
            else if (choice <= 3 && toB.length > 0) {
              const r = b.receive(toB.shift()!);
              got.push(...r.payloads);
              toA.push(...r.out);
            } else if (toA.length > 0) toB.push(...a.receive(toA.shift()!).out);
            else if (toB.length > 0) {
              const r = b.receive(toB.shift()!);
              got.push(...r.payloads);
              toA.push(...r.out);
            } else if (next < sentMsgs.length) toB.push(...a.write(sentMsgs[next++]!));
            else break;
            if (inFlight() > window || a.credit < 0) throw new Error(`over the window: ${inFlight()} > ${window}`);
          }
          expect(got.length).toBe(sentMsgs.length);
          for (const [i, m] of sentMsgs.entries()) expect(Buffer.from(got[i]!).equals(Buffer.from(m))).toBe(true);
          expect(a.queuedBytes).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  });
});

// ---- sink mode: the same channel on an asynchronous bulk cipher ----

/** A channel pair with fixed ephemeral randomness (so both suites make the same session), in sink mode. */
function sinkPair(suite: NoiseCrypto, channel: ChannelOptions = {}, seed = 1) {
  let n = seed;
  const random = (len: number) => new Uint8Array(len).fill(n++ & 0xff);
  const init = startInitiator({ daemonPublicKey: daemon.publicKey, clientPrivateKey: client.privateKey, psk, prologue, random, channel: { ...channel, crypto: suite } });
  const { message2, channel: b } = acceptInitiator({ daemonPrivateKey: daemon.privateKey, prologue, message1: init.message1, random, channel: { ...channel, crypto: suite } }).respond(psk);
  const a = init.finish(message2);
  const end = (c: Channel) => {
    const io = { wires: [] as Uint8Array[], payloads: [] as Uint8Array[], failures: [] as OpenScopeError[], accepted: 0 };
    const sink: ChannelSink = {
      send: (w) => io.wires.push(w),
      deliver: (p) => io.payloads.push(p),
      accepted: () => io.accepted++,
      fail: (e) => io.failures.push(e),
    };
    c.attach(sink);
    return { c, io };
  };
  return { a: end(a), b: end(b) };
}

/** Lets pending WebCrypto work finish (it runs off the JS thread). */
async function settle(until: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!until()) {
    if (Date.now() > deadline) throw new Error("settle: timed out");
    await Bun.sleep(1);
  }
}

const total = (xs: Uint8Array[]) => xs.reduce((s, x) => s + x.length, 0);

describe("sink mode on the platform suite", () => {
  test("an asynchronous suite refuses the synchronous API (results would come later)", () => {
    let n = 1;
    const random = (len: number) => new Uint8Array(len).fill(n++);
    const init = startInitiator({ daemonPublicKey: daemon.publicKey, clientPrivateKey: client.privateKey, psk, prologue, random, channel: { crypto: platform } });
    const { channel } = acceptInitiator({ daemonPrivateKey: daemon.privateKey, prologue, message1: init.message1, channel: { crypto: platform } }).respond(psk);
    expect(() => channel.write(text("x"))).toThrow(/needs a sink/);
  });

  test("property: the same messages give byte-identical wire records on noble and platform, in order", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.integer({ min: 0, max: 1500 }), fc.integer({ min: 0, max: 200_000 })), { minLength: 1, maxLength: 12 }), fc.nat(1000), async (sizes, seed) => {
        const ref = sinkPair(noble, {}, seed);
        const fast = sinkPair(platform, {}, seed);
        const msgs = sizes.map((n, i) => new Uint8Array(n).fill((i * 37 + seed) & 0xff));
        for (const m of msgs) {
          ref.a.c.send(m);
          fast.a.c.send(m);
        }
        await settle(() => fast.a.io.wires.length === ref.a.io.wires.length && fast.a.c.queuedBytes === ref.a.c.queuedBytes);
        expect(fast.a.io.wires.length).toBe(ref.a.io.wires.length);
        for (const [i, w] of ref.a.io.wires.entries()) expect(Buffer.from(fast.a.io.wires[i]!).equals(Buffer.from(w))).toBe(true);
        // and the receiving end opens them, in order, on both
        for (const w of fast.a.io.wires) fast.b.c.take(w);
        for (const w of ref.a.io.wires) ref.b.c.take(w);
        await settle(() => fast.b.io.payloads.length === ref.b.io.payloads.length);
        expect(fast.b.io.payloads.map((p) => Buffer.from(p).toString("hex"))).toEqual(ref.b.io.payloads.map((p) => Buffer.from(p).toString("hex")));
        expect(fast.b.io.failures).toEqual([]);
      }),
      { numRuns: 25 },
    );
  });

  test("property: asynchronous delivery keeps the window; every message arrives intact and in order", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 150_000 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(5), { minLength: 1, maxLength: 100 }),
        fc.boolean(),
        async (sizes, schedule, manualRelease) => {
          const { a, b } = sinkPair(platform, { manualRelease });
          const sent = sizes.map((n, i) => new Uint8Array(n).fill(i + 1));
          let next = 0;
          let step = 0;
          let inFlight = 0; // bytes a has sent that b has not taken yet
          let taken = 0; // of a.io.wires
          let grants = 0; // of b.io.wires
          for (let guard = 0; guard < 20_000; guard++) {
            const choice = schedule[step++ % schedule.length]!;
            if (choice === 4 && manualRelease) b.c.release(); // and then one of the moves below
            if (choice <= 1 && next < sent.length) a.c.send(sent[next++]!);
            else if (choice <= 3 && taken < a.io.wires.length) b.c.take(a.io.wires[taken++]!);
            else if (grants < b.io.wires.length) a.c.take(b.io.wires[grants++]!);
            else if (taken < a.io.wires.length) b.c.take(a.io.wires[taken++]!);
            else if (next < sent.length) a.c.send(sent[next++]!);
            else if (b.io.payloads.length === sent.length) break;
            else {
              if (manualRelease) b.c.release();
              await Bun.sleep(0);
            }
            if (guard % 20 === 19) await Bun.sleep(0); // whatever the schedule, sealing gets to finish
            inFlight = total(a.io.wires.slice(taken));
            if (inFlight > INITIAL_WINDOW || a.c.credit < 0) throw new Error(`over the window: ${inFlight}`);
          }
          expect(a.io.failures).toEqual([]);
          expect(b.io.failures).toEqual([]);
          expect(b.io.payloads.length).toBe(sent.length);
          for (const [i, m] of sent.entries()) expect(Buffer.from(b.io.payloads[i]!).equals(Buffer.from(m))).toBe(true);
          expect(a.c.queuedBytes).toBe(0);
        },
      ),
      { numRuns: 15 },
    );
  });

  test("manualRelease: a message bigger than the window still completes (its fragments cannot wait for a release)", async () => {
    for (const suite of [noble, platform]) {
      const { a, b } = sinkPair(suite, { manualRelease: true });
      const big = new Uint8Array(3 * INITIAL_WINDOW + 12345).fill(9);
      a.c.send(big);
      a.c.send(text("after it"));
      let moved = 0;
      let grants = 0;
      // relay by hand; the application releases only what it was given
      for (let guard = 0; guard < 10_000 && b.io.payloads.length < 2; guard++) {
        if (moved < a.io.wires.length) b.c.take(a.io.wires[moved++]!);
        else if (grants < b.io.wires.length) a.c.take(b.io.wires[grants++]!);
        else await Bun.sleep(1);
        if (b.io.payloads.length > 0) b.c.release();
      }
      expect(b.io.failures).toEqual([]);
      expect(b.io.payloads.map((p) => p.length)).toEqual([big.length, 8]);
    }
  });

  test("peers wired straight into each other (sinks that deliver at once, re-entering take) move many windows", async () => {
    for (const suite of [noble, platform]) {
      let n = 7;
      const random = (len: number) => new Uint8Array(len).fill(n++ & 0xff);
      const init = startInitiator({ daemonPublicKey: daemon.publicKey, clientPrivateKey: client.privateKey, psk, prologue, random, channel: { crypto: suite } });
      const { message2, channel: b } = acceptInitiator({ daemonPrivateKey: daemon.privateKey, prologue, message1: init.message1, random, channel: { crypto: suite } }).respond(psk);
      const a = init.finish(message2);
      const failures: OpenScopeError[] = [];
      let delivered = 0;
      a.attach({ send: (w) => b.take(w), deliver: () => {}, fail: (e) => void failures.push(e) });
      b.attach({ send: (w) => a.take(w), deliver: (p) => void (delivered += p.length), fail: (e) => void failures.push(e) });
      // one message of several windows: the grant for its first half comes back into take() while
      // the rest is still being flushed
      a.send(new Uint8Array(3 * INITIAL_WINDOW));
      await settle(() => delivered >= 3 * INITIAL_WINDOW || failures.length > 0);
      const total = 4 * INITIAL_WINDOW;
      for (const size of [4096, 100, 1500]) {
        const before = delivered;
        for (let sent = 0; sent < total / 3; sent += size) a.send(new Uint8Array(size));
        await settle(() => delivered - before >= Math.floor(total / 3 / size) * size || failures.length > 0);
      }
      expect(failures).toEqual([]);
      expect(a.queuedBytes).toBe(0);
    }
  });

  test("a damaged bulk record fails once; nothing after it is delivered, even records opened sooner", async () => {
    const { a, b } = sinkPair(platform);
    a.c.send(new Uint8Array(60_000).fill(1));
    a.c.send(text("small, after the big one"));
    a.c.send(new Uint8Array(50_000).fill(2));
    await settle(() => a.io.wires.length === 3);
    expect(a.io.wires.map((w) => w.length)).toEqual([60_017, 41, 50_017]); // in nonce order
    const bad = a.io.wires[0]!.slice();
    bad[30_000]! ^= 4;
    b.c.take(bad);
    b.c.take(a.io.wires[1]!); // opened at once (short), but behind the bad one
    b.c.take(a.io.wires[2]!);
    await settle(() => b.io.failures.length > 0);
    await Bun.sleep(20);
    expect(b.io.failures.length).toBe(1);
    expect(b.io.failures[0]!.message).toBe("channel: record rejected");
    expect(b.io.payloads).toEqual([]);
    expect(b.io.accepted).toBe(0);
    expect(b.c.isDead).toBe(true);
    b.c.take(a.io.wires[1]!); // dead: ignored, no second failure
    b.c.send(text("more"));
    expect(b.io.failures.length).toBe(1);
    expect(b.io.wires).toEqual([]);
  });

  test("a data record longer than the remaining allowance is refused on arrival, before opening", () => {
    const { a, b } = sinkPair(platform, { window: 8192 });
    // a forged 9 KB record: it cannot be a credit record, and it is over b's whole window
    b.c.take(new Uint8Array(9000));
    expect(b.io.failures.length).toBe(1);
    expect(b.io.failures[0]!.message).toBe("channel: record rejected");
    void a;
  });

  test("queuedBytes counts records still being sealed; the record limit fails through the sink", async () => {
    const big = sinkPair(platform);
    big.a.c.send(new Uint8Array(200_000));
    expect(big.a.io.wires).toEqual([]);
    expect(big.a.c.queuedBytes).toBe(200_000); // nothing is on the wire until sealed
    await settle(() => big.a.c.queuedBytes === 0);
    expect(total(big.a.io.wires)).toBe(200_000 + 4 * 17);
    const { a } = sinkPair(platform, { nonceLimit: 3 });
    a.c.send(new Uint8Array(200_000)); // four records: the fourth is past the limit
    expect(a.io.failures.length).toBe(1);
    expect(a.io.failures[0]!.message).toBe("channel: session reached its record limit");
  });
});

// Hostile peers that hold the session keys (mutation testing, issue 22): records a correct
// sender never writes, forged with the sender's own CipherState.
describe("records a correct peer never sends", () => {
  const forge = (from: Channel, plaintext: Uint8Array) =>
    (from as unknown as { sender: { encryptWithAd(ad: Uint8Array, p: Uint8Array): Uint8Array } }).sender.encryptWithAd(new Uint8Array(0), plaintext);
  test("a credit grant of zero is rejected; a grant of one is taken", () => {
    const ok = pair();
    expect(ok.b.receive(forge(ok.a, Uint8Array.of(3, 0, 0, 0, 1)))).toEqual({ payloads: [], out: [] });
    const { a, b } = pair();
    expectRejected(() => b.receive(forge(a, Uint8Array.of(3, 0, 0, 0, 0))));
  });
  test("a credit record of the wrong length, or an unknown record type, is rejected", () => {
    for (const record of [Uint8Array.of(3, 0, 0, 1), Uint8Array.of(3, 0, 0, 0, 1, 0), Uint8Array.of(4, 1, 2), Uint8Array.of(0)]) {
      const { a, b } = pair();
      expectRejected(() => b.receive(forge(a, record)));
    }
  });
  test("a grant that would take the peer's credit past 2^32 is rejected", () => {
    const { a, b } = pair();
    expectRejected(() => b.receive(forge(a, Uint8Array.of(3, 0xff, 0xff, 0xff, 0xff))));
  });
});

describe("the responder's psk", () => {
  test("a psk that is not 32 bytes fails the handshake", () => {
    for (const n of [0, 3, 31, 33]) {
      const init = startInitiator({ daemonPublicKey: daemon.publicKey, clientPrivateKey: client.privateKey, psk, prologue });
      const acc = acceptInitiator({ daemonPrivateKey: daemon.privateKey, prologue, message1: init.message1 });
      expectHandshakeFailed(() => acc.respond(new Uint8Array(n).fill(1)));
    }
  });
});
