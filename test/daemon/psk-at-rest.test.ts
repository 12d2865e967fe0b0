// An ended share's session secret is zeroed in SQLite once its 10-minute linger is over (SPEC.md
// §15.4; issue 21 item 6): by the linger timer of a running daemon, and at the next start for a
// linger that ended while the daemon was down. A real Store on disk; the daemon's clock injected.
import { afterEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ShareManager } from "../../lib/daemon/shares.ts";
import { LINGER_MS, pskIsSpent, type ShareRow } from "../../lib/share/lifetime.ts";
import { Store } from "../../lib/store/store.ts";
import { AuditLog } from "../../lib/store/audit.ts";
import { generateDaemonIdentity } from "../../lib/host/keyfile.ts";
import { parseCatalog } from "../../lib/capability/catalog.ts";
import { toBase64url } from "../../lib/bytes.ts";
import { waitFor } from "../helpers/spawn.ts";

const NOW = 1_790_000_000_000;
const MIN = 60_000;
const dirs: string[] = [];
const managers: ShareManager[] = [];
afterEach(() => {
  for (const m of managers.splice(0)) m.shutdown();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function row(id: string, over: Partial<ShareRow>): ShareRow {
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
    createdAt: NOW - 30 * MIN,
    expiresAt: NOW + 10 * MIN,
    endedAt: null,
    originalExpiresAt: NOW + 10 * MIN,
    ...over,
  };
}

/** The psk column as SQLite holds it, read through a connection of its own. */
function pskOnDisk(path: string, id: string): Uint8Array {
  const db = new Database(path, { readonly: true });
  try {
    return new Uint8Array((db.query("SELECT psk FROM shares WHERE id = ?").get(id) as { psk: Uint8Array }).psk);
  } finally {
    db.close();
  }
}

function manager(store: Store, clock: () => number, relay: { url: string; token: string } | undefined): ShareManager {
  const m = new ShareManager({
    store,
    audit: new AuditLog(store, clock),
    identity: generateDaemonIdentity(),
    fingerprint: "SHA256:" + "A".repeat(43),
    code: "00000-00000-00000-00000-00000-0",
    daemonName: "test",
    catalog: () => parseCatalog(""),
    relay,
    ssh: {},
    now: clock,
    log: () => {},
  });
  managers.push(m);
  return m;
}

function setup(rows: ShareRow[]): { path: string; store: Store } {
  const dir = mkdtempSync(join(tmpdir(), "psk-at-rest-"));
  dirs.push(dir);
  const path = join(dir, "openscope.db");
  const store = Store.open(path);
  for (const r of rows) store.insertShare(r);
  return { path, store };
}

const zero = new Uint8Array(32);

describe("the session secret at rest", () => {
  test("pskIsSpent: only an ended share, only once its linger is over", () => {
    expect(pskIsSpent({ state: "live", endedAt: null, expiresAt: NOW - MIN }, NOW)).toBe(false);
    expect(pskIsSpent({ state: "revoked", endedAt: NOW - LINGER_MS + 1, expiresAt: NOW + MIN }, NOW)).toBe(false);
    expect(pskIsSpent({ state: "revoked", endedAt: NOW - LINGER_MS, expiresAt: NOW + MIN }, NOW)).toBe(true);
    expect(pskIsSpent({ state: "expired", endedAt: null, expiresAt: NOW - LINGER_MS - 1 }, NOW)).toBe(true);
  });

  test("at start: a linger that ended while the daemon was down zeroes the column; live and lingering shares keep theirs", async () => {
    const { path, store } = setup([
      row("aaaaaaaaaaaa", { state: "revoked", endedAt: NOW - 11 * MIN }),
      row("bbbbbbbbbbbb", { state: "live", expiresAt: NOW - 12 * MIN }), // expired while down, long ago
      row("cccccccccccc", { state: "revoked", endedAt: NOW - 2 * MIN }), // still lingering
      row("dddddddddddd", { state: "live" }),
    ]);
    await manager(store, () => NOW, undefined).recover();
    expect(pskOnDisk(path, "aaaaaaaaaaaa")).toEqual(zero);
    expect(pskOnDisk(path, "bbbbbbbbbbbb")).toEqual(zero);
    expect(pskOnDisk(path, "cccccccccccc")).toEqual(new Uint8Array(32).fill(0x5a));
    expect(pskOnDisk(path, "dddddddddddd")).toEqual(new Uint8Array(32).fill(0x5a));
  });

  test("while running: when the linger timer ends, the column is zero", async () => {
    // Ended 10 minutes ago less 200 ms: attached again at start, its linger ends 200 ms later.
    let now = NOW;
    const { path, store } = setup([row("eeeeeeeeeeee", { state: "expired", endedAt: NOW - LINGER_MS + 200, expiresAt: NOW - LINGER_MS + 200 })]);
    // A relay that refuses at once: the leg retries in the background, which does not matter here.
    await manager(store, () => now, { url: "ws://127.0.0.1:1", token: "t" }).recover();
    expect(pskOnDisk(path, "eeeeeeeeeeee")).toEqual(new Uint8Array(32).fill(0x5a));
    now = NOW + 200;
    await waitFor(() => pskOnDisk(path, "eeeeeeeeeeee").every((b) => b === 0), "the psk column to be zero after the linger", 5_000);
    expect(store.getShare("eeeeeeeeeeee")!.psk).toEqual(zero);
  });
});
