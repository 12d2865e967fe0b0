// The notification delivery queue (SPEC.md §17.4): events wait in a bounded queue and one worker
// hands each to every target in turn, each delivery under its own timeout. A full queue drops the
// new event; a failed or slow delivery is logged and counted. Nothing here ever makes a call wait.
import type { Notification } from "./event.ts";

/** One way out: a command or a webhook. Rejects (or overruns the timeout) on failure. */
export interface NotifyTarget {
  name: string;
  deliver(n: Notification, signal: AbortSignal): Promise<void>;
}

export interface NotifyCounters {
  /** Deliveries that succeeded (one event to one target). */
  sent: number;
  /** Deliveries that failed or timed out. */
  failed: number;
  /** Events dropped because the queue was full. */
  dropped: number;
  /** Events waiting now. */
  queued: number;
}

export const NOTIFY_QUEUE_MAX = 256;
export const NOTIFY_TIMEOUT_MS = 5_000;

export class NotifyQueue {
  private readonly waiting: Notification[] = [];
  private running = false;
  private idleWaiters: Array<() => void> = [];
  private readonly counts = { sent: 0, failed: 0, dropped: 0 };

  constructor(
    private readonly opts: {
      targets: NotifyTarget[];
      log: (line: string) => void;
      capacity?: number;
      timeoutMs?: number;
    },
  ) {}

  get enabled(): boolean {
    return this.opts.targets.length > 0;
  }

  /** Queues an event; returns at once. False when it was dropped (queue full, or no targets). */
  push(n: Notification): boolean {
    if (!this.enabled) return false;
    if (this.waiting.length >= (this.opts.capacity ?? NOTIFY_QUEUE_MAX)) {
      this.counts.dropped++;
      // Say so once per burst, not once per event.
      if (this.counts.dropped === 1 || this.counts.dropped % 100 === 0) this.opts.log(`warning: notify: queue full; ${this.counts.dropped} event(s) dropped so far`);
      return false;
    }
    this.waiting.push(n);
    if (!this.running) void this.work();
    return true;
  }

  counters(): NotifyCounters {
    return { ...this.counts, queued: this.waiting.length };
  }

  /** Resolves once every queued event has been tried (tests, and a clean shutdown). */
  idle(): Promise<void> {
    if (!this.running && this.waiting.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private async work(): Promise<void> {
    this.running = true;
    try {
      for (let n = this.waiting.shift(); n !== undefined; n = this.waiting.shift()) {
        for (const t of this.opts.targets) await this.deliverOne(t, n);
      }
    } finally {
      this.running = false;
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const r of w) r();
    }
  }

  private async deliverOne(t: NotifyTarget, n: Notification): Promise<void> {
    const timeoutMs = this.opts.timeoutMs ?? NOTIFY_TIMEOUT_MS;
    const ac = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const overrun = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        ac.abort();
        reject(new Error(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      await Promise.race([t.deliver(n, ac.signal), overrun]);
      this.counts.sent++;
    } catch (e) {
      this.counts.failed++;
      this.opts.log(`warning: notify: ${t.name}: ${n.event} for share ${n.share} not delivered: ${(e as Error)?.message ?? String(e)}`);
    } finally {
      clearTimeout(timer);
    }
  }
}
