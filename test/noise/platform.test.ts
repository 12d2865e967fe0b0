// The platform suite (lib/platform/crypto.ts) against the noble reference: byte-identical records
// for random keys, nonces, associated data and lengths up to a full Noise message, each side
// opening the other's records, a flipped bit refused by both, and OPENSCOPE_CRYPTO parsing.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { CipherState } from "../../lib/noise/cipher-state.ts";
import { chachaNonce, MAX_MESSAGE_LEN, noble, TAGLEN } from "../../lib/noise/crypto.ts";
import { cryptoFromEnv, platform, webCryptoBulk } from "../../lib/platform/crypto.ts";
import { OpenScopeError } from "../../lib/errors.ts";

const MAX_PLAINTEXT = MAX_MESSAGE_LEN - TAGLEN; // 65,519
const bulk = webCryptoBulk(0);
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe("platform bulk cipher vs noble", () => {
  test("property: identical records for random keys, nonces, AD and lengths 0..65,519; each opens the other's", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.oneof(fc.nat(1000), fc.nat({ max: Number.MAX_SAFE_INTEGER })),
        fc.uint8Array({ maxLength: 64 }),
        fc.oneof(fc.integer({ min: 0, max: 2048 }), fc.integer({ min: 0, max: MAX_PLAINTEXT }), fc.constant(MAX_PLAINTEXT)),
        fc.integer(),
        async (key, n, ad, length, seed) => {
          const plaintext = new Uint8Array(length);
          for (let i = 0; i < length; i++) plaintext[i] = (seed + i * 131) & 0xff;
          const bound = bulk.bind(key);
          const ref = noble.encrypt(key, n, ad, plaintext);
          const fast = await bound.encrypt(chachaNonce(n), ad, plaintext);
          expect(same(fast, ref)).toBe(true);
          expect(same(await bound.decrypt(chachaNonce(n), ad, ref), plaintext)).toBe(true);
          expect(same(noble.decrypt(key, n, ad, fast), plaintext)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  test("a flipped bit in the ciphertext, tag or AD is refused by both", async () => {
    const key = crypto.getRandomValues(new Uint8Array(32));
    const ad = Uint8Array.of(1, 2, 3);
    const ct = noble.encrypt(key, 7, ad, new Uint8Array(5000).fill(9));
    const bound = bulk.bind(key);
    for (const pos of [0, 2500, ct.length - 1]) {
      const bad = ct.slice();
      bad[pos]! ^= 1;
      expect(() => noble.decrypt(key, 7, ad, bad)).toThrow();
      await expect(bound.decrypt(chachaNonce(7), ad, bad)).rejects.toThrow();
    }
    await expect(bound.decrypt(chachaNonce(7), Uint8Array.of(1, 2, 4), ct)).rejects.toThrow();
    await expect(bound.decrypt(chachaNonce(8), ad, ct)).rejects.toThrow();
  });

  test("CipherState.sealRecord: bulk-sized records are promises, short ones immediate, nonces in call order", async () => {
    const key = crypto.getRandomValues(new Uint8Array(32));
    const fast = new CipherState(key, undefined, platform);
    const ref = new CipherState(key);
    const sizes = [10, 5000, 0, 65_519, 1023, 1024, 3];
    const sealed = sizes.map((n) => fast.sealRecord(new Uint8Array(0), new Uint8Array(n).fill(n & 0xff)));
    sizes.forEach((n, i) => expect(sealed[i] instanceof Promise).toBe(n >= platform.bulk!.minBytes));
    for (const [i, n] of sizes.entries()) expect(same(await sealed[i]!, ref.encryptWithAd(new Uint8Array(0), new Uint8Array(n).fill(n & 0xff)))).toBe(true);
    expect(fast.nonce).toBe(sizes.length);
  });
});

describe("OPENSCOPE_CRYPTO", () => {
  test("noble, platform, unset; anything else is a usage error", () => {
    expect(cryptoFromEnv({}).name).toBe("platform");
    expect(cryptoFromEnv({ OPENSCOPE_CRYPTO: "platform" }).name).toBe("platform");
    expect(cryptoFromEnv({ OPENSCOPE_CRYPTO: "noble" }).name).toBe("noble");
    let err: unknown;
    try {
      cryptoFromEnv({ OPENSCOPE_CRYPTO: "openssl" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OpenScopeError);
    expect((err as OpenScopeError).kind).toBe("usage");
  });
});
