// Heavy tier for the capability core: many more runs of the passport and catalog fuzzers and of
// the sign/verify bit-flip property than the quick tier affords (see test/passport.test.ts).
import { expect, test } from "bun:test";
import { ed25519 } from "@noble/curves/ed25519.js";
import fc from "fast-check";
import { parseCatalog } from "../../lib/capability/catalog.ts";
import { OpenScopeError } from "../../lib/errors.ts";
import { type Passport, decodePassportUnverified, signPassport, verifyPassport } from "../../lib/capability/passport.ts";
import { compilePattern, matchPattern } from "../../lib/capability/pattern.ts";
import { toBase64url } from "../../lib/bytes.ts";

const sk = new Uint8Array(32).fill(7);
const pk = ed25519.getPublicKey(sk);

function typedFailure(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof OpenScopeError)) throw new Error(`untyped error: ${e}`);
    return;
  }
  throw new Error("expected a failure");
}

function signRaw(payload: Uint8Array): string {
  const ctx = new TextEncoder().encode("openscope passport v1\0");
  return `osp1.${toBase64url(payload)}.${toBase64url(ed25519.sign(new Uint8Array([...ctx, ...payload]), sk))}`;
}

const b64 = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map(toBase64url);
const label = fc.stringMatching(/^[a-z][a-z0-9._-]{0,15}$/);
const passportArb: fc.Arbitrary<Passport> = fc
  .record({
    v: fc.constant(1 as const),
    id: b64(16),
    shareId: fc.stringMatching(/^[0-9a-f]{12}$/),
    ridHash: b64(32),
    principal: label,
    daemonKeyId: label,
    recipient: fc.oneof(b64(32).map((k) => ({ kind: "key" as const, publicKey: k })), fc.constant({ kind: "bearer" as const })),
    verbs: fc.dictionary(
      fc.stringMatching(/^[a-z]{1,5}\.[a-z][a-z_]{0,7}$/),
      fc.dictionary(
        fc.stringMatching(/^[a-z_]{1,8}$/),
        fc.oneof(
          fc.uniqueArray(fc.stringMatching(/^[a-z0-9]{1,6}$/), { minLength: 1, maxLength: 4 }).map((vs) => ({ kind: "enum" as const, values: vs.sort() })),
          fc.tuple(fc.integer({ min: -1000, max: 1000 }), fc.nat(5000)).map(([a, d]) => ({ kind: "range" as const, min: a, max: a + d })),
          fc.constant({ kind: "pattern" as const, pattern: "^[a-z]{1,8}$" }),
        ),
        { maxKeys: 3 },
      ),
      { minKeys: 1, maxKeys: 3 },
    ),
    issuedAt: fc.integer({ min: 0, max: 2 ** 45 }),
    expiresAt: fc.constant(0),
    grantId: label,
    grantRevision: fc.nat(),
  })
  .chain((p) => fc.integer({ min: 1, max: 30 * 60_000 }).map((ttl) => ({ ...p, expiresAt: p.issuedAt + ttl })));

test("verify(sign(p)) = p and one flipped bit anywhere fails (10,000 runs)", () => {
  fc.assert(
    fc.property(passportArb, fc.nat(), fc.nat(7), (p, at, bit) => {
      const s = signPassport(p, sk);
      expect(verifyPassport(s, pk)).toEqual(JSON.parse(JSON.stringify(p)));
      const bytes = new TextEncoder().encode(s);
      bytes[at % bytes.length]! ^= 1 << bit;
      typedFailure(() => verifyPassport(new TextDecoder().decode(bytes), pk));
    }),
    { numRuns: 10_000 },
  );
});

test("random bytes, random text and random signed JSON into the passport parser (30,000 runs)", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (b) => typedFailure(() => verifyPassport(new TextDecoder().decode(b), pk))), { numRuns: 10_000 });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (b) => typedFailure(() => verifyPassport(signRaw(b), pk))), { numRuns: 5_000 });
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 5 }), (j) => {
      const s = signRaw(new TextEncoder().encode(JSON.stringify(j)));
      typedFailure(() => verifyPassport(s, pk));
      typedFailure(() => decodePassportUnverified(s));
    }),
    { numRuns: 5_000 },
  );
  fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 300 }), (s) => typedFailure(() => verifyPassport(`osp1.${s}`, pk))), { numRuns: 10_000 });
});

test("random text and structures into the catalog parser (30,000 runs)", () => {
  const outcome = (text: string) => {
    try {
      parseCatalog(text);
    } catch (e) {
      if (!(e instanceof OpenScopeError) || e.kind !== "usage") throw new Error(`untyped error: ${e}`);
    }
  };
  fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 500 }), outcome), { numRuns: 10_000 });
  const toToml = (x: unknown): string =>
    typeof x === "string" ? JSON.stringify(x)
    : typeof x === "number" ? String(Math.trunc(x))
    : typeof x === "boolean" ? String(x)
    : Array.isArray(x) ? `[${x.map(toToml).join(", ")}]`
    : x && typeof x === "object" ? `{ ${Object.entries(x).map(([k, v]) => `${JSON.stringify(k)} = ${toToml(v)}`).join(", ")} }`
    : '""';
  const field = fc.constantFrom("summary", "adapter", "argv", "timeout", "max_output", "params", "host", "user", "port");
  fc.assert(fc.property(fc.dictionary(field, fc.jsonValue({ maxDepth: 3 })), (t) => outcome(`verb."a.b" = ${toToml(t)}\n`)), { numRuns: 10_000 });
  const pattern = fc.string({ unit: fc.constantFrom("^", "$", "[", "]", "(", ")", "?:", "|", "*", "+", "?", "{", "}", ",", "1", "a", "-", "\\", "d", ".", "/", " "), maxLength: 24 });
  fc.assert(
    fc.property(pattern, (p) =>
      outcome(`[verb."a.b"]\nsummary = "s"\nadapter = "exec"\nargv = ["x", "{v}"]\ntimeout = "1s"\nmax_output = "1KiB"\nparams.v = { pattern = ${JSON.stringify(p)} }\n`),
    ),
    { numRuns: 10_000 },
  );
});

test("the pattern engine agrees with RegExp wherever it accepts a source (20,000 runs)", () => {
  const pattern = fc.string({ unit: fc.constantFrom("[", "]", "(", "(?:", ")", "|", "*", "+", "?", "{1,2}", "{2}", "a", "b", "-", "\\d", "\\.", "/", "[a-c]"), maxLength: 12 }).map((b) => `^${b}$`);
  const input = fc.string({ unit: fc.constantFrom("a", "b", "c", "-", "/", ".", "1"), maxLength: 8 });
  fc.assert(
    fc.property(pattern, fc.array(input, { maxLength: 6 }), (src, inputs) => {
      let mine;
      try {
        mine = compilePattern(src);
      } catch (e) {
        expect(e).toBeInstanceOf(OpenScopeError);
        return;
      }
      const js = new RegExp(src);
      for (const s of inputs) expect(`${src} ${s} ${matchPattern(mine, s)}`).toBe(`${src} ${s} ${js.test(s)}`);
    }),
    { numRuns: 20_000 },
  );
});
