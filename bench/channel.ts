// Channel micro-benchmarks: IKpsk2 handshakes per second and transport MB/s for 64 KiB records
// through Channel (encrypt + decrypt) on both crypto suites (noble, the reference, and the
// platform's: node:crypto handshakes, WebCrypto bulk records), next to the raw primitives for
// scale: noble and WebCrypto ChaCha20-Poly1305, noble and node:crypto X25519. Numbers only;
// nothing here asserts timings. bench/run.ts calls benchChannel.
import { createPublicKey, diffieHellman, generateKeyPairSync } from "node:crypto";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { x25519 } from "@noble/curves/ed25519.js";
import { acceptInitiator, buildPrologue, startInitiator, type Channel } from "../lib/wire/channel.ts";
import { generateX25519 } from "../lib/crypto/keys.ts";
import { noble, type NoiseCrypto } from "../lib/noise/crypto.ts";
import { platform } from "../lib/platform/crypto.ts";

export interface ChannelRow {
  name: string;
  value: number;
  unit: string;
  baseline?: number;
  baselineName?: string;
}

const RECORD = 65_518; // one full Noise message per record

/** Both ends of a fresh session on `suite`. */
function handshake(suite: NoiseCrypto, keys: { daemon: ReturnType<typeof generateX25519>; client: ReturnType<typeof generateX25519>; psk: Uint8Array; prologue: Uint8Array }): { a: Channel; b: Channel } {
  const init = startInitiator({ daemonPublicKey: keys.daemon.publicKey, clientPrivateKey: keys.client.privateKey, psk: keys.psk, prologue: keys.prologue, channel: { crypto: suite } });
  const { message2, channel } = acceptInitiator({ daemonPrivateKey: keys.daemon.privateKey, prologue: keys.prologue, message1: init.message1, channel: { crypto: suite } }).respond(keys.psk);
  return { a: init.finish(message2), b: channel };
}

function perSecond(count: number, f: () => void): number {
  const t = performance.now();
  for (let i = 0; i < count; i++) f();
  return count / ((performance.now() - t) / 1000);
}

/** MB/s of `total` bytes of 64 KiB messages from a to b, both in sink mode (records in flight overlap). */
async function transportMBs(a: Channel, b: Channel, total: number): Promise<number> {
  let delivered = 0;
  let done: () => void = () => {};
  a.attach({ send: (w) => b.take(w), deliver: () => {}, fail: (e) => { throw e; } });
  b.attach({ send: (w) => a.take(w), deliver: (p) => { delivered += p.length; if (delivered >= total) done(); }, fail: (e) => { throw e; } });
  const record = crypto.getRandomValues(new Uint8Array(RECORD));
  const finished = new Promise<void>((r) => (done = r));
  const t = performance.now();
  for (let sent = 0; sent < total; sent += record.length) {
    a.send(record);
    // keep about a window queued: the channel seals what credit allows, the rest waits
    while (a.queuedBytes > 2 << 20) await new Promise<void>((r) => setImmediate(r));
  }
  await finished;
  return delivered / 1e6 / ((performance.now() - t) / 1000);
}

export async function benchChannel(opts: { quick: boolean }): Promise<ChannelRow[]> {
  const keys = { daemon: generateX25519(), client: generateX25519(), psk: crypto.getRandomValues(new Uint8Array(32)), prologue: buildPrologue("YmVuY2gtcmVuZGV6dm91cy1pZA", "127.0.0.1") };
  const hsCount = opts.quick ? 60 : 300;
  const total = (opts.quick ? 32 : 128) << 20;
  for (const suite of [noble, platform]) perSecond(10, () => handshake(suite, keys)); // warm up
  const hsNoble = perSecond(hsCount, () => handshake(noble, keys));
  const hsPlatform = perSecond(hsCount * 5, () => handshake(platform, keys));
  const n = handshake(noble, keys);
  const trNoble = await transportMBs(n.a, n.b, total / 4);
  const p = handshake(platform, keys);
  const trPlatform = await transportMBs(p.a, p.b, total);

  // raw ChaCha20-Poly1305, 64 KiB blocks: noble one at a time; WebCrypto with 8 in flight
  const key = crypto.getRandomValues(new Uint8Array(32));
  const nonce = new Uint8Array(12);
  const block = new Uint8Array(64 * 1024);
  const blocks = total / block.length;
  const rawNoble = (perSecond(blocks / 4, () => chacha20poly1305(key, nonce).encrypt(block)) * block.length) / 1e6;
  const wcKey = await crypto.subtle.importKey("raw-secret" as "raw", key, { name: "ChaCha20-Poly1305" }, false, ["encrypt"]);
  const params = { name: "ChaCha20-Poly1305", iv: nonce } as Parameters<typeof crypto.subtle.encrypt>[0];
  let t = performance.now();
  for (let i = 0; i < blocks; i += 8) await Promise.all(Array.from({ length: 8 }, () => crypto.subtle.encrypt(params, wcKey, block)));
  const rawWebCrypto = (blocks * block.length) / 1e6 / ((performance.now() - t) / 1000);

  // raw X25519: noble, and node:crypto diffieHellman on KeyObjects (the peer key imported each time)
  const a = x25519.utils.randomSecretKey();
  const peer = x25519.getPublicKey(x25519.utils.randomSecretKey());
  const dhNoble = perSecond(opts.quick ? 200 : 1000, () => x25519.getSharedSecret(a, peer));
  const mine = generateKeyPairSync("x25519").privateKey;
  const spki = Buffer.concat([Buffer.from("302a300506032b656e032100", "hex"), peer]);
  const dhNode = perSecond(opts.quick ? 2000 : 10_000, () => diffieHellman({ privateKey: mine, publicKey: createPublicKey({ key: spki, format: "der", type: "spki" }) }));

  return [
    { name: "channel: IKpsk2 handshakes, platform suite (both sides, one thread)", value: Math.round(hsPlatform), unit: "handshakes/s", baseline: Math.round(hsNoble), baselineName: "the same on noble" },
    { name: "channel: transport, 64 KiB records (encrypt+decrypt), platform suite", value: Math.round(trPlatform), unit: "MB/s", baseline: Math.round(trNoble), baselineName: "the same on noble" },
    { name: "raw WebCrypto ChaCha20-Poly1305 encrypt, 64 KiB, 8 in flight", value: Math.round(rawWebCrypto), unit: "MB/s", baseline: Math.round(rawNoble), baselineName: "raw noble ChaCha20-Poly1305" },
    { name: "raw node:crypto X25519 (KeyObjects)", value: Math.round(dhNode), unit: "ops/s", baseline: Math.round(dhNoble), baselineName: "raw noble X25519" },
  ];
}

if (import.meta.main) console.table(await benchChannel({ quick: process.argv.includes("--quick") }));
