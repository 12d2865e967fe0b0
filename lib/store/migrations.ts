// The daemon database's schema as an ordered list of migrations; `PRAGMA user_version` records
// how many have run. Append new steps at the end, never edit a shipped one (SPEC.md §15).
// Audit rows are append-only: triggers refuse UPDATE and DELETE so no code path can rewrite them.

export const MIGRATIONS: readonly string[] = [
  // 1: principals, grants, recipients, shares, audit
  `
  CREATE TABLE agents (
    name          TEXT PRIMARY KEY NOT NULL,
    token_sha256  TEXT NOT NULL CHECK (length(token_sha256) = 64),
    updated_at    INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE grants (
    agent       TEXT PRIMARY KEY NOT NULL,
    id          TEXT NOT NULL UNIQUE,
    revision    INTEGER NOT NULL CHECK (revision >= 1),
    verbs       TEXT NOT NULL CHECK (json_valid(verbs)),
    updated_at  INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE recipients (
    alias       TEXT PRIMARY KEY NOT NULL,
    public_key  TEXT NOT NULL,
    added_at    INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE shares (
    id                   TEXT PRIMARY KEY NOT NULL,
    agent                TEXT NOT NULL,
    recipient_alias      TEXT,
    recipient_key        TEXT,
    rid                  TEXT NOT NULL UNIQUE,
    psk                  BLOB NOT NULL CHECK (length(psk) = 32),
    passport             TEXT NOT NULL,
    verbs                TEXT NOT NULL CHECK (json_valid(verbs)),
    state                TEXT NOT NULL CHECK (state IN ('live', 'revoked', 'expired')),
    created_at           INTEGER NOT NULL,
    expires_at           INTEGER NOT NULL,
    ended_at             INTEGER,
    original_expires_at  INTEGER NOT NULL,
    CHECK ((recipient_alias IS NULL) = (recipient_key IS NULL))
  ) STRICT;
  CREATE INDEX shares_state ON shares (state);

  CREATE TABLE audit (
    seq        INTEGER PRIMARY KEY NOT NULL,
    at         INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    share_id   TEXT,
    body       TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
  ) STRICT;
  CREATE INDEX audit_share ON audit (share_id, seq);

  -- the chain head, moved in the same transaction as each append, so a deleted last row shows
  CREATE TABLE audit_head (
    one   INTEGER PRIMARY KEY CHECK (one = 1),
    seq   INTEGER NOT NULL,
    hash  TEXT NOT NULL
  ) STRICT;

  CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
  CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
  `,
  // 2: the calls whose intent has no outcome yet, kept by triggers in the appending transaction,
  // so the restart-time scan reads only those (O(open calls), not O(audit rows)). Backfilled once.
  `
  CREATE TABLE open_calls (
    call_id  TEXT PRIMARY KEY NOT NULL,
    seq      INTEGER NOT NULL REFERENCES audit (seq)
  ) STRICT;

  INSERT OR REPLACE INTO open_calls (call_id, seq)
    SELECT call_id, MAX(CASE WHEN kind = 'call.allowed' THEN seq END)
    FROM (SELECT kind, seq, json_extract(body, '$.callId') AS call_id FROM audit WHERE kind IN ('call.allowed', 'call.outcome'))
    WHERE call_id IS NOT NULL
    GROUP BY call_id
    HAVING SUM(kind = 'call.outcome') = 0 AND SUM(kind = 'call.allowed') > 0;

  CREATE TRIGGER audit_call_opened AFTER INSERT ON audit
    WHEN NEW.kind = 'call.allowed' AND json_extract(NEW.body, '$.callId') IS NOT NULL
    BEGIN INSERT OR REPLACE INTO open_calls (call_id, seq) VALUES (json_extract(NEW.body, '$.callId'), NEW.seq); END;
  CREATE TRIGGER audit_call_closed AFTER INSERT ON audit
    WHEN NEW.kind = 'call.outcome'
    BEGIN DELETE FROM open_calls WHERE call_id = json_extract(NEW.body, '$.callId'); END;
  `,
  // 3: the relay each share was opened at (its handle and Noise prologue name it), so a restart
  // with another relay re-dials each share where its recipient will look (SPEC.md §15.4). NULL for
  // shares opened before this migration: they are dialed at the daemon's current relay.
  `
  ALTER TABLE shares ADD COLUMN relay_url TEXT;
  `,
];
