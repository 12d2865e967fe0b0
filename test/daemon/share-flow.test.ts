// The daemon, relay and client as processes from source: a --to share end to end, the exit codes
// of SPEC.md §12 on the way, and the audit rows the operator sees after.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Cluster, type OpenedShare, type Recipient } from "../helpers/cluster.ts";

let c: Cluster;
let vendor: Recipient;
let share: OpenedShare;

beforeAll(async () => {
  c = await Cluster.start("source");
  const g = await c.openscope(["grant", "add", "--agent", "you", "--verb", "ssh.tail_logs", "--verb", "ssh.restart_service", "--verb", "echo.word", "--verb", "fail.exit"]);
  expect(g.code).toBe(0);
  vendor = c.recipient("vendor");
  const pub = await vendor.keygen();
  expect((await c.openscope(["recipients", "add", "vendor-b", pub])).code).toBe(0);
  share = await c.openShare([
    "--agent", "you",
    "--verb", "ssh.tail_logs:service=web,lines=1..50",
    "--verb", "ssh.restart_service:service=web",
    "--verb", "echo.word",
    "--verb", "fail.exit",
    "--to", "vendor-b", "--ttl", "5m",
  ]);
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

describe("a --to share through the relay", () => {
  test("share open prints id, handle, fingerprint and expiry", async () => {
    expect(share.id).toMatch(/^[0-9a-f]{12}$/);
    expect(share.handle).toStartWith("osh1");
    const fp = JSON.parse((await c.openscope(["fingerprint", "--json"])).stdout);
    expect(share.fingerprint).toBe(fp.fingerprint);
    expect(share.code).toBe(fp.code);
    expect(share.code).toMatch(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){4}-[0-9A-Z]$/);
    expect(Date.parse(share.expires_at)).toBeGreaterThan(Date.now());
  });

  test("an allowed call streams the verb's output on stdout, exit 0", async () => {
    const r = await vendor.call(share, "ssh.tail_logs", ["lines=3"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("web line 98\nweb line 99\nweb line 100\n");
  });

  test("the pinned parameter is filled in; the verb runs on the operator's side", async () => {
    const r = await vendor.call(share, "ssh.restart_service");
    expect(r.code).toBe(0);
    expect(existsSync(join(c.dir, "data", "run", "web.restarted"))).toBe(true);
    expect(existsSync(join(c.dir, "data", "run", "api.restarted"))).toBe(false);
  });

  test("a value outside the passport is denied with exit 3 and the reason in passport terms", async () => {
    const r = await vendor.call(share, "ssh.restart_service", ["service=api"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("service=api is outside this share (allowed: web)");
    expect(existsSync(join(c.dir, "data", "run", "api.restarted"))).toBe(false);
  });

  test("a verb not in the passport is denied (exit 3), never run", async () => {
    const r = await vendor.call(share, "slow.sleep", ["seconds=1"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("denied");
  });

  test("the verb's own non-zero exit gives exit 1 and says so", async () => {
    const r = await vendor.call(share, "fail.exit", ["code=7"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("exited with code 7");
  });

  test("--json gives a result object", async () => {
    const r = await vendor.call(share, "echo.word", ["word=hello"], ["--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ verb: "echo.word", exit_code: 0, stdout: "hello\n", params: { word: "hello" } });
  });

  test("a wrong --fingerprint is refused before anything is sent (exit 4)", async () => {
    const r = await vendor.client(["--passport", share.handle, "--fingerprint", "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "call", "echo.word", "word=x"]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("does not match the fingerprint you were given");
  });

  test("the handle stolen by someone with another key does not open the share (exit 3)", async () => {
    const thief = c.recipient("thief");
    await thief.keygen();
    const r = await thief.call(share, "echo.word", ["word=x"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("sealed to another key");
  });

  test("share list --json shows the share live", async () => {
    const r = await c.openscope(["share", "list", "--json"]);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(list.find((s) => s.id === share.id)).toMatchObject({ agent: "you", recipient: "vendor-b", state: "live" });
  });

  test("revoke ends the share: the next call gets exit 5 and 'revoked by the operator'", async () => {
    expect((await c.openscope(["share", "revoke", share.id])).code).toBe(0);
    const r = await vendor.call(share, "echo.word", ["word=late"]);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("revoked by the operator");
    const again = await c.openscope(["share", "revoke", share.id]);
    expect(again.code).toBe(5);
  });

  test("the audit has every decision, intent before outcome, and the chain verifies", async () => {
    const rows = await c.auditRows(share.id);
    const kinds = rows.map((r) => r.kind);
    expect(kinds).toContain("share.opened");
    expect(kinds).toContain("share.revoked");
    const denied = rows.filter((r) => r.kind === "call.denied").map((r) => r.reason);
    expect(denied).toContain("param_outside_passport");
    expect(denied).toContain("verb_not_in_passport");
    const tail = rows.filter((r) => r.verb === "ssh.tail_logs");
    expect(tail.map((r) => r.kind)).toEqual(["call.allowed", "call.outcome"]);
    expect((tail[0]!.seq as number) < (tail[1]!.seq as number)).toBe(true);
    const v = await c.openscope(["audit", "--verify"]);
    expect(v.code).toBe(0);
  });
});
