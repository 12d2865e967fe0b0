// The only place a verb runs: Bun.spawn on an argv (never a shell), in its own process group,
// with a scrubbed environment, a fixed cwd, stdin closed, a timeout and an output cap that kill
// the whole group. stdout and stderr are forwarded as they arrive, one chunk at a time, and the
// consumer's promise is awaited before reading more (backpressure reaches the verb's pipe).
import { bytesToHex } from "@noble/hashes/utils.js";

export interface RunRequest {
  argv: string[];
  timeoutMs: number;
  maxOutputBytes: number;
  cwd?: string; // default "/"
  env?: Record<string, string>; // default DEFAULT_ENV; used as given, nothing inherited
}

export interface RunResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
  truncated: boolean;
  bytesOut: number;
  durationMs: number;
  outputDigest: string; // sha256 hex of all output bytes forwarded, in the order forwarded
}

export interface RunningVerb {
  readonly pid: number;
  cancel(reason?: string): void;
  readonly done: Promise<RunResult>;
}

export type OutputStream = "stdout" | "stderr";
export type OnOutput = (stream: OutputStream, chunk: Uint8Array) => void | Promise<void>;

/** The whole environment a verb sees unless the request gives its own: no inherited secrets. */
export const DEFAULT_ENV: Readonly<Record<string, string>> = Object.freeze({
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  LANG: "C.UTF-8",
});
export const DEFAULT_CWD = "/";
/** Between SIGTERM and SIGKILL of the process group. */
export const KILL_GRACE_MS = 1_000;
/** After the verb's main process exits, how long its pipes may still drain before reading stops. */
export const DRAIN_GRACE_MS = 1_000;
/** Exit code reported when argv[0] cannot be found or started (as a shell would). */
export const EXIT_NOT_FOUND = 127;

export function startVerb(req: RunRequest, onOutput: OnOutput): RunningVerb {
  const started = performance.now();
  const env = { ...(req.env ?? DEFAULT_ENV) };
  const cwd = req.cwd ?? DEFAULT_CWD;
  // native SHA-256: noble's took a third of the daemon's CPU while streaming output
  const hasher = new Bun.CryptoHasher("sha256");
  let bytesOut = 0;
  let truncated = false;
  let timedOut = false;
  let cancelled = false;
  let stopForwarding = false;
  // one delivery at a time across both streams, in the order read
  let delivery: Promise<void> = Promise.resolve();

  const forward = (stream: OutputStream, chunk: Uint8Array): Promise<void> => {
    delivery = delivery.then(async () => {
      if (stopForwarding || chunk.length === 0) return;
      let piece = chunk;
      const room = req.maxOutputBytes - bytesOut;
      if (piece.length > room) {
        piece = piece.subarray(0, Math.max(0, room));
        truncated = true;
        stopForwarding = true;
        killGroup();
      }
      if (piece.length === 0) return;
      hasher.update(piece);
      bytesOut += piece.length;
      try {
        await onOutput(stream, piece);
      } catch {
        // a consumer that cannot take output any more ends the verb
        stopForwarding = true;
        cancelled = true;
        killGroup();
      }
    });
    return delivery;
  };

  const argv0 = req.argv[0];
  const found = argv0 === undefined ? null : Bun.which(argv0, { PATH: env.PATH ?? "", cwd });
  let proc: ReturnType<typeof spawnGroup> | undefined;
  let spawnError: string | undefined;
  if (argv0 === undefined) spawnError = "exec: empty argv";
  else if (found === null) spawnError = `exec: ${argv0}: command not found`;
  else {
    try {
      proc = spawnGroup(req.argv, env, cwd);
    } catch (e) {
      spawnError = `exec: ${argv0}: ${(e as Error).message}`;
    }
  }

  let killTimer: ReturnType<typeof setTimeout> | undefined;
  let groupGone = false;
  let finished = false;
  function signalGroup(signal: NodeJS.Signals): void {
    if (!proc || groupGone || finished) return;
    try {
      process.kill(-proc.pid, signal);
    } catch {
      groupGone = true; // ESRCH: nothing left in the group
    }
  }
  function killGroup(): void {
    if (!proc || killTimer !== undefined) return;
    signalGroup("SIGTERM");
    killTimer = setTimeout(() => signalGroup("SIGKILL"), KILL_GRACE_MS);
    killTimer.unref?.();
  }

  if (!proc) {
    const message = `${spawnError}\n`;
    const done = forward("stderr", new TextEncoder().encode(message)).then(
      (): RunResult => ({
        exitCode: EXIT_NOT_FOUND,
        signal: null,
        timedOut: false,
        cancelled,
        truncated,
        bytesOut,
        durationMs: performance.now() - started,
        outputDigest: hasher.digest("hex"),
      }),
    );
    return { pid: -1, cancel: () => {}, done };
  }

  const child = proc;
  const timeout = setTimeout(() => {
    timedOut = true;
    stopForwarding = true;
    killGroup();
  }, req.timeoutMs);

  const onExitCancel: Array<() => void> = [];
  const readers = [pump(child.stdout, "stdout"), pump(child.stderr, "stderr")];
  async function pump(stream: ReadableStream<Uint8Array>, name: OutputStream): Promise<void> {
    const reader = stream.getReader();
    onExitCancel.push(() => reader.cancel().catch(() => {}));
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        if (!stopForwarding) await forward(name, value);
        // once forwarding stops we keep reading (and dropping) so the verb never blocks on a full pipe
      }
    } catch {
      // the reader was cancelled after the drain grace
    }
  }

  const done = (async (): Promise<RunResult> => {
    await child.exited;
    clearTimeout(timeout);
    // whatever the main process left behind in its group goes with it
    killGroup();
    const drained = Promise.all(readers);
    let graceTimer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((r) => {
      graceTimer = setTimeout(r, DRAIN_GRACE_MS + KILL_GRACE_MS);
    });
    await Promise.race([drained, grace]);
    clearTimeout(graceTimer);
    for (const c of onExitCancel) c();
    await drained;
    await delivery;
    if (killTimer !== undefined) {
      clearTimeout(killTimer);
      signalGroup("SIGKILL");
    }
    finished = true;
    return {
      exitCode: child.exitCode,
      signal: child.signalCode === null ? null : String(child.signalCode),
      timedOut,
      cancelled,
      truncated,
      bytesOut,
      durationMs: performance.now() - started,
      outputDigest: hasher.digest("hex"),
    };
  })();

  return {
    pid: child.pid,
    cancel(): void {
      if (cancelled || finished) return;
      cancelled = true;
      stopForwarding = true;
      killGroup();
    },
    done,
  };
}

function spawnGroup(argv: string[], env: Record<string, string>, cwd: string) {
  return Bun.spawn(argv, {
    cwd,
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    detached: true, // setsid(): the verb leads its own process group, so -pid reaches grandchildren
  });
}
