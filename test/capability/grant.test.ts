// Grants and attenuation (lib/capability/grant.ts, SPEC.md §4): grant add from specs, merge, and attenuate,
// which can only narrow; properties over random specs show it never widens.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { parseCatalog } from "../../lib/capability/catalog.ts";
import { admits, isSubset } from "../../lib/capability/constraint.ts";
import { OpenScopeError } from "../../lib/errors.ts";
import { type GrantVerbs, attenuate, grantVerbsFromSpecs, mergeGrantVerbs } from "../../lib/capability/grant.ts";
import { parseVerbSpec } from "../../lib/capability/verbspec.ts";

const catalog = parseCatalog(await Bun.file(`${import.meta.dir}/../vectors/capability-catalog.toml`).text());
const specs = (...texts: string[]) => texts.map(parseVerbSpec);

function thrown(fn: () => unknown): OpenScopeError {
  try {
    fn();
  } catch (e) {
    if (e instanceof OpenScopeError) return e;
    throw e;
  }
  throw new Error("expected an OpenScopeError");
}

describe("grantVerbsFromSpecs (grant add)", () => {
  test("open parameters copy the catalog constraint; pins narrow", () => {
    expect(grantVerbsFromSpecs(catalog, specs("ssh.tail_logs:service=web|api", "sys.uptime"))).toEqual({
      "ssh.tail_logs": { lines: { kind: "range", min: 1, max: 5000 }, service: { kind: "enum", values: ["api", "web"] } },
      "sys.uptime": {},
    });
  });
  const bad: [string, string[], string][] = [
    ["unknown verb", ["ssh.nope"], "--verb: unknown verb ssh.nope"],
    ["unknown parameter", ["ssh.tail_logs:colour=red"], "ssh.tail_logs: unknown parameter colour"],
    ["value outside the catalog", ["ssh.tail_logs:service=mail"], "ssh.tail_logs: service=mail is not in the catalog (allowed: api, db, web, worker)"],
    ["range outside the catalog", ["ssh.tail_logs:lines=0..10"], "ssh.tail_logs: lines=0..10 is not in the catalog (allowed: 1..5000)"],
    ["value not matching the pattern", ["files.read:name=../etc"], "files.read: name=../etc is not in the catalog (allowed: matching ^[a-z][a-z0-9_-]{0,15}$)"],
    ["verb named twice", ["sys.uptime", "sys.uptime"], "--verb sys.uptime: named twice"],
  ];
  for (const [label, texts, message] of bad)
    test(label, () => {
      const e = thrown(() => grantVerbsFromSpecs(catalog, specs(...texts)));
      expect(`${e.kind}: ${e.message}`).toBe(`usage: ${message}`);
      expect(e.exitCode).toBe(2);
    });
});

test("mergeGrantVerbs: union per verb, a verb named again is replaced", () => {
  const a = grantVerbsFromSpecs(catalog, specs("ssh.tail_logs:service=web", "sys.uptime"));
  const b = grantVerbsFromSpecs(catalog, specs("ssh.tail_logs:service=api", "files.read"));
  const m = mergeGrantVerbs(a, b);
  expect(Object.keys(m)).toEqual(["files.read", "ssh.tail_logs", "sys.uptime"]);
  expect(m["ssh.tail_logs"]!.service).toEqual({ kind: "enum", values: ["api"] });
});

describe("attenuate (share open)", () => {
  const grant = grantVerbsFromSpecs(catalog, specs("ssh.tail_logs:service=web|api", "ssh.restart_service:service=web|api", "files.read"));
  test("only the verbs named; open parameters copy the grant, so the passport is self-describing", () => {
    expect(attenuate(catalog, grant, specs("ssh.tail_logs:lines=1..500"))).toEqual({
      "ssh.tail_logs": { lines: { kind: "range", min: 1, max: 500 }, service: { kind: "enum", values: ["api", "web"] } },
    });
  });
  test("a value may pin a pattern parameter", () => {
    expect(attenuate(catalog, grant, specs("files.read:name=report"))["files.read"]).toEqual({
      name: { kind: "enum", values: ["report"] },
    });
  });
  const denied: [string, string[], string][] = [
    ["value outside the grant (the issue's example)", ["ssh.restart_service:service=db"], "ssh.restart_service: service=db is not in your grant (allowed: api, web)"],
    ["one of a set outside", ["ssh.tail_logs:service=web|db"], "ssh.tail_logs: service=db is not in your grant (allowed: api, web)"],
    ["range wider than the grant", ["ssh.tail_logs:lines=1..9000"], "ssh.tail_logs: lines=1..9000 is not in your grant (allowed: 1..5000)"],
    ["value outside a range", ["ssh.tail_logs:lines=9000"], "ssh.tail_logs: lines=9000 is not in your grant (allowed: 1..5000)"],
    ["verb not in the grant", ["sys.uptime"], "sys.uptime: not in your grant"],
    ["value not matching the pattern", ["files.read:name=A"], "files.read: name=A is not in your grant (allowed: matching ^[a-z][a-z0-9_-]{0,15}$)"],
  ];
  for (const [label, texts, message] of denied)
    test(label, () => {
      const e = thrown(() => attenuate(catalog, grant, specs(...texts)));
      expect(`${e.kind}: ${e.message}`).toBe(`denied: ${message}`);
      expect(e.exitCode).toBe(3);
    });
  test("a pattern cannot be narrowed to another pattern (only values pin it)", () => {
    // The --verb syntax has no pattern pins at all; a range pin on a pattern parameter is refused too.
    expect(thrown(() => attenuate(catalog, grant, specs("files.read:name=1..2000"))).kind).toBe("denied");
  });
  test("a verb the catalog does not know is outside the grant too (denied)", () => {
    expect(thrown(() => attenuate(catalog, grant, specs("nope.x"))).kind).toBe("denied");
  });
  test("usage errors: no verbs, unknown parameter", () => {
    expect(thrown(() => attenuate(catalog, grant, [])).kind).toBe("usage");
    expect(thrown(() => attenuate(catalog, grant, specs("ssh.tail_logs:x=1"))).kind).toBe("usage");
  });
  test("a grant older than a narrowed catalog is refused, not trusted", () => {
    const stale: GrantVerbs = { "ssh.tail_logs": { ...grant["ssh.tail_logs"]!, lines: { kind: "range", min: 1, max: 99999 } } };
    expect(thrown(() => attenuate(catalog, stale, specs("ssh.tail_logs"))).message).toBe(
      "ssh.tail_logs: your grant for lines no longer fits the catalog",
    );
  });
});

// ---- properties ----
const POOL: Record<string, string[]> = {
  service: ["web", "api", "db", "worker", "mail", "", "web ", "WEB", "web;rm"],
  lines: ["1", "2", "50", "100", "500", "4999", "5000", "5001", "0", "-1", "050"],
  name: ["a", "report", "a-b", "a_b", "-a", "A", "a/b", "..", "a b", "x".repeat(16), "x".repeat(17)],
  tag: ["a", "A_1", "x".repeat(32), "x".repeat(33), "a-b", "a b", "$(id)"],
};
const pinArb = (param: string) =>
  fc.oneof(
    fc.subarray(POOL[param]!.filter((x) => x !== "" && !x.includes(",") && !x.includes("|")), { minLength: 1, maxLength: 3 }).map((vs) => vs.join("|")),
    fc.tuple(fc.integer({ min: -2, max: 5100 }), fc.integer({ min: -2, max: 5100 })).map(([a, b]) => `${Math.min(a, b)}..${Math.max(a, b)}`),
  );
const specArb = fc
  .tuple(
    fc.constantFrom(...catalog.keys()),
    fc.array(fc.tuple(fc.constantFrom("service", "lines", "name", "tag"), fc.boolean()), { maxLength: 3 }),
  )
  .chain(([verb, which]) => {
    const params = Object.keys(catalog.get(verb)!.params).filter((p) => which.some(([w, on]) => w === p && on));
    return fc.tuple(fc.constant(verb), fc.tuple(...params.map(pinArb))).map(([v, pins]) =>
      pins.length ? `${v}:${params.map((p, i) => `${p}=${pins[i]}`).join(",")}` : v,
    );
  });

test("property: attenuate never returns verbs wider than the grant (3000 runs)", () => {
  fc.assert(
    fc.property(fc.uniqueArray(specArb, { maxLength: 4, selector: (s) => s.split(":")[0] }), fc.uniqueArray(specArb, { maxLength: 4, selector: (s) => s.split(":")[0] }), (g, r) => {
      let grant: GrantVerbs;
      try {
        grant = grantVerbsFromSpecs(catalog, specs(...g));
      } catch (e) {
        expect((e as OpenScopeError).kind).toBe("usage");
        return;
      }
      let out: GrantVerbs;
      try {
        out = attenuate(catalog, grant, specs(...r));
      } catch (e) {
        expect(["usage", "denied"]).toContain((e as OpenScopeError).kind);
        return;
      }
      for (const [verb, params] of Object.entries(out)) {
        expect(Object.hasOwn(grant, verb)).toBe(true);
        expect(Object.keys(params).sort()).toEqual(Object.keys(catalog.get(verb)!.params).sort());
        for (const [p, c] of Object.entries(params)) {
          expect(isSubset(c, grant[verb]![p]!)).toBe(true);
          // semantically, not only by isSubset: no pool value the passport admits is outside the grant
          for (const value of POOL[p]!) if (admits(c, value)) expect(admits(grant[verb]![p]!, value)).toBe(true);
        }
      }
    }),
    { numRuns: 3000 },
  );
});

describe("prototype keys in --verb pins (THREAT-MODEL: a pin is never silently dropped)", () => {
  for (const key of ["__proto__", "constructor", "prototype"]) {
    test(`${key}=1 is an unknown parameter (exit 2) in grant add and in share open`, () => {
      const spec = parseVerbSpec(`ssh.tail_logs:${key}=1`);
      expect(Object.keys(spec.pins)).toEqual([key]);
      const atGrant = thrown(() => grantVerbsFromSpecs(catalog, [spec]));
      expect(atGrant.exitCode).toBe(2);
      expect(atGrant.message).toContain(`unknown parameter ${key}`);
      const grant = grantVerbsFromSpecs(catalog, specs("ssh.tail_logs"));
      const atOpen = thrown(() => attenuate(catalog, grant, [spec]));
      expect(atOpen.exitCode).toBe(2);
      expect(atOpen.message).toContain(`unknown parameter ${key}`);
    });
  }
});
