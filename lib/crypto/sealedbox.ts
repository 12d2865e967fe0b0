// The sealed session secret of a `--to` share (SPEC.md §9): HPKE base mode (RFC 9180,
// DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305) to the recipient's X25519 key, with
// the handle's own fields bound into `info`, so a sealed secret opens only in the handle it was
// made for. Exactly one valid length; every failure is the same "sealed to another key" error.
import { deniedError, usageError } from "../errors.ts";
import { defaultRandom, noble, type NoiseCrypto, type Random } from "../noise/crypto.ts";
import { concat } from "../bytes.ts";
import { HPKE_NENC, HPKE_NT, openBase, sealBase } from "./hpke.ts";

/** The label in front of the handle context in HPKE's `info` (SPEC.md §9). */
const INFO_LABEL = new TextEncoder().encode("openscope handle v1");
const EMPTY = new Uint8Array(0);
/** The session secret (the Noise psk) is exactly 32 bytes. */
export const SEALED_PLAINTEXT_LEN = 32;
/** enc (32) ‖ ciphertext of the 32-byte psk with its tag (48): the one valid length. */
export const SEALED_SECRET_LEN = HPKE_NENC + SEALED_PLAINTEXT_LEN + HPKE_NT;

/** HPKE info: "openscope handle v1" ‖ 0x00 ‖ the handle context (SPEC.md §9, §10). */
function infoFor(handleContext: Uint8Array): Uint8Array {
  return concat(INFO_LABEL, Uint8Array.of(0), handleContext);
}

/** Seals the 32-byte psk to the recipient, bound to `handleContext` (lib/wire/handle.ts sealContext). */
export function sealToRecipient(recipientPublicKey: Uint8Array, psk: Uint8Array, handleContext: Uint8Array, random: Random = defaultRandom): Uint8Array {
  if (recipientPublicKey.length !== 32) throw usageError("key: a recipient public key is 32 bytes");
  if (psk.length !== SEALED_PLAINTEXT_LEN) throw usageError(`sealed secret: the psk is ${SEALED_PLAINTEXT_LEN} bytes`);
  let sealed: { enc: Uint8Array; ct: Uint8Array };
  try {
    sealed = sealBase(recipientPublicKey, infoFor(handleContext), EMPTY, psk, random);
  } catch {
    throw usageError("key: the recipient public key is not a usable X25519 key");
  }
  return concat(sealed.enc, sealed.ct);
}

/**
 * Opens a sealed psk with the recipient's private key, in the context of the handle it came in.
 * `suite` supplies X25519 (default noble; the client passes the platform suite, cross-checked in test/noise).
 */
export function openSealed(recipientPrivateKey: Uint8Array, sealed: Uint8Array, handleContext: Uint8Array, suite: Pick<NoiseCrypto, "publicKey" | "dh"> = noble): Uint8Array {
  try {
    if (sealed.length !== SEALED_SECRET_LEN) throw new Error("length");
    const psk = openBase(sealed.subarray(0, HPKE_NENC), recipientPrivateKey, infoFor(handleContext), EMPTY, sealed.subarray(HPKE_NENC), suite);
    if (psk.length !== SEALED_PLAINTEXT_LEN) throw new Error("length");
    return psk;
  } catch {
    throw deniedError("this handle is sealed to another key", [
      "use --key with the private key whose public key the operator registered",
    ]);
  }
}
