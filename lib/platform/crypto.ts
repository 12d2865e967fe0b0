// The platform's own crypto behind lib/noise's NoiseCrypto interface: WebCrypto's
// ChaCha20-Poly1305 (asynchronous, several records in flight at once) for bulk transport records.
// noble stays the reference and the fallback: OPENSCOPE_CRYPTO=noble runs everything on it, and
// test/noise checks both give byte-identical results.
import { OpenScopeError } from "../errors.ts";
import { noble, type BulkCipher, type BulkKey, type NoiseCrypto } from "../noise/crypto.ts";

const CHACHA = "ChaCha20-Poly1305";

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

/** The platform suite: noble's handshake primitives, WebCrypto for bulk records. */
export const platform: NoiseCrypto = { ...noble, name: "platform", bulk: webCryptoBulk() };

/** OPENSCOPE_CRYPTO=noble|platform picks the suite (default platform); anything else is a usage error. */
export function cryptoFromEnv(env: Record<string, string | undefined> = process.env): NoiseCrypto {
  const v = env.OPENSCOPE_CRYPTO;
  if (v === undefined || v === "" || v === "platform") return platform;
  if (v === "noble") return noble;
  throw new OpenScopeError("usage", `OPENSCOPE_CRYPTO must be "noble" or "platform", not ${JSON.stringify(v.slice(0, 40))}`);
}
