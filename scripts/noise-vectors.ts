// Runs Noise test vectors (cacophony JSON format, also snow's and noise-c's) against lib/noise:
// every handshake and transport ciphertext, decrypted payloads and the handshake hash, on both
// crypto suites (noble, the reference, and the platform's; its transport messages all go through
// the asynchronous bulk cipher). Usage: bun run noise-vectors [FILE]; prints "N passed, M failed,
// K skipped" per suite, exits 1 on any failure.
import { resolve } from "node:path";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import type { CipherState } from "../lib/noise/cipher-state.ts";
import { noble, type NoiseCrypto } from "../lib/noise/crypto.ts";
import { platform, webCryptoBulk } from "../lib/platform/crypto.ts";
import { HandshakeState } from "../lib/noise/handshake-state.ts";
import { parseProtocolName } from "../lib/noise/patterns.ts";

export const DEFAULT_VECTORS = resolve(import.meta.dir, "..", "test", "vectors", "noise-25519-chachapoly.json");

interface Vector {
  protocol_name?: string;
  name?: string;
  init_prologue: string;
  init_psks?: string[];
  init_static?: string;
  init_ephemeral?: string;
  init_remote_static?: string;
  resp_prologue: string;
  resp_psks?: string[];
  resp_static?: string;
  resp_ephemeral?: string;
  resp_remote_static?: string;
  handshake_hash?: string;
  messages: { payload: string; ciphertext: string }[];
}

export type VectorOutcome = { name: string; result: "passed" } | { name: string; result: "skipped" } | { name: string; result: "failed"; reason: string };

/** The suites every vector runs on; the platform one seals every transport message in bulk. */
export const SUITES: readonly NoiseCrypto[] = [noble, { ...platform, bulk: webCryptoBulk(0) }];

const hex = (s: string | undefined) => (s === undefined ? undefined : hexToBytes(s));

/** Runs one vector on one suite; never rejects. */
export async function runVector(v: Vector, suite: NoiseCrypto = noble): Promise<VectorOutcome> {
  const name = v.protocol_name ?? v.name ?? "(unnamed)";
  const protocol = parseProtocolName(name);
  if (!protocol) return { name, result: "skipped" };
  try {
    const init = new HandshakeState({
      protocolName: name,
      initiator: true,
      prologue: hexToBytes(v.init_prologue),
      s: hex(v.init_static),
      e: hex(v.init_ephemeral),
      rs: hex(v.init_remote_static),
      psks: v.init_psks?.map(hexToBytes),
      crypto: suite,
    });
    const resp = new HandshakeState({
      protocolName: name,
      initiator: false,
      prologue: hexToBytes(v.resp_prologue),
      s: hex(v.resp_static),
      e: hex(v.resp_ephemeral),
      rs: hex(v.resp_remote_static),
      psks: v.resp_psks?.map(hexToBytes),
      crypto: suite,
    });
    let transport: { i2r: [CipherState, CipherState]; r2i: [CipherState, CipherState] } | undefined;
    for (const [i, m] of v.messages.entries()) {
      const fromInitiator = protocol.pattern.oneWay || i % 2 === 0;
      const payload = hexToBytes(m.payload);
      let ct: Uint8Array;
      let pt: Uint8Array;
      if (!transport) {
        const [w, r] = fromInitiator ? [init, resp] : [resp, init];
        ct = w.writeMessage(payload);
        pt = r.readMessage(ct);
        if (init.isFinished !== resp.isFinished) throw new Error(`message ${i}: sides disagree on the end of the handshake`);
        if (init.isFinished) {
          if (bytesToHex(init.handshakeHash) !== bytesToHex(resp.handshakeHash)) throw new Error("handshake hashes differ");
          if (v.handshake_hash && bytesToHex(init.handshakeHash) !== v.handshake_hash.toLowerCase())
            throw new Error("handshake hash mismatch");
          const [ic1, ic2] = init.split();
          const [rc1, rc2] = resp.split();
          // i2r: [initiator's sender, responder's receiver]; r2i the reverse.
          transport = { i2r: [ic1, rc1], r2i: [rc2, ic2] };
        }
      } else {
        const [send, recv] = fromInitiator ? transport.i2r : transport.r2i;
        ct = await send.sealRecord(new Uint8Array(0), payload);
        pt = await recv.openRecord(new Uint8Array(0), ct);
      }
      if (bytesToHex(ct) !== m.ciphertext.toLowerCase()) throw new Error(`message ${i}: ciphertext mismatch`);
      if (bytesToHex(pt) !== bytesToHex(payload)) throw new Error(`message ${i}: payload mismatch`);
    }
    if (!transport && v.messages.length > 0) throw new Error("handshake did not finish");
    return { name, result: "passed" };
  } catch (e) {
    return { name, result: "failed", reason: e instanceof Error ? e.message : String(e) };
  }
}

export async function runVectorFile(path: string, suite: NoiseCrypto = noble): Promise<VectorOutcome[]> {
  const data = (await Bun.file(path).json()) as { vectors?: Vector[] } | Vector[];
  const vectors = Array.isArray(data) ? data : (data.vectors ?? []);
  return Promise.all(vectors.map((v) => runVector(v, suite)));
}

if (import.meta.main) {
  const file = process.argv[2] ? resolve(process.argv[2]) : DEFAULT_VECTORS;
  let failed = 0;
  for (const suite of SUITES) {
    let outcomes: VectorOutcome[];
    try {
      outcomes = await runVectorFile(file, suite);
    } catch (e) {
      console.error(`noise-vectors: error: cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(2);
    }
    const count = (r: VectorOutcome["result"]) => outcomes.filter((o) => o.result === r).length;
    for (const o of outcomes) if (o.result === "failed") console.error(`FAIL [${suite.name}] ${o.name}: ${o.reason}`);
    console.log(`${file}: ${outcomes.length} vectors on ${suite.name}`);
    console.log(`${suite.name}: ${count("passed")} passed, ${count("failed")} failed, ${count("skipped")} skipped`);
    failed += count("failed");
  }
  process.exit(failed > 0 ? 1 : 0);
}
