// `openscope status` and `openscope reload` against a daemon and relay from source (SPEC.md §14
// "Status", "Reload"): all well is exit 0 with the relay reachable and the token accepted; a verb
// added to verbs.toml shows as "differs" (exit 1), `share open` with it says to reload, and after
// `reload` it works; an invalid verbs.toml is refused with the reason while the old catalog stays;
// a verb removed at a reload is denied at the next call of a live share; a stopped relay or
// daemon is exit 4. SIGHUP is the same reload (tested on the binaries in test/e2e/reload.test.ts).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Cluster, OpenedShare, Recipient } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/spawn.ts";
import { ECHO_TWICE, startReloadFixture } from "../helpers/reload.ts";


let c: Cluster;
let vendor: Recipient;
let share: OpenedShare;
let catalogPath: string;
let original: string;

interface StatusJson {
  ok: boolean;
  problems: string[];
  daemon: { pid: number; relay: { url: string; reachable: boolean; tls_trusted: boolean | null; token_accepted: boolean | null; problem?: string } | null; catalog: { verbs: number; digest: string }; shares: { live: number } } | null;
  catalog: { differs: boolean | null; on_disk: { digest: string | null; verbs: number | null; problem?: string } };
  audit: { rows: number; head: string };
}

async function status(): Promise<{ code: number; json: StatusJson; stderr: string }> {
  const r = await c.openscope(["status", "--json"]);
  return { code: r.code, json: JSON.parse(r.stdout) as StatusJson, stderr: r.stderr };
}

beforeAll(async () => {
  ({ c, vendor, share, catalogPath, original } = await startReloadFixture("source"));
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

describe("status", () => {
  test("all well: exit 0, the relay reachable and the token accepted, the catalog current, the audit head", async () => {
    const s = await status();
    expect(s.code).toBe(0);
    expect(s.json.ok).toBe(true);
    expect(s.json.problems).toEqual([]);
    expect(s.json.daemon!.relay).toMatchObject({ url: c.relay!.url, reachable: true, tls_trusted: null, token_accepted: true });
    expect(s.json.daemon!.shares.live).toBe(1);
    expect(s.json.catalog.differs).toBe(false);
    expect(s.json.audit.rows).toBeGreaterThan(0);
    expect(s.json.audit.head).toMatch(/^[0-9a-f]{64}$/);
    const human = await c.openscope(["status"]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^daemon +running \(pid \d+/m);
    expect(human.stdout).toMatch(/^relay +ws:\/\/127\.0\.0\.1:\d+: reachable, token accepted \(\d+ ms\)$/m);
    expect(human.stdout).toMatch(/^catalog +8 verbs loaded .*; verbs.toml unchanged$/m);
    expect(human.stdout).toMatch(/^shares +1 live \(0 connected\), 0 ended$/m);
    expect(human.stdout).toMatch(/^audit +\d+ rows, head [0-9a-f]{16}…$/m);
    // Its --help says what its own exit codes mean.
    const help = await c.openscope(["status", "--help"]);
    expect(help.stdout).toContain("  1   needs attention: verbs.toml on disk differs from the loaded catalog, or fails its checks\n");
    expect(help.stdout).toContain("  4   the daemon is not running, no relay is configured, or the relay check failed\n");
  }, 30_000);
});

describe("reload", () => {
  test("a verb added on disk: status says it differs (exit 1), share open says to reload; after reload it works", async () => {
    writeFileSync(catalogPath, original + ECHO_TWICE, { mode: 0o644 });
    const s = await status();
    expect(s.code).toBe(1);
    expect(s.json.catalog.differs).toBe(true);
    expect(s.json.problems).toEqual(["verbs.toml on disk differs from the catalog the daemon loaded: run openscope reload"]);
    expect((await c.openscope(["status"])).stderr).toContain("openscope: error: verbs.toml on disk differs from the catalog the daemon loaded: run openscope reload");

    expect((await c.openscope(["grant", "add", "--agent", "you", "--verb", "echo.word", "--verb", "echo.twice"])).code).toBe(0);
    const early = await c.openscope(["share", "open", "--agent", "you", "--verb", "echo.twice", "--bearer", "--ttl", "5m"]);
    expect(early.code).toBe(2);
    expect(early.stderr).toContain("openscope: error: verb echo.twice is in verbs.toml but the running daemon has not loaded it\nhint: run: openscope reload");

    const r = await c.openscope(["reload"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("reloaded: 9 verbs in the catalog; added echo.twice");
    expect(c.daemon!.stderr()).toMatch(/ info  reloaded: 9 verbs in the catalog added=echo\.twice/);
    expect((await status()).code).toBe(0);
    const later = await c.openscope(["share", "open", "--agent", "you", "--verb", "echo.twice", "--bearer", "--ttl", "5m", "--json"]);
    expect(later.code).toBe(0);
  }, 30_000);

  test("an invalid verbs.toml is refused with the reason (exit 2); the loaded catalog stays and calls go on", async () => {
    writeFileSync(catalogPath, original + ECHO_TWICE + '\n[verb."bad.one"]\nadapter = "exec"\nargv = ["echo", "{x}"]\n', { mode: 0o644 });
    const r = await c.openscope(["reload"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^openscope: error: reload refused, the daemon keeps what it loaded before: .*bad\.one/);
    expect(c.daemon!.stderr()).toMatch(/ error reload refused, the daemon keeps what it loaded before: /);
    const s = await status();
    expect(s.code).toBe(1);
    expect(s.json.catalog.on_disk.problem).toContain("bad.one");
    expect(s.json.daemon!.catalog.verbs).toBe(9);
    expect((await vendor.call(share, "echo.word", ["word=still"])).stdout).toBe("still\n");
  }, 30_000);

  test("a verb removed at a reload is denied at the live share's next call", async () => {
    writeFileSync(catalogPath, original.replace(/\[verb\."echo\.word"\][\s\S]*?(?=\n\[verb\.|$)/, ""), { mode: 0o644 });
    const r = await c.openscope(["reload", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ removed: ["echo.twice", "echo.word"], verbs: 7 });
    const call = await vendor.call(share, "echo.word", ["word=gone"]);
    expect(call.code).toBe(3);
    const rows = await c.auditRows(share.id);
    expect(rows.filter((r) => r.kind === "call.denied" && r.verb === "echo.word").length).toBe(1);
    writeFileSync(catalogPath, original, { mode: 0o644 });
    expect((await c.openscope(["reload"])).code).toBe(0);
    expect((await vendor.call(share, "echo.word", ["word=back"])).stdout).toBe("back\n");
  }, 30_000);
});

describe("a rotated deployment token", () => {
  test("reload picks up the new token; open shares reconnect with it when the relay drops the old one", async () => {
    const NEW = "rotated-" + crypto.randomUUID();
    const tokens = join(c.dir, "tokens.txt");
    writeFileSync(tokens, `${c.token}\n${NEW}\n`, { mode: 0o600 });
    c.relay!.proc.kill("SIGHUP");
    const config = join(c.home, "config.toml");
    writeFileSync(config, readFileSync(config, "utf8").replace(c.token, NEW), { mode: 0o600 });
    const r = await c.openscope(["reload", "--json"]);
    expect(JSON.parse(r.stdout)).toMatchObject({ token_changed: true, relay_changed: false });
    // The relay forgets the old token: it closes the legs that presented it; they come back with the new one.
    writeFileSync(tokens, `${NEW}\n`, { mode: 0o600 });
    c.relay!.proc.kill("SIGHUP");
    await waitFor(() => c.relay!.stderr().includes("reloaded 1 deployment token"), "the relay's reload");
    await waitFor(async () => (await vendor.call(share, "echo.word", ["word=rotated"])).stdout === "rotated\n", "a call through the re-dialled leg", 20_000);
    expect((await status()).json.daemon!.relay).toMatchObject({ token_accepted: true });
    expect(c.daemon!.stderr() + c.relay!.stderr()).not.toContain(NEW);
  }, 40_000);
});

describe("status when something is down", () => {
  test("the relay stopped: exit 4, connection refused named", async () => {
    await c.relay!.stop();
    const s = await status();
    expect(s.code).toBe(4);
    expect(s.json.daemon!.relay).toMatchObject({ reachable: false, token_accepted: null });
    expect(s.json.daemon!.relay!.problem).toMatch(/^connection refused at 127\.0\.0\.1:\d+/);
    expect(s.stderr).toMatch(/openscope: error: relay ws:\/\/127\.0\.0\.1:\d+: connection refused/);
  }, 30_000);

  test("the daemon stopped: exit 4, and the catalog and audit are still reported", async () => {
    await c.daemon!.stop();
    const s = await status();
    expect(s.code).toBe(4);
    expect(s.json.daemon).toBeNull();
    expect(s.json.problems).toEqual(["the daemon is not running"]);
    expect(s.json.catalog.on_disk.verbs).toBe(8);
    expect(s.json.audit.rows).toBeGreaterThan(0);
    const human = await c.openscope(["status"]);
    expect(human.stdout).toMatch(/^daemon +not running$/m);
    // Nothing loaded, so nothing to compare with: what is on disk, not "unchanged".
    expect(human.stdout).toMatch(/^catalog +not loaded; verbs.toml holds 8 verbs$/m);
    expect(human.stderr).toContain("hint: start it with: openscope daemon");
  }, 30_000);
});
