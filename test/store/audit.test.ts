// The audit chain: rows link by hash, verify() finds an altered, deleted, reordered or
// truncated row by its seq, two processes appending at once keep one chain, and 1000+ appends
// survive a reopen.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditLog, chainHash, encodeBody, GENESIS_HASH, type AuditEvent } from "../../lib/store/audit.ts";
import { Store } from "../../lib/store/store.ts";

let dir: string;
let path: string;
let store: Store;
let clockNow: number;
let log: AuditLog;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "openscope-audit-"));
  path = join(dir, "openscope.db");
  store = Store.open(path);
  clockNow = 1_700_000_000_000;
  log = new AuditLog(store, () => clockNow++);
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const EVENTS: AuditEvent[] = [
  { kind: "share.opened", shareId: "sh_1", agent: "you", detail: "to vendor-b, ttl 30m" },
  { kind: "share.connected", shareId: "sh_1" },
  { kind: "call.allowed", shareId: "sh_1", agent: "you", callId: "c1", verb: "ssh.tail_logs", params: { service: "web", lines: "50" } },
  { kind: "call.outcome", shareId: "sh_1", callId: "c1", exitCode: 0, bytesOut: 1234, durationMs: 12, outputDigest: "ab".repeat(32), truncated: false },
  { kind: "call.denied", shareId: "sh_1", callId: "c2", verb: "ssh.rm", reason: "verb_not_in_passport", message: "verb ssh.rm is not in this passport" },
  { kind: "share.revoked", shareId: "sh_1" },
  { kind: "grant.changed", agent: "you", detail: "revision 2" },
];

/** The tests tamper as an attacker with file access would: drop the append-only triggers first. */
function tamper(sql: string, ...params: (string | number)[]): void {
  store.db.run("DROP TRIGGER IF EXISTS audit_no_update");
  store.db.run("DROP TRIGGER IF EXISTS audit_no_delete");
  store.db.query(sql).run(...params);
}

describe("appending", () => {
  test("rows get consecutive seqs, link to the previous hash, and read back as appended", () => {
    const rows = EVENTS.map((e) => log.append(e));
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(rows[0]!.prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prevHash).toBe(rows[i - 1]!.hash);
    for (const [i, r] of rows.entries()) {
      expect(r).toMatchObject(EVENTS[i]!);
      expect(r.hash).toBe(chainHash(r.prevHash, encodeBody(r.seq, r.at, EVENTS[i]!)));
    }
    expect(log.list()).toEqual(rows);
    expect(log.verify()).toEqual({ ok: true, rows: 7 });
  });

  test("an outcome's redaction counts are stored with sorted rule ids, never values, and verify", () => {
    const event: AuditEvent = { kind: "call.outcome", shareId: "sh_1", callId: "c9", exitCode: 0, redactions: { jwt: 1, "aws-access-key-id": 2 }, truncated: false };
    const row = log.append(event);
    expect(encodeBody(row.seq, row.at, event)).toContain('"truncated":false,"redactions":{"aws-access-key-id":2,"jwt":1}');
    expect(log.list().at(-1)!.redactions).toEqual({ "aws-access-key-id": 2, jwt: 1 });
    expect(log.verify()).toEqual({ ok: true, rows: 1 });
    expect(() => log.append({ kind: "call.outcome", redactions: { jwt: 0 } })).toThrow("audit: malformed event");
  });

  test("the body has a fixed key order and sorted params, whatever order the event was built in", () => {
    const a = encodeBody(1, 2, { verb: "v", kind: "call.allowed", params: { b: "2", a: "1" } });
    const b = encodeBody(1, 2, { kind: "call.allowed", params: { a: "1", b: "2" }, verb: "v" });
    expect(a).toBe(b);
    expect(a).toBe('{"seq":1,"at":2,"kind":"call.allowed","verb":"v","params":{"a":"1","b":"2"}}');
  });

  test("a malformed event is refused before anything is written", () => {
    expect(() => log.append({ kind: "nope" as never })).toThrow(/audit: malformed event/);
    expect(() => log.append({ kind: "call.allowed", params: { n: 5 as never } })).toThrow(/audit: malformed event/);
    expect(log.list()).toEqual([]);
  });

  test("the database refuses UPDATE and DELETE of audit rows", () => {
    log.append(EVENTS[0]!);
    expect(() => store.db.run("UPDATE audit SET at = 0")).toThrow(/append-only/);
    expect(() => store.db.run("DELETE FROM audit")).toThrow(/append-only/);
    expect(log.verify()).toEqual({ ok: true, rows: 1 });
  });

  test("list filters by share, after a seq, and a limit", () => {
    for (const e of EVENTS) log.append(e);
    log.append({ kind: "share.opened", shareId: "sh_2" });
    expect(log.list({ shareId: "sh_2" }).map((r) => r.seq)).toEqual([8]);
    expect(log.list({ shareId: "sh_1", afterSeq: 3 }).map((r) => r.seq)).toEqual([4, 5, 6]);
    expect(log.list({ afterSeq: 2, limit: 2 }).map((r) => r.seq)).toEqual([3, 4]);
  });

  test("an empty log verifies", () => {
    expect(log.verify()).toEqual({ ok: true, rows: 0 });
  });
});

describe("tampering is found, with its seq", () => {
  beforeEach(() => {
    for (const e of EVENTS) log.append(e);
  });

  test("an altered body", () => {
    tamper("UPDATE audit SET body = replace(body, '\"exitCode\":0', '\"exitCode\":1') WHERE seq = 4");
    expect(log.verify()).toMatchObject({ ok: false, brokenAt: 4, rows: 3 });
  });

  test("an altered body with its own hash recomputed breaks the next link", () => {
    const body = store.db.query<{ body: string; prev_hash: string }, []>("SELECT body, prev_hash FROM audit WHERE seq = 3").get()!;
    const forged = body.body.replace('"web"', '"db"');
    tamper("UPDATE audit SET body = ?, hash = ? WHERE seq = 3", forged, chainHash(body.prev_hash, forged));
    expect(log.verify()).toMatchObject({ ok: false, brokenAt: 4 });
  });

  test("an altered column that list() filters on", () => {
    tamper("UPDATE audit SET share_id = 'sh_other' WHERE seq = 2");
    const r = log.verify();
    expect(r).toMatchObject({ ok: false, brokenAt: 2 });
    if (!r.ok) expect(r.problem).toContain("columns differ");
  });

  test("an altered timestamp column", () => {
    tamper("UPDATE audit SET at = at + 1 WHERE seq = 6");
    expect(log.verify()).toMatchObject({ ok: false, brokenAt: 6 });
  });

  for (const seq of [1, 4, 7]) {
    test(`a deleted row ${seq}`, () => {
      tamper("DELETE FROM audit WHERE seq = ?", seq);
      const r = log.verify();
      expect(r).toMatchObject({ ok: false, brokenAt: seq });
      if (!r.ok) expect(r.problem).toContain("missing");
    });
  }

  test("two rows swapped (content moved between seqs)", () => {
    const r2 = store.db.query<{ body: string; prev_hash: string; hash: string }, []>("SELECT * FROM audit WHERE seq = 2").get()!;
    const r5 = store.db.query<{ body: string; prev_hash: string; hash: string }, []>("SELECT * FROM audit WHERE seq = 5").get()!;
    tamper("UPDATE audit SET body = ?, prev_hash = ?, hash = ? WHERE seq = 2", r5.body, r5.prev_hash, r5.hash);
    tamper("UPDATE audit SET body = ?, prev_hash = ?, hash = ? WHERE seq = 5", r2.body, r2.prev_hash, r2.hash);
    expect(log.verify()).toMatchObject({ ok: false, brokenAt: 2 });
  });

  test("rows renumbered (reordered seqs)", () => {
    tamper("UPDATE audit SET seq = 100 WHERE seq = 3");
    tamper("UPDATE audit SET seq = 3 WHERE seq = 4");
    tamper("UPDATE audit SET seq = 4 WHERE seq = 100");
    expect(log.verify()).toMatchObject({ ok: false, brokenAt: 3 });
  });

  test("a forged row inserted in the middle of the chain", () => {
    for (const seq of [7, 6, 5]) tamper("UPDATE audit SET seq = ? WHERE seq = ?", seq + 1, seq);
    const r4 = store.db.query<{ hash: string }, []>("SELECT hash FROM audit WHERE seq = 4").get()!;
    const body = encodeBody(5, 1, { kind: "call.allowed", shareId: "sh_1", verb: "ssh.rm" });
    tamper("INSERT INTO audit (seq, at, kind, share_id, body, prev_hash, hash) VALUES (5, 1, 'call.allowed', 'sh_1', ?, ?, ?)", body, r4.hash, chainHash(r4.hash, body));
    expect(log.verify()).toMatchObject({ ok: false, brokenAt: 6 });
  });

  // The last row has no next row whose link would break: only the chain head can catch it
  // (mutation testing, issue 22: a verify() ignoring the head survived every tier).
  test("the last row's body altered with its hash recomputed", () => {
    const last = store.db.query<{ body: string; prev_hash: string }, []>("SELECT body, prev_hash FROM audit WHERE seq = 7").get()!;
    const forged = last.body.replace('"revision 2"', '"revision 3"');
    expect(forged).not.toBe(last.body);
    tamper("UPDATE audit SET body = ?, hash = ? WHERE seq = 7", forged, chainHash(last.prev_hash, forged));
    const r = log.verify();
    expect(r).toEqual({ ok: false, rows: 7, brokenAt: 7, problem: "row 7 does not match the chain head" });
  });

  test("the only row of a one-row log altered with its hash recomputed", () => {
    const fresh = join(dir, "one.db");
    const one = Store.open(fresh);
    try {
      const l = new AuditLog(one, () => 5);
      l.append({ kind: "share.opened", shareId: "sh_9" });
      const forged = encodeBody(1, 5, { kind: "share.opened", shareId: "sh_9", detail: "x" });
      one.db.run("DROP TRIGGER IF EXISTS audit_no_update");
      one.db.query("UPDATE audit SET body = ?, hash = ? WHERE seq = 1").run(forged, chainHash(GENESIS_HASH, forged));
      expect(l.verify()).toMatchObject({ ok: false, brokenAt: 1 });
    } finally {
      one.close();
    }
  });

  test("the chain head moved back one row (the last row looks appended behind its back)", () => {
    const r6 = store.db.query<{ hash: string }, []>("SELECT hash FROM audit WHERE seq = 6").get()!;
    store.db.query("UPDATE audit_head SET seq = 6, hash = ? WHERE one = 1").run(r6.hash);
    expect(log.verify()).toEqual({ ok: false, rows: 7, brokenAt: 7, problem: "row 7 is past the chain head (6)" });
  });

  test("the chain head moved forward past the last row", () => {
    store.db.query("UPDATE audit_head SET seq = 9 WHERE one = 1").run();
    expect(log.verify()).toEqual({ ok: false, rows: 7, brokenAt: 8, problem: "rows 8..9 are missing (the chain head is at 9)" });
  });

  test("the first row's link to the genesis hash altered", () => {
    const r1 = store.db.query<{ body: string }, []>("SELECT body FROM audit WHERE seq = 1").get()!;
    const prev = "f".repeat(64);
    tamper("UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = 1", prev, chainHash(prev, r1.body));
    expect(log.verify()).toMatchObject({ ok: false, brokenAt: 1, problem: "row 1 does not link to row 0 (prev_hash differs)" });
  });

  test("a body that is not valid JSON or not a row, with its hash recomputed", () => {
    const r3 = store.db.query<{ prev_hash: string }, []>("SELECT prev_hash FROM audit WHERE seq = 3").get()!;
    for (const body of ["{not json", '{"seq":3,"at":1,"kind":"nope"}']) {
      tamper("UPDATE audit SET body = ?, hash = ? WHERE seq = 3", body, chainHash(r3.prev_hash, body));
      expect(log.verify()).toMatchObject({ ok: false, brokenAt: 3, problem: "row 3 has a malformed body" });
    }
  });

  test("an altered kind column", () => {
    tamper("UPDATE audit SET kind = 'call.allowed' WHERE seq = 5");
    expect(log.verify()).toMatchObject({ ok: false, brokenAt: 5, problem: "row 5 was altered (its columns differ from its hashed body)" });
  });

  test("an altered seq inside the hashed body (the column kept)", () => {
    const r2 = store.db.query<{ body: string; prev_hash: string }, []>("SELECT body, prev_hash FROM audit WHERE seq = 2").get()!;
    const forged = r2.body.replace('"seq":2', '"seq":3');
    tamper("UPDATE audit SET body = ?, hash = ? WHERE seq = 2", forged, chainHash(r2.prev_hash, forged));
    expect(log.verify()).toMatchObject({ ok: false, brokenAt: 2 });
  });

  test("a forged row appended without moving the head", () => {
    const last = store.db.query<{ hash: string }, []>("SELECT hash FROM audit WHERE seq = 7").get()!;
    const body = encodeBody(8, 1, { kind: "share.expired", shareId: "sh_1" });
    tamper("INSERT INTO audit (seq, at, kind, share_id, body, prev_hash, hash) VALUES (8, 1, 'share.expired', 'sh_1', ?, ?, ?)", body, last.hash, chainHash(last.hash, body));
    expect(log.verify()).toMatchObject({ ok: false, brokenAt: 8 });
  });
});

// SPEC.md §15's formula, computed here with node:crypto: a change to the chain's hashing that both
// append() and verify() share would otherwise go unseen (mutation testing, issue 22).
describe("the chain hash, known answers", () => {
  const sha = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
  test("hash = hex(SHA-256(prev_hash ‖ \"\\n\" ‖ body))", () => {
    const body = '{"seq":1,"at":5,"kind":"share.opened","shareId":"sh_9"}';
    expect(chainHash(GENESIS_HASH, body)).toBe(sha(`${"0".repeat(64)}\n${body}`));
    expect(chainHash("ab".repeat(32), "{}")).toBe(sha(`${"ab".repeat(32)}\n{}`));
    expect(chainHash(GENESIS_HASH, "")).toBe("827d096d92f3deeaa0e8070d79f45beb176768e57a958a1cd325f5f4b754b048"); // printf '%s\\n' 000…0 | sha256sum
  });
  test("an appended row's hash is that formula over its stored body", () => {
    const row = log.append({ kind: "share.opened", shareId: "sh_9" });
    const stored = store.db.query<{ body: string }, []>("SELECT body FROM audit WHERE seq = 1").get()!;
    expect(stored.body).toBe('{"seq":1,"at":1700000000000,"kind":"share.opened","shareId":"sh_9"}');
    expect(row.hash).toBe(sha(`${GENESIS_HASH}\n${stored.body}`));
  });
});

describe("two writers", () => {
  // Deterministic: the second writer appends from INSIDE the first writer's transaction (its clock
  // is read there), so the interleaving that a race between two processes finds only sometimes
  // happens every time. An append must hold the write lock from the moment it reads the chain
  // head (BEGIN IMMEDIATE): the second writer is refused and retries, and the chain never forks.
  test("a writer cannot append between another writer's head read and its insert", () => {
    const second = Store.open(path);
    try {
      second.db.run("PRAGMA busy_timeout = 0"); // refuse at once instead of waiting 10 s on ourselves
      const other = new AuditLog(second, () => 2);
      let nested: string | undefined;
      const first = new AuditLog(store, () => {
        if (nested === undefined) {
          try {
            other.append({ kind: "call.denied", agent: "second", callId: "n" });
            nested = "appended";
          } catch (e) {
            nested = (e as Error).message;
          }
        }
        return 1;
      });
      const row = first.append({ kind: "call.allowed", agent: "first", callId: "1" });
      expect(nested).toMatch(/locked|busy/i);
      expect(row).toMatchObject({ seq: 1, prevHash: GENESIS_HASH });
      // the refused writer retries once the first has committed, and links to its row
      const retried = other.append({ kind: "call.denied", agent: "second", callId: "n" });
      expect(retried).toMatchObject({ seq: 2, prevHash: row.hash });
      expect(log.verify()).toEqual({ ok: true, rows: 2 });
      expect(new AuditLog(second).verify()).toEqual({ ok: true, rows: 2 });
    } finally {
      second.close();
    }
  });

  test("each append reads the head another connection just committed", () => {
    const second = Store.open(path);
    try {
      const a = log;
      const b = new AuditLog(second, () => 7);
      const rows = [a.append({ kind: "share.opened" }), b.append({ kind: "share.connected" }), a.append({ kind: "share.expired" }), b.append({ kind: "grant.changed" })];
      expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
      for (let i = 1; i < rows.length; i++) expect(rows[i]!.prevHash).toBe(rows[i - 1]!.hash);
      expect(a.verify()).toEqual({ ok: true, rows: 4 });
    } finally {
      second.close();
    }
  });
});

describe("under load", () => {
  test("two processes appending at once keep one valid chain", async () => {
    const script = join(dir, "appender.ts");
    writeFileSync(
      script,
      `
      import { AuditLog } from ${JSON.stringify(join(import.meta.dir, "..", "..", "lib", "store", "audit.ts"))};
      import { Store } from ${JSON.stringify(join(import.meta.dir, "..", "..", "lib", "store", "store.ts"))};
      const [path, who, n] = process.argv.slice(2);
      const store = Store.open(path);
      const log = new AuditLog(store);
      for (let i = 0; i < Number(n); i++) log.append({ kind: "call.allowed", agent: who, callId: String(i) });
      store.close();
    `,
    );
    const procs = ["p1", "p2"].map((who) =>
      Bun.spawn([process.execPath, script, path, who, "300"], { stdout: "pipe", stderr: "pipe" }),
    );
    // the test process appends too, interleaving with both children
    for (let i = 0; i < 100; i++) log.append({ kind: "call.denied", agent: "p0", callId: String(i) });
    const results = await Promise.all(procs.map(async (p) => ({ code: await p.exited, err: await new Response(p.stderr).text() })));
    for (const r of results) expect(r).toEqual({ code: 0, err: "" });
    expect(log.verify()).toEqual({ ok: true, rows: 700 });
    const rows = log.list();
    for (const who of ["p1", "p2"]) {
      // each writer's rows are all there, in its own order
      expect(rows.filter((r) => r.agent === who).map((r) => r.callId)).toEqual(Array.from({ length: 300 }, (_, i) => String(i)));
    }
  }, 60_000);

  test("SIGKILL at random moments loses no acknowledged row and leaves a valid chain", async () => {
    const script = join(dir, "killed.ts");
    writeFileSync(
      script,
      `
      import { AuditLog } from ${JSON.stringify(join(import.meta.dir, "..", "..", "lib", "store", "audit.ts"))};
      import { Store } from ${JSON.stringify(join(import.meta.dir, "..", "..", "lib", "store", "store.ts"))};
      const log = new AuditLog(Store.open(process.argv[2]));
      // each line is written only after append() returned: the row it names must survive
      for (let i = 0; ; i++) process.stdout.write(log.append({ kind: "call.allowed", callId: String(i) }).seq + "\\n");
    `,
    );
    const acknowledged = new Set<number>();
    for (let trial = 0; trial < 10; trial++) {
      const target = 1 + Math.floor(Math.random() * 200);
      const proc = Bun.spawn([process.execPath, script, path], { stdout: "pipe", stderr: "pipe" });
      let buf = "";
      let seen = 0;
      const decoder = new TextDecoder();
      for await (const chunk of proc.stdout) {
        buf += decoder.decode(chunk, { stream: true });
        const lines = buf.split("\n");
        buf = lines.pop()!;
        for (const l of lines) acknowledged.add(Number(l));
        seen += lines.length;
        if (seen >= target) break;
      }
      proc.kill("SIGKILL");
      await proc.exited;
    }
    const result = log.verify();
    expect(result.ok).toBe(true);
    const seqs = new Set(log.list().map((r) => r.seq));
    for (const s of acknowledged) expect(seqs.has(s)).toBe(true);
    expect(acknowledged.size).toBeGreaterThan(0);
  }, 60_000);

  test("1000 appends survive closing and reopening the file", () => {
    for (let i = 0; i < 1000; i++) log.append({ kind: "call.outcome", callId: `c${i}`, exitCode: i % 3, bytesOut: i });
    store.close();
    store = Store.open(path);
    const reopened = new AuditLog(store);
    expect(reopened.verify()).toEqual({ ok: true, rows: 1000 });
    expect(reopened.list({ afterSeq: 998 }).map((r) => r.callId)).toEqual(["c998", "c999"]);
    expect(reopened.append({ kind: "share.expired" }).seq).toBe(1001);
  }, 60_000);
});

describe("group commit (appendSoon)", () => {
  /** Counts the store's transactions (each commit of the audit is one). */
  function countTransactions(): { count: number } {
    const counter = { count: 0 };
    const real = store.db.transaction.bind(store.db);
    store.db.transaction = ((fn: (...args: any[]) => any) => {
      const tx = real(fn);
      const wrap = Object.assign((...args: any[]) => (counter.count++, tx(...args)), {
        immediate: (...args: any[]) => (counter.count++, tx.immediate(...args)),
        deferred: tx.deferred,
        exclusive: tx.exclusive,
      });
      return wrap;
    }) as typeof store.db.transaction;
    return counter;
  }

  test("events of one tick commit in one transaction; each promise resolves once its row is on record", async () => {
    const tx = countTransactions();
    const other = Store.open(path); // another connection sees committed rows only
    try {
      const promises = EVENTS.map((e) => log.appendSoon(e));
      expect(new AuditLog(other).list()).toEqual([]); // nothing before the tick ends
      const rows = await Promise.all(promises);
      expect(tx.count).toBe(1);
      expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(new AuditLog(other).list().map((r) => r.kind)).toEqual(EVENTS.map((e) => e.kind));
      expect(log.verify()).toEqual({ ok: true, rows: EVENTS.length });
    } finally {
      other.close();
    }
  });

  test("the chain is the one single appends build: same bodies, same hashes", async () => {
    const batched = await Promise.all(EVENTS.map((e) => log.appendSoon(e)));
    const dir2 = mkdtempSync(join(tmpdir(), "openscope-audit-"));
    const single = Store.open(join(dir2, "openscope.db"));
    try {
      let t = 1_700_000_000_000;
      const one = new AuditLog(single, () => t++);
      const rows = EVENTS.map((e) => one.append(e));
      expect(batched.map((r) => r.hash)).toEqual(rows.map((r) => r.hash));
      expect(batched.map((r) => r.prevHash)).toEqual(rows.map((r) => r.prevHash));
    } finally {
      single.close();
      rmSync(dir2, { recursive: true, force: true });
    }
  });

  test("a synchronous append commits the waiting batch first: rows keep the order they were asked in", async () => {
    const soon = [log.appendSoon(EVENTS[0]!), log.appendSoon(EVENTS[1]!)];
    const now = log.append(EVENTS[2]!);
    expect(now.seq).toBe(3);
    expect((await Promise.all(soon)).map((r) => r.seq)).toEqual([1, 2]);
    expect(log.verify()).toEqual({ ok: true, rows: 3 });
  });

  test("a malformed event is refused alone; the rest of its batch commits", async () => {
    const good = log.appendSoon(EVENTS[0]!);
    const bad = log.appendSoon({ kind: "nope" } as unknown as AuditEvent);
    const alsoGood = log.appendSoon(EVENTS[1]!);
    await expect(bad).rejects.toThrow(/malformed event/);
    expect((await good).seq).toBe(1);
    expect((await alsoGood).seq).toBe(2);
    expect(log.verify()).toEqual({ ok: true, rows: 2 });
  });

  test("flushSoon commits a waiting batch at once (the daemon calls it before closing the store)", async () => {
    const p = log.appendSoon(EVENTS[0]!);
    log.flushSoon();
    expect(log.list().map((r) => r.seq)).toEqual([1]);
    expect((await p).seq).toBe(1);
  });
});

describe("open intents (the restart-time scan)", () => {
  const intent = (callId: string): AuditEvent => ({ kind: "call.allowed", shareId: "sh_1", agent: "you", callId, verb: "v.x", params: {} });
  const outcome = (callId: string): AuditEvent => ({ kind: "call.outcome", shareId: "sh_1", callId, exitCode: 0 });

  test("only intents without an outcome are listed, read from the open_calls index, not the log", () => {
    for (const e of [intent("a"), intent("b"), outcome("a"), { kind: "share.connected", shareId: "sh_1" } as AuditEvent, intent("c")]) log.append(e);
    expect(log.openIntents().map((r) => r.callId)).toEqual(["b", "c"]);
    expect(store.db.query<{ n: number }, []>("SELECT count(*) AS n FROM open_calls").get()!.n).toBe(2);
    log.append(outcome("c"));
    log.append(outcome("b"));
    expect(log.openIntents()).toEqual([]);
    // The scan reads the index: its plan searches open_calls and looks audit rows up by key.
    const plan = store.db.query<{ detail: string }, []>("EXPLAIN QUERY PLAN SELECT a.seq FROM open_calls o JOIN audit a ON a.seq = o.seq ORDER BY a.seq").all().map((r) => r.detail).join("\n");
    expect(plan).toMatch(/SEARCH a USING INTEGER PRIMARY KEY/);
  });

  test("a database from before the index gets it backfilled by the migration", () => {
    for (const e of [intent("old1"), intent("old2"), outcome("old1")]) log.append(e);
    // Back to schema 1: no open_calls table, no triggers (and no shares.relay_url of schema 3).
    store.db.run("ALTER TABLE shares DROP COLUMN relay_url; DROP TRIGGER audit_call_opened; DROP TRIGGER audit_call_closed; DROP TABLE open_calls; PRAGMA user_version = 1;");
    store.close();
    store = Store.open(path);
    log = new AuditLog(store, () => clockNow++);
    expect(log.openIntents().map((r) => r.callId)).toEqual(["old2"]);
  });
});
