// After a restart with another relay URL, each live share is dialed at the relay it was opened at
// (its handle and Noise prologue name that one), with the deployment token now in force, and
// status can name that relay; a share stored before schema 3 (no relay recorded) is dialed at the
// current relay (SPEC.md §15.4). Two
// stand-in relays on loopback record the legs that reach them; a real Store on disk, migrated from
// schema 2.
import { afterEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ShareManager } from "../../lib/daemon/shares.ts";
import type { ShareRow } from "../../lib/share/lifetime.ts";
import { SCHEMA_VERSION, Store } from "../../lib/store/store.ts";
import { MIGRATIONS } from "../../lib/store/migrations.ts";
import { AuditLog } from "../../lib/store/audit.ts";
import { generateDaemonIdentity } from "../../lib/host/keyfile.ts";
import { parseCatalog } from "../../lib/capability/catalog.ts";
import { toBase64url } from "../../lib/bytes.ts";
import { waitFor } from "../helpers/spawn.ts";

const NOW = Date.now();
const MIN = 60_000;
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanups.splice(0).reverse()) f();
});

/** A stand-in relay: accepts every daemon leg and records its path and Authorization header. */
function standInRelay(): { url: string; legs: Array<{ path: string; auth: string | null }>; dropAll(): void } {
  const legs: Array<{ path: string; auth: string | null }> = [];
  const sockets = new Set<Bun.ServerWebSocket<undefined>>();
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req, srv) {
      const u = new URL(req.url);
      legs.push({ path: u.pathname, auth: req.headers.get("authorization") });
      return srv.upgrade(req, { data: undefined }) ? undefined : new Response("no", { status: 400 });
    },
    websocket: {
      open: (ws) => void sockets.add(ws),
      close: (ws) => void sockets.delete(ws),
      message() {},
    },
  });
  cleanups.push(() => server.stop(true));
  return { url: `ws://127.0.0.1:${server.port}`, legs, dropAll: () => [...sockets].forEach((ws) => ws.close(1001, "relay shutting down")) };
}

function row(id: string, relayUrl: string | null | undefined): ShareRow {
  return {
    id,
    agent: "you",
    recipientAlias: null,
    recipientKey: null,
    rid: toBase64url(crypto.getRandomValues(new Uint8Array(16))),
    psk: new Uint8Array(32).fill(0x5a),
    passport: "osp1.x.y",
    verbs: ["echo.word"],
    state: "live",
    createdAt: NOW - MIN,
    expiresAt: NOW + 10 * MIN,
    endedAt: null,
    originalExpiresAt: NOW + 10 * MIN,
    ...(relayUrl === undefined ? {} : { relayUrl }),
  };
}

function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), "recover-relay-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "openscope.db");
}

function restart(store: Store, relay: { url: string; token: string }, log: string[]): ShareManager {
  const m = new ShareManager({
    store,
    audit: new AuditLog(store, () => Date.now()),
    identity: generateDaemonIdentity(),
    fingerprint: "SHA256:" + "A".repeat(43),
    code: "00000-00000-00000-00000-00000-0",
    daemonName: "test",
    catalog: () => parseCatalog(""),
    relay,
    ssh: {},
    log: (l) => log.push(l),
  });
  cleanups.push(() => m.shutdown());
  return m;
}

describe("recover after the relay URL changed", () => {
  test("each live share is dialed at its own relay with the current token; the change is logged", async () => {
    const oldRelay = standInRelay();
    const newRelay = standInRelay();
    const store = Store.open(tempDb());
    cleanups.push(() => store.close());
    const atOld = row("aaaaaaaaaaaa", oldRelay.url);
    const atNew = row("bbbbbbbbbbbb", newRelay.url);
    store.insertShare(atOld);
    store.insertShare(atNew);
    expect(store.getShare("aaaaaaaaaaaa")!.relayUrl).toBe(oldRelay.url);
    const log: string[] = [];
    const current = { url: newRelay.url, token: "token-now" };
    const m = restart(store, current, log);
    await m.recover();
    // What `openscope status` names: the old relay is still needed for one live share.
    expect(m.elsewhere()).toEqual([{ relay: oldRelay.url, live: 1 }]);
    await waitFor(() => oldRelay.legs.length >= 1 && newRelay.legs.length >= 1, "a leg at each relay", 10_000);
    expect(oldRelay.legs.map((l) => l.path)).toEqual([`/v1/rendezvous/${atOld.rid}`]);
    expect(newRelay.legs.map((l) => l.path)).toEqual([`/v1/rendezvous/${atNew.rid}`]);
    expect(oldRelay.legs[0]!.auth).toBe("Bearer token-now");
    expect(log.filter((l) => l.includes("aaaaaaaaaaaa"))).toEqual([
      `warning: share aaaaaaaaaaaa: dialing the relay its handle names, ${oldRelay.url} (the daemon now uses ${newRelay.url}); with the current deployment token`,
    ]);
    expect(log.some((l) => l.includes("bbbbbbbbbbbb"))).toBe(false);
    // A reload rotates the token: the old relay's leg re-dials with the one now in force.
    current.token = "token-rotated";
    oldRelay.dropAll();
    await waitFor(() => oldRelay.legs.length >= 2, "the old relay's leg to re-dial", 15_000);
    expect(oldRelay.legs[1]).toEqual({ path: `/v1/rendezvous/${atOld.rid}`, auth: "Bearer token-rotated" });
  });

  test("a share stored at schema 2 (no relay recorded) survives the migration and is dialed at the current relay", async () => {
    const current = standInRelay();
    const path = tempDb();
    // A database as the previous version left it: two migrations, one live share.
    const raw = new Database(path, { create: true, strict: true });
    for (const m of MIGRATIONS.slice(0, 2)) raw.run(m);
    raw.run("PRAGMA user_version = 2");
    const old = row("cccccccccccc", undefined);
    raw.query(
      `INSERT INTO shares (id, agent, recipient_alias, recipient_key, rid, psk, passport, verbs, state, created_at, expires_at, ended_at, original_expires_at)
       VALUES (?, 'you', NULL, NULL, ?, ?, 'osp1.x.y', '["echo.word"]', 'live', ?, ?, NULL, ?)`,
    ).run(old.id, old.rid, old.psk, old.createdAt, old.expiresAt, old.originalExpiresAt);
    raw.close();
    const store = Store.open(path);
    cleanups.push(() => store.close());
    expect(store.db.query<{ user_version: number }, []>("PRAGMA user_version").get()?.user_version).toBe(SCHEMA_VERSION);
    expect(store.getShare("cccccccccccc")!.relayUrl).toBeNull();
    const m = restart(store, { url: current.url, token: "t" }, []);
    await m.recover();
    expect(m.elsewhere()).toEqual([]);
    await waitFor(() => current.legs.length >= 1, "the leg at the current relay", 10_000);
    expect(current.legs[0]!.path).toBe(`/v1/rendezvous/${old.rid}`);
  });
});
