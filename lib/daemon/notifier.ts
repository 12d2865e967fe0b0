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
  private readonly queue: NotifyQueue;

  constructor(
    private readonly deps: {
      config: Config["notify"];
      daemonName: string;
      /** The alias a share is sealed to, "bearer", or undefined when unknown. */
      recipientOf(shareId: string): string | undefined;
      log: (line: string) => void;
    },
  ) {
    const targets: NotifyTarget[] = [];
    const c = deps.config;
    if (c?.command) targets.push(commandTarget(c.command));
    if (c?.webhook) targets.push(webhookTarget(c.webhook));
    this.queue = new NotifyQueue({ targets, log: deps.log, timeoutMs: c?.timeout ? parseDuration(c.timeout, "notify.timeout") : undefined });
  }

  get targets(): number {
    return this.queue.enabled ? (this.deps.config?.command ? 1 : 0) + (this.deps.config?.webhook ? 1 : 0) : 0;
  }

  onAuditRow(row: AuditRow): void {
    if (!this.queue.enabled || row.shareId === undefined) return;
    const n = notificationFor(row, { daemon: this.deps.daemonName, recipient: this.deps.recipientOf(row.shareId) });
    if (n) this.queue.push(n);
  }

  counters(): NotifyCounters {
    return this.queue.counters();
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }
}
