// The keys of the live view (SPEC.md §17.1): each one an action on the control API for the
// watched share(s): k kill, a approve the oldest waiting request, d deny it (after a one-line
// reason, Enter for the default), e extend by 15 minutes (at most 30 from now), x twice revoke, q or Ctrl-C quit. The
// view says what each did (or why not).
import { approveRequest, denyRequest, extendShare, killCalls, revokeShare } from "../../lib/control/client.ts";
import { MAX_REASON } from "../../lib/share/approval.ts";
import { LIMITS } from "../../lib/capability/limits.ts";
import { terminalSafe } from "../output.ts";
import { callText, type WatchView } from "./watch-view.ts";

export interface KeyContext {
  socket: string;
  view: WatchView;
  /** A line in the view. */
  say(text: string): void;
  /** Runs an action; its answer (or error) becomes a line in the view. */
  act(fn: () => Promise<string>): void;
  quit(): void;
  /** Shows a line being typed in place of the status line; undefined puts the status line back. */
  prompt(text: string | undefined): void;
}

/** What the daemon tells the recipient when the operator gives no reason (lib/daemon/approvals.ts). */
export const DEFAULT_DENY_REASON = "denied by the operator";

/** The characters a deny reason may hold (lib/share/approval.ts checkDenyReason). */
const REASON_CHAR = /^[\x20-\x7e\u00a0-\u024f]$/u;

/**
 * The one-line reason asked after `d`: printable characters only (a pasted escape sequence never
 * reaches the line), Backspace and Ctrl-U edit, Enter sends (empty: the default), Esc or Ctrl-C
 * cancel (the request keeps waiting).
 */
class ReasonLine {
  text = "";
  constructor(readonly requestId: string, readonly call: string) {}

  /** "send", "cancel", or undefined while typing. */
  key(ch: string): "send" | "cancel" | undefined {
    if (ch === "\r" || ch === "\n") return "send";
    if (ch === "\x1b" || ch === "\x03" || ch === "\x04") return "cancel";
    if (ch === "\x7f" || ch === "\b") this.text = [...this.text].slice(0, -1).join("");
    else if (ch === "\x15") this.text = "";
    else if (REASON_CHAR.test(ch) && [...this.text].length < MAX_REASON) this.text += ch;
    return undefined;
  }

  line(): string {
    return `deny request ${this.requestId} (${this.call}): reason (Enter: "${DEFAULT_DENY_REASON}", Esc: cancel)> ${terminalSafe(this.text)}`;
  }
}

/**
 * The ttl that `e` asks for: 15 minutes more than is left, at most the longest a share may run
 * from now (`share extend` sets the expiry to now + ttl, so a bare "15m" would shorten a share
 * with more than 15 minutes left).
 */
export function extendTtl(expiresAt: string | undefined, now: number): string {
  const left = Math.max(0, (expiresAt ? Date.parse(expiresAt) : now) - now) || 0;
  return `${Math.ceil(Math.min(left + EXTEND_BY_MS, LIMITS.shareTtlMaxMs) / 1000)}s`;
}

const EXTEND_BY_MS = 15 * 60_000;

/** How long the first x of "x x" stays armed. */
const REVOKE_CONFIRM_MS = 3_000;

export interface KeyHandler {
  (key: string): void;
  /** After each event: a reason being typed for a request that no longer waits is dropped. */
  pendingChanged(): void;
}

export function keyHandler(ctx: KeyContext): KeyHandler {
  const { socket, view, say, act } = ctx;
  let revokeArmed = 0;
  let reason: ReasonLine | undefined;
  const onKey = (key: string) => {
    if (reason) {
      const r = reason;
      const done = r.key(key);
      if (done === undefined) return ctx.prompt(r.line());
      reason = undefined;
      ctx.prompt(undefined);
      if (done === "cancel") return say(`request ${r.requestId} not denied; it still waits`);
      const text = r.text.trim() || undefined;
      act(async () => {
        await denyRequest(socket, r.requestId, text);
        return `→ denied request ${r.requestId}: ${terminalSafe(text ?? DEFAULT_DENY_REASON)}`;
      });
      return;
    }
    switch (key) {
      case "q":
      case "\x03": // Ctrl-C
      case "\x04":
        ctx.quit();
        return;
      case "k": {
        const running = [...new Set([...view.running.values()].map((r) => r.shareId))];
        const waiting = [...new Set([...view.pending.values()].map((p) => p.share))];
        if (running.length === 0 && waiting.length === 0) return say("no call is running");
        act(async () => {
          const killed: string[] = [];
          for (const s of new Set([...running, ...waiting])) killed.push(...(await killCalls(socket, s)).killed);
          return killed.length ? `→ killed ${killed.join(", ")}` : "→ nothing was running";
        });
        return;
      }
      case "a":
      case "d": {
        const p = view.oldestPending();
        if (!p) return say("no request is waiting for approval");
        if (key === "d") {
          reason = new ReasonLine(p.id, callText(p.verb, p.params));
          return ctx.prompt(reason.line());
        }
        act(async () => {
          await approveRequest(socket, p.id);
          return `→ approved request ${p.id}`;
        });
        return;
      }
      case "x":
      case "e": {
        const target = view.target();
        if (!target) return say(`${key === "x" ? "revoke" : "extend"} needs one share: run openscope share watch ID`);
        if (key === "x" && Date.now() - revokeArmed > REVOKE_CONFIRM_MS) {
          revokeArmed = Date.now();
          return say(`press x again to revoke share ${target}`);
        }
        revokeArmed = 0;
        act(async () => {
          if (key === "x") {
            await revokeShare(socket, target);
            return `→ share ${target} revoked`;
          }
          const s = await extendShare(socket, target, extendTtl(view.shares.get(target)?.expires_at, Date.now()));
          return `→ share ${target} now expires at ${s.expires_at}`;
        });
        return;
      }
    }
  };
  const pendingChanged = () => {
    if (!reason || view.pending.has(reason.requestId)) return;
    const gone = reason.requestId;
    reason = undefined;
    ctx.prompt(undefined);
    say(`request ${gone} no longer waits (see above); your reason was not sent`);
  };
  return Object.assign(onKey, { pendingChanged });
}
