// The restricted pattern engine (lib/capability/pattern.ts): what the subset accepts and refuses, the exact
// safety analysis, and a differential check against JavaScript's own RegExp on random inputs.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { compilePattern, matchPattern, MAX_VALUE_LENGTH } from "../../lib/capability/pattern.ts";
import { OpenScopeError } from "../../lib/errors.ts";

const refused: [string, RegExp][] = [
  ["[a-z]+", /anchored/],
  ["^[a-z]+", /anchored/],
  ["^[a-z]+\\$", /anchored/],
  ["^a.b$", /"\." matches any character/],
  ["^(a)\\1$", /escape "\\1"/],
  ["^(?=a)a$", /lookarounds/],
  ["^(?!a)b$", /lookarounds/],
  ["^(?<n>a)$", /named groups/],
  ["^\\s+$", /escape "\\s"/],
  ["^\\bword$", /escape "\\b"/],
  ["^\\u0041$", /escape "\\u"/],
  ["^[^a]$", /negated classes/],
  ["^a|b$", /top-level "\|"/],
  ["^a+?$", /lazy/],
  ["^a**$", /lazy, possessive or stacked/],
  ["^a{300}$", /out of range/],
  ["^a{5,2}$", /out of range/],
  ["^a{$", /must be escaped/],
  ["^(a$", /unbalanced/],
  ["^a)$", /unbalanced/],
  ["^[]$", /empty character class/],
  ["^[z-a]$", /out of order/],
  ["^é$", /printable ASCII/],
  ["^a\tb$", /printable ASCII/],
  ["^a^b$", /only allowed at the very start or end/],
  ["^*$", /unexpected/],
  [`^${"a".repeat(600)}$`, /longer than/],
  ["^(?:(?:(?:[a-z]{256}){256}))$", /too large/],
];

describe("compilePattern refuses what is outside the safe subset", () => {
  for (const [src, why] of refused)
    test(JSON.stringify(src.slice(0, 40)), () => {
      let err: unknown;
      try {
        compilePattern(src);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OpenScopeError);
      expect((err as OpenScopeError).kind).toBe("usage");
      expect((err as Error).message).toMatch(why);
    });
});

describe("canMatch is exact", () => {
  const cases: [string, Partial<Record<"slash" | "dotdot" | "whitespace" | "leadingDash" | "empty", boolean>>][] = [
    ["^[a-z][a-z0-9-]{0,31}$", { slash: false, dotdot: false, whitespace: false, leadingDash: false }],
    ["^[a-z0-9-]{1,32}$", { leadingDash: true }],
    ["^[a-z.]+$", { dotdot: true }],
    ["^[a-z]+(?:\\.[a-z]+)*$", { dotdot: false }],
    ["^[a-z]+(?:\\.[a-z]*)*$", { dotdot: true }],
    ["^a\\.?\\.?b$", { dotdot: true }],
    ["^a\\.b\\.c$", { dotdot: false }],
    ["^(?:a|b)/c$", { slash: true }],
    ["^[!-~]{1,8}$", { slash: true, dotdot: true, whitespace: false, leadingDash: true }],
    ["^[ -~]$", { whitespace: true }],
    ["^x(?:-y)?$", { leadingDash: false }],
    ["^(?:-)?x$", { leadingDash: true }],
    ["^(?:x|)-y$", { leadingDash: true }],
    ["^[a-z]*$", { empty: true }],
    // an impossible branch is not reachable to the accept state, so it does not count
    ["^\\d+$", { slash: false, dotdot: false, whitespace: false, leadingDash: false, empty: false }],
  ];
  for (const [src, want] of cases)
    test(src, () => {
      const got = compilePattern(src).canMatch;
      for (const [k, v] of Object.entries(want)) expect(`${k}=${got[k as keyof typeof got]}`).toBe(`${k}=${v}`);
    });
});

describe("matching", () => {
  test("values over the length cap never match, even when the pattern would", () => {
    const p = compilePattern("^[a]*$");
    expect(matchPattern(p, "a".repeat(MAX_VALUE_LENGTH))).toBe(true);
    expect(matchPattern(p, "a".repeat(MAX_VALUE_LENGTH + 1))).toBe(false);
  });
  test("non-ASCII look-alikes, NUL and newlines never match a class of ASCII letters", () => {
    const p = compilePattern("^[a-z]+$");
    for (const v of ["wеb" /* Cyrillic е */, "web\0", "web\n", "ｗｅｂ", "web\u200b"]) expect(matchPattern(p, v)).toBe(false);
  });
  test("a classic catastrophic-backtracking pattern runs in linear time", () => {
    // (a+)+b on "aaaa…c" is exponential in a backtracking engine; here it is one NFA pass.
    const p = compilePattern("^(?:a+)+b$");
    expect(matchPattern(p, `${"a".repeat(250)}c`)).toBe(false);
    expect(matchPattern(p, `${"a".repeat(250)}b`)).toBe(true);
  });
});

// Generates sources in the subset from a tiny grammar; the same source is valid JavaScript with
// the same meaning, so RegExp is an independent oracle for matchPattern.
const atom: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("a", "b", "-", "/", "_", "0", "\\.", "\\d", "\\w", "[a-c]", "[-a.]", "[0-9_]", "[ab/]"),
);
const quant = fc.constantFrom("", "", "?", "*", "+", "{2}", "{0,2}", "{1,}");
const piece = fc.tuple(atom, quant).map(([a, q]) => a + q);
const seq = fc.array(piece, { minLength: 0, maxLength: 5 }).map((xs) => xs.join(""));
const group = fc.tuple(seq, seq, quant).map(([x, y, q]) => `(?:${x}|${y})${q}`);
const body = fc.array(fc.oneof(piece, group), { minLength: 1, maxLength: 4 }).map((xs) => xs.join(""));
const input = fc.string({ unit: fc.constantFrom("a", "b", "-", "/", "_", "0", "7", ".", "c", " "), maxLength: 10 });

test("matchPattern agrees with RegExp on random patterns and inputs (3000 runs)", () => {
  fc.assert(
    fc.property(body, fc.array(input, { minLength: 1, maxLength: 8 }), (b, inputs) => {
      const src = `^${b}$`;
      const mine = compilePattern(src);
      const js = new RegExp(src);
      for (const s of inputs) expect(`${src} ${s} ${matchPattern(mine, s)}`).toBe(`${src} ${s} ${js.test(s)}`);
      // The analysis is never wrong in the unsafe direction: a witness implies the flag.
      for (const s of inputs)
        if (js.test(s)) {
          if (s.includes("/")) expect(mine.canMatch.slash).toBe(true);
          if (s.includes("..")) expect(mine.canMatch.dotdot).toBe(true);
          if (s.startsWith("-")) expect(mine.canMatch.leadingDash).toBe(true);
          if (s.includes(" ")) expect(mine.canMatch.whitespace).toBe(true);
        }
    }),
    { numRuns: 3000 },
  );
});

// Fixed rows for what only the random differential used to find (mutation testing, issue 22):
// the whole value must match, so a proper prefix of a match, or the empty value, is no match.
describe("matching: the whole value, fixed rows", () => {
  const rows: [string, string, boolean][] = [
    ["^abc$", "abc", true],
    ["^abc$", "ab", false],
    ["^abc$", "", false],
    ["^abc$", "abcd", false],
    ["^[a-z]{2,3}$", "a", false],
    ["^[a-z]{2,3}$", "ab", true],
    ["^[a-z]+$", "", false],
    ["^[a-z]*$", "", true],
    ["^(?:web|api)-[0-9]$", "web-", false],
    ["^(?:web|api)-[0-9]$", "api-7", true],
    ["^(?:web|api)-[0-9]$", "we", false],
  ];
  for (const [src, value, want] of rows) test(`${src} on ${JSON.stringify(value)} is ${want}`, () => expect(matchPattern(compilePattern(src), value)).toBe(want));
});
