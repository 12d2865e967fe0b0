// SIGHUP on the compiled daemon (SPEC.md §14 "Reload"): it used to kill the daemon silently; now
// it re-reads verbs.toml and config.toml like `openscope reload`. A verb added on disk is usable
// after SIGHUP, a live share's calls go on across it, an invalid verbs.toml is logged and refused
// while the daemon keeps running with the old catalog, and `openscope status` reports each state.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import type { Cluster, OpenedShare, Recipient } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/spawn.ts";
import { ECHO_TWICE, startReloadFixture } from "../helpers/reload.ts";

setDefaultTimeout(60_000);


let c: Cluster;
let vendor: Recipient;
let share: OpenedShare;
let catalogPath: string;
let original: string;

const count = (text: string, needle: string) => text.split(needle).length - 1;

beforeAll(async () => {
  ({ c, vendor, share, catalogPath, original } = await startReloadFixture("binary"));
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

test("SIGHUP reloads verbs.toml: the new verb can be shared, the live share goes on", async () => {
  writeFileSync(catalogPath, original + ECHO_TWICE, { mode: 0o644 });
  expect((await c.openscope(["grant", "add", "--agent", "you", "--verb", "echo.word", "--verb", "echo.twice"])).code).toBe(0);
  c.daemon!.proc.kill("SIGHUP");
  await waitFor(() => c.daemon!.stderr().includes("reloaded: 9 verbs in the catalog"), "the reload line");
  expect(c.daemon!.proc.exitCode).toBeNull();
  expect(c.daemon!.stderr()).toMatch(/ info  SIGHUP: reloading verbs\.toml and config\.toml\n.* info  reloaded: 9 verbs in the catalog added=echo\.twice\n/);
  const twice = await c.openShare(["--agent", "you", "--verb", "echo.twice", "--to", "vendor-b", "--ttl", "5m"]);
  expect((await vendor.call(twice, "echo.twice", ["word=hi"])).stdout).toBe("hi hi\n");
  expect((await vendor.call(share, "echo.word", ["word=still"])).stdout).toBe("still\n");
  expect((await c.openscope(["status"])).code).toBe(0);
});

test("SIGHUP with an invalid verbs.toml: refused with the reason, the daemon runs on with the old catalog", async () => {
  writeFileSync(catalogPath, original + ECHO_TWICE + '\n[verb."bad.one"]\nadapter = "exec"\nargv = ["echo", "{x}"]\n', { mode: 0o644 });
  const before = count(c.daemon!.stderr(), "reload refused");
  c.daemon!.proc.kill("SIGHUP");
  await waitFor(() => count(c.daemon!.stderr(), "reload refused") > before, "the refusal line");
  expect(c.daemon!.stderr()).toMatch(/ error reload refused, the daemon keeps what it loaded before: .*bad\.one/);
  expect(c.daemon!.proc.exitCode).toBeNull();
  expect((await vendor.call(share, "echo.word", ["word=alive"])).stdout).toBe("alive\n");
  const s = await c.openscope(["status", "--json"]);
  expect(s.code).toBe(1);
  expect(JSON.parse(s.stdout)).toMatchObject({ ok: false, daemon: { catalog: { verbs: 9 } }, catalog: { differs: true } });
});
