// THREAT-MODEL.md "What must never happen": a share outlives the grant it was issued from, or a
// running verb outlives the grant that admitted it. On the compiled binaries: `grant revoke --all`
// then a later `grant add` does not bring the old live share back (the passport is bound to its
// grant's id); and a grant change made while calls run (grant add that narrows, grant revoke)
// ends the calls the current grant no longer admits, audited with why, the others going on.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cluster, type OpenedShare, type Recipient } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/spawn.ts";

setDefaultTimeout(60_000);

let c: Cluster;

beforeAll(async () => {
  c = await Cluster.start("binary");
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

describe("a share is bound to the grant it was issued from", () => {
  test("grant revoke --all, then grant add again: the old share stays denied (exit 3) with a clear reason; a new share works", async () => {
    const { vendor, share } = await c.shareTo({ grant: ["echo.word"], agent: "rebound", alias: "vendor-rebound" });
    expect((await vendor.call(share, "echo.word", ["word=before"])).code).toBe(0);

    expect((await c.openscope(["grant", "revoke", "--agent", "rebound", "--all"])).code).toBe(0);
    expect((await vendor.call(share, "echo.word", ["word=between"])).code).toBe(3);
    expect((await c.openscope(["grant", "add", "--agent", "rebound", "--verb", "echo.word"])).code).toBe(0);

    const after = await vendor.call(share, "echo.word", ["word=after"]);
    expect(after.code).toBe(3);
    expect(after.stdout).toBe("");
    expect(after.stderr).toContain("this share's grant was replaced by the operator; ask for a new share");
    const denied = (await c.auditRows(share.id)).filter((r) => r.kind === "call.denied" && r.reason === "param_outside_grant");
    expect(denied.map((r) => r.message)).toContain("this share's grant was replaced by the operator; ask for a new share");

    // A share opened from the new grant works.
    const fresh = await c.openShare(["--agent", "rebound", "--verb", "echo.word", "--to", "vendor-rebound", "--ttl", "5m"]);
    const ok = await vendor.call(fresh, "echo.word", ["word=fresh"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe("fresh\n");
  });

  test("narrowing a grant (grant revoke --verb) keeps its id: the share goes on for what is left", async () => {
    const { vendor, share } = await c.shareTo({ grant: ["echo.word", "ssh.restart_service"], agent: "narrowed", alias: "vendor-narrowed" });
    expect((await c.openscope(["grant", "revoke", "--agent", "narrowed", "--verb", "ssh.restart_service"])).code).toBe(0);
    const r = await vendor.call(share, "echo.word", ["word=still"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("still\n");
    const gone = await vendor.call(share, "ssh.restart_service", ["service=web"]);
    expect(gone.code).toBe(3);
    expect(gone.stderr).toContain("ssh.restart_service is no longer granted by the operator");
  });
});

describe("a grant change ends the running calls it no longer admits", () => {
  let vendor: Recipient;
  let sleepShare: OpenedShare;
  let followShare: OpenedShare;
  const agent = "changing";

  beforeAll(async () => {
    // Two shares of one agent (a share takes one recipient session at a time), so two calls run at once.
    ({ vendor, share: sleepShare } = await c.shareTo({ grant: ["slow.sleep", "logs.follow", "echo.word"], share: ["slow.sleep"], agent, alias: "vendor-changing", ttl: "10m" }));
    followShare = await c.openShare(["--agent", agent, "--verb", "logs.follow", "--to", "vendor-changing", "--ttl", "10m"]);
  });

  /** Starts a call and waits until the daemon has committed its intent (so it runs). */
  async function running(share: OpenedShare, verb: string, params: string[]): Promise<{ done: ReturnType<Recipient["call"]>; share: OpenedShare; callId: string }> {
    const seen = new Set((await c.auditRows(share.id)).filter((r) => r.kind === "call.allowed").map((r) => r.callId));
    for (let attempt = 0; ; attempt++) {
      let settled: Awaited<ReturnType<Recipient["call"]>> | undefined;
      const done = vendor.call(share, verb, params);
      void done.then((r) => (settled = r));
      const row = await waitFor(async () => (await c.auditRows(share.id)).find((r) => r.kind === "call.allowed" && r.verb === verb && !seen.has(r.callId)) ?? (settled ? "ended" : undefined), `${verb} to start`);
      if (row !== "ended") return { done, share, callId: String(row.callId) };
      // The share's previous session may not have let go yet (one recipient session at a time).
      if (attempt >= 5 || !settled!.stderr.includes("already connected")) throw new Error(`${verb} did not start: ${settled!.stderr}`);
      await Bun.sleep(200);
    }
  }

  async function endedBecause(call: { share: OpenedShare; callId: string }, detail: string): Promise<void> {
    const rows = await waitFor(async () => {
      const rows = await c.auditRows(call.share.id);
      return rows.some((r) => r.kind === "call.outcome" && r.callId === call.callId) ? rows : undefined;
    }, `the outcome of ${call.callId}`);
    const killed = rows.filter((r) => r.kind === "call.killed" && r.callId === call.callId);
    expect(killed.length).toBe(1);
    expect(String(killed[0]!.detail)).toBe(`the grant changed: ${detail}`);
    const outcome = rows.find((r) => r.kind === "call.outcome" && r.callId === call.callId)!;
    expect(String(outcome.detail)).toContain("the grant changed");
    expect(killed[0]!.seq as number).toBeLessThan(outcome.seq as number);
  }

  test("grant add that narrows a value: the call outside the new grant ends; another verb's call goes on", async () => {
    const sleep = await running(sleepShare, "slow.sleep", ["seconds=90"]);
    const follow = await running(followShare, "logs.follow", ["service=web"]);
    expect((await c.openscope(["grant", "add", "--agent", agent, "--verb", "slow.sleep:seconds=0..5"])).code).toBe(0);
    const r = await sleep.done;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("cancelled by the operator");
    await endedBecause(sleep, "seconds=90 is no longer allowed by the operator");
    // The follow was decided again in the same pass and is still admitted: no kill row, no outcome.
    const rows = await c.auditRows(followShare.id);
    expect(rows.some((row) => row.callId === follow.callId && (row.kind === "call.killed" || row.kind === "call.outcome"))).toBe(false);

    // grant revoke --verb: the follow ends too.
    expect((await c.openscope(["grant", "revoke", "--agent", agent, "--verb", "logs.follow"])).code).toBe(0);
    expect((await follow.done).code).not.toBe(0);
    await endedBecause(follow, "logs.follow is no longer granted by the operator");

    // What the grant still admits runs as before.
    const ok = await vendor.call(sleepShare, "slow.sleep", ["seconds=0"]);
    expect(ok.code).toBe(0);
  });

  test("openscope reload with the verb narrowed in verbs.toml: the running call it no longer admits ends, audited", async () => {
    const sleep = await running(sleepShare, "slow.sleep", ["seconds=5"]); // the grant admits 0..5 since the first test
    const file = join(c.home, "verbs.toml");
    const before = readFileSync(file, "utf8");
    writeFileSync(file, before.replace('params.seconds = { int = [0, 120] }', 'params.seconds = { int = [0, 2] }'), { mode: 0o644 });
    try {
      expect((await c.openscope(["reload"])).code).toBe(0);
      expect((await sleep.done).code).not.toBe(0);
      const rows = await waitFor(async () => {
        const rows = await c.auditRows(sleepShare.id);
        return rows.some((r) => r.kind === "call.outcome" && r.callId === sleep.callId) ? rows : undefined;
      }, "the outcome");
      expect(rows.find((r) => r.kind === "call.killed" && r.callId === sleep.callId)?.detail).toBe("the catalog changed: seconds=5 is no longer allowed by the operator");
    } finally {
      writeFileSync(file, before, { mode: 0o644 });
      expect((await c.openscope(["reload"])).code).toBe(0);
    }
  });

  test("grant revoke --all: a running call ends, audited", async () => {
    const sleep = await running(sleepShare, "slow.sleep", ["seconds=5"]);
    expect((await c.openscope(["grant", "revoke", "--agent", agent, "--all"])).code).toBe(0);
    expect((await sleep.done).code).not.toBe(0);
    await endedBecause(sleep, "slow.sleep is no longer granted by the operator");
  });
});
