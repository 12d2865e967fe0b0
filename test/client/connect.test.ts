// Connecting to a share from source against a real relay and daemon: the known-daemons file
// (a confirmed fingerprint is remembered, a changed key is refused loudly with exit 4, an unknown
// daemon with no TTY and no --fingerprint gets exit 4 and the fingerprint hint), a damaged handle
// (exit 2), a --to handle with the wrong key (exit 3) or with no key file (exit 2, keygen hint).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cluster, testCatalog, type OpenedShare, type Recipient } from "../helpers/cluster.ts";

let c: Cluster;
let vendor: Recipient;
let share: OpenedShare;

beforeAll(async () => {
  c = new Cluster("source");
  await c.startRelay();
  await c.init(testCatalog(join(c.dir, "data")));
  await c.startDaemon();
  expect((await c.openscope(["grant", "add", "--agent", "you", "--verb", "echo.word"])).code).toBe(0);
  vendor = c.recipient("vendor");
  expect((await c.openscope(["recipients", "add", "vendor-b", await vendor.keygen()])).code).toBe(0);
  share = await c.openShare(["--agent", "you", "--verb", "echo.word", "--to", "vendor-b", "--ttl", "10m"]);
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

const knownFile = (r: Recipient) => join(r.configHome, "openscope", "known_daemons");

describe("known daemons", () => {
  test("an unknown daemon, no TTY and no --fingerprint: exit 4 with the fingerprint to check", async () => {
    const r = await vendor.client(["--passport", share.handle, "call", "echo.word", "word=x"]);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("is not known yet");
    expect(r.stderr).toContain(`--fingerprint '${share.fingerprint}'`);
    expect(existsSync(knownFile(vendor))).toBe(false);
  });

  test("a confirmed fingerprint is remembered (0600), and later calls need no --fingerprint", async () => {
    const first = await vendor.call(share, "echo.word", ["word=one"]);
    expect(first.code).toBe(0);
    expect(first.stdout).toBe("one\n");
    const lines = readFileSync(knownFile(vendor), "utf8").trim().split("\n");
    expect(lines.length).toBe(1);
    expect(lines[0]!.split(" ")[1]).toBe(share.fingerprint);
    expect(statSync(knownFile(vendor)).mode & 0o777).toBe(0o600);
    const later = await vendor.client(["--passport", share.handle, "call", "echo.word", "word=two"]);
    expect(later.code).toBe(0);
    expect(later.stdout).toBe("two\n");
    // Confirming again does not duplicate the line.
    expect((await vendor.call(share, "echo.word", ["word=three"])).code).toBe(0);
    expect(readFileSync(knownFile(vendor), "utf8").trim().split("\n").length).toBe(1);
  });

  test("a changed key for a known daemon is refused loudly (exit 4), nothing runs", async () => {
    const file = knownFile(vendor);
    const original = readFileSync(file, "utf8");
    const name = original.split(" ")[0]!;
    const old = "SHA256:" + "A".repeat(43);
    writeFileSync(file, `${name} ${old}\n`, { mode: 0o600 });
    try {
      const r = await vendor.client(["--passport", share.handle, "call", "echo.word", "word=x"]);
      expect(r.code).toBe(4);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain("WARNING: THE DAEMON'S KEY HAS CHANGED");
      expect(r.stderr).toContain(`was ${old}`);
      expect(r.stderr).toContain(`now presents ${share.fingerprint}`);
      expect(r.stderr).toContain("refusing to connect");
      // The file is left alone: only the person decides.
      expect(readFileSync(file, "utf8")).toBe(`${name} ${old}\n`);
      const rows = (await c.auditRows(share.id)).filter((x) => x.kind === "call.allowed" && x.verb === "echo.word");
      expect(rows.length).toBe(3);
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
