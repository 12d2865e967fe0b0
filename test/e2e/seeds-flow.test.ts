// The seeds' story on the compiled binaries, step by step: the operator opens a share with pinned
// verbs `--to` a registered key, the recipient copies the printed command and calls, the operator
// lists (connected while a client is on), extends, revokes (the client is told so, exit 5), and
// reads the audit, whose chain verifies.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Cluster, commandFor, runCommand, type OpenedShare, type Recipient } from "../helpers/cluster.ts";
import { pathWithDist, shareRow, startClient, waitConnected } from "../helpers/e2e.ts";
import { waitFor } from "../helpers/spawn.ts";

const MIN = 60_000;
// Each test runs the compiled programs several times: more than bun's default 5 s on 2 cores.
setDefaultTimeout(60_000);

let c: Cluster;
let vendor: Recipient;
let fingerprint: string;
let code: string;
/** The share opened with the text output, as the seeds' quick start does. */
let share: OpenedShare;
let printedCommand: string;

beforeAll(async () => {
  c = await Cluster.start("binary");
  const g = await c.openscope(["grant", "add", "--agent", "you", "--verb", "ssh.tail_logs", "--verb", "ssh.restart_service", "--verb", "echo.word", "--verb", "slow.sleep"]);
  expect(g.code).toBe(0);
  vendor = c.recipient("vendor");
  const pub = await vendor.keygen();
  expect((await c.openscope(["recipients", "add", "vendor-b", pub])).code).toBe(0);
  const printed = (await c.openscope(["fingerprint"])).stdout;
  fingerprint = printed.match(/^fingerprint: (\S+)$/m)![1]!;
  code = printed.match(/^verification code: (\S+)$/m)![1]!;
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

describe("seeds quick start: share open, connect, list, extend, revoke, audit", () => {
  test("share open without --json prints the handle and the client command, and apart from them the code to read by phone", async () => {
    const r = await c.openscope([
      "share", "open",
      "--agent", "you",
      "--verb", "ssh.tail_logs:service=web",
      "--verb", "ssh.restart_service:service=web",
      "--verb", "echo.word",
      "--verb", "slow.sleep",
      "--to", "vendor-b", "--ttl", "10m",
    ]);
    expect(r.code).toBe(0);
    const id = r.stdout.match(/share ([0-9a-f]{12}) open for vendor-b/)?.[1];
    const handle = r.stdout.match(/^handle: (osh1\S+)$/m)?.[1];
    const cmd = r.stdout.match(/^they connect with: (openscope-reflect-client --passport .*)$/m)?.[1];
    expect(id).toBeDefined();
    expect(handle).toBeDefined();
    expect(r.stdout).toContain(`read this code to vendor-b by phone: ${code}\n`);
    // Neither the code nor the fingerprint travels with the handle.
    expect(cmd).toBe(`openscope-reflect-client --passport ${handle}`);
    expect(r.stdout).not.toContain(fingerprint);
    const row = await shareRow(c, id!);
    expect(row).toBeDefined();
    share = { id: id!, handle: handle!, fingerprint, code, expires_at: row!.expires_at };
    printedCommand = cmd!;
  });

  test("a newcomer copies the printed command, adds the code they heard, and calls a verb", async () => {
    // Run through a shell exactly as pasted, with the binaries on PATH and no known daemons yet.
    expect(existsSync(join(vendor.configHome, "openscope", "known_daemons"))).toBe(false);
    const r = await runCommand(["sh", "-c", `${printedCommand} --verify '${code}' call echo.word word=hello`], {
      env: { PATH: pathWithDist(), XDG_CONFIG_HOME: vendor.configHome },
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("hello\n");
    // The confirmed daemon is remembered for next time.
    expect(existsSync(join(vendor.configHome, "openscope", "known_daemons"))).toBe(true);
  });

  test("the pinned verbs run with the pinned value; another value is denied (exit 3) and never runs", async () => {
    const tail = await vendor.call(share, "ssh.tail_logs", ["lines=2"]);
    expect(tail.code).toBe(0);
    expect(tail.stdout).toBe("web line 99\nweb line 100\n");
    const restart = await vendor.call(share, "ssh.restart_service");
    expect(restart.code).toBe(0);
    expect(existsSync(join(c.dir, "data", "run", "web.restarted"))).toBe(true);
    const api = await vendor.call(share, "ssh.tail_logs", ["service=api"]);
    expect(api.code).toBe(3);
    expect(api.stderr).toContain("service=api is outside this share (allowed: web)");
    expect(api.stdout).toBe("");
  });

  test("share list --json has the documented fields; connected only while a client is on", async () => {
    const idle = await waitConnected(c, share.id, false);
    for (const k of ["id", "agent", "recipient", "verbs", "state", "expires_at", "connected"]) expect(Object.keys(idle)).toContain(k);
    expect(typeof idle.connected).toBe("boolean");
    expect(Number.isNaN(Date.parse(idle.expires_at))).toBe(false);
    expect(idle).toMatchObject({ agent: "you", recipient: "vendor-b", state: "live", connected: false });
    expect(idle.verbs.sort()).toEqual(["echo.word", "slow.sleep", "ssh.restart_service", "ssh.tail_logs"]);
    const text = await c.openscope(["share", "list"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`${share.id}\\s+you\\s+vendor-b\\s+live`));
  });

  test("extend moves the expiry (at most now+30m); 31m is refused with exit 2", async () => {
    const before = Date.parse((await shareRow(c, share.id))!.expires_at);
    const t0 = Date.now();
    const r = await c.openscope(["share", "extend", share.id, "--ttl", "25m", "--json"]);
    expect(r.code).toBe(0);
    const after = Date.parse((JSON.parse(r.stdout) as { expires_at: string }).expires_at);
    expect(after).toBeGreaterThan(before);
    expect(after).toBeGreaterThanOrEqual(t0 + 25 * MIN - 1000);
    expect(after).toBeLessThanOrEqual(Date.now() + 30 * MIN);
    expect(Date.parse((await shareRow(c, share.id))!.expires_at)).toBe(after);
    const over = await c.openscope(["share", "extend", share.id, "--ttl", "31m"]);
    expect(over.code).toBe(2);
    expect(over.stderr).toContain("30m");
    expect(Date.parse((await shareRow(c, share.id))!.expires_at)).toBe(after);
    const text = await c.openscope(["share", "extend", share.id, "--ttl", "30m"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`share ${share.id} now expires at`);
    expect(Date.parse((await shareRow(c, share.id))!.expires_at)).toBeLessThanOrEqual(Date.now() + 30 * MIN);
  });

  test("share open --wait returns once the recipient has connected, even for a quick one-shot call", async () => {
    const proc = Bun.spawn(
      [...commandFor("binary", "openscope"), "share", "open", "--agent", "you", "--verb", "echo.word", "--to", "vendor-b", "--ttl", "5m", "--wait"],
      { env: { ...process.env, NO_COLOR: "1", OPENSCOPE_HOME: c.home }, stdout: "pipe", stderr: "pipe" },
    );
    const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
    let out = "";
    const pump = (async () => {
      for await (const chunk of proc.stdout) out += new TextDecoder().decode(chunk);
    })();
    const handle = (await waitFor(() => out.match(/^handle: (osh1\S+)$/m), "share open --wait to print the handle"))[1]!;
    expect(proc.exitCode).toBeNull();
    const r = await vendor.call({ id: "", handle, fingerprint, code, expires_at: "" }, "echo.word", ["word=waited"]);
    expect(r.code).toBe(0);
    expect(await proc.exited).toBe(0);
    clearTimeout(timer);
    await pump;
    expect(out + (await new Response(proc.stderr).text())).toContain("vendor-b connected");
  });

  test("an interactive client on piped stdin: connected true while it runs a slow verb; revoke tells it 'revoked by the operator' (exit 5)", async () => {
    const client = startClient(vendor, c.mode, ["--passport", share.handle, "--fingerprint", share.fingerprint]);
    try {
      client.send("list");
      client.send("slow.sleep seconds=60");
      await waitFor(() => client.stderr().includes("verbs you may call"), "the interactive client to list verbs", 15_000);
      const row = await waitConnected(c, share.id, true);
      expect(row.state).toBe("live");
      // The slow call is running on the daemon (its intent is in the audit) before the revoke.
      await waitFor(async () => (await c.auditRows(share.id)).some((r) => r.kind === "call.allowed" && r.verb === "slow.sleep"), "slow.sleep to start");
      const rv = await c.openscope(["share", "revoke", share.id]);
      expect(rv.code).toBe(0);
      expect(await client.exited).toBe(5);
      expect(client.stderr()).toContain("revoked by the operator");
      expect(client.stderr()).toContain("Every call is recorded");
    } finally {
      client.kill();
    }
    const row = await waitConnected(c, share.id, false);
    expect(row.state).toBe("revoked");
  });

  test("after revoke: a new call exits 5 'revoked by the operator'; extend and revoke again exit 5", async () => {
    const r = await vendor.call(share, "echo.word", ["word=late"]);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("revoked by the operator");
    expect(r.stdout).toBe("");
    const ext = await c.openscope(["share", "extend", share.id, "--ttl", "5m"]);
    expect(ext.code).toBe(5);
    expect(ext.stderr).toContain("revoked");
    expect((await c.openscope(["share", "revoke", share.id])).code).toBe(5);
  });

  test("audit --json has every event of the story in order; the revoke killed the running verb; --verify passes", async () => {
    const rows = await c.auditRows(share.id);
    const kinds = rows.map((r) => r.kind);
    for (const k of ["share.opened", "share.connected", "call.allowed", "call.outcome", "call.denied", "share.extended", "share.revoked"]) expect(kinds).toContain(k);
    expect(kinds.indexOf("share.opened")).toBe(0);
    const seqs = rows.map((r) => r.seq as number);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    for (const r of rows) expect(r).toMatchObject({ shareId: share.id, agent: "you" });
    expect(rows.find((r) => r.kind === "call.denied")).toMatchObject({ verb: "ssh.tail_logs", reason: "param_outside_passport" });
    expect(rows.filter((r) => r.kind === "share.extended").length).toBe(2);
    // The slow verb: intent before revoke, outcome after, not a normal exit.
    const slow = rows.filter((r) => r.verb === "slow.sleep");
    expect(slow.map((r) => r.kind)).toEqual(["call.allowed", "call.outcome"]);
    const revokedAt = rows.find((r) => r.kind === "share.revoked")!.seq as number;
    expect(slow[0]!.seq as number).toBeLessThan(revokedAt);
    expect(slow[1]!.exitCode).not.toBe(0);
    // Every allowed call has exactly one outcome.
    const allowed = rows.filter((r) => r.kind === "call.allowed").map((r) => r.callId);
    const outcomes = rows.filter((r) => r.kind === "call.outcome").map((r) => r.callId);
    expect(outcomes.length).toBe(allowed.length);
    const v = await c.openscope(["audit", "--verify"]);
    expect(v.code).toBe(0);
    expect(v.stdout + v.stderr).toContain("verifies");
    const text = await c.openscope(["audit", "--share", share.id]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("share.revoked");
  });
});
