// THREAT-MODEL.md: an audit record is lost, or the daemon stalls, while another process holds the
// database's write lock. appendSoon() never waits on the lock: its rows stay queued, in order, and
// are committed once the lock is gone; the event loop goes on meanwhile.
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditLog, type AuditRow } from "../../lib/store/audit.ts";
import { Store } from "../../lib/store/store.ts";
import { holdExclusiveLock } from "../helpers/db-lock.ts";

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

test("rows appended while another process holds BEGIN EXCLUSIVE wait without blocking, then commit in order", async () => {
  dir = mkdtempSync(join(tmpdir(), "openscope-audit-lock-"));
  const file = join(dir, "openscope.db");
  const store = Store.open(file);
  const audit = new AuditLog(store);
  audit.append({ kind: "grant.changed", agent: "you", detail: "before" });
  const lock = await holdExclusiveLock(file);

  const started = Date.now();
  let settled = 0;
  const rows = ["one", "two", "three"].map((detail) => audit.appendSoon({ kind: "grant.changed", agent: "you", detail }).finally(() => settled++));
  // The event loop is not held: timers run while the lock is held, and nothing is committed yet.
  for (let i = 0; i < 5; i++) await Bun.sleep(20);
  expect(Date.now() - started).toBeLessThan(5_000); // far under the 10 s busy timeout a blocked loop would wait
  expect(settled).toBe(0);
  expect(audit.waiting).toBe(3);

  await lock.release();
  const committed = await Promise.all(rows);
  expect(committed.map((r) => r.detail)).toEqual(["one", "two", "three"]);
  expect(audit.waiting).toBe(0);
  expect(audit.list().map((r) => r.detail)).toEqual(["before", "one", "two", "three"]);
  expect(audit.verify()).toEqual({ ok: true, rows: 4 });
  store.close();
}, 30_000);

test("drain() at shutdown waits on the lock (the busy timeout) and commits what still waits", async () => {
  dir = mkdtempSync(join(tmpdir(), "openscope-audit-lock-"));
  const file = join(dir, "openscope.db");
  const store = Store.open(file);
  const audit = new AuditLog(store);
  const lock = await holdExclusiveLock(file);
  const row = audit.appendSoon({ kind: "grant.changed", agent: "you", detail: "queued" });
  await Bun.sleep(50);
  expect(audit.waiting).toBe(1);
  // The child commits when told; drain() then blocks this process on the lock (up to the busy
  // timeout) until the child, which runs on its own, lets go.
  const released = lock.release();
  expect(audit.drain()).toEqual([]);
  await released;
  expect((await row).detail).toBe("queued");
  store.close();
}, 30_000);

test("a listener that appends while a batch commits (approvals on share.revoked) adds its row once; nothing is committed twice", async () => {
  dir = mkdtempSync(join(tmpdir(), "openscope-audit-lock-"));
  const store = Store.open(join(dir, "openscope.db"));
  class Listening extends AuditLog {
    protected override committed(row: AuditRow): void {
      if (row.kind === "share.revoked") {
        void this.appendSoon({ kind: "approval.denied", shareId: row.shareId, requestId: "00000001", reason: "revoked" });
        this.flushSoon();
      }
    }
  }
  const audit = new Listening(store);
  const a = audit.appendSoon({ kind: "share.opened", shareId: "s1" });
  const b = audit.appendSoon({ kind: "share.revoked", shareId: "s1" });
  audit.flushSoon();
  await Promise.all([a, b]);
  await Bun.sleep(10);
  expect(audit.list().map((r) => r.kind)).toEqual(["share.opened", "share.revoked", "approval.denied"]);
  expect(audit.verify()).toEqual({ ok: true, rows: 3 });
  store.close();
});
