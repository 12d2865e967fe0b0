// `openscope audit` as an operator and a SIEM use it: --share names a share this home has (a typo
// is an error, not an empty log), --since picks rows from a time on, and with --json it prints one
// JSON object per line for a log shipper.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseSince } from "../cmd/openscope/audit.ts";
import { OpenScopeError } from "../lib/errors.ts";
import { runProgram } from "./helpers/spawn.ts";

const dir = mkdtempSync(join(tmpdir(), "openscope-audit-cli-"));
const home = join(dir, "home");
const openscope = (args: string[]) => runProgram("daemon.ts", ["--home", home, ...args]);

beforeAll(async () => {
  expect((await openscope(["init"])).code).toBe(0);
  for (const agent of ["a1", "a2", "a3"]) expect((await openscope(["grant", "add", "--agent", agent, "--verb", "sys.uptime"])).code).toBe(0);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("audit --share", () => {
  test("a malformed id is a usage error naming it", async () => {
    const r = await openscope(["audit", "--share", "NOSUCH"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: "NOSUCH" is not a share id');
  }, 30_000);

  test("a well-formed id this home never had: no such share (exit 2), not an empty log", async () => {
    const r = await openscope(["audit", "--share", "0123456789ab", "--json"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("error: no share 0123456789ab in this home");
  }, 30_000);
});

describe("audit --since", () => {
  test("--json --since prints JSON lines, in order, from that time on", async () => {
    const r = await openscope(["audit", "--json", "--since", "1h"]);
    expect(r.code).toBe(0);
    const rows = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l) as { seq: number; kind: string });
    expect(rows.map((x) => x.kind)).toEqual(["grant.changed", "grant.changed", "grant.changed"]);
    expect(rows.map((x) => x.seq)).toEqual([1, 2, 3]);
    const future = await openscope(["audit", "--json", "--since", "2099-01-01T00:00:00Z"]);
    expect(future.code).toBe(0);
    expect(future.stdout).toBe("");
  }, 30_000);

  test("parseSince: durations back from now, days, ISO times; anything else is a usage error", () => {
    const now = Date.parse("2026-11-29T12:00:00Z");
    expect(parseSince("90m", now)).toBe(now - 90 * 60_000);
    expect(parseSince("24h", now)).toBe(now - 86_400_000);
    expect(parseSince("7d", now)).toBe(now - 7 * 86_400_000);
    expect(parseSince("2026-11-29T08:00:00Z", now)).toBe(Date.parse("2026-11-29T08:00:00Z"));
    expect(parseSince("2026-11-28", now)).toBe(Date.parse("2026-11-28"));
    for (const bad of ["yesterday", "", "5", "-1h", "2026-13-45T99:00:00Z", "1h; rm -rf /", "\x1b[31m"]) {
      let e: unknown;
      try {
        parseSince(bad, now);
      } catch (err) {
        e = err;
      }
      expect(e).toBeInstanceOf(OpenScopeError);
      expect((e as OpenScopeError).exitCode).toBe(2);
      expect((e as OpenScopeError).message).not.toContain("\x1b");
    }
  });
});
