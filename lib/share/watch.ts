// The watch stream (SPEC.md §17.1): what `share watch` receives, one JSON object per line. Events
// are the audit rows as they are written, the output chunks a call streams, share snapshots, and
// the notice of events a slow watcher lost. The per-watcher buffer is bounded: a watcher that
// does not read drops its own events (and is told how many); the verb never waits for it. Pure.
import * as v from "valibot";
import { usageError } from "../errors.ts";
import type { ShareSummary } from "./lifetime.ts";

/** A watch event: `kind` names it (audit kinds, plus the WATCH_ONLY_KINDS), `at` is ms since the epoch. */
export type WatchEvent = { kind: string; at: number; shareId?: string } & Record<string, unknown>;

/** Kinds that exist only on the watch stream (the others are audit row kinds, fields as in the audit). */
export const WATCH_ONLY_KINDS = ["watch.started", "share.state", "call.output", "watch.dropped"] as const;

/** A share as `share list --json` shows it. */
export type WatchedShare = ShareSummary;

/** Per watcher: at most this many bytes of encoded events wait for it before it starts losing them. */
export const WATCH_BUFFER_BYTES = 1024 * 1024;

const fatalUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * One output chunk as an event. `data` is the chunk as text when it is valid UTF-8
 * (`encoding: "utf8"`), else base64 of the exact bytes (`encoding: "base64"`): either way the
 * bytes are exactly the ones the recipient received.
 */
export function outputEvent(at: number, shareId: string, callId: string, stream: "stdout" | "stderr", data: Uint8Array): WatchEvent {
  let text: string | undefined;
  try {
    text = fatalUtf8.decode(data);
  } catch {
    text = undefined;
  }
  return text === undefined
    ? { kind: "call.output", at, shareId, callId, stream, encoding: "base64", data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64") }
    : { kind: "call.output", at, shareId, callId, stream, encoding: "utf8", data: text };
}

/** The bytes of a call.output event. */
export function outputBytes(ev: WatchEvent): Uint8Array {
  const data = typeof ev.data === "string" ? ev.data : "";
  return ev.encoding === "base64" ? new Uint8Array(Buffer.from(data, "base64")) : new TextEncoder().encode(data);
}

export function droppedEvent(at: number, count: number): WatchEvent {
  return { kind: "watch.dropped", at, count };
}

export function encodeWatchLine(ev: WatchEvent): string {
  return JSON.stringify(ev) + "\n";
}

const EventSchema = v.looseObject({
  kind: v.pipe(v.string(), v.regex(/^[a-z_]+\.[a-z_]+$/, "kind must be a dotted name")),
  at: v.pipe(v.number(), v.integer()),
  shareId: v.optional(v.string()),
});

/** Parses one line of the stream (from the daemon: still checked, a damaged line is a usage error). */
export function parseWatchLine(line: string): WatchEvent {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    throw usageError("watch: the daemon sent a line that is not JSON");
  }
  const r = v.safeParse(EventSchema, raw);
  if (!r.success) throw usageError(`watch: malformed event: ${v.summarize(r.issues).replace(/\n/g, "; ")}`);
  return r.output as WatchEvent;
}

/**
 * The bounded queue between the daemon and one watcher. `push` never blocks and never grows past
 * `capacityBytes`: an event that does not fit is dropped and counted. Before the next event that
 * fits (or when the queue runs empty), the watcher gets one `watch.dropped` notice with the count,
 * at the place of the gap.
 */
export class WatchBuffer {
  private readonly lines: string[] = [];
  private bytes = 0;
  private unreported = 0;
  private total = 0;

  constructor(
    private readonly capacityBytes: number,
    private readonly notice: (count: number) => string,
  ) {}

  /** Queues a line; false when it was dropped because the watcher is behind. */
  push(line: string): boolean {
    if (this.bytes + line.length > this.capacityBytes) {
      this.unreported++;
      this.total++;
      return false;
    }
    this.flushNotice();
    this.lines.push(line);
    this.bytes += line.length;
    return true;
  }

  /** The next line for the watcher, or undefined when there is nothing to send. */
  take(): string | undefined {
    const line = this.lines.shift();
    if (line !== undefined) {
      this.bytes -= line.length;
      return line;
    }
    if (this.unreported > 0) {
      const n = this.unreported;
      this.unreported = 0;
      return this.notice(n);
    }
    return undefined;
  }

  get queuedBytes(): number {
    return this.bytes;
  }

  get pendingLines(): number {
    return this.lines.length + (this.unreported > 0 ? 1 : 0);
  }

  /** Events this watcher lost since it started. */
  get droppedTotal(): number {
    return this.total;
  }

  private flushNotice(): void {
    if (this.unreported === 0) return;
    // The notice may overshoot the bound by its own few bytes: the gap must be reported.
    const line = this.notice(this.unreported);
    this.unreported = 0;
    this.lines.push(line);
    this.bytes += line.length;
  }
}
