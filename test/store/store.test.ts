// The store: migrations from an empty file, private file modes, refusal of a writable-by-others
// file, grants/recipients/shares round trips, and two processes opening and writing at once.
import { Database } from "bun:sqlite";
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OpenScopeError } from "../../lib/errors.ts";
import { BUSY_TIMEOUT_MS, SCHEMA_VERSION, Store, tokenSha256, type ShareRow } from "../../lib/store/store.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "openscope-store-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const sha = (c: string) => c.repeat(64);

function share(over: Partial<ShareRow> = {}): ShareRow {
  return {
    id: "sh_1",
    agent: "you",
    recipientAlias: "vendor-b",
    recipientKey: "a".repeat(43),
    rid: "r".repeat(22),
    psk: new Uint8Array(32).fill(7),
    passport: "passport-string",
    verbs: ["ssh.tail_logs"],
    state: "live",
    createdAt: 1_000,
    expiresAt: 2_000,
    endedAt: null,
    originalExpiresAt: 2_000,
    relayUrl: "wss://relay.example.com",
    ...over,
  };
}

describe("opening", () => {
  test("an empty path gets every migration, WAL, FULL sync and foreign keys", () => {
    const store = Store.open(join(dir, "db", "openscope.db"));
    const db = store.db;
    expect(db.query<{ user_version: number }, []>("PRAGMA user_version").get()?.user_version).toBe(SCHEMA_VERSION);
    expect(db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()?.journal_mode).toBe("wal");
    expect(db.query<{ synchronous: number }, []>("PRAGMA synchronous").get()?.synchronous).toBe(2);
    expect(db.query<{ foreign_keys: number }, []>("PRAGMA foreign_keys").get()?.foreign_keys).toBe(1);
    expect(Object.values(db.query<Record<string, number>, []>("PRAGMA busy_timeout").get() ?? {})).toEqual([BUSY_TIMEOUT_MS]);
    const tables = db.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
    expect(tables.map((t) => t.name)).toEqual(["agents", "audit", "audit_head", "grants", "open_calls", "recipients", "shares"]);
    store.close();
  });

  test("an existing zero-byte file is migrated too, and reopening keeps the data", () => {
    const path = join(dir, "openscope.db");
    writeFileSync(path, "", { mode: 0o600 });
    const a = Store.open(path);
    a.addRecipient("vendor-b", "osk1abc", 5);
    a.close();
    const b = Store.open(path);
    expect(b.getRecipient("vendor-b")).toEqual({ alias: "vendor-b", publicKey: "osk1abc", addedAt: 5 });
    b.close();
  });

  test("the file is 0600 and its folder 0700", () => {
    const folder = join(dir, "state");
    const path = join(folder, "openscope.db");
    const store = Store.open(path);
    store.addRecipient("x", "k", 1); // touch the WAL
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(`${path}-wal`).mode & 0o777).toBe(0o600);
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    store.close();
  });

  test("a folder that was wider is narrowed to 0700; group traverse (control_group) is kept", () => {
    chmodSync(dir, 0o747);
    Store.open(join(dir, "openscope.db")).close();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    chmodSync(dir, 0o777);
    Store.open(join(dir, "openscope.db")).close();
    expect(statSync(dir).mode & 0o777).toBe(0o710);
  });

  for (const mode of [0o620, 0o602, 0o666]) {
    test(`a db file with mode ${mode.toString(8)} is refused with a usage error naming the path`, () => {
      const path = join(dir, "openscope.db");
      Store.open(path).close();
      chmodSync(path, mode);
      let err: unknown;
      try {
        Store.open(path);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OpenScopeError);
      expect((err as OpenScopeError).kind).toBe("usage");
      expect((err as OpenScopeError).message).toContain(path);
      expect((err as OpenScopeError).message).toContain("writable by group or others");
    });
  }

  test("a database from a newer schema is refused", () => {
    const path = join(dir, "openscope.db");
    Store.open(path).close();
    const raw = new Database(path);
    raw.run(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => Store.open(path)).toThrow(/newer than this program knows/);
  });

  test("a file that is not a database is a usage error", () => {
    const path = join(dir, "openscope.db");
    writeFileSync(path, "this is not sqlite, just some text that is long enough to be a header\n".repeat(20), { mode: 0o600 });
    let err: unknown;
    try {
      Store.open(path);
    } catch (e) {
      err = e;
    }
    expect((err as OpenScopeError).kind).toBe("usage");
    expect((err as OpenScopeError).message).toContain(path);
  });
});

describe("rows", () => {
  let store: Store;
  beforeEach(() => {
    store = Store.open(join(dir, "openscope.db"));
  });
  afterEach(() => store.close());

  test("agent credentials are stored and replaced", () => {
    expect(store.agentCredential("you")).toBeUndefined();
    store.setAgentCredential("you", sha("a"));
    store.setAgentCredential("you", sha("b"));
    expect(store.agentCredential("you")).toBe(sha("b"));
    expect(() => store.setAgentCredential("you", "not-a-digest")).toThrow(OpenScopeError);
    // SHA-256("abc"), FIPS 180-2 appendix B.1
    expect(tokenSha256("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    store.setAgentCredential("you", tokenSha256("abc"));
    expect(store.agentCredential("you")).toBe(tokenSha256("abc"));
  });

  test("a grant keeps its id, moves its revision on every change, and gets a new id after removal", () => {
    const g1 = store.putGrant("you", { "ssh.tail_logs": { service: { kind: "enum", values: ["web"] } } });
    expect(g1.revision).toBe(1);
    const g2 = store.putGrant("you", { "ssh.tail_logs": { service: { kind: "enum", values: ["api", "web"] } } });
    expect(g2.id).toBe(g1.id);
    expect(g2.revision).toBe(2);
    expect(g2.changed).toBe(true);
    const { changed: _, ...row2 } = g2;
    expect(store.getGrant("you")).toEqual(row2);
    store.putGrant("other", {});
    expect(store.listGrants().map((g) => g.agent)).toEqual(["other", "you"]);
    expect(store.deleteGrant("you")).toBe(true);
    expect(store.deleteGrant("you")).toBe(false);
    expect(store.getGrant("you")).toBeUndefined();
    const g3 = store.putGrant("you", {});
    expect(g3.id).not.toBe(g1.id);
    expect(g3.revision).toBe(1);
  });

  test("the same grant again is not a new revision, whatever its key order", () => {
    const verbs = { "a.one": { n: { kind: "range", min: 1, max: 5 } }, "b.two": { s: { kind: "enum", values: ["x"] } } } as const;
    const g1 = store.putGrant("same", verbs as never);
    const again = store.putGrant("same", { "b.two": verbs["b.two"], "a.one": { n: { max: 5, min: 1, kind: "range" } } } as never);
    expect(again).toMatchObject({ id: g1.id, revision: 1, changed: false });
    const wider = store.putGrant("same", { ...verbs, "a.one": { n: { kind: "range", min: 1, max: 6 } } } as never);
    expect(wider).toMatchObject({ revision: 2, changed: true });
  });

  test("a grant row is parsed with the constraint schema when read: an edited row is refused by name", () => {
    store.putGrant("you", { "ssh.tail_logs": { service: { kind: "enum", values: ["web"] } } });
    store.db.run(`UPDATE grants SET verbs = '{"ssh.tail_logs":{"service":{"kind":"any"}}}' WHERE agent = 'you'`);
    expect(() => store.getGrant("you")).toThrow(/store: agent "you"'s grant: ssh\.tail_logs\.service\.kind: unknown constraint kind "any"/);
    store.db.run(`UPDATE grants SET verbs = '{"ssh.tail_logs":{"service":{"kind":"enum","values":["web","api"]}}}' WHERE agent = 'you'`);
    expect(() => store.getGrant("you")).toThrow(/sorted and unique/);
    expect(() => store.listGrants()).toThrow(/sorted and unique/);
    expect(() => store.putGrant("other", { "ssh.x": { p: { kind: "range", min: 5, max: 1 } } })).toThrow(OpenScopeError);
    expect(store.deleteGrant("you")).toBe(true);
  });

  test("recipients: add, get, list, remove, and a duplicate alias is a usage error", () => {
    store.addRecipient("vendor-b", "osk1bbb", 10);
    store.addRecipient("acme", "osk1aaa", 11);
    expect(store.listRecipients().map((r) => r.alias)).toEqual(["acme", "vendor-b"]);
    let err: unknown;
    try {
      store.addRecipient("vendor-b", "osk1ccc", 12);
    } catch (e) {
      err = e;
    }
    expect((err as OpenScopeError).kind).toBe("usage");
    expect((err as OpenScopeError).message).toContain("vendor-b");
    expect(store.getRecipient("vendor-b")?.publicKey).toBe("osk1bbb");
    expect(store.removeRecipient("vendor-b")).toBe(true);
    expect(store.removeRecipient("vendor-b")).toBe(false);
    expect(store.getRecipient("vendor-b")).toBeUndefined();
  });

  test("shares round-trip, including the psk bytes and a bearer share", () => {
    const a = share();
    const b = share({ id: "sh_2", rid: "q".repeat(22), recipientAlias: null, recipientKey: null, createdAt: 1_001, relayUrl: null });
    store.insertShare(a);
    store.insertShare(b);
    expect(store.getShare("sh_1")).toEqual(a);
    expect(store.listShares()).toEqual([a, b]);
    expect(store.getShare("nope")).toBeUndefined();
  });

  test("updateShare patches only the given fields; an unknown id or state is refused", () => {
    store.insertShare(share());
    store.updateShare("sh_1", { expiresAt: 3_000 });
    store.updateShare("sh_1", { state: "revoked", endedAt: 2_500 });
    const s = store.getShare("sh_1")!;
    expect(s.state).toBe("revoked");
    expect(s.expiresAt).toBe(3_000);
    expect(s.endedAt).toBe(2_500);
    expect(s.originalExpiresAt).toBe(2_000);
    expect(s.passport).toBe("passport-string");
    expect(() => store.updateShare("nope", { state: "expired" })).toThrow(/no share "nope"/);
    expect(() => store.updateShare("sh_1", { state: "zombie" as never })).toThrow(OpenScopeError);
  });

  test("a rendezvous id is unique across shares", () => {
    store.insertShare(share());
    expect(() => store.insertShare(share({ id: "sh_2" }))).toThrow();
  });
});

describe("two processes", () => {
  // a child process that opens the store and writes `n` recipients with its own prefix
  const childScript = `
    import { Store } from ${JSON.stringify(join(import.meta.dir, "..", "..", "lib", "store", "store.ts"))};
    const [path, prefix, n] = process.argv.slice(2);
    const store = Store.open(path);
    for (let i = 0; i < Number(n); i++) store.addRecipient(prefix + "-" + i, "osk1" + i, i);
    store.close();
  `;

  test("open a new file at the same moment and both write", async () => {
    const path = join(dir, "openscope.db");
    const script = join(dir, "child.ts");
    writeFileSync(script, childScript);
    const procs = ["a", "b", "c"].map((p) =>
      Bun.spawn([process.execPath, script, path, p, "100"], { stdout: "pipe", stderr: "pipe" }),
    );
    const results = await Promise.all(procs.map(async (p) => ({ code: await p.exited, err: await new Response(p.stderr).text() })));
    for (const r of results) expect(r).toEqual({ code: 0, err: "" });
    const store = Store.open(path);
    expect(store.listRecipients().length).toBe(300);
    expect(store.db.query<{ user_version: number }, []>("PRAGMA user_version").get()?.user_version).toBe(SCHEMA_VERSION);
    store.close();
  });
});
