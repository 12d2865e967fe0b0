// The sealed session secret of a `--to` share (SPEC.md §9): ephemeral-static X25519, HKDF-SHA256
// with the ephemeral and the recipient key bound into the info, ChaCha20-Poly1305. Only the
// recipient's private key opens it; every failure is the same "sealed to another key" error.
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { x25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { deniedError, usageError } from "../errors.ts";
import { defaultRandom, noble, type NoiseCrypto, type Random } from "../noise/crypto.ts";
import { concat } from "../bytes.ts";

export const SEALED_VERSION = 1;
const INFO = new TextEncoder().encode("openscope sealed secret v1");
const ZERO_NONCE = new Uint8Array(12);
/** version(1) ‖ ephemeral public key(32) ‖ ciphertext with tag(16). */
export const SEALED_OVERHEAD = 1 + 32 + 16;

function deriveKey(shared: Uint8Array, ephemeralPublic: Uint8Array, recipientPublic: Uint8Array): Uint8Array {
  return hkdf(sha256, shared, new Uint8Array(0), concat(INFO, ephemeralPublic, recipientPublic), 32);
}

export function sealToRecipient(recipientPublicKey: Uint8Array, plaintext: Uint8Array, random: Random = defaultRandom): Uint8Array {
  if (recipientPublicKey.length !== 32) throw usageError("key: a recipient public key is 32 bytes");
  const ephemeralPrivate = random(32);
  const ephemeralPublic = x25519.getPublicKey(ephemeralPrivate);
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(ephemeralPrivate, recipientPublicKey);
  } catch {
    throw usageError("key: the recipient public key is not a usable X25519 key");
  }
  // The key is fresh for every seal (new ephemeral), so a zero nonce is safe.
  const key = deriveKey(shared, ephemeralPublic, recipientPublicKey);
  const ct = chacha20poly1305(key, ZERO_NONCE, Uint8Array.of(SEALED_VERSION)).encrypt(plaintext);
  return concat(Uint8Array.of(SEALED_VERSION), ephemeralPublic, ct);
}

/** `suite` supplies X25519 (default noble; the client passes the platform suite, cross-checked in test/noise). */
export function openSealed(recipientPrivateKey: Uint8Array, sealed: Uint8Array, suite: Pick<NoiseCrypto, "publicKey" | "dh"> = noble): Uint8Array {
  try {
    if (sealed.length < SEALED_OVERHEAD || sealed[0] !== SEALED_VERSION) throw new Error("format");
    const ephemeralPublic = sealed.subarray(1, 33);
    const recipientPublic = suite.publicKey(recipientPrivateKey);
    const shared = suite.dh(recipientPrivateKey, ephemeralPublic);
    const key = deriveKey(shared, ephemeralPublic, recipientPublic);
    return chacha20poly1305(key, ZERO_NONCE, Uint8Array.of(SEALED_VERSION)).decrypt(sealed.subarray(33));
  } catch {
    throw deniedError("this handle is sealed to another key", [
      "use --key with the private key whose public key the operator registered",
    ]);
  }
}
