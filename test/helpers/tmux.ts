// A private tmux server for the terminal tests (its own -L socket, no user config): run a
// program in a real pty, type at it, and read the screen with a deadline.
import { waitFor } from "./spawn.ts";

export interface Terminal {
  tmux(...args: string[]): string;
  /** The whole pane of `target`, scrollback included, wrapped lines joined, trailing blanks dropped. */
  screen(target?: string): string;
  keys(...k: string[]): string;
  typeText(text: string): string;
  /** Resolves with the screen once it shows `what`; on timeout the error carries the screen. */
  screenShows(what: string | RegExp, label?: string, timeoutMs?: number): Promise<string>;
}

export function terminal(name: string, target = "main"): Terminal {
  const socket = `openscope-${name}-${process.pid}-${Date.now()}`;
  const tmux = (...args: string[]): string => {
    const r = Bun.spawnSync(["tmux", "-L", socket, "-f", "/dev/null", ...args], { stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`tmux ${args.join(" ")}: ${r.stderr.toString()}`);
    return r.stdout.toString();
  };
  const screen = (t = target) => tmux("capture-pane", "-p", "-J", "-S", "-2000", "-t", t).trimEnd();
  return {
    tmux,
    screen,
    keys: (...k) => tmux("send-keys", "-t", target, ...k),
    typeText: (text) => tmux("send-keys", "-t", target, "-l", text),
    async screenShows(what, label = String(what), timeoutMs = 30_000) {
      try {
        return await waitFor(() => {
          const s = screen();
          return (typeof what === "string" ? s.includes(what) : what.test(s)) ? s : undefined;
        }, `the screen to show ${label}`, timeoutMs);
      } catch (e) {
        throw new Error(`${(e as Error).message}\n--- screen ---\n${screen()}`);
      }
    },
  };
}
