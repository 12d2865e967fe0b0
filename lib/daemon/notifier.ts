// Notifications out of the daemon (SPEC.md §17.4): audit rows the operator is told of become
// notifications on the bounded delivery queue, to the command and/or webhook of config.toml's
// [notify]. The row is already committed; delivery happens later and never holds up a call.
import { notificationFor } from "../notify/event.ts";
import { NotifyQueue, type NotifyCounters, type NotifyTarget } from "../notify/queue.ts";
import { commandTarget, webhookTarget } from "../notify/targets.ts";
import type { Config } from "../host/config.ts";
import { parseDuration } from "../units.ts";
import type { AuditRow } from "../store/audit.ts";

export class Notifier {
  private queue: NotifyQueue;
  private current: Config["notify"];
  /** Counters of the queues a reload replaced, so /v1/health keeps counting across reloads. */
  private carried = { sent: 0, failed: 0, dropped: 0 };

  constructor(
    private readonly deps: {
      /** Read at each event: a reload of config.toml takes effect for the next one. */
      config: () => Config["notify"];
      daemonName: string;
      /** The alias a share is sealed to, "bearer", or undefined when unknown. */
      recipientOf(shareId: string): string | undefined;
      log: (line: string) => void;
    },
  ) {
    this.current = deps.config();
    this.queue = this.queueFor(this.current);
  }

  private queueFor(c: Config["notify"]): NotifyQueue {
    const targets: NotifyTarget[] = [];
    if (c?.command) targets.push(commandTarget(c.command));
    if (c?.webhook) targets.push(webhookTarget(c.webhook));
    return new NotifyQueue({ targets, log: this.deps.log, timeoutMs: c?.timeout ? parseDuration(c.timeout, "notify.timeout") : undefined });
  }

  onAuditRow(row: AuditRow): void {
    const c = this.deps.config();
    if (c !== this.current) {
      // A reload changed [notify]: what is queued still goes out through the old queue.
      const old = this.queue.counters();
      this.carried = { sent: this.carried.sent + old.sent, failed: this.carried.failed + old.failed, dropped: this.carried.dropped + old.dropped };
      this.current = c;
      this.queue = this.queueFor(c);
    }
    if (!this.queue.enabled || row.shareId === undefined) return;
    const n = notificationFor(row, { daemon: this.deps.daemonName, recipient: this.deps.recipientOf(row.shareId) });
    if (n) this.queue.push(n);
  }

  counters(): NotifyCounters {
    const q = this.queue.counters();
    return { sent: this.carried.sent + q.sent, failed: this.carried.failed + q.failed, dropped: this.carried.dropped + q.dropped, queued: q.queued };
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }
}
