// The --bearer variant on the compiled binaries: an unbound handle needs no registered key, two
// different recipients can use it in turn, and `share open` insists on exactly one of --to and
// --bearer (exit 2 otherwise).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Cluster, type OpenedShare } from "../helpers/cluster.ts";
import { shareRow, waitConnected } from "../helpers/e2e.ts";

// Each test runs the compiled programs several times: more than bun's default 5 s on 2 cores.
setDefaultTimeout(60_000);

let c: Cluster;
let share: OpenedShare;

beforeAll(async () => {
  c = await Cluster.start("binary");
  expect((await c.openscope(["grant", "add", "--agent", "you", "--verb", "echo.word", "--verb", "ssh.tail_logs"])).code).toBe(0);
  share = await c.openShare(["--agent", "you", "--verb", "echo.word", "--verb", "ssh.tail_logs:service=api,lines=1..5", "--bearer", "--ttl", "5m"]);
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

describe("a --bearer share", () => {
  test("share list shows it with recipient bearer", async () => {
    expect(await shareRow(c, share.id)).toMatchObject({ agent: "you", recipient: "bearer", state: "live", connected: false });
  });

  test("a recipient with no key at all connects and calls", async () => {
    const first = c.recipient("first");
    // No keygen: a bearer handle carries its secret in clear.
    const r = await first.call(share, "echo.word", ["word=one"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("one\n");
    expect(existsSync(join(first.configHome, "openscope", "recipient.key"))).toBe(false);
  });

  test("share open tells the recipient to connect from a file: a bearer handle is never shown on a command line", async () => {
    const r = await c.openscope(["share", "open", "--agent", "you", "--verb", "echo.word", "--bearer", "--ttl", "5m"]);
    expect(r.code).toBe(0);
    const handle = r.stdout.match(/^handle: (osh1\S+)$/m)?.[1];
    expect(handle).toBeDefined();
    const connect = r.stdout.match(/^they connect with: (.*)$/m)?.[1] ?? "";
    expect(connect).toContain("openscope-reflect-client --passport-file");
    expect(connect).not.toContain(handle!);
  });

  test("a second, different recipient (with its own key) uses the same handle in turn", async () => {
    const second = c.recipient("second");
    await second.keygen();
    await waitConnected(c, share.id, false);
    const r = await second.call(share, "ssh.tail_logs", ["lines=2"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("api line 99\napi line 100\n");
    const again = await c.recipient("first").call(share, "echo.word", ["word=two"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe("two\n");
  });

  test("the passport still binds a bearer: a value outside it is denied (exit 3)", async () => {
    const r = await c.recipient("first").call(share, "ssh.tail_logs", ["lines=6"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("lines=6 is outside this share (allowed: 1..5)");
  });

  test("the audit records bearer connections and every call; the chain verifies", async () => {
    const rows = await c.auditRows(share.id);
    expect(rows[0]).toMatchObject({ kind: "share.opened" });
    expect(String(rows[0]!.detail)).toContain("bearer");
    const connected = rows.filter((r) => r.kind === "share.connected");
    expect(connected.length).toBeGreaterThanOrEqual(3);
    for (const r of connected) expect(r.detail).toBe("bearer");
    expect(rows.filter((r) => r.kind === "call.outcome").length).toBe(3);
    expect(rows.filter((r) => r.kind === "call.denied").map((r) => r.reason)).toEqual(["param_outside_passport"]);
    expect((await c.openscope(["audit", "--verify"])).code).toBe(0);
  });

  test("a call's intent and outcome rows name the same params: the pins filled in (SPEC.md §15.2)", async () => {
    const r = await c.recipient("pinned").call(share, "ssh.tail_logs", ["lines=2"]);
    expect(r.code).toBe(0);
    const rows = await c.auditRows(share.id);
    const allowed = rows.filter((x) => x.kind === "call.allowed" && x.verb === "ssh.tail_logs").at(-1)!;
    const outcome = rows.find((x) => x.kind === "call.outcome" && x.callId === allowed.callId)!;
    expect(allowed.params).toEqual({ lines: "2", service: "api" });
    expect(outcome.params).toEqual(allowed.params);
  });

  test("revoking a bearer share ends it for everyone (exit 5)", async () => {
    expect((await c.openscope(["share", "revoke", share.id])).code).toBe(0);
    const r = await c.recipient("second").call(share, "echo.word", ["word=late"]);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("revoked by the operator");
  });
});

describe("share open needs exactly one of --to and --bearer", () => {
  test("neither: exit 2 with a clear message, nothing opened", async () => {
    const before = (await c.openscope(["share", "list", "--json"])).stdout;
    const r = await c.openscope(["share", "open", "--agent", "you", "--verb", "echo.word"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--to <alias> or --bearer");
    expect(r.stdout).not.toContain("osh1");
    expect((await c.openscope(["share", "list", "--json"])).stdout).toBe(before);
  });

  test("both: exit 2 with a clear message, nothing opened", async () => {
    const key = await c.recipient("both").keygen();
    expect((await c.openscope(["recipients", "add", "both-r", key])).code).toBe(0);
    const before = (await c.openscope(["share", "list", "--json"])).stdout;
    const r = await c.openscope(["share", "open", "--agent", "you", "--verb", "echo.word", "--to", "both-r", "--bearer"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("exactly one");
    expect(r.stdout).not.toContain("osh1");
    expect((await c.openscope(["share", "list", "--json"])).stdout).toBe(before);
  });
});
