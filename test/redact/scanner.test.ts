// The scanner's keyword index (lib/redact/scanner.ts keywordIndex): one regex pass over a line
// must call for exactly the rules a check of every keyword with `includes` calls for, including
// keywords that start where a longer one starts (sk- in sk-ant-) or sit inside another.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { BUILTIN_RULES, type Rule } from "../../lib/redact/rules.ts";
import { compileRules, scanLine } from "../../lib/redact/scanner.ts";

/** The rules (by index) scanLine runs on `line`: each rule's find records itself. */
function called(rules: readonly Rule[], line: string): number[] {
  const ran: number[] = [];
  const recording = rules.map((r, i) => ({ id: r.id, keywords: r.keywords, find: () => void ran.push(i) }));
  scanLine(compileRules(recording, { simd: false }), line, 0, []);
  return ran;
}

/** The reference: every rule with no keywords, or with a keyword the lowercased line includes. */
function naive(rules: readonly Rule[], line: string): number[] {
  const lower = line.toLowerCase();
  return rules.flatMap((r, i) => (r.keywords.length === 0 || r.keywords.some((k) => lower.includes(k.toLowerCase())) ? [i] : []));
}

const rule = (id: string, keywords: string[]): Rule => ({ id, keywords, find: () => {} });
// (ids must be rule ids: lowercase names)

describe("keyword index", () => {
  test("calls for the same rules as checking each keyword, on lines made of keyword pieces in any case", () => {
    const keywords = [...new Set(BUILTIN_RULES.flatMap((r) => r.keywords))];
    const piece = fc.oneof(
      fc.constantFrom(...keywords),
      fc.constantFrom(...keywords).map((k) => k.toUpperCase()),
      fc.constantFrom(...keywords).map((k) => k.slice(1)),
      fc.string({ maxLength: 4 }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (parts) => {
        const line = parts.join("");
        expect(called(BUILTIN_RULES, line)).toEqual(naive(BUILTIN_RULES, line));
      }),
      { numRuns: 3000 },
    );
  });

  test("a keyword that starts a longer one, or sits inside it, still calls its rule", () => {
    const rules = [rule("short", ["sk-"]), rule("long", ["sk-ant-"]), rule("inner", ["ant"]), rule("none", []), rule("other", ["zzz"])];
    // in table order, each once
    expect(called(rules, "x sk-ant-api03 y")).toEqual([0, 1, 2, 3]);
    expect(called(rules, "SK-X")).toEqual([0, 3]);
    expect(called(rules, "plain")).toEqual([3]);
  });

  test("the same for random keyword sets with shared prefixes and overlaps", () => {
    const word = fc.string({ unit: fc.constantFrom("a", "b", "-", "_"), minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(fc.array(fc.array(word, { maxLength: 3 }), { minLength: 1, maxLength: 6 }), fc.string({ unit: fc.constantFrom("a", "B", "b", "-", "_", " "), maxLength: 30 }), (sets, line) => {
        const rules = sets.map((ks, i) => rule(`r${i}`, ks));
        expect(called(rules, line)).toEqual(naive(rules, line));
      }),
      { numRuns: 3000 },
    );
  });
});
