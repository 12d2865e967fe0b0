// Sealed session secret: opened only by the right private key; any damage is the same denial.
import { describe, expect, test } from "bun:test";
import { OpenScopeError } from "../../lib/errors.ts";
import { generateX25519 } from "../../lib/crypto/keys.ts";
import { openSealed, SEALED_OVERHEAD, sealToRecipient } from "../../lib/crypto/sealedbox.ts";

const recipient = generateX25519();
const psk = crypto.getRandomValues(new Uint8Array(32));

function denial(f: () => unknown): OpenScopeError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(OpenScopeError);
    return e as OpenScopeError;
  }
  throw new Error("expected a denial");
}

describe("sealed box", () => {
  test("the recipient's private key opens it", () => {
    const sealed = sealToRecipient(recipient.publicKey, psk);
    expect(sealed.length).toBe(32 + SEALED_OVERHEAD);
    expect(openSealed(recipient.privateKey, sealed)).toEqual(psk);
  });

  test("fresh each time: two seals of the same secret differ", () => {
    expect(sealToRecipient(recipient.publicKey, psk)).not.toEqual(sealToRecipient(recipient.publicKey, psk));
  });

  test("another key is denied, with the handle's message", () => {
    const sealed = sealToRecipient(recipient.publicKey, psk);
    const e = denial(() => openSealed(generateX25519().privateKey, sealed));
    expect(e.kind).toBe("denied");
    expect(e.message).toBe("this handle is sealed to another key");
  });

  test("every flipped bit, truncation or extension is denied the same way", () => {
    const sealed = sealToRecipient(recipient.publicKey, psk);
    for (let i = 0; i < sealed.length * 8; i += 3) {
      const bad = sealed.slice();
      bad[i >> 3]! ^= 1 << (i & 7);
      expect(denial(() => openSealed(recipient.privateKey, bad)).message).toBe("this handle is sealed to another key");
    }
    for (let n = 0; n < sealed.length; n += 5)
      expect(denial(() => openSealed(recipient.privateKey, sealed.subarray(0, n))).kind).toBe("denied");
    const longer = new Uint8Array(sealed.length + 1);
    longer.set(sealed);
    expect(denial(() => openSealed(recipient.privateKey, longer)).kind).toBe("denied");
  });

  test("deterministic with injected randomness; a low-order recipient key is refused", () => {
    const r = (n: number) => new Uint8Array(n).fill(5);
    expect(sealToRecipient(recipient.publicKey, psk, r)).toEqual(sealToRecipient(recipient.publicKey, psk, r));
    expect(denial(() => sealToRecipient(new Uint8Array(32), psk)).kind).toBe("usage");
  });
});
