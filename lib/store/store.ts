// The daemon's SQLite store: agents' local credentials, grants, recipients and shares (the
// audit chain lives in audit.ts on the same connection). WAL with synchronous=FULL, so the
// daemon and a CLI process may both open it; the file is 0600 in a 0700 folder and a db file
// that group or others can write is refused (SPEC.md §15.1).
import { Database } from "bun:sqlite";
import { nodeCrypto } from "../platform/node-crypto.ts";
import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, statSync } from "node:fs";
import { privateDirMode } from "../host/home.ts";
import { dirname, resolve } from "node:path";
import { OpenScopeError, usageError } from "../errors.ts";
import { MIGRATIONS } from "./migrations.ts";
import { parseGrantVerbs, type GrantVerbs } from "../capability/grant.ts";
import { SHARE_STATES } from "../capability/policy.ts";
import type { ShareRow } from "../share/lifetime.ts";

export interface RecipientRow {
  alias: string;
  publicKey: string; // as typed by the operator, e.g. osk1…
  addedAt: number;
}

export type { ShareRow } from "../share/lifetime.ts";

/** A grant as stored: its verbs parsed with the constraint schema when read (never cast). */
export interface GrantRow {
  agent: string;
  id: string;
  revision: number;
  verbs: GrantVerbs;
}

export type SharePatch = Partial<Pick<ShareRow, "state" | "expiresAt" | "endedAt" | "passport">>;

/** The column each patchable field is stored in. */
const SHARE_PATCH_COLUMNS: Readonly<Record<keyof SharePatch, string>> = {
  state: "state",
  expiresAt: "expires_at",
  endedAt: "ended_at",
  passport: "passport",
};

/** How long a connection waits for another process's write lock before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 10_000;


interface ShareDbRow {
  id: string;
  agent: string;
  recipient_alias: string | null;
  recipient_key: string | null;
  rid: string;
  psk: Uint8Array;
  passport: string;
  verbs: string;
  state: string;
  created_at: number;
  expires_at: number;
  ended_at: number | null;
  original_expires_at: number;
  relay_url: string | null;
}

interface GrantDbRow {
  agent: string;
  id: string;
  revision: number;
  verbs: string;
}

interface RecipientDbRow {
  alias: string;
  public_key: string;
  added_at: number;
}

export class Store {
  readonly db: Database;
  readonly path: string;

  private constructor(db: Database, path: string) {
    this.db = db;
    this.path = path;
  }

  /** Opens (creating if missing) the database at `path` and runs pending migrations. */
  static open(path: string): Store {
    const file = resolve(path);
    preparePrivateFile(file);
    let db: Database;
    try {
      db = new Database(file, { create: true, readwrite: true, strict: true });
    } catch (e) {
      throw new OpenScopeError("usage", `store: cannot open database ${file}: ${(e as Error).message}`, { cause: e });
    }
    try {
      // busy_timeout first: every later statement may meet another process's lock
      db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.run("PRAGMA journal_mode = WAL");
      db.run("PRAGMA synchronous = FULL");
      db.run("PRAGMA foreign_keys = ON");
      migrate(db, file);
      // SQLite creates -wal and -shm with the db file's mode; make sure nothing widened it
      for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
    } catch (e) {
      db.close();
      if (e instanceof OpenScopeError) throw e;
      throw new OpenScopeError("usage", `store: cannot use database ${file}: ${(e as Error).message}`, {
        cause: e,
        hints: ["is it an OpenScope database? move it away and run `openscope init`"],
      });
    }
    return new Store(db, file);
  }

  close(): void {
    this.db.close();
  }

  /**
   * Runs `fn` with no busy wait: a write lock held by another process fails at once (SQLITE_BUSY,
   * see isLocked in audit.ts) instead of stalling the caller's event loop up to BUSY_TIMEOUT_MS.
   */
  withoutWaiting<T>(fn: () => T): T {
    this.db.run("PRAGMA busy_timeout = 0");
    try {
      return fn();
    } finally {
      this.db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
  }

  // ---- principals and local credentials

  setAgentCredential(agent: string, tokenSha256: string): void {
    if (!/^[0-9a-f]{64}$/.test(tokenSha256)) throw usageError("store: agent credential must be a sha-256 hex digest");
    this.db
      .query(
        `INSERT INTO agents (name, token_sha256, updated_at) VALUES ($agent, $sha, $now)
         ON CONFLICT (name) DO UPDATE SET token_sha256 = excluded.token_sha256, updated_at = excluded.updated_at`,
      )
      .run({ agent, sha: tokenSha256, now: Date.now() });
  }

  agentCredential(agent: string): string | undefined {
    const row = this.db.query<{ token_sha256: string }, [string]>("SELECT token_sha256 FROM agents WHERE name = ?").get(agent);
    return row?.token_sha256;
  }

  // ---- grants: revision moves on every change (and only then); the id stays until the grant is removed

  getGrant(agent: string): GrantRow | undefined {
    const row = this.db.query<GrantDbRow, [string]>("SELECT agent, id, revision, verbs FROM grants WHERE agent = ?").get(agent);
    return row ? decodeGrant(row) : undefined;
  }

  /** Stores the agent's grant; the same verbs and constraints again (in any key order) keep the revision and report `changed: false`. */
  putGrant(agent: string, verbs: GrantVerbs): GrantRow & { changed: boolean } {
    const text = JSON.stringify(parseGrantVerbs(verbs, `store: agent "${agent}"'s grant`));
    return this.db.transaction((): GrantRow & { changed: boolean } => {
      const old = this.db.query<GrantDbRow, [string]>("SELECT agent, id, revision, verbs FROM grants WHERE agent = ?").get(agent);
      if (old && canonicalJson(JSON.parse(old.verbs)) === canonicalJson(JSON.parse(text))) return { ...decodeGrant(old), changed: false };
      const id = old?.id ?? randomId();
      const revision = (old?.revision ?? 0) + 1;
      this.db
        .query(
          `INSERT INTO grants (agent, id, revision, verbs, updated_at) VALUES ($agent, $id, $revision, $verbs, $now)
           ON CONFLICT (agent) DO UPDATE SET revision = excluded.revision, verbs = excluded.verbs, updated_at = excluded.updated_at`,
        )
        .run({ agent, id, revision, verbs: text, now: Date.now() });
      return { ...decodeGrant({ agent, id, revision, verbs: text }), changed: true };
    }).immediate();
  }

  deleteGrant(agent: string): boolean {
    return this.db.query("DELETE FROM grants WHERE agent = ?").run(agent).changes > 0;
  }

  /**
   * Each agent's grant as `id:revision`, without parsing its verbs: cheap enough for the daemon to
   * read whenever `dataVersion` moved, to notice a grant changed by another process.
   */
  grantVersions(): Map<string, string> {
    const rows = this.db.query<{ agent: string; id: string; revision: number }, []>("SELECT agent, id, revision FROM grants").all();
    return new Map(rows.map((r) => [r.agent, `${r.id}:${r.revision}`]));
  }

  /** SQLite's `data_version`: moves when another connection (say the CLI) commits to the database. */
  dataVersion(): number {
    return this.db.query<{ data_version: number }, []>("PRAGMA data_version").get()!.data_version;
  }

  listGrants(): GrantRow[] {
    return this.db.query<GrantDbRow, []>("SELECT agent, id, revision, verbs FROM grants ORDER BY agent").all().map(decodeGrant);
  }

  // ---- recipients

  addRecipient(alias: string, publicKey: string, now: number): void {
    const r = this.db
      .query("INSERT INTO recipients (alias, public_key, added_at) VALUES (?, ?, ?) ON CONFLICT (alias) DO NOTHING")
      .run(alias, publicKey, now);
    if (r.changes === 0) {
      throw usageError(`store: recipient "${alias}" already exists`, [
        `remove it first with \`openscope recipients remove ${alias}\`, or pick another alias`,
      ]);
    }
  }

  getRecipient(alias: string): RecipientRow | undefined {
    const row = this.db
      .query<RecipientDbRow, [string]>("SELECT alias, public_key, added_at FROM recipients WHERE alias = ?")
      .get(alias);
    return row ? decodeRecipient(row) : undefined;
  }

  listRecipients(): RecipientRow[] {
    return this.db
      .query<RecipientDbRow, []>("SELECT alias, public_key, added_at FROM recipients ORDER BY alias")
      .all()
      .map(decodeRecipient);
  }

  removeRecipient(alias: string): boolean {
    return this.db.query("DELETE FROM recipients WHERE alias = ?").run(alias).changes > 0;
  }

  // ---- shares

  insertShare(row: ShareRow): void {
    checkState(row.state);
    this.db
      .query(
        `INSERT INTO shares (id, agent, recipient_alias, recipient_key, rid, psk, passport, verbs, state,
                             created_at, expires_at, ended_at, original_expires_at, relay_url)
         VALUES ($id, $agent, $alias, $key, $rid, $psk, $passport, $verbs, $state,
                 $createdAt, $expiresAt, $endedAt, $originalExpiresAt, $relayUrl)`,
      )
      .run({
        id: row.id,
        agent: row.agent,
        alias: row.recipientAlias,
        key: row.recipientKey,
        rid: row.rid,
        psk: row.psk,
        passport: row.passport,
        verbs: JSON.stringify(row.verbs),
        state: row.state,
        createdAt: row.createdAt,
        expiresAt: row.expiresAt,
        endedAt: row.endedAt,
        originalExpiresAt: row.originalExpiresAt,
        relayUrl: row.relayUrl ?? null,
      });
  }

  getShare(id: string): ShareRow | undefined {
    const row = this.db.query<ShareDbRow, [string]>("SELECT * FROM shares WHERE id = ?").get(id);
    return row ? decodeShare(row) : undefined;
  }

  listShares(): ShareRow[] {
    return this.db.query<ShareDbRow, []>("SELECT * FROM shares ORDER BY created_at, id").all().map(decodeShare);
  }

  /**
   * Overwrites an ended share's session secret with 32 zero bytes once its linger is over
   * (SPEC.md §15.4): nothing can open a session for it any more, so the secret need not stay at rest.
   */
  forgetPsk(id: string): void {
    this.db.query("UPDATE shares SET psk = zeroblob(32) WHERE id = $id AND state != 'live'").run({ id });
  }

  updateShare(id: string, patch: SharePatch): void {
    if (patch.state !== undefined) checkState(patch.state);
    const sets: string[] = [];
    const values: Record<string, string | number | null> = { id };
    for (const key of Object.keys(SHARE_PATCH_COLUMNS) as (keyof SharePatch)[]) {
      const value = patch[key];
      if (value === undefined) continue;
      sets.push(`${SHARE_PATCH_COLUMNS[key]} = $${key}`);
      values[key] = value;
    }
    if (sets.length === 0) return;
    const r = this.db.query(`UPDATE shares SET ${sets.join(", ")} WHERE id = $id`).run(values);
    if (r.changes === 0) throw usageError(`store: no share "${id}"`, ["list shares with `openscope share list`"]);
  }
}

/** The folder is made 0700 and the file 0600 before SQLite touches it; a writable-by-others file is refused. */
function preparePrivateFile(file: string): void {
  const dir = dirname(file);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, privateDirMode(statSync(dir).mode)); // 0700, group traverse kept for control_group
  if (existsSync(file)) {
    const st = lstatSync(file);
    if (!st.isFile()) throw usageError(`store: database ${file} is not a regular file`, [`move ${file} away`]);
    if ((st.mode & 0o022) !== 0) {
      throw usageError(`store: database ${file} is writable by group or others`, [
        `check who changed it, then \`chmod 600 ${file}\``,
      ]);
    }
  } else {
    // O_CREAT with 0600 so the file never exists with a wider mode (the umask can only narrow it)
    closeSync(openSync(file, "a", 0o600));
  }
}

/** Runs the missing migrations in one IMMEDIATE transaction, so two processes opening a new file agree. */
function migrate(db: Database, file: string): void {
  db.transaction(() => {
    const version = db.query<{ user_version: number }, []>("PRAGMA user_version").get()?.user_version ?? 0;
    if (version > MIGRATIONS.length) {
      throw usageError(`store: database ${file} has schema version ${version}, newer than this program knows (${MIGRATIONS.length})`, [
        "upgrade openscope",
      ]);
    }
    for (let v = version; v < MIGRATIONS.length; v++) db.run(MIGRATIONS[v]!);
    if (version !== MIGRATIONS.length) db.run(`PRAGMA user_version = ${MIGRATIONS.length}`);
  }).immediate();
}

/** JSON with object keys sorted at every depth: equal values, equal text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The schema version this program writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** What the store keeps of an agent's local credential: lowercase hex SHA-256 of the token's UTF-8 bytes. */
export function tokenSha256(token: string): string {
  return nodeCrypto().createHash("sha256").update(token, "utf8").digest("hex");
}

function randomId(): string {
  return nodeCrypto().randomBytes(12).toString("base64url");
}

function checkState(state: string): asserts state is ShareRow["state"] {
  if (!(SHARE_STATES as readonly string[]).includes(state)) throw usageError(`store: unknown share state "${state}"`);
}

/** A grant row's verbs are parsed, not trusted: a row edited outside openscope is refused by name. */
function decodeGrant(row: GrantDbRow): GrantRow {
  // The table's CHECK (json_valid) keeps the column JSON; what it holds is checked here.
  const verbs = parseGrantVerbs(JSON.parse(row.verbs), `store: agent "${row.agent}"'s grant`);
  return { agent: row.agent, id: row.id, revision: row.revision, verbs };
}

function decodeRecipient(row: RecipientDbRow): RecipientRow {
  return { alias: row.alias, publicKey: row.public_key, addedAt: row.added_at };
}

function decodeShare(row: ShareDbRow): ShareRow {
  checkState(row.state);
  return {
    id: row.id,
    agent: row.agent,
    recipientAlias: row.recipient_alias,
    recipientKey: row.recipient_key,
    rid: row.rid,
    psk: new Uint8Array(row.psk),
    passport: row.passport,
    verbs: JSON.parse(row.verbs) as string[],
    state: row.state,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    endedAt: row.ended_at,
    originalExpiresAt: row.original_expires_at,
    relayUrl: row.relay_url,
  };
}
