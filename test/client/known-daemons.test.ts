// The known-daemons file, keyed by the daemon's fingerprint (both keys), never by its name, and
// the one trust decision before dialing (lib/client/known-daemons.ts; SPEC.md §8.2).
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isKnown, knownDaemonsPath, knownName, rememberDaemon, trustOf, type Trust } from "../../lib/client/known-daemons.ts";

const A = "SHA256:" + "A".repeat(43);
const B = "SHA256:" + "B".repeat(43);
const C = "SHA256:" + "C".repeat(43);

describe("trustOf", () => {
  const rows: [string, boolean, boolean, Trust][] = [
    ["--verify matched: verified, whatever the file says", true, false, { kind: "verified" }],
    ["--verify matched and already known", true, true, { kind: "verified" }],
    ["the file has this fingerprint", false, true, { kind: "known" }],
    ["never seen", false, false, { kind: "unknown" }],
  ];
  for (const [name, verified, known, trust] of rows) test(name, () => expect(trustOf(verified, known)).toEqual(trust));
});

describe("the file", () => {
  test("keyed by fingerprint: two daemons with one name are two lines; 0600", () => {
    const file = knownDaemonsPath(join(mkdtempSync(join(tmpdir(), "known-")), "nested"));
    expect(isKnown(file, A)).toBe(false);
    rememberDaemon(file, A, "vm");
    rememberDaemon(file, B, "vm");
    rememberDaemon(file, A, "vm-renamed");
    expect(isKnown(file, A)).toBe(true);
    expect(isKnown(file, B)).toBe(true);
    expect(isKnown(file, C)).toBe(false);
    expect(knownName(file, A)).toBe("vm-renamed");
    expect(readFileSync(file, "utf8")).toBe(`${B} vm\n${A} vm-renamed\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  test("a name with a newline or an escape cannot plant a line: it is stored as '-'", () => {
    const file = join(mkdtempSync(join(tmpdir(), "known-")), "known_daemons");
    rememberDaemon(file, A, `vm\n${C} evil`);
    rememberDaemon(file, B, "x\u001b[8m");
    expect(isKnown(file, C)).toBe(false);
    expect(readFileSync(file, "utf8")).toBe(`${A} -\n${B} -\n`);
    expect(() => rememberDaemon(file, "not-a-fingerprint", "vm")).toThrow();
  });

  test("old name-first lines, blank lines and odd spacing vouch for nothing and break nothing", () => {
    const file = join(mkdtempSync(join(tmpdir(), "known-")), "known_daemons");
    writeFileSync(file, `\n  vm ${A}\n  ${B}   d2  \nlonely\n`, { mode: 0o600 });
    expect(isKnown(file, A)).toBe(false);
    expect(isKnown(file, B)).toBe(true);
  });
});
