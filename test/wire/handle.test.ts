// Handle codec: round trip, every single-character change and every truncation detected,
// unknown version refused, bad fields refused at encode time.
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
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

// Bodies the checksum accepts but the layout does not: a broken (or hostile) encoder. The
// checksum is recomputed here, independently of lib/wire/handle.ts, so these reach the field
// parser (mutation testing, issue 22: "a truncated field is read past its end" survived).
describe("handle: reframed bodies with a valid checksum", () => {
  const CHECK_DOMAIN = "openscope handle v1";
  const bodyOf = (text: string): Uint8Array => {
    const raw = new Uint8Array(Buffer.from(text.slice(4), "base64url"));
    return raw.subarray(0, raw.length - 4);
  };
  const reframe = (body: Uint8Array): string => {
    const sum = createHash("sha256").update(CHECK_DOMAIN).update(body).digest().subarray(0, 4);
    return `osh1${Buffer.concat([body, sum]).toString("base64url")}`;
  };
  const damage = (body: Uint8Array) => errorOf(() => decodeHandle(reframe(body))).message;
  const edit = (body: Uint8Array, at: number, ...values: number[]) => {
    const b = body.slice();
    b.set(values, at);
    return b;
  };
  const fixed: Handle = {
    relayUrl: "wss://relay.example.com/r",
    rid: bytes(16, 7),
    daemonPublicKey: bytes(32, 8),
    expiresAt: 1_790_000_000_000,
    secret: { kind: "bearer", psk: bytes(32, 9) },
  };
  const fixedSealed: Handle = { ...fixed, secret: { kind: "sealed", sealed: bytes(81, 10) } };
  const b = bodyOf(encodeHandle(fixed));
  const s = bodyOf(encodeHandle(fixedSealed));
  // layout (SPEC.md §10): kind(1) expiry(8) ridLen(1) rid daemonKey(32) urlLen(2) url secret
  const URL_AT = 1 + 8 + 1 + 16 + 32;

  test("the reframing itself is faithful: the untouched body decodes", () => {
    expect(decodeHandle(reframe(b))).toEqual(fixed);
    expect(decodeHandle(reframe(s))).toEqual(fixedSealed);
  });
  test("a cut psk is a truncated field, never a short key", () => {
    for (const cut of [1, 2, 31]) expect(damage(b.subarray(0, b.length - cut))).toBe("handle is damaged (truncated field)");
    expect(damage(b.subarray(0, b.length - 32))).toBe("handle is damaged (truncated field)");
  });
  test("a cut relay URL is a truncated field", () => {
    for (const cut of [33, 37]) expect(damage(b.subarray(0, b.length - cut))).toBe("handle is damaged (truncated field)");
    // the URL length claims one byte more than is left before the psk ends
    expect(damage(edit(b, URL_AT, 0, fixed.relayUrl.length + 33))).toBe("handle is damaged (truncated field)");
  });
  test("a cut sealed secret, or its length past the end, is a truncated field", () => {
    expect(damage(s.subarray(0, s.length - 1))).toBe("handle is damaged (truncated field)");
    expect(damage(s.subarray(0, s.length - 81))).toBe("handle is damaged (truncated field)");
    expect(damage(s.subarray(0, s.length - 82))).toBe("handle is damaged (truncated field)");
    const lenAt = URL_AT + 2 + fixed.relayUrl.length;
    expect(damage(edit(s, lenAt, 0, 82))).toBe("handle is damaged (truncated field)");
  });
  test("one trailing byte after a complete handle is refused", () => {
    for (const body of [b, s]) {
      expect(damage(Uint8Array.of(...body, 0))).toBe("handle is damaged (trailing bytes)");
      expect(damage(Uint8Array.of(...body, 0xff, 0xff))).toBe("handle is damaged (trailing bytes)");
    }
    // a sealed length one short leaves one byte over
    expect(damage(edit(s, URL_AT + 2 + fixed.relayUrl.length, 0, 80))).toBe("handle is damaged (trailing bytes)");
  });
  test("each field's own rule, with exact messages", () => {
    expect(damage(edit(b, 0, 0))).toBe("handle is damaged (unknown secret kind)");
    expect(damage(edit(b, 0, 3))).toBe("handle is damaged (unknown secret kind)");
    // expiry: 2^53 - 1 is the largest that decodes, 2^53 is out of range
    expect(decodeHandle(reframe(edit(b, 1, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))).expiresAt).toBe(Number.MAX_SAFE_INTEGER);
    expect(damage(edit(b, 1, 0x00, 0x20, 0, 0, 0, 0, 0, 0))).toBe("handle is damaged (expiry out of range)");
    expect(damage(edit(b, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))).toBe("handle is damaged (expiry out of range)");
    expect(damage(edit(b, 9, 15))).toBe("handle is damaged (rendezvous id length)");
    expect(damage(edit(b, 9, 33))).toBe("handle is damaged (rendezvous id length)");
    expect(damage(edit(b, 9, 0))).toBe("handle is damaged (rendezvous id length)");
    const sealedLenAt = URL_AT + 2 + fixed.relayUrl.length;
    expect(damage(edit(s, sealedLenAt, 0, 0))).toBe("handle is damaged (sealed secret length)");
    expect(damage(Uint8Array.of(...edit(s, sealedLenAt, 0x04, 0x01), ...new Uint8Array(1025 - 81)))).toBe("handle is damaged (sealed secret length)");
  });
  test("the relay URL is checked again after decoding", () => {
    const withUrl = (url: string) => {
      const u = new TextEncoder().encode(url);
      return Uint8Array.of(...b.subarray(0, URL_AT), u.length >> 8, u.length & 0xff, ...u, ...b.subarray(b.length - 32));
    };
    expect(decodeHandle(reframe(withUrl("ws://h:1"))).relayUrl).toBe("ws://h:1");
    expect(damage(withUrl("https://relay.example.com"))).toBe("handle is damaged (relay URL is not ws:// or wss://)");
    expect(damage(withUrl("not a url"))).toBe("handle is damaged (relay URL does not parse)");
    expect(damage(withUrl(""))).toBe("handle is damaged (relay URL length)");
    const bad = Uint8Array.of(...b.subarray(0, URL_AT), 0, 2, 0xc3, 0x28, ...b.subarray(b.length - 32));
    expect(damage(bad)).toBe("handle is damaged (relay URL is not UTF-8)");
  });
  test("a body shorter than the smallest handle is too short, before any field is read", () => {
    expect(damage(b.subarray(0, 1 + 8 + 1 + 16 + 32 + 2 - 1))).toBe("handle is damaged (too short)");
    expect(damage(b.subarray(0, 1 + 8 + 1 + 16 + 32 + 2))).toBe("handle is damaged (truncated field)");
  });
  test("a checksum of the body without the domain, or of another body, is refused", () => {
    const sum = createHash("sha256").update(b).digest().subarray(0, 4);
    expect(errorOf(() => decodeHandle(`osh1${Buffer.concat([b, sum]).toString("base64url")}`)).message).toBe("handle is damaged (checksum mismatch)");
  });
  test("encode refuses the edges the decoder refuses", () => {
    expect(errorOf(() => encodeHandle({ ...fixed, expiresAt: Number.MAX_SAFE_INTEGER + 2 })).message).toStartWith("handle: cannot encode");
    expect(errorOf(() => encodeHandle({ ...fixed, expiresAt: 1.5 })).message).toStartWith("handle: cannot encode");
    expect(errorOf(() => encodeHandle({ ...fixed, secret: { kind: "sealed", sealed: new Uint8Array(0) } })).message).toStartWith("handle: cannot encode");
    expect(errorOf(() => encodeHandle({ ...fixed, secret: { kind: "sealed", sealed: new Uint8Array(1025) } })).message).toStartWith("handle: cannot encode");
    expect(decodeHandle(encodeHandle({ ...fixed, secret: { kind: "sealed", sealed: new Uint8Array(1024) } })).secret).toEqual({ kind: "sealed", sealed: new Uint8Array(1024) });
    expect(decodeHandle(encodeHandle({ ...fixed, rid: bytes(32, 1), expiresAt: 0 }))).toMatchObject({ rid: bytes(32, 1), expiresAt: 0 });
    expect(errorOf(() => encodeHandle({ ...fixed, relayUrl: "ws://" + "a".repeat(2048) })).message).toStartWith("handle: cannot encode");
  });
});
