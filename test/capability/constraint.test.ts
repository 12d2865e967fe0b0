// Constraints (lib/capability/constraint.ts): admission of raw wire strings, the subset order, descriptions.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  type Constraint,
  admits,
  describeConstraint,
  isSubset,
  pinnedValue,
  validateConstraint,
} from "../../lib/capability/constraint.ts";

const web: Constraint = { kind: "enum", values: ["api", "web"] };
const lines: Constraint = { kind: "range", min: 1, max: 5000 };
const name: Constraint = { kind: "pattern", pattern: "^[a-z][a-z0-9-]{0,31}$" };

describe("admits", () => {
  const table: [Constraint, string, boolean][] = [
    [web, "web", true],
    [web, "db", false],
    [web, "Web", false],
    [web, "web ", false],
    // fixed rows for kills that only a random seed used to find (mutation testing, issue 22)
    [{ kind: "enum", values: ["web"] }, "we", false], // a prefix of an allowed value
    [{ kind: "enum", values: ["web"] }, "", false],
    [{ kind: "enum", values: ["web"] }, "webs", false], // an allowed value as a prefix
    [{ kind: "enum", values: ["web"] }, "xweb", false],
    [{ kind: "enum", values: ["api", "web"] }, "api,web", false],
    [{ kind: "range", min: 1, max: 500 }, "500", true], // both bounds are inclusive
    [{ kind: "range", min: 1, max: 500 }, "501", false],
    [{ kind: "range", min: 1, max: 500 }, "1", true],
    [{ kind: "range", min: 1, max: 500 }, "-1", false],
    [{ kind: "range", min: 0, max: 9 }, "0", true],
    [{ kind: "range", min: -9_007_199_254_740_991, max: 0 }, "-9007199254740991", true],
    [{ kind: "range", min: -10, max: 10 }, "-10", true],
    [{ kind: "range", min: -10, max: 10 }, "-01", false],
    [{ kind: "pattern", pattern: "^[a-z]{1,3}$" }, "", false],
    [{ kind: "pattern", pattern: "^[a-z]{1,3}$" }, "abc", true],
    [{ kind: "pattern", pattern: "^[a-z]{1,3}$" }, "abcd", false],
    [{ kind: "pattern", pattern: "^(?:[a-z]{0,256})$" }, "a".repeat(256), true], // the value limit is inclusive
    [{ kind: "pattern", pattern: "^(?:[a-z]{0,256})$" }, "a".repeat(257), false],
    [{ kind: "enum", values: ["a".repeat(256)] }, "a".repeat(256), true],
    [lines, "1", true],
    [lines, "5000", true],
    [lines, "5001", false],
    [lines, "0", false],
    [lines, "050", false], // one spelling per integer
    [lines, "+50", false],
    [lines, " 50", false],
    [lines, "5e2", false],
    [lines, "0x10", false],
    [lines, "", false],
    [{ kind: "range", min: -5, max: 5 }, "-5", true],
    [{ kind: "range", min: -5, max: 5 }, "-0", false],
    [{ kind: "range", min: 0, max: Number.MAX_SAFE_INTEGER }, "9007199254740992", false],
    [name, "web-1", true],
    [name, "-web", false],
    [name, "web/1", false],
    [name, "a".repeat(32), true],
    [name, "a".repeat(33), false],
    [{ kind: "bogus" } as unknown as Constraint, "x", false],
    [{ kind: "pattern", pattern: "^(a)\\1$" }, "aa", false], // outside the safe subset: admits nothing
  ];
  for (const [c, v, want] of table)
    test(`${describeConstraint(c as Constraint) ?? "bogus"} ∋ ${JSON.stringify(v)} is ${want}`, () => expect(admits(c, v)).toBe(want));
});

describe("isSubset", () => {
  const table: [string, Constraint, Constraint, boolean][] = [
    ["enum ⊆ enum", { kind: "enum", values: ["web"] }, web, true],
    ["enum ⊄ enum", { kind: "enum", values: ["db", "web"] }, web, false],
    ["enum of ints ⊆ range", { kind: "enum", values: ["1", "500"] }, lines, true],
    ["non-canonical int ⊄ range", { kind: "enum", values: ["0500"] }, lines, false],
    ["range ⊆ range", { kind: "range", min: 1, max: 500 }, lines, true],
    ["range ⊄ range (above)", { kind: "range", min: 1, max: 9000 }, lines, false],
    ["range ⊄ range (below)", { kind: "range", min: 0, max: 5 }, lines, false],
    // one past either bound of the grant is refused (not only far outside it)
    ["1..501 ⊄ 1..500", { kind: "range", min: 1, max: 501 }, { kind: "range", min: 1, max: 500 }, false],
    ["0..500 ⊄ 1..500", { kind: "range", min: 0, max: 500 }, { kind: "range", min: 1, max: 500 }, false],
    ["1..500 ⊆ 1..500", { kind: "range", min: 1, max: 500 }, { kind: "range", min: 1, max: 500 }, true],
    ["2..499 ⊆ 1..500", { kind: "range", min: 2, max: 499 }, { kind: "range", min: 1, max: 500 }, true],
    ["500..500 ⊆ 1..500", { kind: "range", min: 500, max: 500 }, { kind: "range", min: 1, max: 500 }, true],
    ["501..501 ⊄ 1..500", { kind: "range", min: 501, max: 501 }, { kind: "range", min: 1, max: 500 }, false],
    ["a range one past an enum's last value", { kind: "range", min: 1, max: 3 }, { kind: "enum", values: ["1", "2"] }, false],
    ["a range one before an enum's first value", { kind: "range", min: 0, max: 2 }, { kind: "enum", values: ["1", "2"] }, false],
    ["a range of exactly the enum's values", { kind: "range", min: 1, max: 2 }, { kind: "enum", values: ["1", "2"] }, true],
    ["a range ⊆ a pattern of digits", { kind: "range", min: 0, max: 999 }, { kind: "pattern", pattern: "^\\d{1,3}$" }, true],
    ["a range one past a pattern of digits", { kind: "range", min: 0, max: 1000 }, { kind: "pattern", pattern: "^\\d{1,3}$" }, false],
    ["a 1024-value range ⊆ a pattern is decided", { kind: "range", min: 0, max: 1023 }, { kind: "pattern", pattern: "^\\d{1,4}$" }, true],
    ["a range too wide to enumerate is refused", { kind: "range", min: 0, max: 1024 }, { kind: "pattern", pattern: "^\\d{1,4}$" }, false],
    ["an enum with one value outside", { kind: "enum", values: ["web", "we"] }, { kind: "enum", values: ["web"] }, false],
    ["an enum value one past a range", { kind: "enum", values: ["1", "501"] }, { kind: "range", min: 1, max: 500 }, false],
    ["an enum ⊄ a pattern it only partly matches", { kind: "enum", values: ["ab", "a-"] }, { kind: "pattern", pattern: "^[a-z]+$" }, false],
    ["a pattern ⊄ a range", { kind: "pattern", pattern: "^\\d{1,3}$" }, { kind: "range", min: 0, max: 999 }, false],
    ["value ⊆ pattern", { kind: "enum", values: ["web-1"] }, name, true],
    ["value ⊄ pattern", { kind: "enum", values: ["../etc"] }, name, false],
    ["small range ⊆ enum", { kind: "range", min: 1, max: 2 }, { kind: "enum", values: ["1", "2", "3"] }, true],
    ["pattern ⊆ same pattern", name, name, true],
    ["pattern narrowing is refused", { kind: "pattern", pattern: "^[a-z]{1,3}$" }, name, false],
    ["pattern ⊄ enum", name, web, false],
  ];
  for (const [label, a, b, want] of table) test(label, () => expect(isSubset(a, b)).toBe(want));

  test("property: inner ⊆ outer implies every admitted value is admitted by outer (2000 runs)", () => {
    const pool = ["0", "1", "2", "7", "50", "500", "5000", "5001", "-1", "web", "api", "db", "a-b", "-a", "01"];
    const constraint = fc.oneof(
      fc.subarray(pool, { minLength: 1 }).map((vs): Constraint => ({ kind: "enum", values: [...new Set(vs)].sort() })),
      fc.tuple(fc.integer({ min: -3, max: 6000 }), fc.integer({ min: -3, max: 6000 })).map(([a, b]): Constraint => ({
        kind: "range",
        min: Math.min(a, b),
        max: Math.max(a, b),
      })),
      fc.constantFrom<Constraint>(name, { kind: "pattern", pattern: "^\\d{1,3}$" }),
    );
    fc.assert(
      fc.property(constraint, constraint, (a, b) => {
        if (!isSubset(a, b)) return;
        for (const v of pool) if (admits(a, v)) expect(admits(b, v)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("describeConstraint and pinnedValue", () => {
  test("descriptions", () => {
    expect(describeConstraint(web)).toBe("api, web");
    expect(describeConstraint(lines)).toBe("1..5000");
    expect(describeConstraint(name)).toBe("matching ^[a-z][a-z0-9-]{0,31}$");
    expect(describeConstraint({ kind: "enum", values: ["a b", "x"] })).toBe('"a b", x');
  });
  test("a single-value constraint pins", () => {
    expect(pinnedValue({ kind: "enum", values: ["web"] })).toBe("web");
    expect(pinnedValue({ kind: "range", min: 50, max: 50 })).toBe("50");
    expect(pinnedValue(web)).toBeUndefined();
    expect(pinnedValue(name)).toBeUndefined();
  });
});

describe("validateConstraint", () => {
  const bad: [unknown, RegExp][] = [
    [{ kind: "enum", values: [] }, /at least one value/],
    [{ kind: "enum", values: ["web", "api"] }, /sorted and unique/],
    [{ kind: "enum", values: ["a", "a"] }, /sorted and unique/],
    [{ kind: "enum", values: ["a\nb"] }, /printable/],
    [{ kind: "range", min: 5, max: 1 }, /above maximum/],
    [{ kind: "range", min: 0.5, max: 1 }, /safe integers/],
    [{ kind: "pattern", pattern: "[a-z]" }, /anchored/],
    [{ kind: "glob", glob: "*" }, /unknown constraint kind "glob"/],
  ];
  for (const [c, why] of bad)
    test(JSON.stringify(c), () => expect(() => validateConstraint(c as Constraint, "x")).toThrow(why));
});

describe("validateConstraint: the empty value (mutation testing, issue 22)", () => {
  test("an enum may not list the empty string", () => {
    expect(() => validateConstraint({ kind: "enum", values: [""] }, "x")).toThrow(/printable/);
    expect(() => validateConstraint({ kind: "enum", values: ["", "web"] }, "x")).toThrow(/printable/);
  });
});
