// THREAT-MODEL.md "What must never happen": an audit record is lost, or a verb runs without its
// committed intent, or the daemon hangs, while another process holds the database's write lock
// (BEGIN EXCLUSIVE in a bun:sqlite child, longer than the busy timeout would allow a blocked loop).
// On the compiled binaries: calls made meanwhile are answered `internal` (exit 70), nothing runs,
// the daemon keeps answering, and once the lock is gone every row is committed, in a chain that
// verifies; the intent recorded too late is closed by an outcome row saying the verb did not run.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Cluster, type OpenedShare, type Recipient } from "../helpers/cluster.ts";
import { holdExclusiveLock } from "../helpers/db-lock.ts";
import { waitFor } from "../helpers/spawn.ts";

setDefaultTimeout(90_000);

let c: Cluster;
let vendor: Recipient;
let share: OpenedShare;

beforeAll(async () => {
  c = await Cluster.start("binary");
  ({ vendor, share } = await c.shareTo({ grant: ["echo.word", "ssh.restart_service", "slow.sleep"], share: ["echo.word", "ssh.restart_service"] }));
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

test("while another process holds BEGIN EXCLUSIVE: calls answer internal (70), nothing runs, no row is lost", async () => {
  const marker = join(c.dir, "data", "run", "web.restarted");
  const lock = await holdExclusiveLock(join(c.home, "openscope.db"));
  let denied, allowed;
  try {
    // A call the chokepoint denies, then one it allows: neither can be recorded now.
    denied = await vendor.call(share, "slow.sleep", ["seconds=1"]);
    allowed = await vendor.call(share, "ssh.restart_service", ["service=web"]);
    // The daemon's event loop is not stalled: its control socket answers while the lock is held.
    const list = await c.openscope(["share", "list", "--json"]);
    expect(list.code).toBe(0);
    expect(c.daemon!.stderr()).toContain("audit: the database is locked by another process");
  } finally {
    await lock.release();
  }
  for (const r of [denied!, allowed!]) {
    expect(r.code).toBe(70);
    expect(r.stderr).toContain("could not record this call in its audit log in time");
  }
  expect(existsSync(marker)).toBe(false);

  // Once the lock is gone every queued row is committed: the denial, and the late intent closed
  // by an outcome saying the verb did not run.
  const rows = await waitFor(async () => {
    const rows = await c.auditRows(share.id);
    const done = rows.some((r) => r.kind === "call.denied" && r.verb === "slow.sleep") && rows.some((r) => r.kind === "call.outcome" && r.verb === "ssh.restart_service");
    return done ? rows : undefined;
  }, "the queued rows to be committed", 20_000);
  expect(rows.find((r) => r.kind === "call.denied" && r.verb === "slow.sleep")!.reason).toBe("verb_not_in_passport");
  const intent = rows.find((r) => r.kind === "call.allowed" && r.verb === "ssh.restart_service")!;
  const outcome = rows.find((r) => r.kind === "call.outcome" && r.verb === "ssh.restart_service")!;
  expect(outcome.callId).toBe(intent.callId);
  expect(outcome.detail).toBe("not started: its intent was recorded too late");
  expect(existsSync(marker)).toBe(false);
  expect((await c.openscope(["audit", "--verify"])).code).toBe(0);

  // And the share works as before.
  const ok = await vendor.call(share, "echo.word", ["word=after"]);
  expect(ok.code).toBe(0);
  expect(ok.stdout).toBe("after\n");
});

test("a share that expires while the lock is held: the daemon neither stalls nor crashes, and saves it once the lock is gone", async () => {
  const short = await c.openShare(["--agent", "you", "--verb", "echo.word", "--to", "vendor-b", "--ttl", "5s"]);
  const lock = await holdExclusiveLock(join(c.home, "openscope.db"));
  try {
    // The expiry timer fires while the lock is held: it ends the share in memory and waits for the lock without blocking.
    await waitFor(() => c.daemon!.stderr().includes(`save share ${short.id} as expired: the database is locked by another process`), "the expiry to meet the lock", 20_000);
    const list = await c.openscope(["share", "list", "--json"]);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as Array<{ id: string; state: string }>).find((s) => s.id === short.id)?.state).toBe("expired");
    const late = await vendor.call(short, "echo.word", ["word=late"]);
    expect(late.code).toBe(5);
  } finally {
    await lock.release();
  }
  const db = new Database(join(c.home, "openscope.db"), { readonly: true });
  try {
    await waitFor(() => db.query<{ state: string }, [string]>("SELECT state FROM shares WHERE id = ?").get(short.id)?.state === "expired", "the expiry saved");
  } finally {
    db.close();
  }
  await waitFor(async () => (await c.auditRows(short.id)).some((r) => r.kind === "share.expired"), "share.expired recorded");
  expect(c.daemon!.proc.exitCode).toBeNull();
  expect((await c.openscope(["audit", "--verify"])).code).toBe(0);
});
