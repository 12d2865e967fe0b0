// The platform's own crypto behind lib/noise's NoiseCrypto interface: node:crypto's X25519
// (KeyObjects), BLAKE2s, SHA-256 and HMAC for handshakes, and WebCrypto's ChaCha20-Poly1305
// (asynchronous, several records in flight at once) for bulk transport records; and a native
// Ed25519 verifier for passports (noble's first verify builds tables: tens of ms in a one-shot
// client, and a noticeable share of each call on the daemon). noble stays the
// reference and the fallback (short records: node:crypto has no ChaCha20-Poly1305):
// OPENSCOPE_CRYPTO=noble runs everything on it, and test/noise checks both agree byte for byte.
import type { KeyObject } from "node:crypto";
import { nodeCrypto } from "./node-crypto.ts";
import { ed25519 } from "@noble/curves/ed25519.js";
import type { SignatureCheck } from "../capability/passport.ts";
import { OpenScopeError } from "../errors.ts";
import { noble, type BulkCipher, type BulkKey, type HashName, type NoiseCrypto, type NoiseHash } from "../noise/crypto.ts";

const CHACHA = "ChaCha20-Poly1305";
const node = nodeCrypto;

/**
 * Below this many plaintext bytes a record stays on noble: one WebCrypto call is a promise and a
 * thread hop (≈ 15 µs here), which noble beats for short records; from about 1 KiB WebCrypto wins.
 */
export const BULK_MIN_BYTES = 1024;

type Bytes = Uint8Array<ArrayBuffer>;

function webCryptoKey(k: Uint8Array): BulkKey {
  // "raw-secret" is WebCrypto's import format for ChaCha20-Poly1305 keys (Bun 1.4).
  const pending = crypto.subtle.importKey("raw-secret" as "raw", k as Bytes, { name: CHACHA }, false, ["encrypt", "decrypt"]);
  let key: CryptoKey | undefined;
  void pending.then((x) => (key = x), () => {});
  const params = (nonce: Uint8Array, ad: Uint8Array) => ({ name: CHACHA, iv: nonce, additionalData: ad }) as Parameters<typeof crypto.subtle.encrypt>[0];
  return {
    async encrypt(nonce, ad, plaintext) {
      return new Uint8Array(await crypto.subtle.encrypt(params(nonce, ad), key ?? (await pending), plaintext as Bytes));
    },
    async decrypt(nonce, ad, ciphertext) {
      return new Uint8Array(await crypto.subtle.decrypt(params(nonce, ad), key ?? (await pending), ciphertext as Bytes));
    },
  };
}

/** WebCrypto ChaCha20-Poly1305 for records of at least `minBytes` (tests pass 0 to force it). */
export function webCryptoBulk(minBytes = BULK_MIN_BYTES): BulkCipher {
  return { minBytes, bind: webCryptoKey };
}

// X25519 keys as DER: the fixed PKCS#8 / SPKI prefixes (RFC 8410) before the 32 raw bytes.
const PKCS8_X25519 = Buffer.from("302e020100300506032b656e04220420", "hex");
const SPKI_X25519 = Buffer.from("302a300506032b656e032100", "hex");

/** Private KeyObjects by key array: the daemon's static key is imported once, not per handshake. */
const privateKeys = new WeakMap<Uint8Array, KeyObject>();

function privateKeyObject(privateKey: Uint8Array): KeyObject {
  let key = privateKeys.get(privateKey);
  if (!key) {
    if (privateKey.length !== 32) throw new Error(`x25519: a private key is 32 bytes, got ${privateKey.length}`);
    key = node().createPrivateKey({ key: Buffer.concat([PKCS8_X25519, privateKey]), format: "der", type: "pkcs8" });
    privateKeys.set(privateKey, key);
  }
  return key;
}

function x25519Public(privateKey: Uint8Array): Uint8Array {
  const spki = node().createPublicKey(privateKeyObject(privateKey)).export({ format: "der", type: "spki" });
  return new Uint8Array(spki.subarray(SPKI_X25519.length));
}

function x25519(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== 32) throw new Error(`x25519: a public key is 32 bytes, got ${publicKey.length}`);
  const peer = node().createPublicKey({ key: Buffer.concat([SPKI_X25519, publicKey]), format: "der", type: "spki" });
  // BoringSSL refuses a low-order point (an all-zero result) itself; the check below keeps the
  // rule independent of that.
  const shared = new Uint8Array(node().diffieHellman({ privateKey: privateKeyObject(privateKey), publicKey: peer }));
  let acc = 0;
  for (const b of shared) acc |= b;
  if (acc === 0) throw new Error("x25519: low-order public key");
  return shared;
}

/** HMAC (RFC 2104) over a node:crypto hash with a 64-byte block; Bun's createHmac lacks BLAKE2s. */
function hmacOver(algorithm: string, key: Uint8Array, data: Uint8Array): Uint8Array {
  const block = new Uint8Array(64);
  block.set(key.length > 64 ? node().createHash(algorithm).update(key).digest() : key);
  const inner = new Uint8Array(64);
  const outer = new Uint8Array(64);
  for (let i = 0; i < 64; i++) {
    inner[i] = block[i]! ^ 0x36;
    outer[i] = block[i]! ^ 0x5c;
  }
  const h = node().createHash(algorithm).update(inner).update(data).digest();
  return new Uint8Array(node().createHash(algorithm).update(outer).update(h).digest());
}

const BLAKE2S: NoiseHash = {
  name: "BLAKE2s",
  hashLen: 32,
  hash: (data) => new Uint8Array(node().createHash("blake2s256").update(data).digest()),
  hmac: (key, data) => hmacOver("blake2s256", key, data),
};

const SHA_256: NoiseHash = {
  name: "SHA256",
  hashLen: 32,
  hash: (data) => new Uint8Array(node().createHash("sha256").update(data).digest()),
  hmac: (key, data) => new Uint8Array(node().createHmac("sha256", key).update(data).digest()),
};

/** The platform suite: node:crypto for handshakes, noble for short records, WebCrypto for bulk ones. */
export const platform: NoiseCrypto = {
  name: "platform",
  publicKey: x25519Public,
  dh: x25519,
  hash: (name: HashName) => (name === "BLAKE2s" ? BLAKE2S : SHA_256),
  encrypt: noble.encrypt,
  decrypt: noble.decrypt,
  bulk: webCryptoBulk(),
};

const SPKI_ED25519 = Buffer.from("302a300506032b6570032100", "hex");
/** Ed25519 public KeyObjects by key bytes: a daemon checks its own key's signature at every call. */
const ed25519Keys = new Map<string, KeyObject>();

/** Ed25519 verification on node:crypto (BoringSSL: RFC 8032, S < L), same answers as noble's strict verify. */
export const platformSignatureCheck: SignatureCheck = (sig, message, publicKey) => {
  if (sig.length !== 64 || publicKey.length !== 32) return false;
  try {
    const id = Buffer.from(publicKey).toString("hex");
    let key = ed25519Keys.get(id);
    if (!key) {
      // noble's strict rule for the key, once per key: canonical encoding, not of small order
      // (BoringSSL alone would accept a trivial signature under a small-order key).
      if (ed25519.Point.fromBytes(publicKey, false).isSmallOrder()) return false;
      key = node().createPublicKey({ key: Buffer.concat([SPKI_ED25519, publicKey]), format: "der", type: "spki" });
      if (ed25519Keys.size >= 64) ed25519Keys.clear();
      ed25519Keys.set(id, key);
    }
    return node().verify(null, message, key, sig);
  } catch {
    return false;
  }
};

/** The passport verifier of the suite: native with the platform suite, noble otherwise. */
export function signatureCheckFor(suite: NoiseCrypto): SignatureCheck | undefined {
  return suite === platform ? platformSignatureCheck : undefined;
}

/** OPENSCOPE_CRYPTO=noble|platform picks the suite (default platform); anything else is a usage error. */
export function cryptoFromEnv(env: Record<string, string | undefined> = process.env): NoiseCrypto {
  const v = env.OPENSCOPE_CRYPTO;
  if (v === undefined || v === "" || v === "platform") return platform;
  if (v === "noble") return noble;
  throw new OpenScopeError("usage", `OPENSCOPE_CRYPTO must be "noble" or "platform", not ${JSON.stringify(v.slice(0, 40))}`);
}
