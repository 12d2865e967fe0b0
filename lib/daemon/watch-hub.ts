// The daemon's tee to `share watch` (SPEC.md §17.1): every audit row as it is written, every
// output chunk a call streams and share snapshots go to each watcher's own bounded buffer, which
// the control socket drains as the watcher reads. Publishing never waits: a watcher that falls
// behind loses its own events (and is told how many), so no verb and no recipient is slowed.
import { concat } from "../bytes.ts";
import { droppedEvent, encodeWatchLine, outputEvent, WATCH_BUFFER_BYTES, WatchBuffer, type WatchEvent, type WatchedShare } from "../share/watch.ts";
import type { AuditRow } from "../store/audit.ts";

interface Watcher {
  /** Only this share's events, or every share's. */
  shareId: string | undefined;
  buffer: WatchBuffer;
  wake: (() => void) | undefined;
  closing: boolean;
}

/** What the hub asks of the daemon around it. */
export interface WatchHubDeps {
  now: () => number;
  /** A share as `share list` shows it (undefined if unknown). */
  share(id: string): WatchedShare | undefined;
  liveShares(): WatchedShare[];
  /** The share's audit rows so far (replayed to a watcher of one share). */
  history(id: string): AuditRow[];
  /** Pending approval requests, for the first event of a watch. */
  pending(shareId?: string): unknown[];
  bufferBytes?: number;
}

const encoder = new TextEncoder();
/** Lines handed to the socket per read: enough to keep a fast watcher busy, small enough to stay fair. */
const MAX_BATCH_BYTES = 64 * 1024;

export class WatchHub {
  private readonly watchers = new Set<Watcher>();
  /** Per share, the calls between call.allowed and call.outcome and the requests still pending. */
  private readonly open = new Map<string, Set<string>>();
  private readonly ended = new Set<string>();

  constructor(private readonly deps: WatchHubDeps) {}

  get watching(): number {
    return this.watchers.size;
  }

  /** True when some watcher would see this share's events (so output is only encoded when needed). */
  wants(shareId: string): boolean {
    for (const w of this.watchers) if (!w.closing && (w.shareId === undefined || w.shareId === shareId)) return true;
    return false;
  }

  /** A new watcher: its stream starts with the share's history (one share) or the live shares (all). */
  subscribe(shareId: string | undefined): ReadableStream<Uint8Array> {
    const w: Watcher = {
      shareId,
      buffer: new WatchBuffer(this.deps.bufferBytes ?? WATCH_BUFFER_BYTES, (n) => encodeWatchLine(droppedEvent(this.deps.now(), n))),
      wake: undefined,
      closing: false,
    };
    // History and subscription in one synchronous step: no row is missed or sent twice.
    const shares = shareId === undefined ? this.deps.liveShares() : [this.deps.share(shareId)!];
    const first: WatchEvent = { kind: "watch.started", at: this.deps.now(), ...(shareId ? { shareId } : {}), shares, pending: this.deps.pending(shareId) };
    // The snapshot comes first so a view knows the share before its history; the history is
    // flagged `replay` (its output was not kept).
    w.buffer.push(encodeWatchLine(first));
    if (shareId !== undefined) {
      for (const row of this.deps.history(shareId)) this.track(row);
      for (const row of this.deps.history(shareId)) w.buffer.push(encodeWatchLine({ ...eventOfRow(row), replay: true }));
    }
    this.watchers.add(w);
    if (shareId !== undefined && this.idleAfterEnd(shareId)) w.closing = true;
    const hub = this;
    return new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          for (;;) {
            let batch = "";
            for (let line = w.buffer.take(); line !== undefined; line = batch.length < MAX_BATCH_BYTES ? w.buffer.take() : undefined) batch += line;
            if (batch) {
              controller.enqueue(encoder.encode(batch));
              return;
            }
            if (w.closing) {
              hub.watchers.delete(w);
              controller.close();
              return;
            }
            await new Promise<void>((r) => (w.wake = r));
            w.wake = undefined;
          }
        },
        cancel() {
          hub.watchers.delete(w);
        },
      },
      { highWaterMark: 0 },
    );
  }

  /** An audit row was written (the daemon's audit log calls this after each append). */
  onAuditRow(row: AuditRow): void {
    this.track(row);
    if (row.shareId === undefined) return;
    this.publish(row.shareId, eventOfRow(row));
    if (row.kind.startsWith("share.")) {
      const share = this.deps.share(row.shareId);
      if (share) this.publish(row.shareId, { kind: "share.state", at: this.deps.now(), shareId: row.shareId, share });
    }
    if (this.idleAfterEnd(row.shareId)) this.closeShare(row.shareId);
  }

  /** A chunk of a call's output, exactly as it goes to the recipient. */
  onOutput(shareId: string, callId: string, stream: "stdout" | "stderr", pieces: readonly Uint8Array[]): void {
    if (!this.wants(shareId)) return;
    this.publish(shareId, outputEvent(this.deps.now(), shareId, callId, stream, pieces.length === 1 ? pieces[0]! : concat(...pieces)));
  }

  /** A share changed in a way no audit row says (connected flag after a restart, say). */
  onShareChanged(shareId: string): void {
    const share = this.deps.share(shareId);
    if (share) this.publish(shareId, { kind: "share.state", at: this.deps.now(), shareId, share });
  }

  /** The daemon stops: every stream ends after what is queued. */
  closeAll(): void {
    for (const w of this.watchers) {
      w.closing = true;
      w.wake?.();
    }
  }

  private publish(shareId: string, ev: WatchEvent): void {
    let line: string | undefined;
    for (const w of this.watchers) {
      if (w.closing || (w.shareId !== undefined && w.shareId !== shareId)) continue;
      line ??= encodeWatchLine(ev);
      w.buffer.push(line);
      w.wake?.();
    }
  }

  /** Ends the streams of watchers of this one share (a watcher of all shares goes on). */
  private closeShare(shareId: string): void {
    for (const w of this.watchers) {
      if (w.shareId !== shareId) continue;
      w.closing = true;
      w.wake?.();
    }
  }

  private track(row: AuditRow): void {
    const s = row.shareId;
    if (s === undefined) return;
    let open = this.open.get(s);
    if (!open) this.open.set(s, (open = new Set()));
    const call = row.callId ? `call ${row.callId}` : undefined;
    const req = row.requestId ? `request ${row.requestId}` : undefined;
    switch (row.kind) {
      case "call.allowed":
        if (call) open.add(call);
        break;
      case "call.outcome":
        if (call) open.delete(call);
        break;
      case "approval.requested":
        if (req) open.add(req);
        break;
      case "approval.approved":
      case "approval.denied":
      case "approval.timed_out":
        if (req) open.delete(req);
        break;
      case "share.revoked":
      case "share.expired":
        this.ended.add(s);
        break;
    }
  }

  /** The share is over and nothing of it runs or waits: its watchers have seen its whole life. */
  private idleAfterEnd(shareId: string): boolean {
    return this.ended.has(shareId) && (this.open.get(shareId)?.size ?? 0) === 0;
  }
}

/** An audit row as a watch event: the row's own fields (the chain hashes left out). */
export function eventOfRow(row: AuditRow): WatchEvent {
  const { prevHash: _p, hash: _h, ...rest } = row;
  return rest as unknown as WatchEvent;
}
