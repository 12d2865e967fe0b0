// The audit log: append-only rows in the store's database, each holding the SHA-256 of the row
// before it (SPEC.md §15). A commit is one IMMEDIATE transaction that reads the chain head, so the
// daemon and a CLI process appending at once still build one chain, and it is durable (WAL,
// synchronous=FULL) before append() returns. Group commit: appendSoon() events arriving in the
// same tick share one transaction (one fsync), and each promise resolves only once its row is
// durable, so a call's intent is still on disk before its verb runs. appendSoon() never waits on
// another process's lock: a batch that meets one stays queued, in order, and is tried again
// shortly, so the daemon's other sessions go on and no row is lost (THREAT-MODEL.md).
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import * as v from "valibot";
import { usageError } from "../errors.ts";
import type { Store } from "./store.ts";
import { AUDIT_REASONS, type AuditReason } from "../wire/outcome.ts";
import type { ApprovalReason } from "../share/approval.ts";

export type AuditKind = AuditEvent["kind"];

export const AUDIT_KINDS: readonly AuditKind[] = [
  "share.opened",
  "share.connected",
  "share.disconnected",
  "share.extended",
  "share.extend_refused",
  "share.revoked",
  "share.expired",
  "call.allowed",
  "call.denied",
  "call.outcome",
  "grant.changed",
  "recipient.changed",
  "approval.requested",
  "approval.approved",
  "approval.denied",
  "approval.timed_out",
  "call.killed",
];

// Each kind names the fields it may hold; the daemon fills what it knows (SPEC.md §15.2), so
// fields stay optional, but a field of another kind (a reason on an outcome) does not type-check.

/** A share's life: who, and a human detail (recipient, TTL, new expiry, why it disconnected). */
interface ShareEvent {
  kind: "share.opened" | "share.connected" | "share.disconnected" | "share.extended" | "share.extend_refused" | "share.revoked" | "share.expired";
  shareId?: string;
  agent?: string;
  detail?: string;
}

interface CallAbout {
  shareId?: string;
  agent?: string;
  verb?: string;
}

/** The intent, committed before the verb starts: the complete parameter map it runs with. */
interface CallAllowed extends CallAbout {
  kind: "call.allowed";
  callId?: string;
  params?: Record<string, string>;
}

/** A refusal: the reason from the closed set of wire/outcome.ts and what the recipient was told. */
interface CallDenied extends CallAbout {
  kind: "call.denied";
  callId?: string;
  params?: Record<string, string>;
  reason?: AuditReason;
  message?: string;
}

/** How the verb ended (SPEC.md §15.2). */
interface CallOutcome extends CallAbout {
  kind: "call.outcome";
  callId?: string;
  /** The params as the recipient sent them (the intent row holds those the verb ran with). */
  params?: Record<string, string>;
  exitCode?: number;
  bytesOut?: number;
  durationMs?: number;
  outputDigest?: string;
  truncated?: boolean;
  /** Secrets replaced in the output, by rule id (never the values; SPEC.md §17.3). */
  redactions?: Record<string, number>;
  detail?: string;
}

/** Root's changes to grants and recipients. */
interface OperatorEvent {
  kind: "grant.changed" | "recipient.changed";
  agent?: string;
  detail?: string;
}

/**
 * A call waiting for the operator (SPEC.md §17.2): the exact verb and params, the request id, and
 * for an end that is not an approval the reason (the operator's text in `message`).
 */
interface ApprovalEvent extends CallAbout {
  kind: "approval.requested" | "approval.approved" | "approval.denied" | "approval.timed_out";
  callId?: string;
  params?: Record<string, string>;
  requestId?: string;
  reason?: ApprovalReason;
  message?: string;
  detail?: string;
}

/** The operator ended a running call (`share kill`); its outcome row follows. */
interface CallKilled extends CallAbout {
  kind: "call.killed";
  callId?: string;
  detail?: string;
}

/** What may be appended: each kind with its own fields. */
export type AuditEvent = ShareEvent | CallAllowed | CallDenied | CallOutcome | OperatorEvent | ApprovalEvent | CallKilled;

/** A row as read back: every field a kind may hold, each checked by the body schema. */
export type AuditRow = Body & {
  prevHash: string;
  hash: string;
};

export type VerifyResult = { ok: true; rows: number } | { ok: false; rows: number; brokenAt: number; problem: string };

/** prev_hash of the first row. */
export const GENESIS_HASH = "0".repeat(64);

/** The row body, in this key order (SPEC.md §15); absent fields are left out. */
const BODY_SCHEMA = v.strictObject({
  seq: v.pipe(v.number(), v.integer(), v.minValue(1)),
  at: v.pipe(v.number(), v.integer()),
  kind: v.picklist(AUDIT_KINDS),
  shareId: v.optional(v.string()),
  agent: v.optional(v.string()),
  callId: v.optional(v.string()),
  verb: v.optional(v.string()),
  params: v.optional(v.record(v.string(), v.string())),
  reason: v.optional(v.picklist(AUDIT_REASONS)),
  message: v.optional(v.string()),
  exitCode: v.optional(v.pipe(v.number(), v.integer())),
  bytesOut: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  durationMs: v.optional(v.pipe(v.number(), v.minValue(0))),
  outputDigest: v.optional(v.string()),
  truncated: v.optional(v.boolean()),
  redactions: v.optional(v.record(v.string(), v.pipe(v.number(), v.integer(), v.minValue(1)))),
  detail: v.optional(v.string()),
  requestId: v.optional(v.string()),
});
type Body = v.InferOutput<typeof BODY_SCHEMA>;
const FIELD_ORDER = Object.keys(BODY_SCHEMA.entries) as (keyof Body)[];

interface AuditDbRow {
  seq: number;
  at: number;
  kind: string;
  share_id: string | null;
  body: string;
  prev_hash: string;
  hash: string;
}

/** hash = hex(SHA-256(prev_hash ‖ "\n" ‖ body)), body being the row's JSON text as stored. */
export function chainHash(prevHash: string, body: string): string {
  return bytesToHex(sha256(new TextEncoder().encode(`${prevHash}\n${body}`)));
}

/** The body text for an event: fixed key order, params and redactions keys sorted, undefined fields dropped. */
export function encodeBody(seq: number, at: number, event: AuditEvent): string {
  const source: Record<string, unknown> = { ...event, seq, at };
  const sorted = <T>(r: Record<string, T>) => Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  if ("params" in event && event.params) source.params = sorted(event.params);
  if ("redactions" in event && event.redactions) source.redactions = sorted(event.redactions);
  const out: Record<string, unknown> = {};
  for (const k of FIELD_ORDER) if (source[k] !== undefined) out[k] = source[k];
  const parsed = v.safeParse(BODY_SCHEMA, out);
  if (!parsed.success) throw usageError(`audit: malformed event: ${v.summarize(parsed.issues)}`);
  return JSON.stringify(out);
}

export class AuditLog {
  private readonly store: Store;
  private readonly clock: () => number;

  constructor(store: Store, clock: () => number = Date.now) {
    this.store = store;
    this.clock = clock;
  }

  /** Appends one row now (after any batch still waiting, so rows keep the order they were asked in). */
  append(event: AuditEvent): AuditRow {
    this.flushSoon();
    return this.commit([event])[0]!;
  }

  /**
   * Group commit: the row joins every other event appended in this tick, committed together in
   * one transaction; resolves once the row is durable. A database locked by another process
   * delays it (retried without blocking), never drops it; an event that cannot be encoded rejects.
   */
  appendSoon(event: AuditEvent): Promise<AuditRow> {
    return new Promise<AuditRow>((resolve, reject) => {
      this.pending.push({ event, resolve, reject });
      this.scheduleFlush(0);
    });
  }

  /** Events waiting for their commit (a lock held by another process keeps them here). */
  get waiting(): number {
    return this.pending.length;
  }

  /**
   * Commits the waiting batch now, without waiting on another process's lock (a no-op when none
   * waits). A batch that meets a lock stays queued and is tried again after a short backoff.
   */
  flushSoon(): void {
    this.cancelFlush();
    while (this.pending.length > 0) {
      // Taken off the queue before committing: a listener called on commit may append (and flush)
      // again, and must find only its own rows waiting. Put back in front if a lock stops it.
      const batch = this.pending;
      this.pending = [];
      let rows: AuditRow[];
      try {
        rows = this.withoutWaiting(() => this.commit(batch.map((p) => p.event)));
      } catch (e) {
        if (isLocked(e)) {
          this.pending = [...batch, ...this.pending];
          return this.retryLater(e);
        }
        // One bad event must not sink the rest of its batch: commit each on its own, in order.
        for (const [i, p] of batch.entries()) {
          try {
            p.resolve(this.withoutWaiting(() => this.commit([p.event]))[0]!);
          } catch (err) {
            if (!isLocked(err)) {
              p.reject(err);
              continue;
            }
            this.pending = [...batch.slice(i), ...this.pending];
            return this.retryLater(err);
          }
        }
        continue;
      }
      this.retryMs = 0;
      for (const [i, p] of batch.entries()) p.resolve(rows[i]!);
    }
  }

  /**
   * At shutdown: commits what still waits, this time waiting on a lock (the store's busy timeout).
   * Returns the events that could still not be committed (the caller logs them: never silently lost).
   */
  drain(): AuditEvent[] {
    this.cancelFlush();
    if (this.pending.length === 0) return [];
    const batch = this.pending;
    this.pending = [];
    try {
      const rows = this.commit(batch.map((p) => p.event));
      for (const [i, p] of batch.entries()) p.resolve(rows[i]!);
      return [];
    } catch (e) {
      for (const p of batch) p.reject(e);
      return batch.map((p) => p.event);
    }
  }

  private pending: Array<{ event: AuditEvent; resolve(row: AuditRow): void; reject(e: unknown): void }> = [];
  private flushTimer: { cancel(): void } | undefined;
  private retryMs = 0;

  private scheduleFlush(delayMs: number): void {
    if (this.flushTimer) return;
    if (delayMs === 0) {
      const t = setImmediate(() => {
        this.flushTimer = undefined;
        this.flushSoon();
      });
      this.flushTimer = { cancel: () => clearImmediate(t) };
    } else {
      const t = setTimeout(() => {
        this.flushTimer = undefined;
        this.flushSoon();
      }, delayMs);
      this.flushTimer = { cancel: () => clearTimeout(t) };
    }
  }

  private cancelFlush(): void {
    this.flushTimer?.cancel();
    this.flushTimer = undefined;
  }

  /** The batch met another process's lock: try again after 25 ms, doubling up to 1 s. */
  private retryLater(e: unknown): void {
    this.retryMs = Math.min(Math.max(25, this.retryMs * 2), 1_000);
    this.locked(this.pending.length, e);
    this.scheduleFlush(this.retryMs);
  }

  /** Runs a commit with no busy wait: a lock held elsewhere fails at once instead of stalling the event loop. */
  private withoutWaiting<T>(fn: () => T): T {
    return this.store.withoutWaiting(fn);
  }

  /** Called when queued rows met a lock held by another process (the daemon logs it). */
  protected locked(_waiting: number, _error: unknown): void {}

  /** One IMMEDIATE transaction for `events`, in order, chained from the current head. */
  private commit(events: AuditEvent[]): AuditRow[] {
    const db = this.store.db;
    const rows = db.transaction((): AuditRow[] => {
      const head = db.query<{ seq: number; hash: string }, []>("SELECT seq, hash FROM audit_head WHERE one = 1").get();
      let seq = head?.seq ?? 0;
      let prevHash = head?.hash ?? GENESIS_HASH;
      const out: AuditRow[] = [];
      const insert = db.query(
        `INSERT INTO audit (seq, at, kind, share_id, body, prev_hash, hash)
         VALUES ($seq, $at, $kind, $shareId, $body, $prevHash, $hash)`,
      );
      for (const event of events) {
        seq++;
        const at = this.clock();
        const body = encodeBody(seq, at, event);
        const hash = chainHash(prevHash, body);
        insert.run({ seq, at, kind: event.kind, shareId: "shareId" in event && event.shareId !== undefined ? event.shareId : null, body, prevHash, hash });
        out.push({ ...(JSON.parse(body) as Body), prevHash, hash } as AuditRow);
        prevHash = hash;
      }
      db.query(
        `INSERT INTO audit_head (one, seq, hash) VALUES (1, $seq, $hash)
         ON CONFLICT (one) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`,
      ).run({ seq, hash: prevHash });
      return out;
    }).immediate();
    for (const row of rows) this.committed(row);
    return rows;
  }

  /** Called with each row once it is durable, in seq order (the daemon's listeners hook in here). */
  protected committed(_row: AuditRow): void {}

  /** The chain head: the last row's seq and hash (0 and the genesis hash for an empty log). */
  head(): { seq: number; hash: string } {
    const head = this.store.db.query<{ seq: number; hash: string }, []>("SELECT seq, hash FROM audit_head WHERE one = 1").get();
    return { seq: head?.seq ?? 0, hash: head?.hash ?? GENESIS_HASH };
  }

  /**
   * The intent rows (call.allowed) that have no outcome row yet, in seq order: read from the
   * open_calls table the schema's triggers keep, so the cost follows the open calls, not the log.
   */
  openIntents(): AuditRow[] {
    const sql = "SELECT a.seq, a.at, a.kind, a.share_id, a.body, a.prev_hash, a.hash FROM open_calls o JOIN audit a ON a.seq = o.seq ORDER BY a.seq";
    const rows: AuditRow[] = [];
    for (const r of this.store.db.query<AuditDbRow, []>(sql).all()) {
      const body = parseBody(r.body);
      if (body) rows.push({ ...body, prevHash: r.prev_hash, hash: r.hash } as AuditRow);
    }
    return rows;
  }

  /** Rows in seq order; a row whose body does not parse is left out (verify() names it). */
  list(filter: { shareId?: string; afterSeq?: number; sinceAt?: number; limit?: number } = {}): AuditRow[] {
    const where: string[] = ["seq > $after"];
    const params: Record<string, string | number> = { after: filter.afterSeq ?? 0 };
    if (filter.sinceAt !== undefined) {
      where.push("at >= $since");
      params.since = filter.sinceAt;
    }
    if (filter.shareId !== undefined) {
      where.push("share_id = $shareId");
      params.shareId = filter.shareId;
    }
    let sql = `SELECT seq, at, kind, share_id, body, prev_hash, hash FROM audit WHERE ${where.join(" AND ")} ORDER BY seq`;
    if (filter.limit !== undefined) {
      sql += " LIMIT $limit";
      params.limit = Math.max(0, Math.floor(filter.limit));
    }
    const rows: AuditRow[] = [];
    for (const r of this.store.db.query<AuditDbRow, [Record<string, string | number>]>(sql).all(params)) {
      const body = parseBody(r.body);
      if (body) rows.push({ ...body, prevHash: r.prev_hash, hash: r.hash } as AuditRow);
    }
    return rows;
  }

  /** Walks the whole chain in one read transaction (a consistent snapshot while others append). */
  verify(): VerifyResult {
    const db = this.store.db;
    return db.transaction((): VerifyResult => {
      let prevHash = GENESIS_HASH;
      let expected = 1;
      let rows = 0;
      const fail = (brokenAt: number, problem: string): VerifyResult => ({ ok: false, rows, brokenAt, problem });
      for (const r of db.query<AuditDbRow, []>("SELECT seq, at, kind, share_id, body, prev_hash, hash FROM audit ORDER BY seq").iterate()) {
        if (r.seq !== expected) {
          return fail(expected, `row ${expected} is missing (the next row is ${r.seq})`);
        }
        if (r.prev_hash !== prevHash) return fail(r.seq, `row ${r.seq} does not link to row ${r.seq - 1} (prev_hash differs)`);
        if (chainHash(r.prev_hash, r.body) !== r.hash) return fail(r.seq, `row ${r.seq} was altered (its hash does not match its contents)`);
        const body = parseBody(r.body);
        if (!body) return fail(r.seq, `row ${r.seq} has a malformed body`);
        if (body.seq !== r.seq || body.at !== r.at || body.kind !== r.kind || (body.shareId ?? null) !== r.share_id) {
          return fail(r.seq, `row ${r.seq} was altered (its columns differ from its hashed body)`);
        }
        prevHash = r.hash;
        expected++;
        rows++;
      }
      const head = db.query<{ seq: number; hash: string }, []>("SELECT seq, hash FROM audit_head WHERE one = 1").get();
      const headSeq = head?.seq ?? 0;
      if (headSeq !== rows) {
        return headSeq > rows
          ? fail(rows + 1, `rows ${rows + 1}..${headSeq} are missing (the chain head is at ${headSeq})`)
          : fail(headSeq + 1, `row ${headSeq + 1} is past the chain head (${headSeq})`);
      }
      if ((head?.hash ?? GENESIS_HASH) !== prevHash) return fail(rows, `row ${rows} does not match the chain head`);
      return { ok: true, rows };
    })();
  }
}

function parseBody(text: string): Body | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = v.safeParse(BODY_SCHEMA, json);
  return parsed.success ? parsed.output : undefined;
}

/** SQLITE_BUSY or SQLITE_LOCKED: another connection holds the write lock. */
export function isLocked(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  if (typeof code === "string") return code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED");
  return /database is (locked|busy)/i.test((e as Error)?.message ?? "");
}
