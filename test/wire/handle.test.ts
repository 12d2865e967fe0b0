// Handle codec: round trip, every single-character change and every truncation detected,
// unknown version refused, bad fields refused at encode time, and a handle that passes its
// checksum but breaks a field rule (secret length, relay URL form, expiry) refused at decode.
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import fc from "fast-check";
import { OpenScopeError } from "../../lib/errors.ts";
import { sha256 } from "@noble/hashes/sha2.js";
import { decodeHandle, encodeHandle, type Handle } from "../../lib/wire/handle.ts";
import { concat, toBase64url } from "../../lib/bytes.ts";

const bytes = (n: number, v: number) => new Uint8Array(n).fill(v);
const bearer: Handle = {
  relayUrl: "wss://relay.example.com/r",
  rid: crypto.getRandomValues(new Uint8Array(16)),
  daemonPublicKey: crypto.getRandomValues(new Uint8Array(32)),
  signPublicKey: crypto.getRandomValues(new Uint8Array(32)),
  expiresAt: 1_790_000_000_000,
  secret: { kind: "bearer", psk: crypto.getRandomValues(new Uint8Array(32)) },
};
const sealed: Handle = { ...bearer, relayUrl: "ws://127.0.0.1:8080", rid: bytes(32, 9), secret: { kind: "sealed", sealed: crypto.getRandomValues(new Uint8Array(80)) } };

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
        fc.nat({ max: Number.MAX_SAFE_INTEGER - 1 }),
        fc.constantFrom("ws://h:1", "wss://relay.example.com", "wss://[::1]:8443/a/b", "ws://127.0.0.1:9", "wss://xn--bcher-kva.example/r_1~x"),
        fc.option(fc.uint8Array({ minLength: 80, maxLength: 80 })),
        (rid, key, expiresAt, relayUrl, sealedBytes) => {
          const h: Handle = {
            relayUrl,
            rid,
            daemonPublicKey: key,
            signPublicKey: key.map((b) => b ^ 0xff),
            expiresAt: expiresAt + 1,
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
      { ...bearer, signPublicKey: bytes(33, 1) },
      { ...bearer, expiresAt: -1 },
      { ...bearer, expiresAt: 0 },
      { ...bearer, relayUrl: "wss://relay.example.com/" },
      { ...sealed, secret: { kind: "sealed" as const, sealed: bytes(81, 1) } },
      { ...bearer, secret: { kind: "bearer" as const, psk: bytes(16, 1) } },
    ])
      expect(errorOf(() => encodeHandle(bad)).message).toStartWith("handle: cannot encode");
  });

  // A handle whose checksum is right but whose fields break the rules: what a hostile or broken
  // encoder could send. Built by hand, field by field, as SPEC.md §10 lays them out.
  function craft(f: { kind?: number; expires?: bigint; url?: string; secret?: Uint8Array; rid?: Uint8Array }): string {
    const head = new Uint8Array(9);
    head[0] = f.kind ?? 2;
    new DataView(head.buffer).setBigUint64(1, f.expires ?? 1_790_000_000_000n);
    const rid = f.rid ?? bytes(16, 3);
    const url = new TextEncoder().encode(f.url ?? "wss://relay.example.com");
    const body = concat(head, Uint8Array.of(rid.length), rid, bytes(32, 4), bytes(32, 5), Uint8Array.of(url.length >> 8, url.length & 0xff), url, f.secret ?? bytes(80, 6));
    const sum = sha256(concat(new TextEncoder().encode("openscope handle v1"), body)).subarray(0, 4);
    return `osh1${toBase64url(concat(body, sum))}`;
  }

  test("a crafted handle decodes when every field is right", () => {
    expect(decodeHandle(craft({})).secret).toEqual({ kind: "sealed", sealed: bytes(80, 6) });
    expect(decodeHandle(craft({ kind: 1, secret: bytes(32, 6) })).secret).toEqual({ kind: "bearer", psk: bytes(32, 6) });
  });

  test("a sealed secret of any other length than 80, or a psk other than 32 bytes, is refused at decode", () => {
    for (const n of [0, 3, 32, 49, 79, 81, 200])
      expect(errorOf(() => decodeHandle(craft({ secret: bytes(n, 6) }))).message).toMatch(/^handle is damaged \((sealed secret length|truncated field|too short)\)$/);
    for (const n of [3, 31, 33, 80])
      expect(errorOf(() => decodeHandle(craft({ kind: 1, secret: bytes(n, 6) }))).message).toMatch(/^handle is damaged \((bearer secret length|truncated field|too short)\)$/);
  });

  test("an odd relay URL is refused at decode", () => {
    const odd: [string, RegExp][] = [
      ["wss://user:pw@relay.example.com", /user name or password/],
      ["wss://@relay.example.com", /user name or password/],
      ["wss://relay.example.com/r?x=1", /query/],
      ["wss://relay.example.com/r?", /query/],
      ["wss://relay.example.com/r#frag", /fragment/],
      ["wss://relay.example.com#", /fragment/],
      ["https://relay.example.com", /not ws:\/\/ or wss:\/\//],
      ["wss://Relay.Example.com", /canonical/],
      ["wss://relay.example.com:443", /canonical/],
      ["ws://relay.example.com:80/x", /canonical/],
      ["wss://relay.example.com/", /canonical/],
      ["wss://relay.example.com/a/../b", /canonical|path/],
      ["wss://relay.example.com/a%20b", /path/],
      ["wss://relay.example.com//a", /path/],
      ["wss://bücher.example", /canonical/],
      ["wss://[0:0:0:0:0:0:0:1]", /canonical/],
      ["wss://" + "a".repeat(250) + ".example", /longer than 255 bytes/],
      ["wss:relay.example.com", /canonical/],
      ["", /empty/],
    ];
    for (const [url, why] of odd) {
      const e = errorOf(() => decodeHandle(craft({ url })));
      expect(e.message).toStartWith("handle is damaged (relay URL");
      expect(e.message).toMatch(why);
    }
  });

  test("an expiry of 0 or past 2^53-1, an unknown kind or a bad rid length is refused at decode", () => {
    expect(errorOf(() => decodeHandle(craft({ expires: 0n }))).message).toBe("handle is damaged (expiry out of range)");
    expect(errorOf(() => decodeHandle(craft({ expires: 2n ** 53n }))).message).toBe("handle is damaged (expiry out of range)");
    expect(errorOf(() => decodeHandle(craft({ kind: 3 }))).message).toBe("handle is damaged (unknown secret kind)");
    expect(errorOf(() => decodeHandle(craft({ rid: bytes(15, 1) }))).message).toBe("handle is damaged (rendezvous id length)");
    expect(errorOf(() => decodeHandle(craft({ rid: bytes(33, 1) }))).message).toBe("handle is damaged (rendezvous id length)");
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
    relayUrl: "wss://relay.example.com/some/longer/path",
    rid: bytes(16, 7),
    daemonPublicKey: bytes(32, 8),
    signPublicKey: bytes(32, 11),
    expiresAt: 1_790_000_000_000,
    secret: { kind: "bearer", psk: bytes(32, 9) },
  };
  const fixedSealed: Handle = { ...fixed, secret: { kind: "sealed", sealed: bytes(80, 10) } };
  const b = bodyOf(encodeHandle(fixed));
  const s = bodyOf(encodeHandle(fixedSealed));
  // layout (SPEC.md §10): kind(1) expiry(8) ridLen(1) rid daemonKey(32) signKey(32) urlLen(2) url secret(32 | 80)
  const URL_AT = 1 + 8 + 1 + 16 + 32 + 32;

  test("the reframing itself is faithful: the untouched body decodes", () => {
    expect(decodeHandle(reframe(b))).toEqual(fixed);
    expect(decodeHandle(reframe(s))).toEqual(fixedSealed);
  });
  test("a cut psk or sealed secret is refused by its one length", () => {
    for (const cut of [1, 2, 31]) expect(damage(b.subarray(0, b.length - cut))).toBe("handle is damaged (bearer secret length)");
    for (const cut of [1, 32, 79]) expect(damage(s.subarray(0, s.length - cut))).toBe("handle is damaged (sealed secret length)");
  });
  test("a cut relay URL is a truncated field", () => {
    for (const cut of [33, 37]) expect(damage(b.subarray(0, b.length - cut))).toBe("handle is damaged (truncated field)");
    // the URL length claims more than is left
    expect(damage(edit(b, URL_AT, 0, fixed.relayUrl.length + 33))).toBe("handle is damaged (truncated field)");
  });
  test("one trailing byte after a complete handle is refused", () => {
    expect(damage(Uint8Array.of(...b, 0))).toBe("handle is damaged (bearer secret length)");
    expect(damage(Uint8Array.of(...s, 0xff, 0xff))).toBe("handle is damaged (sealed secret length)");
    // a sealed secret of a bearer's length, or a psk of a sealed secret's, is refused too
    expect(damage(edit(s.subarray(0, s.length - 48), 0, 2))).toBe("handle is damaged (sealed secret length)");
    expect(damage(edit(Uint8Array.of(...b, ...new Uint8Array(48)), 0, 1))).toBe("handle is damaged (bearer secret length)");
  });
  test("each field's own rule, with exact messages", () => {
    expect(damage(edit(b, 0, 0))).toBe("handle is damaged (unknown secret kind)");
    expect(damage(edit(b, 0, 3))).toBe("handle is damaged (unknown secret kind)");
    // expiry: 1 .. 2^53 - 1
    expect(decodeHandle(reframe(edit(b, 1, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))).expiresAt).toBe(Number.MAX_SAFE_INTEGER);
    expect(decodeHandle(reframe(edit(b, 1, 0, 0, 0, 0, 0, 0, 0, 1))).expiresAt).toBe(1);
    expect(damage(edit(b, 1, 0, 0, 0, 0, 0, 0, 0, 0))).toBe("handle is damaged (expiry out of range)");
    expect(damage(edit(b, 1, 0x00, 0x20, 0, 0, 0, 0, 0, 0))).toBe("handle is damaged (expiry out of range)");
    expect(damage(edit(b, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))).toBe("handle is damaged (expiry out of range)");
    expect(damage(edit(b, 9, 15))).toBe("handle is damaged (rendezvous id length)");
    expect(damage(edit(b, 9, 33))).toBe("handle is damaged (rendezvous id length)");
    expect(damage(edit(b, 9, 0))).toBe("handle is damaged (rendezvous id length)");
  });
  test("the relay URL is checked again after decoding", () => {
    const withUrl = (url: string) => {
      const u = new TextEncoder().encode(url);
      return Uint8Array.of(...b.subarray(0, URL_AT), u.length >> 8, u.length & 0xff, ...u, ...b.subarray(b.length - 32));
    };
    expect(decodeHandle(reframe(withUrl("ws://h:1"))).relayUrl).toBe("ws://h:1");
    expect(damage(withUrl("https://relay.example.com"))).toBe("handle is damaged (relay URL is not ws:// or wss://)");
    expect(damage(withUrl("not a url"))).toBe("handle is damaged (relay URL does not parse)");
    expect(damage(withUrl(""))).toBe("handle is damaged (relay URL is empty)");
    const bad = Uint8Array.of(...b.subarray(0, URL_AT), 0, 2, 0xc3, 0x28, ...b.subarray(b.length - 32));
    expect(damage(bad)).toBe("handle is damaged (relay URL is not UTF-8)");
  });
  test("a body shorter than the smallest handle is too short, before any field is read", () => {
    const smallest = 1 + 8 + 1 + 16 + 32 + 32 + 2 + 32;
    expect(damage(b.subarray(0, smallest - 1))).toBe("handle is damaged (too short)");
    expect(damage(b.subarray(0, smallest))).toBe("handle is damaged (truncated field)");
  });
  test("a checksum of the body without the domain, or of another body, is refused", () => {
    const sum = createHash("sha256").update(b).digest().subarray(0, 4);
    expect(errorOf(() => decodeHandle(`osh1${Buffer.concat([b, sum]).toString("base64url")}`)).message).toBe("handle is damaged (checksum mismatch)");
  });
  test("encode refuses the edges the decoder refuses", () => {
    expect(errorOf(() => encodeHandle({ ...fixed, expiresAt: Number.MAX_SAFE_INTEGER + 2 })).message).toStartWith("handle: cannot encode");
    expect(errorOf(() => encodeHandle({ ...fixed, expiresAt: 1.5 })).message).toStartWith("handle: cannot encode");
    expect(errorOf(() => encodeHandle({ ...fixed, expiresAt: 0 })).message).toStartWith("handle: cannot encode");
    for (const n of [0, 79, 81, 1024])
      expect(errorOf(() => encodeHandle({ ...fixed, secret: { kind: "sealed", sealed: new Uint8Array(n) } })).message).toStartWith("handle: cannot encode");
    expect(decodeHandle(encodeHandle({ ...fixed, rid: bytes(32, 1), expiresAt: 1 }))).toMatchObject({ rid: bytes(32, 1), expiresAt: 1 });
    expect(errorOf(() => encodeHandle({ ...fixed, relayUrl: "ws://" + "a".repeat(2048) })).message).toStartWith("handle: cannot encode");
  });
});
