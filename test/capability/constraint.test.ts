// Constraints (lib/constraint.ts): admission of raw wire strings, the subset order, descriptions.
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
