// Passports (lib/capability/passport.ts, SPEC.md §5): canonical bytes, Ed25519 signatures, fail-closed
// verification. Properties: verify(sign(p)) = p, and one flipped bit anywhere fails.
import { describe, expect, test } from "bun:test";
import { ed25519 } from "@noble/curves/ed25519.js";
import fc from "fast-check";
import { OpenScopeError } from "../../lib/errors.ts";
import { decodeBase64url, toBase64url } from "../../lib/bytes.ts";
import {
  type Passport,
  buildPassport,
  canonicalPassportBytes,
  decodePassportUnverified,
  signPassport,
  verifyPassport,
} from "../../lib/capability/passport.ts";

const sk = new Uint8Array(32).fill(7);
const pk = ed25519.getPublicKey(sk);
const otherPk = ed25519.getPublicKey(new Uint8Array(32).fill(8));
const NOW = 1_790_000_000_000;

const samplePassport = (over: Partial<Passport> = {}): Passport => ({
  v: 1,
  id: toBase64url(new Uint8Array(16).fill(1)),
  shareId: "0123456789ab",
  ridHash: toBase64url(new Uint8Array(32).fill(2)),
  principal: "you",
  daemonKeyId: "OS1-abcd-efgh",
  recipient: { kind: "key", publicKey: toBase64url(new Uint8Array(32).fill(9)) },
  verbs: {
    "ssh.tail_logs": { service: { kind: "enum", values: ["web"] }, lines: { kind: "range", min: 1, max: 500 } },
    "files.read": { name: { kind: "pattern", pattern: "^[a-z][a-z0-9_-]{0,15}$" } },
  },
  issuedAt: NOW,
  expiresAt: NOW + 30 * 60_000,
  grantId: "g1",
  grantRevision: 3,
  ...over,
});

function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof OpenScopeError)) throw e;
    expect(e.kind).toBe("usage");
    expect(e.message.startsWith("passport: ")).toBe(true);
    return e.message;
  }
  throw new Error("expected verification to fail");
}

/** Signs arbitrary payload bytes the way signPassport does, to build hostile but validly signed passports. */
function signRaw(payload: Uint8Array): string {
  const ctx = new TextEncoder().encode("openscope passport v1\0");
  const msg = new Uint8Array(ctx.length + payload.length);
  msg.set(ctx);
  msg.set(payload, ctx.length);
  return `osp1.${toBase64url(payload)}.${toBase64url(ed25519.sign(msg, sk))}`;
}
const jsonBytes = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));

describe("canonical bytes", () => {
  test("fixed key order, sorted records, no whitespace (vector)", async () => {
    const vec = await Bun.file(`${import.meta.dir}/../vectors/passport.json`).json();
    const p = samplePassport();
    expect(new TextDecoder().decode(canonicalPassportBytes(p))).toBe(vec.canonical);
    // Ed25519 is deterministic, so the whole signed string is a vector too.
    expect(signPassport(p, sk)).toBe(vec.signed);
    expect(toBase64url(pk)).toBe(vec.publicKey);
  });
  test("the key order of the input object does not matter", () => {
    const p = samplePassport();
    const shuffled = JSON.parse(JSON.stringify({ ...p, verbs: { "files.read": p.verbs["files.read"], "ssh.tail_logs": p.verbs["ssh.tail_logs"] } }));
    expect(canonicalPassportBytes(shuffled)).toEqual(canonicalPassportBytes(p));
  });
});

describe("verifyPassport", () => {
  test("round trip, and decodePassportUnverified for display", () => {
    const s = signPassport(samplePassport(), sk);
    expect(verifyPassport(s, pk)).toEqual(samplePassport());
    expect(decodePassportUnverified(s).principal).toBe("you");
  });
  const p = samplePassport();
  const payload = JSON.parse(new TextDecoder().decode(canonicalPassportBytes(p)));
  const cases: [string, () => string, RegExp][] = [
    ["signed by another daemon key", () => signPassport(p, new Uint8Array(32).fill(8)), /signature does not verify/],
    ["tampered signature", () => { const s = signPassport(p, sk); return s.slice(0, -2) + (s.at(-2) === "A" ? "B" : "A") + s.at(-1); }, /signature does not verify|damaged/],
    ["tampered payload", () => { const s = signPassport(p, sk); const i = 10; return s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1); }, /signature does not verify|damaged/],
    ["reordered fields, validly signed", () => signRaw(jsonBytes({ id: payload.id, ...payload })), /not in canonical form/],
    ["whitespace added, validly signed", () => signRaw(new TextEncoder().encode(JSON.stringify(payload, null, 1))), /not in canonical form/],
    ["duplicate key, validly signed", () => signRaw(new TextEncoder().encode(JSON.stringify(payload).replace('"principal":"you"', '"principal":"root","principal":"you"'))), /not in canonical form/],
    ["unknown version 2, validly signed", () => signRaw(jsonBytes({ ...payload, v: 2 })), /unsupported version 2/],
    ["unknown prefix version", () => signPassport(p, sk).replace("osp1.", "osp2."), /unsupported version 2/],
    ["unknown constraint kind, validly signed", () => signRaw(jsonBytes({ ...payload, verbs: { "files.read": { name: { kind: "glob", glob: "*" } } } })), /unknown constraint kind "glob"/],
    ["unknown field, validly signed", () => signRaw(jsonBytes({ ...payload, admin: true })), /admin/],
    ["missing constraint field, validly signed", () => signRaw(jsonBytes({ ...payload, verbs: { "files.read": { name: { kind: "range", min: 1 } } } })), /max/],
    ["unsorted enum, validly signed", () => signRaw(jsonBytes({ ...payload, verbs: { x: { s: { kind: "enum", values: ["web", "api"] } } } })), /sorted and unique/],
    ["unsafe pattern, validly signed", () => signRaw(jsonBytes({ ...payload, verbs: { x: { s: { kind: "pattern", pattern: "^(a)\\1$" } } } })), /not allowed/],
    ["over-30-minute lifetime, validly signed", () => signRaw(jsonBytes({ ...payload, expiresAt: payload.issuedAt + 30 * 60_000 + 1 })), /lifetime over 30 minutes/],
    ["expires before issued, validly signed", () => signRaw(jsonBytes({ ...payload, expiresAt: payload.issuedAt })), /expires before/],
    ["no verbs, validly signed", () => signRaw(jsonBytes({ ...payload, verbs: {} })), /names no verbs/],
    ["short id, validly signed", () => signRaw(jsonBytes({ ...payload, id: "AAAA" })), /id must be base64url of 16 bytes/],
    ["padding in base64url", () => signPassport(p, sk) + "=", /damaged/],
    ["not a passport", () => "hello", /not a passport/],
    ["three parts", () => signPassport(p, sk) + ".x", /damaged/],
    ["not JSON, validly signed", () => signRaw(new Uint8Array([0xff, 0xfe])), /damaged/],
  ];
  for (const [label, make, why] of cases)
    test(label, () => {
      const signed = make();
      expect(failure(() => verifyPassport(signed, pk))).toMatch(why);
    });
  test("the right passport under the wrong daemon key", () => {
    expect(failure(() => verifyPassport(signPassport(p, sk), otherPk))).toBe("passport: signature does not verify");
  });
});

describe("buildPassport", () => {
  const base = { id: samplePassport().id, shareId: "0123456789ab", ridHash: samplePassport().ridHash, principal: "you", daemonKeyId: "fp", recipient: { kind: "bearer" } as const, verbs: samplePassport().verbs, now: NOW, grantId: "g", grantRevision: 0 };
  test("a TTL of exactly 30 minutes is fine", () => expect(buildPassport({ ...base, ttlMs: 30 * 60_000 }).expiresAt).toBe(NOW + 30 * 60_000));
  test("an over-30-minute TTL is a usage error (exit 2)", () => {
    expect(() => buildPassport({ ...base, ttlMs: 30 * 60_000 + 1 })).toThrow("is over the 30m cap");
  });
});

describe("strict base64url", () => {
  test("refuses padding, foreign characters and non-canonical trailing bits", () => {
    expect(decodeBase64url("AQ")).toEqual(new Uint8Array([1]));
    for (const bad of ["AQ==", "A", "AR", "A+", "A/", "A Q"]) expect(decodeBase64url(bad)).toBeUndefined();
  });
});

// ---- properties ----
const b64 = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map(toBase64url);
const label = fc.stringMatching(/^[a-z][a-z0-9._-]{0,15}$/);
const constraintArb = fc.oneof(
  fc.uniqueArray(fc.stringMatching(/^[a-z0-9]{1,6}$/), { minLength: 1, maxLength: 4 }).map((vs) => ({ kind: "enum" as const, values: vs.sort() })),
  fc.tuple(fc.integer({ min: -1000, max: 1000 }), fc.nat(5000)).map(([a, d]) => ({ kind: "range" as const, min: a, max: a + d })),
  fc.constantFrom({ kind: "pattern" as const, pattern: "^[a-z]{1,8}$" }, { kind: "pattern" as const, pattern: "^\\d+$" }),
);
const passportArb: fc.Arbitrary<Passport> = fc.record({
  v: fc.constant(1 as const),
  id: b64(16),
  shareId: fc.stringMatching(/^[0-9a-f]{12}$/),
  ridHash: b64(32),
  principal: label,
  daemonKeyId: label,
  recipient: fc.oneof(b64(32).map((k) => ({ kind: "key" as const, publicKey: k })), fc.constant({ kind: "bearer" as const })),
  verbs: fc.dictionary(fc.stringMatching(/^[a-z]{1,5}\.[a-z][a-z_]{0,7}$/), fc.dictionary(fc.stringMatching(/^[a-z_]{1,8}$/), constraintArb, { maxKeys: 3 }), { minKeys: 1, maxKeys: 3 }),
  issuedAt: fc.integer({ min: 0, max: 2 ** 45 }),
  expiresAt: fc.constant(0),
  grantId: label,
  grantRevision: fc.nat(),
}).chain((p) => fc.integer({ min: 1, max: 30 * 60_000 }).map((ttl) => ({ ...p, expiresAt: p.issuedAt + ttl })));

test("property: verify(sign(p)) = p, and one flipped bit anywhere in the signed string fails (300 runs; 10k in the heavy tier)", () => {
  fc.assert(
    fc.property(passportArb, fc.nat(), fc.nat(7), (p, at, bit) => {
      const s = signPassport(p, sk);
      expect(verifyPassport(s, pk)).toEqual(JSON.parse(JSON.stringify(p)));
      const bytes = new TextEncoder().encode(s);
      bytes[at % bytes.length]! ^= 1 << bit;
      const flipped = new TextDecoder().decode(bytes);
      failure(() => verifyPassport(flipped, pk));
    }),
    { numRuns: 300 },
  );
});

test("property: one flipped bit in the canonical bytes fails even with a well-formed encoding (300 runs)", () => {
  fc.assert(
    fc.property(passportArb, fc.nat(), fc.nat(7), (p, at, bit) => {
      const [, body, sig] = signPassport(p, sk).split(".");
      const payload = decodeBase64url(body!)!;
      payload[at % payload.length]! ^= 1 << bit;
      failure(() => verifyPassport(`osp1.${toBase64url(payload)}.${sig}`, pk));
    }),
    { numRuns: 300 },
  );
});

test("fuzz: random text and random JSON payloads give a typed error (1000 runs each)", () => {
  fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => void failure(() => verifyPassport(s, pk))), { numRuns: 1000 });
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 4 }), (j) => {
      const s = signRaw(jsonBytes(j));
      failure(() => verifyPassport(s, pk));
      failure(() => decodePassportUnverified(s));
    }),
    { numRuns: 1000 },
  );
});

describe("verifyPassport: a key the verifier cannot use (mutation testing, issue 22)", () => {
  // noble throws on these instead of answering false: the throw must count as "does not verify".
  for (const [label, key] of [
    ["31-byte key", new Uint8Array(31)],
    ["33-byte key", new Uint8Array(33).fill(1)],
    ["key that is not a curve point", new Uint8Array(32).fill(0xff)],
  ] as const)
    test(label, () => {
      expect(failure(() => verifyPassport(signPassport(samplePassport(), sk), key))).toBe("passport: signature does not verify");
    });
});

describe("the approval list (SPEC.md §17.2)", () => {
  test("is signed with the passport, kept in canonical order after grantRevision, and absent when empty", () => {
    const p = samplePassport({ approval: ["files.read", "ssh.tail_logs"] });
    const signed = signPassport(p, sk);
    expect(verifyPassport(signed, pk).approval).toEqual(["files.read", "ssh.tail_logs"]);
    const text = new TextDecoder().decode(canonicalPassportBytes(p));
    expect(text.endsWith(',"grantRevision":3,"approval":["files.read","ssh.tail_logs"]}')).toBe(true);
    expect(new TextDecoder().decode(canonicalPassportBytes(samplePassport()))).not.toContain("approval");
  });

  test("cannot be dropped or changed without breaking the signature", () => {
    const signed = signPassport(samplePassport({ approval: ["ssh.tail_logs"] }), sk);
    const [, payload, sig] = signed.split(".");
    const text = new TextDecoder().decode(decodeBase64url(payload!)!);
    const stripped = text.replace(',"approval":["ssh.tail_logs"]', "");
    const forged = `osp1.${toBase64url(new TextEncoder().encode(stripped))}.${sig}`;
    expect(failure(() => verifyPassport(forged, pk))).toContain("signature does not verify");
  });

  test("names only the passport's verbs, sorted, each once, at least one", () => {
    expect(failure(() => signPassport(samplePassport({ approval: ["db.drop"] }), sk))).toContain("approval: db.drop is not one of the passport's verbs");
    expect(failure(() => signPassport(samplePassport({ approval: ["ssh.tail_logs", "files.read"] }), sk))).toContain("sorted");
    expect(failure(() => signPassport(samplePassport({ approval: ["files.read", "files.read"] }), sk))).toContain("sorted");
    expect(failure(() => signPassport(samplePassport({ approval: [] }), sk))).toContain("approval");
  });
});

// SPEC.md §5.2 written out as its own encoder (no JSON.stringify): the canonical bytes of any
// passport, with quotes, backslashes and non-ASCII in its strings, are exactly what these rules
// give, so a second implementation that follows the text produces the same signed bytes.
function specString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (c === 0x08) out += "\\b";
    else if (c === 0x09) out += "\\t";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0c) out += "\\f";
    else if (c === 0x0d) out += "\\r";
    else if (c < 0x20) out += `\\u00${c.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out + '"';
}
function specNumber(n: number): string {
  if (!Number.isSafeInteger(n)) throw new Error("not a safe integer");
  return n === 0 ? "0" : (n < 0 ? "-" : "") + String(Math.abs(n));
}
const obj = (pairs: [string, string][]) => `{${pairs.map(([k, v]) => `${specString(k)}:${v}`).join(",")}}`;
const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
function specConstraint(c: Passport["verbs"][string][string]): string {
  if (c.kind === "enum") return obj([["kind", specString("enum")], ["values", `[${c.values.map(specString).join(",")}]`]]);
  if (c.kind === "range") return obj([["kind", specString("range")], ["min", specNumber(c.min)], ["max", specNumber(c.max)]]);
  return obj([["kind", specString("pattern")], ["pattern", specString(c.pattern)]]);
}
function specCanonical(p: Passport): string {
  const verbs = Object.keys(p.verbs).sort(byCodeUnit).map((v): [string, string] => [
    v,
    obj(Object.keys(p.verbs[v]!).sort(byCodeUnit).map((k): [string, string] => [k, specConstraint(p.verbs[v]![k]!)])),
  ]);
  const recipient = p.recipient.kind === "key" ? obj([["kind", specString("key")], ["publicKey", specString(p.recipient.publicKey)]]) : obj([["kind", specString("bearer")]]);
  const pairs: [string, string][] = [
    ["v", specNumber(p.v)],
    ["id", specString(p.id)],
    ["shareId", specString(p.shareId)],
    ["ridHash", specString(p.ridHash)],
    ["principal", specString(p.principal)],
    ["daemonKeyId", specString(p.daemonKeyId)],
    ["recipient", recipient],
    ["verbs", obj(verbs)],
    ["issuedAt", specNumber(p.issuedAt)],
    ["expiresAt", specNumber(p.expiresAt)],
    ["grantId", specString(p.grantId)],
    ["grantRevision", specNumber(p.grantRevision)],
  ];
  if (p.approval !== undefined) pairs.push(["approval", `[${p.approval.map(specString).join(",")}]`]);
  return obj(pairs);
}

describe("canonical bytes follow SPEC.md §5.2 as written", () => {
  test("the vector", async () => {
    const vec = await Bun.file(`${import.meta.dir}/../vectors/passport.json`).json();
    expect(specCanonical(vec.passport)).toBe(vec.canonical);
  });
  test("strings with quotes, backslashes, slashes and non-ASCII; negative and zero numbers", () => {
    const p = samplePassport({
      principal: 'a"b\\c/d',
      verbs: {
        "x.y": {
          e: { kind: "enum", values: ['"q"', "back\\slash", "bücher", "日本", "😀", "\u007f"].sort(byCodeUnit) },
          r: { kind: "range", min: -5, max: 0 },
          p: { kind: "pattern", pattern: "^\\d+/[a-z]$" },
        },
      },
    });
    expect(new TextDecoder().decode(canonicalPassportBytes(p))).toBe(specCanonical(p));
  });
  test("property: any passport the generator makes (300 runs)", () => {
    fc.assert(
      fc.property(passportArb, (p) => {
        expect(new TextDecoder().decode(canonicalPassportBytes(p))).toBe(specCanonical(p));
      }),
      { numRuns: 300 },
    );
  });
});
