// The platform suite (lib/platform/crypto.ts) against the noble reference: byte-identical records
// for random keys, nonces, associated data and lengths up to a full Noise message, each side
// opening the other's records, a flipped bit refused by both; X25519, hashes, HMAC and HKDF equal
// on random inputs, low-order points refused on both; and OPENSCOPE_CRYPTO parsing.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { CipherState } from "../../lib/noise/cipher-state.ts";
import { HandshakeState } from "../../lib/noise/handshake-state.ts";
import { chachaNonce, hkdf, MAX_MESSAGE_LEN, noble, TAGLEN } from "../../lib/noise/crypto.ts";
import { cryptoFromEnv, platform, platformSignatureCheck, webCryptoBulk } from "../../lib/platform/crypto.ts";
import { nobleSignatureCheck } from "../../lib/capability/passport.ts";
import { openSealed, sealToRecipient } from "../../lib/crypto/sealedbox.ts";
import { ed25519 } from "@noble/curves/ed25519.js";
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

const hexKey = (h: string) => Uint8Array.from(Buffer.from(h, "hex"));
// Curve25519 points of small order (0, 1, the two of order 8, p-1, p, p+1) and the same with the
// top bit set (which X25519 ignores): DH with any of them gives the all-zero secret.
const LOW_ORDER = [
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
  "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "0000000000000000000000000000000000000000000000000000000000000080",
  "0100000000000000000000000000000000000000000000000000000000000080",
  "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880",
];

/** The outcome of f: its bytes in hex, or "throws". */
function outcome(f: () => Uint8Array): string {
  try {
    return Buffer.from(f()).toString("hex");
  } catch {
    return "throws";
  }
}

describe("platform handshake primitives vs noble", () => {
  test("property: public keys and DH agree for random private keys and random 32-byte public values", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (priv, pub) => {
        expect(same(platform.publicKey(priv), noble.publicKey(priv))).toBe(true);
        expect(outcome(() => platform.dh(priv, pub))).toBe(outcome(() => noble.dh(priv, pub)));
        const peer = noble.publicKey(pub); // a real public key too
        expect(same(platform.dh(priv, peer), noble.dh(priv, peer))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  test("low-order public keys are refused on both (an all-zero secret)", () => {
    const priv = crypto.getRandomValues(new Uint8Array(32));
    for (const h of LOW_ORDER) {
      expect(() => noble.dh(priv, hexKey(h))).toThrow();
      expect(() => platform.dh(priv, hexKey(h))).toThrow();
    }
  });

  test("a handshake on the platform suite refuses a low-order ephemeral at its DH, before any decryption", () => {
    for (const h of LOW_ORDER) {
      const hs = new HandshakeState({ protocolName: "Noise_IK_25519_ChaChaPoly_BLAKE2s", initiator: false, prologue: new Uint8Array(0), s: new Uint8Array(32).fill(4), crypto: platform });
      const message1 = new Uint8Array(32 + 48 + 16);
      message1.set(hexKey(h));
      expect(() => hs.readMessage(message1)).toThrow(/diffieHellman|low-order/);
    }
  });

  test("a sealed session secret (SPEC.md §9) opens the same on the platform suite", () => {
    const recipient = crypto.getRandomValues(new Uint8Array(32));
    const secret = crypto.getRandomValues(new Uint8Array(32));
    const context = new TextEncoder().encode("a handle's context");
    const sealed = sealToRecipient(noble.publicKey(recipient), secret, context);
    expect(same(openSealed(recipient, sealed, context, platform), secret)).toBe(true);
    expect(() => openSealed(crypto.getRandomValues(new Uint8Array(32)), sealed, context, platform)).toThrow(/sealed to another key/);
  });

  test("a key of the wrong length is refused", () => {
    expect(() => platform.dh(new Uint8Array(31), new Uint8Array(32).fill(9))).toThrow();
    expect(() => platform.dh(new Uint8Array(32).fill(1), new Uint8Array(33).fill(9))).toThrow();
  });

  test("property: BLAKE2s, SHA-256, their HMACs and the Noise HKDF agree (keys shorter and longer than a block)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 300 }), (key, data) => {
        for (const name of ["BLAKE2s", "SHA256"] as const) {
          const a = platform.hash(name);
          const b = noble.hash(name);
          expect(same(a.hash(data), b.hash(data))).toBe(true);
          expect(same(a.hmac(key, data), b.hmac(key, data))).toBe(true);
          const ck = b.hash(key);
          const x = hkdf(a, ck, data, 3);
          const y = hkdf(b, ck, data, 3);
          for (let i = 0; i < 3; i++) expect(same(x[i]!, y[i]!)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("platform Ed25519 passport verifier vs noble (strict RFC 8032)", () => {
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;
  const le = (x: bigint) => {
    const b = new Uint8Array(32);
    for (let i = 0; i < 32; i++, x >>= 8n) b[i] = Number(x & 255n);
    return b;
  };
  const fromLe = (b: Uint8Array) => b.reduceRight((x, v) => (x << 8n) | BigInt(v), 0n);
  const agree = (sig: Uint8Array, msg: Uint8Array, key: Uint8Array) => {
    const ref = nobleSignatureCheck(sig, msg, key);
    expect(platformSignatureCheck(sig, msg, key)).toBe(ref);
    return ref;
  };

  test("property: same answer for valid, bit-flipped, S+L and wrong-key signatures", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), fc.nat(511), (sk, msg, bit) => {
        const pk = ed25519.getPublicKey(sk);
        const sig = ed25519.sign(msg, sk);
        expect(agree(sig, msg, pk)).toBe(true);
        const flipped = sig.slice();
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        expect(agree(flipped, msg, pk)).toBe(false);
        const malleated = sig.slice();
        malleated.set(le(fromLe(sig.subarray(32)) + L), 32); // the same S, not reduced: refused
        expect(agree(malleated, msg, pk)).toBe(false);
        agree(sig, msg, ed25519.getPublicKey(sk.map((x) => x ^ 1)));
        agree(sig, msg, sk); // 32 random bytes as a key
      }),
      { numRuns: 200 },
    );
  });

  test("small-order and non-canonical keys are refused by both, even with a trivially valid signature", () => {
    const P = 2n ** 255n - 19n;
    const trivial = new Uint8Array(64);
    trivial.set(le(1n)); // R = identity, S = 0
    for (const y of [1n, P - 1n, 0n, P, P + 1n, 2n ** 255n - 1n]) {
      for (const msg of [new Uint8Array(0), Uint8Array.of(1, 2, 3)]) expect(agree(trivial, msg, le(y))).toBe(false);
    }
  });

  test("wrong lengths are refused without throwing", () => {
    expect(platformSignatureCheck(new Uint8Array(63), new Uint8Array(1), new Uint8Array(32))).toBe(false);
    expect(platformSignatureCheck(new Uint8Array(64), new Uint8Array(1), new Uint8Array(31))).toBe(false);
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
