// Site rules (lib/redact/site-rule.ts): `[redact] extra` patterns in the safe subset, searched
// by NFA simulation. The search finds every match (the union of spans), refuses what could
// match nothing or backtrack, and agrees with JavaScript's RegExp on random texts.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { OpenScopeError } from "../../lib/errors.ts";
import { compileSiteRule, literalPrefix, ruleSetWith } from "../../lib/redact/site-rule.ts";
import { compileSearchPattern } from "../../lib/capability/pattern.ts";
import { mergeFindings } from "../../lib/redact/scanner.ts";
import type { Finding } from "../../lib/redact/rules.ts";
import { redactText } from "../../lib/redact/stream.ts";

const spans = (pattern: string, text: string) => {
  const out: Finding[] = [];
  compileSiteRule({ id: "site", pattern }).find(text, 0, out);
  return mergeFindings(out).map((f) => text.slice(f.start, f.end));
};

describe("site rules", () => {
  test("a site rule redacts its token among the built-in rules", () => {
    const set = ruleSetWith([{ id: "acme-token", pattern: "acme_[a-z0-9]{16}" }]);
    expect(redactText(set, "key acme_0123456789abcdef and password=x1y2z3 acme_short").text).toBe(
      "key [REDACTED:acme-token] and password=[REDACTED:password-assignment] acme_short",
    );
  });
  test("every match is found, overlapping ones as one span", () => {
    expect(spans("(?:foo|bar)[0-9]+", "foo1 bar22 baz3 foobar9")).toEqual(["foo1", "bar22", "bar9"]);
    expect(spans("ab|bc", "abc")).toEqual(["abc"]);
    expect(spans("x[0-9]{2}", "x1 x12 x123")).toEqual(["x12", "x12"]);
  });
  test("the literal prefix becomes the prefilter keyword", () => {
    expect(literalPrefix(compileSearchPattern("acme_[a-z]+"))).toBe("acme_");
    expect(literalPrefix(compileSearchPattern("[Tt]ok-[0-9]+"))).toBe("tok-");
    expect(literalPrefix(compileSearchPattern("(?:a|b)c"))).toBe("");
    expect(compileSiteRule({ id: "a", pattern: "(?:a|b)c" }).keywords).toEqual([]);
  });
  test("a pathological pattern on a long line finishes (linear search, no backtracking)", () => {
    const line = "a".repeat(64 * 1024);
    expect(spans("(?:a+)+b", line)).toEqual([]);
    expect(spans("(?:a|a)*c", line + "c")).toEqual([line + "c"]);
  });
  test("agrees with RegExp on which characters are covered", () => {
    const patterns = ["ab+c", "(?:ab|b)c?", "[a-c]{2,3}", "a(?:bc|b)*d"];
    fc.assert(
      fc.property(fc.constantFrom(...patterns), fc.stringMatching(/^[abcd ]{0,40}$/), (pattern, text) => {
        const covered = new Array<boolean>(text.length).fill(false);
        for (let i = 0; i < text.length; i++) {
          for (let j = i + 1; j <= text.length; j++) if (new RegExp(`^(?:${pattern})$`).test(text.slice(i, j))) covered.fill(true, i, j);
        }
        const out: Finding[] = [];
        compileSiteRule({ id: "p", pattern }).find(text, 0, out);
        const ours = new Array<boolean>(text.length).fill(false);
        for (const f of mergeFindings(out)) ours.fill(true, f.start, f.end);
        expect(ours).toEqual(covered);
      }),
      { numRuns: 300 },
    );
  });
});

describe("site rules refused", () => {
  const refused: [string, string, string][] = [
    ["anchored", "^acme_[a-z]+$", "unanchored"],
    ["matches the empty string", "[a-z]*", "empty string"],
    ["a backreference", "(a)\\1", "not allowed"],
    ["a lookahead", "a(?=b)", "lookarounds"],
    ["any character", "tok.+", "matches any character"],
    ["empty", "", "must not be empty"],
  ];
  for (const [why, pattern, message] of refused) {
    test(why, () => {
      let err: unknown;
      try {
        compileSiteRule({ id: "x", pattern });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OpenScopeError);
      expect((err as Error).message).toContain(message);
    });
  }
  test("a bad id", () => expect(() => compileSiteRule({ id: "Bad Id", pattern: "x1" })).toThrow("must be lowercase"));
});
