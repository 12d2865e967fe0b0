// THREAT-MODEL.md "What must never happen": "any component crashes or hangs on malformed input", at volume: ≥100,000 random
// and mutated frames (seeded: FUZZ_SEED replays a run) at the compiled relay and at the daemon's
// channel: handshake messages, records after a real handshake, and RPC payloads inside honest
// records. Every part runs under a deadline; afterwards both processes are up, the audit chain
// verifies and a legit recipient's call works.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { buildPrologue, startInitiator } from "../../lib/wire/channel.ts";
import { decodeDaemonMessage, encodeMessage } from "../../lib/wire/rpc.ts";
import { Cluster, testCatalog, type OpenedShare, type Recipient } from "../helpers/cluster.ts";
import { handleTarget, handshakeAs, RawLeg } from "../helpers/raw-leg.ts";
import { waitFor } from "../helpers/spawn.ts";
import { prng } from "../helpers/prng.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 0xf422);
const RELAY_FRAMES = Number(process.env.FUZZ_RELAY_FRAMES ?? 75_000);
const RPC_PAYLOADS = Number(process.env.FUZZ_RPC_PAYLOADS ?? 25_000);
const HANDSHAKES = Number(process.env.FUZZ_HANDSHAKES ?? 300);
const RECORDS = Number(process.env.FUZZ_RECORDS ?? 60);

const rand = prng(SEED);
const int = (n: number) => Math.floor(rand() * n);

function randomBytesSeeded(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = int(256);
  return b;
}

/** A random length, mostly small, sometimes up to `max`. */
function length(max: number): number {
  const r = rand();
  return r < 0.7 ? int(64) : r < 0.95 ? int(2048) : int(max + 1);
}

/** One mutation of `base`: bit flips, byte edits, insertion, deletion, truncation, splice, repeat. */
function mutate(base: Uint8Array, corpus: Uint8Array[]): Uint8Array {
  let b = base.slice();
  const rounds = 1 + int(3);
  for (let r = 0; r < rounds; r++) {
    switch (int(8)) {
      case 0:
        if (b.length) b[int(b.length)]! ^= 1 << int(8);
        break;
      case 1:
        if (b.length) b[int(b.length)] = int(256);
        break;
      case 2: {
        const at = int(b.length + 1);
        b = new Uint8Array([...b.subarray(0, at), ...randomBytesSeeded(1 + int(16)), ...b.subarray(at)]);
        break;
      }
      case 3: {
        const at = int(b.length + 1);
        b = new Uint8Array([...b.subarray(0, at), ...b.subarray(Math.min(b.length, at + 1 + int(16)))]);
        break;
      }
      case 4:
        b = b.slice(0, int(b.length + 1));
        break;
      case 5: {
        const other = corpus[int(corpus.length)]!;
        b = new Uint8Array([...b.subarray(0, int(b.length + 1)), ...other.subarray(int(other.length + 1))]);
        break;
      }
      case 6:
        b = new Uint8Array([...b, ...b]).slice(0, 60_000);
        break;
      default:
        if (b.length) b[b.length - 1 - int(Math.min(16, b.length))]! ^= 0xff;
    }
  }
  return b;
}

let c: Cluster;
let vendor: Recipient;
let share: OpenedShare;
let keyFile: string;
const counts = { relay: 0, relayText: 0, handshake: 0, record: 0, rpc: 0 };

beforeAll(async () => {
  c = new Cluster("binary");
  // A generous rate limit: this test opens thousands of legs from one address on purpose.
  await c.startRelay(["--rate", "100000", "--rate-burst", "100000"]);
  await c.init(testCatalog(join(c.dir, "data")));
  await c.startDaemon();
  ({ vendor, share } = await c.shareTo({ grant: ["echo.word"], ttl: "30m" }));
  keyFile = join(vendor.configHome, "openscope", "recipient.key");
}, 60_000);

afterAll(async () => {
  console.log(`fuzz-frames (seed ${SEED}): ${JSON.stringify(counts)}, total ${Object.values(counts).reduce((a, b) => a + b, 0)}`);
  await c?.stop();
});

async function healthy(): Promise<void> {
  expect(c.relay!.proc.exitCode).toBeNull();
  expect(c.daemon!.proc.exitCode).toBeNull();
  expect((await fetch(`http://127.0.0.1:${c.relay!.port}/healthz`)).status).toBe(200);
}

test("the relay forwards random and mutated binary frames unchanged and ignores junk text", async () => {
  const corpus = [randomBytesSeeded(100), new TextEncoder().encode('{"type":"paired"}'), randomBytesSeeded(3000)];
  const deadline = Date.now() + 180_000;
  const LIMIT = 65 * 1024;
  while (counts.relay < RELAY_FRAMES) {
    if (Date.now() > deadline) throw new Error(`relay fuzz ran out of time after ${counts.relay} frames`);
    const rid = Buffer.from(randomBytesSeeded(16)).toString("base64url");
    const d = RawLeg.daemon(c.relay!.url, rid, c.token);
    await d.waitOpen();
    const cl = RawLeg.client(c.relay!.url, rid);
    await cl.waitPaired();
    await d.waitPaired();
    const sent = { toD: createHash("sha256"), toC: createHash("sha256") };
    let nD = 0;
    let nC = 0;
    for (let i = 0; i < 5_000 && counts.relay < RELAY_FRAMES; i++) {
      const f = rand() < 0.5 ? randomBytesSeeded(length(LIMIT)) : mutate(corpus[int(corpus.length)]!, corpus);
      const frame = f.length > LIMIT ? f.subarray(0, LIMIT) : f;
      if (rand() < 0.5) {
        cl.send(frame);
        sent.toD.update(frame).update("|");
        nD++;
      } else {
        d.send(frame);
        sent.toC.update(frame).update("|");
        nC++;
      }
      counts.relay++;
      if (rand() < 0.03) {
        (rand() < 0.5 ? cl : d).send(new TextDecoder().decode(randomBytesSeeded(int(300))));
        counts.relayText++;
      }
      if (i % 500 === 499) await waitFor(() => d.binaries.length === nD && cl.binaries.length === nC, "frames through the relay", 30_000);
    }
    await waitFor(() => d.binaries.length === nD && cl.binaries.length === nC, "frames through the relay", 30_000);
    const got = (legFrames: Uint8Array[]) => legFrames.reduce((h, f) => h.update(f).update("|"), createHash("sha256")).digest("hex");
    expect(got(d.binaries)).toBe(sent.toD.digest("hex"));
    expect(got(cl.binaries)).toBe(sent.toC.digest("hex"));
    // Text from legs is never forwarded: each side saw only "paired".
    expect(d.texts.length).toBe(1);
    expect(cl.texts.length).toBe(1);
    // An oversized frame ends only its sender's leg, with 1009.
    cl.send(randomBytesSeeded(LIMIT + 1 + int(1000)));
    counts.relay++;
    expect((await cl.waitClosed()).code).toBe(1009);
    d.close();
  }
  await healthy();
}, 300_000);

test("random and mutated handshake messages: every leg is evicted, the daemon keeps running", async () => {
  const { handle, rid } = handleTarget(share.handle);
  const relayHost = new URL(handle.relayUrl.replace(/^ws/, "http")).host;
  const real = () =>
    startInitiator({ daemonPublicKey: handle.daemonPublicKey, clientPrivateKey: randomBytesSeeded(32), psk: randomBytesSeeded(32), prologue: buildPrologue(rid, relayHost) }).message1;
  const corpus = [real(), real(), randomBytesSeeded(96)];
  const deadline = Date.now() + 180_000;
  for (let i = 0; i < HANDSHAKES; i++) {
    if (Date.now() > deadline) throw new Error(`handshake fuzz ran out of time after ${i}`);
    const leg = RawLeg.client(handle.relayUrl, rid);
    await leg.waitPaired();
    const r = rand();
    leg.send(r < 0.2 ? randomBytesSeeded(length(65_000)) : r < 0.25 ? real() : mutate(corpus[int(corpus.length)]!, corpus));
    counts.handshake++;
    await leg.waitClosed(15_000); // evicted by the daemon, never left hanging
  }
  await healthy();
}, 300_000);

test("mutated records after a real handshake: every session is ended and evicted", async () => {
  const deadline = Date.now() + 180_000;
  for (let i = 0; i < RECORDS; i++) {
    if (Date.now() > deadline) throw new Error(`record fuzz ran out of time after ${i}`);
    const { leg, channel } = await handshakeAs(share.handle, keyFile);
    await leg.waitBinaries(1); // the hello
    const honest = channel.write(encodeMessage({ type: "list", id: 1 }))[0]!;
    let bad = mutate(honest, [honest, ...leg.binaries]);
    if (Buffer.from(bad).equals(Buffer.from(honest))) bad = new Uint8Array([...honest, 0]);
    leg.send(bad);
    counts.record++;
    await leg.waitClosed(15_000);
  }
  await healthy();
}, 300_000);

test("mutated RPC payloads inside honest records get answers, never a crash or a hang", async () => {
  const te = new TextEncoder();
  const corpus = [
    encodeMessage({ type: "list", id: 7 }),
    encodeMessage({ type: "call", id: 8, verb: "echo.word", params: { word: "fuzz" } }),
    encodeMessage({ type: "cancel", id: 8 }),
    te.encode('{"type":"call","id":4294967295,"verb":"echo.word","params":{"word":"a","x":"y"}}'),
    Uint8Array.of(0x01, 0, 0, 0, 8, 1, 0x41),
  ];
  const deadline = Date.now() + 240_000;
  let barrierId = 0xfffff000;
  while (counts.rpc < RPC_PAYLOADS) {
    const { leg, channel } = await handshakeAs(share.handle, keyFile);
    let barrierSeen = false;
    let expecting = 0;
    const pump = () => {
      for (const f of leg.binaries.splice(0)) {
        const { payloads, out } = channel.receive(f);
        for (const w of out) leg.send(w);
        for (const p of payloads) {
          const m = decodeDaemonMessage(p);
          if (m.type === "verbs" && m.id === expecting) barrierSeen = true;
        }
      }
      return barrierSeen;
    };
    for (let batch = 0; batch < 20 && counts.rpc < RPC_PAYLOADS; batch++) {
      if (Date.now() > deadline) throw new Error(`rpc fuzz ran out of time after ${counts.rpc}`);
      for (let i = 0; i < 200; i++) {
        const p = rand() < 0.1 ? randomBytesSeeded(length(5000)) : mutate(corpus[int(corpus.length)]!, corpus);
        for (const w of channel.write(p)) leg.send(w);
        counts.rpc++;
      }
      // A barrier: the daemon answers in order, so its reply to this list means it took them all.
      expecting = barrierId++;
      barrierSeen = false;
      for (const w of channel.write(encodeMessage({ type: "list", id: expecting }))) leg.send(w);
      await waitFor(pump, "the daemon to answer a fuzz batch", 60_000);
      expect(leg.isOpen).toBe(true);
    }
    leg.close();
  }
  await healthy();
}, 300_000);

test("after the fuzz: ≥100,000 frames sent, the audit chain verifies, a legit call works", async () => {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  expect(total).toBeGreaterThanOrEqual(100_000);
  const r = await waitFor(async () => {
    const x = await vendor.call(share, "echo.word", ["word=survived"]);
    return x.code === 0 ? x : undefined;
  }, "a legit call after the fuzz", 30_000);
  expect(r.stdout).toBe("survived\n");
  expect((await c.openscope(["audit", "--verify"])).code).toBe(0);
  await healthy();
}, 120_000);
