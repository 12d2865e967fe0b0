// Tokens file parsing and the constant-time token check (lib/relay/tokens.ts), and the
// per-source rate limiter (lib/relay/ratelimit.ts) with a fake clock.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RateLimiter } from "../../lib/relay/ratelimit.ts";
import { parseTokensFile, readTokensFile, TokenSet } from "../../lib/relay/tokens.ts";
import { OpenScopeError } from "../../lib/errors.ts";

describe("tokens", () => {
  test("one token per line; comments and blank lines ignored; CRLF accepted", () => {
    expect(parseTokensFile("# deployment tokens\nalpha\r\n\n  beta  \n#gamma\n")).toEqual(["alpha", "beta"]);
  });

  test("a line with spaces inside is refused with its line number", () => {
    expect(() => parseTokensFile("ok\nnot one token\n")).toThrow(/line 2 is not a token/);
  });

  test("check gives the same stable key for a known token and null otherwise", () => {
    const t = new TokenSet(["alpha", "beta"]);
    const k = t.check("beta");
    expect(k).toMatch(/^[0-9a-f]{32}$/);
    expect(t.check("gamma")).toBeNull();
    expect(t.check("")).toBeNull();
    expect(t.check("alph")).toBeNull();
    t.replace(["beta"]);
    expect(t.check("beta")).toBe(k);
    expect(t.has(k!)).toBe(true);
    t.replace(["alpha"]);
    expect(t.has(k!)).toBe(false);
  });

  test("an unreadable tokens file is a usage error naming the file", () => {
    const dir = mkdtempSync(join(tmpdir(), "relay-tokens-"));
    const e = (() => {
      try {
        readTokensFile(join(dir, "missing.txt"));
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(OpenScopeError);
    expect((e as OpenScopeError).kind).toBe("usage");
    writeFileSync(join(dir, "t.txt"), "x1\n", { mode: 0o600 });
    expect(readTokensFile(join(dir, "t.txt"))).toEqual(["x1"]);
  });
});

describe("rate limit", () => {
  test("a burst, then the steady rate, per source", () => {
    const r = new RateLimiter(20, 50);
    let ok = 0;
    for (let i = 0; i < 60; i++) if (r.allow("1.2.3.4", 0)) ok++;
    expect(ok).toBe(50);
    expect(r.allow("5.6.7.8", 0)).toBe(true);
    expect(r.allow("1.2.3.4", 49)).toBe(false); // 0.98 of a token refilled
    expect(r.allow("1.2.3.4", 50)).toBe(true);
    let later = 0;
    for (let i = 0; i < 100; i++) if (r.allow("1.2.3.4", 1050)) later++;
    expect(later).toBe(20);
  });

  test("the table of sources stays bounded under a flood of addresses", () => {
    const r = new RateLimiter(20, 50, 1000);
    for (let i = 0; i < 10_000; i++) r.allow(`10.0.${i >> 8}.${i & 255}`, i);
    expect(r.sources).toBeLessThanOrEqual(1000);
  });
});
