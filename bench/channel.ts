// Channel micro-benchmark (issue 4): IKpsk2 handshakes per second, transport MB/s for 64 KiB
// records through Channel (encrypt + decrypt), and raw noble ChaCha20-Poly1305 MB/s for scale.
// Numbers only; nothing here asserts timings. bench/run.ts calls benchChannel.
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { acceptInitiator, buildPrologue, startInitiator } from "../lib/wire/channel.ts";
import { generateX25519 } from "../lib/crypto/keys.ts";

export async function benchChannel(opts: { quick: boolean }): Promise<Array<{ name: string; value: number; unit: string }>> {
  const daemon = generateX25519();
  const client = generateX25519();
  const psk = crypto.getRandomValues(new Uint8Array(32));
  const prologue = buildPrologue("YmVuY2gtcmVuZGV6dm91cy1pZA", "127.0.0.1");
  const handshake = () => {
    const init = startInitiator({ daemonPublicKey: daemon.publicKey, clientPrivateKey: client.privateKey, psk, prologue });
    const { message2, channel } = acceptInitiator({ daemonPrivateKey: daemon.privateKey, prologue, message1: init.message1 }).respond(psk);
    return { a: init.finish(message2), b: channel };
  };

  const hsCount = opts.quick ? 30 : 300;
  let t = performance.now();
  for (let i = 0; i < hsCount; i++) handshake();
  const handshakesPerSec = hsCount / ((performance.now() - t) / 1000);

  const record = crypto.getRandomValues(new Uint8Array(65_518)); // one full Noise message each
  const total = (opts.quick ? 8 : 64) << 20;
  const { a, b } = handshake();
  t = performance.now();
  let moved = 0;
  while (moved < total) {
    for (const w of a.write(record)) for (const g of b.receive(w).out) a.receive(g);
    moved += record.length;
  }
  const transportMBs = moved / 1e6 / ((performance.now() - t) / 1000);

  const key = crypto.getRandomValues(new Uint8Array(32));
  const nonce = new Uint8Array(12);
  const block = new Uint8Array(64 * 1024);
  t = performance.now();
  let raw = 0;
  while (raw < total) {
    chacha20poly1305(key, nonce).encrypt(block);
    raw += block.length;
  }
  const rawMBs = raw / 1e6 / ((performance.now() - t) / 1000);

  return [
    { name: "channel: IKpsk2 handshakes (both sides, one thread)", value: Math.round(handshakesPerSec), unit: "handshakes/s" },
    { name: "channel: transport, 64 KiB records (encrypt+decrypt)", value: Math.round(transportMBs), unit: "MB/s" },
    { name: "noble ChaCha20-Poly1305 encrypt, 64 KiB", value: Math.round(rawMBs), unit: "MB/s" },
  ];
}

if (import.meta.main) console.table(await benchChannel({ quick: process.argv.includes("--quick") }));
