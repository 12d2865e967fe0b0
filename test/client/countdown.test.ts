// The interactive prompt's expiry warnings (dueWarning in cmd/client/interactive.ts): once per
// threshold, only when just crossed, never for a threshold long passed, again after an extension.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { dueWarning, WARN_AT_MS } from "../../cmd/client/interactive.ts";

describe("dueWarning", () => {
  test("warns when 5 minutes and 1 minute are crossed, once each", () => {
    const warned = new Set<number>();
    expect(dueWarning(10 * 60_000, warned)).toBe(false);
    expect(dueWarning(5 * 60_000 + 500, warned)).toBe(false);
    expect(dueWarning(5 * 60_000 - 300, warned)).toBe(true);
    expect(dueWarning(5 * 60_000 - 1300, warned)).toBe(false);
    expect(dueWarning(3 * 60_000, warned)).toBe(false);
    expect(dueWarning(60_000 - 999, warned)).toBe(true);
    expect(dueWarning(30_000, warned)).toBe(false);
    expect(dueWarning(0, warned)).toBe(false);
  });

  test("a share that starts with 3 minutes left warns at 1 minute, not at once", () => {
    const warned = new Set<number>();
    expect(dueWarning(3 * 60_000, warned)).toBe(false);
    expect(dueWarning(60_000 - 100, warned)).toBe(true);
  });

  test("after an extension (warned cleared), the thresholds warn again", () => {
    const warned = new Set<number>();
    expect(dueWarning(59_500, warned)).toBe(true);
    warned.clear();
    expect(dueWarning(15 * 60_000, warned)).toBe(false);
    expect(dueWarning(5 * 60_000 - 10, warned)).toBe(true);
  });

  test("ticking down second by second from any start, each threshold warns at most once", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1_000, max: 30 * 60_000 }), fc.integer({ min: 900, max: 1_100 }), (start, tick) => {
        const warned = new Set<number>();
        let warnings = 0;
        for (let left = start; left > 0; left -= tick) if (dueWarning(left, warned)) warnings++;
        // A threshold is announced if the countdown crosses it, or starts just under it.
        const expected = WARN_AT_MS.filter((at) => start > at - 2_000).length;
        return warnings === expected;
      }),
      { numRuns: 300, examples: [[60_000, 1_000], [59_000, 1_000], [300_500, 1_000], [58_000, 1_000], [1_000, 1_000]] },
    );
  });
});
