// The known-daemons file and the one trust decision on a daemon's hello (lib/client/known-daemons.ts).
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { knownDaemonsPath, knownFingerprint, rememberDaemon, trustOf, type Trust } from "../../lib/client/known-daemons.ts";

describe("trustOf", () => {
  const rows: [string, boolean, string | undefined, string, Trust][] = [
    ["--fingerprint given: pinned, whatever the file says", true, "SHA256:old", "SHA256:new", { kind: "pinned" }],
    ["--fingerprint given, daemon not in the file", true, undefined, "SHA256:new", { kind: "pinned" }],
    ["the file names the same fingerprint", false, "SHA256:a", "SHA256:a", { kind: "known" }],
    ["the file names another fingerprint", false, "SHA256:a", "SHA256:b", { kind: "changed", was: "SHA256:a" }],
    ["never seen", false, undefined, "SHA256:a", { kind: "unknown" }],
  ];
  for (const [name, pinned, known, presented, trust] of rows) test(name, () => expect(trustOf(pinned, known, presented)).toEqual(trust));
});

describe("the file", () => {
  test("remembers per daemon name, replaces a name's line, keeps the others, 0600", () => {
    const file = knownDaemonsPath(join(mkdtempSync(join(tmpdir(), "known-")), "nested"));
    expect(knownFingerprint(file, "d1")).toBeUndefined();
    rememberDaemon(file, "d1", "SHA256:one");
    rememberDaemon(file, "d2", "SHA256:two");
    rememberDaemon(file, "d1", "SHA256:uno");
    expect(knownFingerprint(file, "d1")).toBe("SHA256:uno");
    expect(knownFingerprint(file, "d2")).toBe("SHA256:two");
    expect(readFileSync(file, "utf8")).toBe("d2 SHA256:two\nd1 SHA256:uno\n");
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  test("blank lines, odd spacing and lines without a fingerprint are tolerated", () => {
    const file = join(mkdtempSync(join(tmpdir(), "known-")), "known_daemons");
    writeFileSync(file, "\n  d1   SHA256:x  \nlonely\n", { mode: 0o600 });
    expect(knownFingerprint(file, "d1")).toBe("SHA256:x");
    expect(knownFingerprint(file, "lonely")).toBeUndefined();
  });
});
