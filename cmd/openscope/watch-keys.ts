// The keys of the live view (SPEC.md §17.1): each one an action on the control API for the
// watched share(s): k kill, a / d approve / deny the oldest waiting request, e extend by 15
// minutes, x twice revoke, q or Ctrl-C quit. The view says what each did (or why not).
import { approveRequest, denyRequest, extendShare, killCalls, revokeShare } from "../../lib/control/client.ts";
import type { WatchView } from "./watch-view.ts";

export interface KeyContext {
  socket: string;
  view: WatchView;
  /** A line in the view. */
  say(text: string): void;
  /** Runs an action; its answer (or error) becomes a line in the view. */
  act(fn: () => Promise<string>): void;
  quit(): void;
}

/** How long the first x of "x x" stays armed. */
const REVOKE_CONFIRM_MS = 3_000;

export function keyHandler(ctx: KeyContext): (key: string) => void {
  const { socket, view, say, act } = ctx;
  let revokeArmed = 0;
  return (key: string) => {
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
        act(async () => {
          await (key === "a" ? approveRequest(socket, p.id) : denyRequest(socket, p.id));
          return key === "a" ? `→ approved request ${p.id}` : `→ denied request ${p.id}`;
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
          const s = await extendShare(socket, target, "15m");
          return `→ share ${target} now expires at ${s.expires_at}`;
        });
        return;
      }
    }
  };
}
