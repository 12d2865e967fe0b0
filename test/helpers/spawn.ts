// Runs one of the programs from source (`bun <entry>.ts …`) or a compiled binary, capturing
// stdout, stderr and the exit code, with a deadline so a hang fails the test instead of the run.
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "..", "..");

export interface ProgramResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  stdin?: string;
  timeoutMs?: number;
  cwd?: string;
}

/** `entry` is "daemon.ts" | "relay.ts" | "client.ts" (run with bun) or an absolute binary path. */
export async function runProgram(entry: string, args: string[], opts: RunOptions = {}): Promise<ProgramResult> {
  const cmd = entry.endsWith(".ts") ? [process.execPath, join(ROOT, entry), ...args] : [entry, ...args];
  const proc = Bun.spawn(cmd, {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: "1", ...opts.env },
    stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Polls `check` until it returns a truthy value or the deadline passes (no bare sleeps in tests). */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    await Bun.sleep(25);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}
