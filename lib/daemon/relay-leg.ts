// One outbound WebSocket leg at the relay for one share (SPEC.md §12): the
// daemon dials out (it never listens on the network), reconnects with jittered backoff when the
// relay drops, and reports pairing, peer departure and binary frames to its owner. A dial that
// fails is diagnosed (lib/relay/reach.ts): the first one fails `start` at once with the cause,
// and each change of cause while reconnecting is one log line.
import { backoffDelay, encodeSignal, LEG_CLOSE, parseRelaySignal, rendezvousUrl, STATUS, type Backoff } from "../relay/protocol.ts";
import { describeUnreachable, diagnoseDial, unreachableError } from "../relay/reach.ts";

export interface LegEvents {
  onPaired(): void;
  onPeerGone(): void;
  onBinary(data: Uint8Array): void;
  /** The connection to the relay dropped (a reconnect follows unless closed). */
  onDisconnected(): void;
}

export interface RelayLegOptions {
  relayUrl: string; // ws(s)://host[:port]
  rid: string; // base64url
  token: string;
  events: LegEvents;
  log?: (line: string) => void;
  /** Names the leg in log lines (the share id). */
  label?: string;
  backoff?: Backoff;
  /** Re-dial a leg left unpaired this long (behind a hashing load balancer, a relay instance that
   *  comes back should get its rids back; the relay also drops long-unpaired legs). */
  redialUnpairedMs?: number;
}

/** Redial backoff after the relay drops the leg. */
const LEG_BACKOFF: Backoff = { minMs: 200, maxMs: 10_000 };

export class RelayLeg {
  private ws: WebSocket | undefined;
  private closed = false;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private redialTimer: ReturnType<typeof setTimeout> | undefined;
  private firstOpen: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  /** The last cause logged for a failed dial, so a relay that stays down is one line, not one per retry. */
  private lastProblem: string | undefined;
  private everOpened = false;
  readonly url: string;

  constructor(private readonly opts: RelayLegOptions) {
    this.url = rendezvousUrl(opts.relayUrl, opts.rid, "daemon");
  }

  /**
   * Connects; resolves once the relay holds the leg (the upgrade succeeded). A first dial that
   * fails rejects with its cause (refused, DNS, TLS, 401, 429…) as soon as it is known; a relay
   * that does not answer at all rejects after `timeoutMs`.
   */
  start(timeoutMs = 10_000): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.firstOpen = undefined;
        reject(unreachableError({ cause: "timeout", ms: timeoutMs }, this.opts.relayUrl, "daemon"));
      }, timeoutMs);
      this.firstOpen = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.connect();
    });
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  get bufferedAmount(): number {
    return this.ws?.bufferedAmount ?? 0;
  }

  send(data: Uint8Array): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(data);
  }

  /** Asks the relay to drop the client leg (after a failed handshake: squatters lose the slot). */
  evict(): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(encodeSignal("evict"));
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.redialTimer);
    this.ws?.close(LEG_CLOSE.shareClosed.code, LEG_CLOSE.shareClosed.reason);
    this.ws = undefined;
  }

  private connect(): void {
    if (this.closed) return;
    const ws = new WebSocket(this.url, {
      headers: { Authorization: `Bearer ${this.opts.token}` },
      perMessageDeflate: false,
    } as unknown as string[]);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    let opened = false;
    let dialError = "";
    ws.onopen = () => {
      opened = true;
      if (this.lastProblem !== undefined || this.everOpened) this.logLine(`relay leg up again${this.attempt > 1 ? ` after ${this.attempt} attempts` : ""}`);
      this.lastProblem = undefined;
      this.everOpened = true;
      this.attempt = 0;
      this.armRedial(ws);
      this.firstOpen?.resolve();
      this.firstOpen = undefined;
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data === "string") {
        const type = parseRelaySignal(ev.data);
        if (type === "paired") {
          clearTimeout(this.redialTimer);
          this.opts.events.onPaired();
        } else if (type === "peer_gone") {
          this.armRedial(ws);
          this.opts.events.onPeerGone();
        }
        return;
      }
      this.opts.events.onBinary(new Uint8Array(ev.data as ArrayBuffer));
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      clearTimeout(this.redialTimer);
      this.ws = undefined;
      if (opened) {
        const redial = ev.code === LEG_CLOSE.redial.code;
        if (!redial) this.logLine(`warning: relay leg down (close ${ev.code}${ev.reason ? ` ${ev.reason}` : ""}); reconnecting`);
        this.opts.events.onDisconnected();
      } else {
        void this.dialFailed(dialError);
      }
      this.scheduleReconnect();
    };
    ws.onerror = (ev) => {
      // onclose follows and schedules the retry; Bun's message names a refused status or a TLS failure.
      dialError = (ev as ErrorEvent).message ?? "";
    };
  }

  /** A dial that never opened: find out why, fail a pending start with it, log a new cause once. */
  private async dialFailed(message: string): Promise<void> {
    const u = await diagnoseDial(this.opts.relayUrl, message, { token: this.opts.token, timeoutMs: 2_000 });
    if (this.closed) return;
    // The probe found a relay that would take the leg (426 to a plain GET): it was a moment's
    // failure (a relay starting up); the retry already scheduled will tell.
    if (u.cause === "status" && u.status === STATUS.upgradeRequired) return;
    if (this.firstOpen) {
      const first = this.firstOpen;
      this.firstOpen = undefined;
      first.reject(unreachableError(u, this.opts.relayUrl, "daemon"));
    }
    const why = describeUnreachable(u, this.opts.relayUrl, "daemon");
    if (why !== this.lastProblem) this.logLine(`warning: relay leg cannot connect: ${why}; retrying`);
    this.lastProblem = why;
  }

  private logLine(line: string): void {
    if (!this.opts.log) return;
    const label = this.opts.label ? `share ${this.opts.label}: ` : "";
    const m = /^(warning|error): (.*)$/s.exec(line);
    this.opts.log(m ? `${m[1]}: ${label}${m[2]}` : `${label}${line}`);
  }

  private armRedial(ws: WebSocket): void {
    clearTimeout(this.redialTimer);
    const after = this.opts.redialUnpairedMs ?? 120_000;
    this.redialTimer = setTimeout(() => {
      if (this.ws === ws && !this.closed) ws.close(LEG_CLOSE.redial.code, LEG_CLOSE.redial.reason);
    }, after);
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    const delay = backoffDelay(this.attempt++, this.opts.backoff ?? LEG_BACKOFF, Math.random);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }
}
