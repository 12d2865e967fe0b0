// The operator's live view of `share watch` on a terminal (SPEC.md §17.1): folds watch events
// into what is known (shares, running calls, pending requests) and turns each event into the
// lines to print, plus one status line. Everything from the daemon or the outsider is escaped
// before it is returned: a verb's output never reaches the terminal raw. Pure (clock passed in).
import { formatDuration } from "../../lib/units.ts";
import { outputBytes, type WatchEvent, type WatchedShare } from "../../lib/share/watch.ts";
import { terminalSafe } from "../output.ts";

export interface RunningCall {
  shareId: string;
  callId: string;
  verb: string;
  params: Record<string, string>;
  startedAt: number;
}

export interface PendingRequest {
  id: string;
  share: string;
  call: string;
  verb: string;
  params: Record<string, string>;
  expires_at: string;
}

const str = (x: unknown): string => (typeof x === "string" ? x : x === undefined || x === null ? "" : String(x));
const rec = (x: unknown): Record<string, string> =>
  typeof x === "object" && x !== null ? Object.fromEntries(Object.entries(x as Record<string, unknown>).map(([k, v]) => [k, str(v)])) : {};

export function callText(verb: string, params: Record<string, string>): string {
  const p = Object.entries(params).map(([k, v]) => `${k}=${v}`).join(" ");
  return terminalSafe(`${verb}${p ? ` ${p}` : ""}`);
}

function clock(at: number): string {
  return new Date(at).toISOString().slice(11, 19);
}

function bytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export class WatchView {
  readonly shares = new Map<string, WatchedShare>();
  readonly running = new Map<string, RunningCall>();
  readonly pending = new Map<string, PendingRequest>();
  private readonly decoders = new Map<string, TextDecoder>();

  constructor(private readonly filter: string | undefined) {}

  /** The lines (each without its newline) this event adds to the screen. */
  apply(ev: WatchEvent): string[] {
    const lines: string[] = [];
    const at = clock(ev.at);
    const share = str(ev.shareId);
    const callId = str(ev.callId);
    const key = `${share} ${callId}`;
    const multi = this.filter === undefined;
    const tag = multi && share ? `[${share}] ` : "";
    const add = (text: string) => lines.push(`${at} ${tag}${text}`);
    switch (ev.kind) {
      case "watch.started": {
        for (const s of (ev.shares as WatchedShare[] | undefined) ?? []) {
          if (!s) continue;
          this.shares.set(s.id, s);
          lines.push(this.header(s, ev.at));
        }
        for (const p of (ev.pending as PendingRequest[] | undefined) ?? []) this.pending.set(p.id, p);
        for (const p of this.pending.values()) lines.push(`${at} ${multi ? `[${p.share}] ` : ""}⏳ request ${p.id}: ${callText(p.verb, p.params)} waits for your approval (a approve, d deny)`);
        if (this.shares.size === 0) lines.push(`${at} no live shares yet; waiting for one to open`);
        break;
      }
      case "share.state": {
        const s = ev.share as WatchedShare | undefined;
        if (s) this.shares.set(s.id, s);
        break;
      }
      case "share.opened":
        add(`share opened: ${terminalSafe(str(ev.detail))}`);
        break;
      case "share.connected":
        add(`● recipient connected${ev.detail ? ` (${terminalSafe(str(ev.detail))})` : ""}`);
        break;
      case "share.disconnected":
        add(`○ recipient disconnected${ev.detail ? ` (${terminalSafe(str(ev.detail))})` : ""}`);
        break;
      case "share.extended":
        add(`share extended: ${terminalSafe(str(ev.detail))}`);
        break;
      case "share.extend_refused":
        add(`✘ share extend refused: ${terminalSafe(str(ev.detail))}`);
        break;
      case "share.revoked":
      case "share.expired":
        add(`share ${ev.kind === "share.revoked" ? "revoked" : "expired"}${ev.detail ? ` (${terminalSafe(str(ev.detail))})` : ""}`);
        break;
      case "call.allowed": {
        if (!ev.replay || !this.running.has(key)) {
          this.running.set(key, { shareId: share, callId, verb: str(ev.verb), params: rec(ev.params), startedAt: ev.at });
        }
        add(`▶ ${callId} ${callText(str(ev.verb), rec(ev.params))}: allowed${ev.replay ? " (before this view; output not shown)" : ""}`);
        break;
      }
      case "call.denied":
        add(`✘ ${callId || "-"} ${callText(str(ev.verb) || "?", rec(ev.params))}: denied: ${terminalSafe(str(ev.reason))}${ev.message ? ` (${terminalSafe(str(ev.message))})` : ""}`);
        break;
      case "call.killed":
        // Why, when it was not `share kill` (a grant or catalog change, SPEC.md §15.4).
        add(`✂ ${callId} ${terminalSafe(str(ev.verb))}: killed by the operator${ev.detail && ev.detail !== "cancelled by the operator" ? ` (${terminalSafe(str(ev.detail))})` : ""}`);
        break;
      case "call.outcome": {
        const r = this.running.get(key);
        this.running.delete(key);
        this.decoders.delete(key);
        const open = this.partial.get(key);
        if (open) lines.push(open.prefix + open.text);
        this.partial.delete(key);
        const parts = [
          `exit ${ev.exitCode ?? "?"}`,
          ev.durationMs !== undefined ? (Number(ev.durationMs) < 1000 ? `${ev.durationMs} ms` : formatDuration(Number(ev.durationMs))) : "",
          ev.bytesOut !== undefined ? bytes(Number(ev.bytesOut)) : "",
          ev.truncated ? "truncated" : "",
          redactionText(ev.redactions),
          ev.detail ? terminalSafe(str(ev.detail)) : "",
        ].filter(Boolean);
        add(`■ ${callId} ${terminalSafe(str(ev.verb) || r?.verb || "")}: ${parts.join(" · ")}`);
        break;
      }
      case "call.output":
        this.output(key, callId, ev, lines, `${tag}`);
        break;
      case "approval.requested": {
        const p: PendingRequest = { id: str(ev.requestId), share, call: callId, verb: str(ev.verb), params: rec(ev.params), expires_at: "" };
        this.pending.set(p.id, p);
        add(`⏳ request ${p.id}: ${callText(p.verb, p.params)} waits for your approval (a approve, d deny)`);
        break;
      }
      case "approval.approved":
        this.pending.delete(str(ev.requestId));
        add(`✔ request ${terminalSafe(str(ev.requestId))} approved: ${callText(str(ev.verb), rec(ev.params))} runs`);
        break;
      case "approval.denied":
        this.pending.delete(str(ev.requestId));
        add(`✘ request ${terminalSafe(str(ev.requestId))} denied (${terminalSafe(str(ev.reason))}): ${terminalSafe(str(ev.message))}`);
        break;
      case "approval.timed_out":
        this.pending.delete(str(ev.requestId));
        add(`✘ request ${terminalSafe(str(ev.requestId))} timed out: not approved`);
        break;
      case "watch.dropped":
        add(`… ${Number(ev.count) || 0} event(s) not shown: this view fell behind (the share was not slowed)`);
        break;
      default:
        break; // a newer daemon's event: nothing to show
    }
    return lines;
  }

  /** One line under everything: the share, whether someone is connected, time left, what runs, the keys. */
  status(now: number): string {
    const shares = [...this.shares.values()].filter((s) => this.filter === undefined || s.id === this.filter);
    const about =
      shares.length === 1
        ? `share ${shares[0]!.id} → ${terminalSafe(shares[0]!.recipient)} · ${shares[0]!.state !== "live" ? shares[0]!.state : shares[0]!.connected ? "connected" : "not connected"}${shares[0]!.state === "live" ? ` · ${formatDuration(Date.parse(shares[0]!.expires_at) - now)} left` : ""}`
        : `${shares.filter((s) => s.state === "live").length} live share(s)`;
    const run = [...this.running.values()];
    const running = run.length ? ` · ${run.length} running (${run.map((r) => `${r.callId} ${formatDuration(now - r.startedAt)}`).join(", ")})` : "";
    const pending = this.pending.size ? ` · ${this.pending.size} waiting for approval` : "";
    return `[${about}${running}${pending}]  k kill · a approve · d deny · x revoke · e +15m · q quit`;
  }

  /** The share keys x and e act on: the watched one, or the only live one. */
  target(): string | undefined {
    if (this.filter) return this.filter;
    const live = [...this.shares.values()].filter((s) => s.state === "live");
    return live.length === 1 ? live[0]!.id : undefined;
  }

  oldestPending(): PendingRequest | undefined {
    return this.pending.values().next().value;
  }

  /** Output kept back because its line is not complete yet; `flush` prints it (a watch tick). */
  private readonly partial = new Map<string, { prefix: string; text: string }>();

  /** Lines of output still open, printed as they are (the next output of the call starts a new line). */
  flush(): string[] {
    const lines = [...this.partial.values()].map((p) => p.prefix + p.text);
    this.partial.clear();
    return lines;
  }

  private output(key: string, callId: string, ev: WatchEvent, lines: string[], tag: string): void {
    let dec = this.decoders.get(key);
    if (!dec) this.decoders.set(key, (dec = new TextDecoder("utf-8")));
    const prefix = `  ${tag}${callId} │ `;
    const text = (this.partial.get(key)?.text ?? "") + terminalSafe(dec.decode(outputBytes(ev), { stream: true }), { keepLines: true });
    const parts = text.split("\n");
    const rest = parts.pop()!;
    for (const p of parts) lines.push(prefix + p);
    if (rest) this.partial.set(key, { prefix, text: rest });
    else this.partial.delete(key);
  }

  private header(s: WatchedShare, now: number): string {
    const state = s.state === "live" ? `live, ${formatDuration(Date.parse(s.expires_at) - now)} left` : s.state;
    return `share ${s.id} → ${terminalSafe(s.recipient)} (agent ${terminalSafe(s.agent)}) · ${state} · ${s.connected ? "connected" : "not connected"} · verbs ${terminalSafe(s.verbs.join(", "))}`;
  }
}

function redactionText(x: unknown): string {
  if (typeof x === "number") return x > 0 ? `${x} redaction(s)` : "";
  if (typeof x === "object" && x !== null) {
    const entries = Object.entries(x as Record<string, unknown>).filter(([, n]) => Number(n) > 0);
    return entries.length ? `redacted ${entries.map(([id, n]) => `${terminalSafe(id)}×${Number(n)}`).join(", ")}` : "";
  }
  return "";
}
