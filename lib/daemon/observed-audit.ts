// The daemon's audit log with listeners: each row, once committed, is handed to the watch hub and
// the notifier (SPEC.md §17). A listener that throws is logged and never undoes or delays the row:
// the audit is the record, the listeners only show it.
import { AuditLog, type AuditRow } from "../store/audit.ts";
import type { Store } from "../store/store.ts";

export type AuditListener = (row: AuditRow) => void;

export class ObservedAuditLog extends AuditLog {
  private readonly listeners: AuditListener[] = [];

  constructor(
    store: Store,
    private readonly log: (line: string) => void,
    clock?: () => number,
  ) {
    super(store, clock);
  }

  listen(l: AuditListener): void {
    this.listeners.push(l);
  }

  private lastLockedLog = 0;

  /** Rows wait for another process's lock: said at most every 5 s, so the log is not flooded. */
  protected override locked(waiting: number, error: unknown): void {
    const now = Date.now();
    if (now - this.lastLockedLog < 5_000) return;
    this.lastLockedLog = now;
    this.log(`warning: audit: the database is locked by another process (${(error as Error)?.message ?? String(error)}); ${waiting} row(s) wait, retrying`);
  }

  protected override committed(row: AuditRow): void {
    for (const l of this.listeners) {
      try {
        l(row);
      } catch (e) {
        this.log(`error: audit listener failed on row ${row.seq}: ${(e as Error)?.message ?? String(e)}`);
      }
    }
  }
}
