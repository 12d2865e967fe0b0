// Connecting to a share from source against a real relay and daemon: the person's check of the
// daemon (--verify CODE or --fingerprint FP, compared before anything is sent; an error never
// shows the expected value), the known-daemons file (keyed by the daemon's keys, not its name),
// a damaged handle (exit 2), a --to handle with the wrong key (exit 3) or no key file (exit 2).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cluster, type OpenedShare, type Recipient } from "../helpers/cluster.ts";

let c: Cluster;
let vendor: Recipient;
let share: OpenedShare;

beforeAll(async () => {
  c = await Cluster.start("source");
  ({ vendor, share } = await c.shareTo({ grant: ["echo.word"] }));
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

const knownFile = (r: Recipient) => join(r.configHome, "openscope", "known_daemons");

describe("verification and known daemons", () => {
  test("an unknown daemon, no TTY and no --verify: exit 4, and the hint names no value to pass", async () => {
    const r = await vendor.client(["--passport", share.handle, "call", "echo.word", "word=x"]);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("is not known yet");
    expect(r.stderr).toContain("--verify CODE");
    expect(r.stderr).not.toContain(share.fingerprint);
    expect(r.stderr).not.toContain(share.code);
    expect(existsSync(knownFile(vendor))).toBe(false);
  });

  test("a wrong code or fingerprint: exit 4 before anything is sent; neither value is printed", async () => {
    const wrongCode = "00000-00000-00000-00000-00000-0";
    const wrongFp = "SHA256:" + "A".repeat(43);
    for (const [flag, value] of [["--verify", wrongCode], ["--fingerprint", wrongFp], ["--verify", wrongFp]] as const) {
      const r = await vendor.client(["--passport", share.handle, flag, value, "call", "echo.word", "word=x"]);
      expect(r.code).toBe(4);
      expect(r.stderr).toContain("does not match");
      expect(r.stderr).not.toContain(share.fingerprint);
      expect(r.stderr).not.toContain(share.code);
      expect(r.stderr).not.toContain(share.code.replaceAll("-", ""));
    }
    expect(existsSync(knownFile(vendor))).toBe(false);
  });

  test("garbage given to --verify or --fingerprint is a usage error (exit 2)", async () => {
    for (const flag of ["--verify", "--fingerprint"]) {
      const r = await vendor.client(["--passport", share.handle, flag, "yes", "call", "echo.word", "word=x"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${flag}: not a verification code or fingerprint`);
    }
  });

  test("the code, typed loosely (lowercase, spaces), is accepted and remembered by key (0600)", async () => {
    const typed = share.code.toLowerCase().replaceAll("-", " ");
    const first = await vendor.client(["--passport", share.handle, "--verify", typed, "call", "echo.word", "word=one"]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toBe("one\n");
    const lines = readFileSync(knownFile(vendor), "utf8").trim().split("\n");
    expect(lines.length).toBe(1);
    expect(lines[0]!.split(" ")[0]).toBe(share.fingerprint);
    expect(statSync(knownFile(vendor)).mode & 0o777).toBe(0o600);
    const later = await vendor.client(["--passport", share.handle, "call", "echo.word", "word=two"]);
    expect(later.code).toBe(0);
    expect(later.stdout).toBe("two\n");
    // Confirming again (here with the full fingerprint) does not duplicate the line.
    expect((await vendor.call(share, "echo.word", ["word=three"])).code).toBe(0);
    expect(readFileSync(knownFile(vendor), "utf8").trim().split("\n").length).toBe(1);
  });

  test("a line with the daemon's name but another key does not vouch for it: exit 4, nothing runs", async () => {
    const file = knownFile(vendor);
    const original = readFileSync(file, "utf8");
    const name = original.trim().split(" ")[1]!;
    const other = "SHA256:" + "A".repeat(43);
    writeFileSync(file, `${other} ${name}\n`, { mode: 0o600 });
    try {
      const before = (await c.auditRows(share.id)).length;
      const r = await vendor.client(["--passport", share.handle, "call", "echo.word", "word=x"]);
      expect(r.code).toBe(4);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain("is not known yet");
      // The file is left alone, and the daemon never heard of the attempt.
      expect(readFileSync(file, "utf8")).toBe(`${other} ${name}\n`);
      expect((await c.auditRows(share.id)).length).toBe(before);
    } finally {
      writeFileSync(file, original, { mode: 0o600 });
    }
  });
});

describe("handles and keys", () => {
  test("a damaged handle: exit 2, 'handle is damaged'", async () => {
    const h = share.handle;
    const i = Math.floor(h.length / 2);
    const damaged = h.slice(0, i) + (h[i] === "A" ? "B" : "A") + h.slice(i + 1);
    for (const bad of [damaged, h.slice(0, -5), "osh1-hello"]) {
      const r = await vendor.client(["--passport", bad, "--fingerprint", share.fingerprint, "call", "echo.word", "word=x"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("handle is damaged");
    }
  });

  test("a --to handle opened with another key says so plainly (exit 3)", async () => {
    const thief = c.recipient("thief");
    await thief.keygen();
    const r = await thief.call(share, "echo.word", ["word=x"]);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("this handle is sealed to another key");
  });

  test("a --to handle and no key file: exit 2 with the keygen hint", async () => {
    const newcomer = c.recipient("newcomer");
    const r = await newcomer.call(share, "echo.word", ["word=x"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("there is no key at");
    expect(r.stderr).toContain("openscope-reflect-client keygen");
    const elsewhere = await newcomer.call(share, "echo.word", ["word=x"], ["--key", join(c.dir, "missing.key")]);
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toContain(join(c.dir, "missing.key"));
  });

  test("--key FILE opens the handle with a key kept elsewhere", async () => {
    const other = c.recipient("other");
    const r = await other.call(share, "echo.word", ["word=viakey"], ["--key", join(vendor.configHome, "openscope", "recipient.key")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("viakey\n");
  });
});
