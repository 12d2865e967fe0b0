// The one limits table (lib/capability/limits.ts, SPEC.md §16): --ttl's bounds and the lifetime
// cap the chokepoint and the passport decoder re-check, each at its exact edge.
import { describe, expect, test } from "bun:test";
import { LIMITS, lifetimeWithinCap, parseShareTtl } from "../../lib/capability/limits.ts";

describe("parseShareTtl", () => {
  test("5s to 30m are accepted, to the millisecond", () => {
    expect(parseShareTtl("30m")).toBe(30 * 60_000);
    expect(parseShareTtl("5s")).toBe(5_000);
    expect(parseShareTtl("29m")).toBe(29 * 60_000);
  });
  test("over 30 minutes is refused with the one wording", () => {
    for (const t of ["31m", "1h", "1801s", "60m"]) expect(() => parseShareTtl(t)).toThrow(`--ttl ${t} is over the 30m cap`);
  });
  test("under 5 seconds is refused as a typo", () => {
    for (const t of ["4s", "1s"]) expect(() => parseShareTtl(t)).toThrow(`--ttl ${t} is under 5s`);
  });
});

describe("lifetimeWithinCap", () => {
  const at = 1_790_000_000_000;
  test("exactly the cap is within it; one millisecond more is not", () => {
    expect(lifetimeWithinCap(at, at + LIMITS.shareTtlMaxMs)).toBe(true);
    expect(lifetimeWithinCap(at, at + LIMITS.shareTtlMaxMs + 1)).toBe(false);
    expect(lifetimeWithinCap(at, at + 31 * 60_000)).toBe(false);
  });
  test("a lifetime must be positive", () => {
    expect(lifetimeWithinCap(at, at + 1)).toBe(true);
    expect(lifetimeWithinCap(at, at)).toBe(false);
    expect(lifetimeWithinCap(at, at - 1)).toBe(false);
  });
});
