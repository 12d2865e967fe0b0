// The daemon's and the relay's logs over a whole session (SPEC.md §14 "Logs"): each event that
// matters is one line with a timestamp and a level (share opened, connected, call allowed,
// denied with its reason, ended with its exit, share revoked; legs up and down at the relay),
// `--log-format json` is one JSON object per line, and nothing secret is ever written: not the
// deployment token, not the handle, not a verb's output.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { Cluster, testCatalog, type OpenedShare, type Recipient } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/spawn.ts";

// Looks like a GitHub token; the verb opts out of redaction, so the recipient really gets it.
const SECRET = "ghp_" + "Zq8vN3xL0pR7tY2wK5mB9cD4fH6jS1aE0uQ3";
const LEAK_VERB = `
[verb."leak.raw"]
summary = "Print a secret-looking line"
adapter = "exec"
argv = ["echo", "${SECRET}"]
timeout = "5s"
max_output = "4KiB"
redact = false
`;

let c: Cluster;
let vendor: Recipient;
let share: OpenedShare;
const LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (error|warn |info |debug) \S/;

beforeAll(async () => {
  c = new Cluster("source");
  await c.startRelay(["--log-level", "debug"]);
  await c.init(testCatalog(join(c.dir, "data")) + LEAK_VERB);
  await c.startDaemon(["--log-level", "debug"]);
  ({ vendor, share } = await c.shareTo({ grant: ["echo.word", "leak.raw"] }));
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

test("a session's events are one timestamped line each, and no secret is in any log", async () => {
  expect((await vendor.call(share, "echo.word", ["word=hello"])).code).toBe(0);
  const denied = await vendor.call(share, "echo.word", ["word=NOT-ALLOWED"]);
  expect(denied.code).toBe(3);
  const leak = await vendor.call(share, "leak.raw");
  expect(leak.stdout).toContain(SECRET);
  expect((await c.openscope(["share", "revoke", share.id])).code).toBe(0);
  await waitFor(() => c.daemon!.stderr().includes("share revoked"), "the revoke line");

  const daemon = c.daemon!.stderr().trim().split("\n");
  for (const l of daemon) expect(l).toMatch(LINE);
  const find = (re: RegExp) => daemon.find((l) => re.test(l));
  expect(find(new RegExp(`info  share opened share=${share.id} agent=you detail="to vendor-b; verbs echo\\.word, leak\\.raw; expires `))).toBeDefined();
  expect(find(new RegExp(`info  share connected share=${share.id} agent=you detail="key `))).toBeDefined();
  expect(find(new RegExp(`info  call allowed share=${share.id} agent=you call=[0-9a-f]{8}\\.1 verb=echo\\.word audit=\\d+$`))).toBeDefined();
  expect(find(new RegExp(`info  call denied share=${share.id} agent=you call=[0-9a-f]{8}\\.1 verb=echo\\.word reason=param_outside_passport message="word=NOT-ALLOWED is outside this share`))).toBeDefined();
  expect(find(new RegExp(`info  call ended share=${share.id} agent=you call=[0-9a-f]{8}\\.1 verb=leak\\.raw exit=0 bytes=\\d+ ms=\\d+ audit=\\d+$`))).toBeDefined();
  expect(find(new RegExp(`info  share revoked share=${share.id} agent=you audit=\\d+$`))).toBeDefined();

  const relay = c.relay!.stderr().trim().split("\n");
  for (const l of relay) expect(l).toMatch(LINE);
  expect(relay.some((l) => / info  daemon leg up role=daemon rid=#[0-9a-f]{8} source=127\.0\.0\.1$/.test(l))).toBe(true);
  expect(relay.some((l) => / info  client leg down: happy /.test(l))).toBe(true);

  const all = c.daemon!.stderr() + c.relay!.stderr();
  for (const secret of [c.token, share.handle, share.handle.slice(0, 40), SECRET]) expect(all).not.toContain(secret);
}, 60_000);

test("--log-format json: one JSON object per line, exact values", async () => {
  await c.daemon!.stop();
  await c.startDaemon(["--log-format", "json"]);
  const lines = c.daemon!.stderr().trim().split("\n");
  expect(lines.length).toBeGreaterThanOrEqual(3);
  const parsed = lines.map((l) => JSON.parse(l) as { time: string; level: string; msg: string });
  for (const p of parsed) {
    expect(new Date(p.time).toISOString()).toBe(p.time);
    expect(["error", "warn", "info", "debug"]).toContain(p.level);
  }
  expect(parsed.some((p) => p.msg.startsWith("control socket "))).toBe(true);
}, 30_000);
