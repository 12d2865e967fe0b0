// Saved shares (lib/client/saved-shares.ts) and the commands over them, from source: the name rule
// refuses hostile names before any path is built, files are 0600 in a 0700 folder, `list` shows
// expired ones from the handle's own expiry, `remove --expired` cleans them, and a saved share is
// reached by name from `call` and the interactive client.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkShareName, listShares, loadShare, removeShare, saveShare, shareNameProblem, sharesDir } from "../../lib/client/saved-shares.ts";
import { encodeHandle, type Handle } from "../../lib/wire/handle.ts";
import { OpenScopeError } from "../../lib/errors.ts";
import { runProgram } from "../helpers/spawn.ts";

const dir = mkdtempSync(join(tmpdir(), "openscope-saved-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A well-formed bearer handle whose share ends at `expiresAt`. */
export function testHandle(expiresAt: number): string {
  const h = {
    relayUrl: "ws://127.0.0.1:9",
    rid: new Uint8Array(16).fill(7),
    daemonPublicKey: new Uint8Array(32).fill(9),
    signPublicKey: new Uint8Array(32).fill(11),
    expiresAt,
    secret: { kind: "bearer", psk: new Uint8Array(32).fill(5) },
  } as unknown as Handle;
  return encodeHandle(h);
}

function usageOf(f: () => unknown): OpenScopeError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(OpenScopeError);
    expect((e as OpenScopeError).exitCode).toBe(2);
    return e as OpenScopeError;
  }
  throw new Error("expected a usage error");
}

describe("the name rule", () => {
  test("plain names pass", () => {
    for (const ok of ["acme", "acme-prod", "a", "x_1", "0day", "a".repeat(32)]) expect(shareNameProblem(ok)).toBeUndefined();
  });

  test("hostile and odd names are refused, and shown escaped", () => {
    const bad = ["", "../x", "..", ".", "a/b", "a\\b", "-rf", "_x", "Acme", "a b", "a\nb", "a\x1b[8mb", "a.b", "a".repeat(33), "é", "a\u202eb", "list", "call", "mcp", "add", "remove", "keygen", "completion", "connect"];
    for (const name of bad) {
      expect(shareNameProblem(name)).toBeDefined();
      const e = usageOf(() => checkShareName(name));
      expect(e.message).not.toContain("\x1b");
      expect(e.message).not.toContain("\n");
    }
  });

  test("no file operation takes a hostile name", () => {
    const cfg = join(dir, "rule");
    for (const name of ["../escape", "a/b"]) {
      usageOf(() => saveShare(cfg, name, testHandle(Date.now() + 60_000)));
      usageOf(() => loadShare(cfg, name));
      usageOf(() => removeShare(cfg, name));
    }
    expect(existsSync(join(dir, "escape.handle"))).toBe(false);
  });
});

describe("the store", () => {
  const cfg = join(dir, "store");

  test("save writes one 0600 file in a 0700 folder; load reads it back; no overwrite without force", () => {
    const live = testHandle(Date.now() + 10 * 60_000);
    const file = saveShare(cfg, "acme", `  ${live}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(sharesDir(cfg)).mode & 0o777).toBe(0o700);
    expect(loadShare(cfg, "acme").trim()).toBe(live);
    const e = usageOf(() => saveShare(cfg, "acme", live));
    expect(e.message).toContain("already saved");
    saveShare(cfg, "acme", live, { force: true });
    expect(readdirSync(sharesDir(cfg)).sort()).toEqual(["acme.handle"]);
  });

  test("a saved file others can read is refused", () => {
    const file = saveShare(cfg, "loose", testHandle(Date.now() + 60_000));
    chmodSync(file, 0o644);
    expect(usageOf(() => loadShare(cfg, "loose")).message).toContain("readable by other users");
    removeShare(cfg, "loose");
  });

  test("list: expired from the handle's expiry, damaged files shown, foreign names skipped", () => {
    saveShare(cfg, "old", testHandle(Date.now() - 1000));
    writeFileSync(join(sharesDir(cfg), "broken.handle"), "osh1garbage\n", { mode: 0o600 });
    writeFileSync(join(sharesDir(cfg), "Bad Name.handle"), testHandle(Date.now() + 60_000), { mode: 0o600 });
    const rows = listShares(cfg).map((s) => ({ name: s.name, expired: s.expired, damaged: s.handle === undefined }));
    expect(rows).toEqual([
      { name: "acme", expired: false, damaged: false },
      { name: "broken", expired: false, damaged: true },
      { name: "old", expired: true, damaged: false },
    ]);
  });

  test("remove: gone after; a missing name is a usage error", () => {
    removeShare(cfg, "old");
    expect(listShares(cfg).map((s) => s.name)).toEqual(["acme", "broken"]);
    expect(usageOf(() => removeShare(cfg, "old")).message).toContain("no saved share named old");
  });
});

describe("add, list, remove on the command line", () => {
  const cfg = join(dir, "cli");
  const client = (args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}) =>
    runProgram("client.ts", args, { env: { XDG_CONFIG_HOME: cfg, OPENSCOPE_PASSPORT: undefined, ...opts.env }, stdin: opts.stdin });
  const live = testHandle(Date.now() + 20 * 60_000);

  test("add from a file, from stdin and from OPENSCOPE_PASSPORT; list shows them live", async () => {
    const file = join(dir, "handle.txt");
    writeFileSync(file, live + "\n", { mode: 0o600 });
    const a = await client(["add", "from-file", "--passport-file", file]);
    expect(a.stderr).toBe("");
    expect(a.code).toBe(0);
    expect(a.stdout).toContain("saved share from-file (bearer, ");
    expect(a.stdout).toContain("openscope-reflect-client from-file");
    expect((await client(["add", "from-stdin", "--passport", "-"], { stdin: live })).code).toBe(0);
    expect((await client(["add", "from-env"], { env: { OPENSCOPE_PASSPORT: live } })).code).toBe(0);
    const l = await client(["list", "--json"]);
    expect(l.code).toBe(0);
    const rows = JSON.parse(l.stdout) as Array<{ name: string; state: string; kind: string }>;
    expect(rows.map((r) => [r.name, r.state, r.kind])).toEqual([
      ["from-env", "live", "bearer"],
      ["from-file", "live", "bearer"],
      ["from-stdin", "live", "bearer"],
    ]);
    const human = await client(["list"]);
    expect(human.stdout).toMatch(/^NAME\s+KIND\s+RELAY\s+STATE$/m);
    expect(human.stdout).toMatch(/^from-file\s+bearer\s+ws:\/\/127\.0\.0\.1:9\s+\d+m\d*s? left$/m);
  });

  test("add: a bearer handle typed on argv is saved, with the warning; a hostile name or a damaged handle is exit 2", async () => {
    const r = await client(["add", "typed", "--passport", live]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("warning: --passport puts this bearer handle in the process list");
    const hostile = await client(["add", "../../etc/x", "--passport", "-"], { stdin: live });
    expect(hostile.code).toBe(2);
    expect(hostile.stderr).toContain("cannot name a saved share");
    const esc = await client(["add", "a\x1b]0;pwned\x07", "--passport", "-"], { stdin: live });
    expect(esc.code).toBe(2);
    expect(esc.stderr).not.toContain("\x1b");
    const damaged = await client(["add", "bad", "--passport", "-"], { stdin: "osh1nope" });
    expect(damaged.code).toBe(2);
    expect(damaged.stderr).toContain("handle is damaged");
    const none = await client(["add", "empty"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("add needs the handle");
  });

  test("add refuses an already expired handle (exit 5) and writes nothing", async () => {
    const r = await client(["add", "stale", "--passport", "-"], { stdin: testHandle(Date.now() - 5000) });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("already expired");
    expect(existsSync(join(cfg, "openscope", "shares", "stale.handle"))).toBe(false);
  });

  test("list shows an expired one as expired; remove --expired cleans it; remove NAME", async () => {
    writeFileSync(join(cfg, "openscope", "shares", "gone.handle"), testHandle(Date.now() - 60_000) + "\n", { mode: 0o600 });
    const l = await client(["list"]);
    expect(l.stdout).toMatch(/^gone\s+bearer\s+\S+\s+expired$/m);
    expect(l.stderr).toContain("remove --expired");
    const r = await client(["remove", "--expired"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("removed gone");
    expect(r.stdout).not.toContain("from-file");
    const one = await client(["remove", "typed", "--json"]);
    expect(JSON.parse(one.stdout)).toEqual({ removed: ["typed"] });
    const missing = await client(["remove", "typed"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("no saved share named typed");
    expect((await client(["remove"])).code).toBe(2);
  });

  test("a saved name and a handle flag together is a usage error; an unknown name gets a hint", async () => {
    const both = await client(["--passport-file", join(dir, "handle.txt"), "call", "from-file", "word=x"]);
    // With a handle flag the first word is the verb: the client dials (nothing listens there: exit 4).
    expect(both.code).toBe(4);
    expect(both.stderr).not.toContain("saved share");
    const twice = await client(["from-file", "--passport-file", join(dir, "handle.txt")]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain("the handle is given more than one way");
    const unknown = await client(["nosuch"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command or saved share "nosuch"');
    const call = await client(["call", "nosuch", "echo.word", "word=x"]);
    expect(call.code).toBe(2);
    expect(call.stderr).toContain("no saved share named nosuch");
    const verbFirst = await client(["call", "echo.word", "word=x"]);
    expect(verbFirst.code).toBe(2);
    expect(verbFirst.stderr).toContain("no handle given");
  });
});
