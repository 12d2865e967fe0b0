// Small additions for the end-to-end suite: a client kept running with piped stdin (the
// interactive prompt driven line by line), a share looked up in `share list --json`, and the
// text of the compiled programs' PATH so a printed command can be run as a newcomer would.
import { join } from "node:path";
import { commandFor, type Cluster, type Recipient } from "./cluster.ts";
import { ROOT, waitFor } from "./spawn.ts";

export interface LiveClient {
  /** Sends one line to the prompt. */
  send(line: string): void;
  /** Closes stdin (EOF), as Ctrl-D would. */
  end(): void;
  stdout(): string;
  stderr(): string;
  exited: Promise<number>;
  kill(): void;
}

/** Starts `openscope-reflect-client ARGS` with stdin kept open; output is collected as it comes. */
export function startClient(r: Recipient, mode: Cluster["mode"], args: string[]): LiveClient {
  const proc = Bun.spawn([...commandFor(mode, "openscope-reflect-client"), ...args], {
    env: { ...process.env, NO_COLOR: "1", XDG_CONFIG_HOME: r.configHome },
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  let err = "";
  const decoder = () => new TextDecoder();
  const d1 = decoder();
  const d2 = decoder();
  const pumps = Promise.all([
    (async () => {
      for await (const c of proc.stdout) out += d1.decode(c, { stream: true });
    })(),
    (async () => {
      for await (const c of proc.stderr) err += d2.decode(c, { stream: true });
    })(),
  ]);
  const timer = setTimeout(() => proc.kill("SIGKILL"), 120_000);
  return {
    send(line) {
      proc.stdin.write(line + "\n");
      proc.stdin.flush();
    },
    end() {
      proc.stdin.end();
    },
    stdout: () => out,
    stderr: () => err,
    exited: proc.exited.then(async (code) => {
      clearTimeout(timer);
      await pumps;
      return code;
    }),
    kill: () => proc.kill("SIGKILL"),
  };
}

export interface ShareRow {
  id: string;
  agent: string;
  recipient: string;
  verbs: string[];
  state: string;
  expires_at: string;
  connected: boolean;
}

export async function shareRow(c: Cluster, id: string): Promise<ShareRow | undefined> {
  const r = await c.openscope(["share", "list", "--json"]);
  if (r.code !== 0) throw new Error(`share list failed (${r.code}): ${r.stderr}`);
  return (JSON.parse(r.stdout) as ShareRow[]).find((s) => s.id === id);
}

/** Waits until the share's `connected` flag is `want`. */
export function waitConnected(c: Cluster, id: string, want: boolean, timeoutMs = 15_000): Promise<ShareRow> {
  return waitFor(async () => {
    const s = await shareRow(c, id);
    return s && s.connected === want ? s : undefined;
  }, `share ${id} connected=${want}`, timeoutMs);
}

/** PATH with dist/ first, so a printed `openscope-reflect-client …` line runs as typed. */
export function pathWithDist(): string {
  return `${join(ROOT, "dist")}:${process.env.PATH ?? ""}`;
}
