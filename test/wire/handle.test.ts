// Handle codec: round trip, every single-character change and every truncation detected,
// unknown version refused, bad fields refused at encode time.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { OpenScopeError } from "../../lib/errors.ts";
import { decodeHandle, encodeHandle, type Handle } from "../../lib/wire/handle.ts";

const bytes = (n: number, v: number) => new Uint8Array(n).fill(v);
const bearer: Handle = {
  relayUrl: "wss://relay.example.com/r",
  rid: crypto.getRandomValues(new Uint8Array(16)),
  daemonPublicKey: crypto.getRandomValues(new Uint8Array(32)),
  expiresAt: 1_790_000_000_000,
  secret: { kind: "bearer", psk: crypto.getRandomValues(new Uint8Array(32)) },
};
const sealed: Handle = { ...bearer, relayUrl: "ws://127.0.0.1:8080", rid: bytes(32, 9), secret: { kind: "sealed", sealed: crypto.getRandomValues(new Uint8Array(81)) } };

function errorOf(f: () => unknown): OpenScopeError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(OpenScopeError);
    return e as OpenScopeError;
  }
  throw new Error("expected an error");
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

describe("handle", () => {
  test("round trip, bearer and sealed", () => {
    for (const h of [bearer, sealed]) {
      const text = encodeHandle(h);
      expect(text.startsWith("osh1")).toBe(true);
      expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeHandle(text)).toEqual(h);
      expect(decodeHandle(`  ${text.slice(0, 50)}\n${text.slice(50)}\n`)).toEqual(h); // wrapped by a mailer
    }
  });

  test("property: decode(encode(h)) = h", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.oneof(fc.constant("ws://h:1"), fc.webUrl().map((u) => u.replace(/^https?/, "wss"))),
        fc.option(fc.uint8Array({ minLength: 1, maxLength: 200 })),
        (rid, key, expiresAt, relayUrl, sealedBytes) => {
          const h: Handle = {
            relayUrl,
            rid,
            daemonPublicKey: key,
            expiresAt,
            secret: sealedBytes ? { kind: "sealed", sealed: sealedBytes } : { kind: "bearer", psk: key },
          };
          expect(decodeHandle(encodeHandle(h))).toEqual(h);
        },
      ),
      { numRuns: 200 },
    );
  });

  test("every single-character change is detected", () => {
    for (const h of [bearer, sealed]) {
      const text = encodeHandle(h);
      let checked = 0;
      for (let i = 0; i < text.length; i++) {
        for (const c of ALPHABET) {
          if (c === text[i]) continue;
          const changed = text.slice(0, i) + c + text.slice(i + 1);
          const e = errorOf(() => decodeHandle(changed));
          expect(e.kind).toBe("usage");
          expect(e.message).toMatch(/^handle is damaged|^handle: unsupported version/);
          checked++;
        }
      }
      expect(checked).toBe(text.length * 63);
    }
  });

  test("every truncation, and a dropped or doubled character, is detected", () => {
    const text = encodeHandle(sealed);
    for (let n = 0; n < text.length; n++) {
      const e = errorOf(() => decodeHandle(text.slice(0, n)));
      expect(e.kind).toBe("usage");
      expect(e.message).toStartWith("handle is damaged");
    }
    for (let i = 4; i < text.length; i++) {
      expect(errorOf(() => decodeHandle(text.slice(0, i) + text.slice(i + 1))).message).toStartWith("handle is damaged");
      expect(errorOf(() => decodeHandle(text.slice(0, i) + text[i] + text.slice(i))).message).toStartWith("handle is damaged");
    }
  });

  test("unknown version refused with its own message", () => {
    const text = encodeHandle(bearer);
    for (const v of ["2", "0", "10"]) {
      const e = errorOf(() => decodeHandle(`osh${v}${text.slice(4)}`));
      expect(e.kind).toBe("usage");
      expect(e.message).toBe(`handle: unsupported version ${v}`);
    }
    expect(errorOf(() => decodeHandle("hello")).message).toBe("handle is damaged (it does not start with osh1)");
    expect(errorOf(() => decodeHandle("")).hints[0]).toContain("osh1");
  });

  test("random strings never decode and never throw anything but the usage error", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        expect(errorOf(() => decodeHandle(`osh1${s}`)).kind).toBe("usage");
      }),
    );
  });

  test("encode refuses bad fields", () => {
    for (const bad of [
      { ...bearer, relayUrl: "https://relay.example.com" },
      { ...bearer, rid: bytes(15, 1) },
      { ...bearer, rid: bytes(33, 1) },
      { ...bearer, daemonPublicKey: bytes(31, 1) },
      { ...bearer, expiresAt: -1 },
      { ...bearer, secret: { kind: "bearer" as const, psk: bytes(16, 1) } },
    ])
      expect(errorOf(() => encodeHandle(bad)).message).toStartWith("handle: cannot encode");
  });
});
