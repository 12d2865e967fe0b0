// The two ways a notification leaves the daemon (SPEC.md §17.4): a command run with the event as
// JSON on stdin (argv as configured, never a shell, a scrubbed environment), and a webhook POST of
// the event as JSON (https, or http to a loopback address only).
import type { Notification } from "./event.ts";
import type { NotifyTarget } from "./queue.ts";

/** The environment a notify command sees: no daemon secrets (the relay token may sit in ours). */
const COMMAND_ENV = {
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  LANG: "C.UTF-8",
};

export function commandTarget(argv: string[]): NotifyTarget {
  return {
    name: `command ${argv[0]}`,
    async deliver(n: Notification, signal: AbortSignal) {
      const found = Bun.which(argv[0]!, { PATH: COMMAND_ENV.PATH });
      if (!found && !argv[0]!.startsWith("/")) throw new Error(`${argv[0]}: command not found`);
      const proc = Bun.spawn(argv, {
        env: { ...COMMAND_ENV, HOME: process.env.HOME ?? "/" },
        cwd: "/",
        stdin: new TextEncoder().encode(JSON.stringify(n) + "\n"),
        stdout: "ignore",
        stderr: "pipe",
      });
      const kill = () => proc.kill("SIGKILL");
      signal.addEventListener("abort", kill, { once: true });
      try {
        const [code, err] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
        if (code !== 0) throw new Error(`exited with code ${code}${err.trim() ? `: ${err.trim().split("\n")[0]!.slice(0, 200)}` : ""}`);
      } finally {
        signal.removeEventListener("abort", kill);
      }
    },
  };
}

export function webhookTarget(url: string): NotifyTarget {
  return {
    name: `webhook ${new URL(url).host}`,
    async deliver(n: Notification, signal: AbortSignal) {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "openscope-notify" },
        body: JSON.stringify(n),
        redirect: "manual",
        signal,
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status > 299) throw new Error(`answered ${res.status}`);
    },
  };
}

/** https anywhere; http only to a loopback address (a local relay to chat, or a test). */
export function webhookUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "is not a URL";
  }
  if (u.protocol === "https:") return undefined;
  if (u.protocol !== "http:") return "must be an https:// URL";
  const host = u.hostname.replace(/^\[|\]$/g, "");
  const loopback = host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
  return loopback ? undefined : "must be https:// (http:// only to a loopback address)";
}
