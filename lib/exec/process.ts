// The only place a verb runs: Bun.spawn on an argv (never a shell), in its own process group,
// with a scrubbed environment, a fixed cwd, stdin closed (held open for ssh), a timeout and an output cap that kill
// the whole group. stdout and stderr are redacted line by line (SPEC.md §17.3) and forwarded as
// they arrive; the consumer's promise is awaited before reading more (backpressure reaches the
// verb's pipe). The cap, the byte count and the digest are of the redacted bytes: what leaves.
import { builtinRuleSet, type RuleSet } from "../redact/scanner.ts";
import { LineRedactor, type RedactionCounts } from "../redact/stream.ts";

export interface RunRequest {
  argv: string[];
  timeoutMs: number;
  maxOutputBytes: number;
  cwd?: string; // default "/"
  env?: Record<string, string>; // default DEFAULT_ENV; used as given, nothing inherited
  /** Redaction rules; default the built-in set; null only for a verb with `redact = false`. */
  redact?: RuleSet | null;
  /**
   * Give the verb a stdin pipe that is never written and closed only when it ends (default: stdin
   * closed). The ssh adapter's remote watchdog ends the remote command when that stdin reaches EOF
   * (lib/exec/argv.ts REMOTE_WATCHDOG), so the remote side dies with the local ssh client.
   */
  holdStdin?: boolean;
}

export interface RunResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
  truncated: boolean;
  bytesOut: number;
  durationMs: number;
  outputDigest: string; // sha256 hex of all output bytes forwarded (redacted), in the order forwarded
  redactions: RedactionCounts; // by rule id; empty when nothing was redacted or redaction is off
}

export interface RunningVerb {
  readonly pid: number;
  cancel(reason?: string): void;
  readonly done: Promise<RunResult>;
}

export type OutputStream = "stdout" | "stderr";
/**
 * Output as it leaves the gate: the pieces of one read, in order. Redaction cuts a read into
 * pieces (the held line's end, the rest, the markers); they are handed over uncopied, and the
 * consumer copies them once, into its frames. A consumer that wants one buffer uses concat().
 */
export type OnOutput = (stream: OutputStream, pieces: readonly Uint8Array[]) => void | Promise<void>;

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
  const spawned = spawnVerb(req.argv, env, cwd, req.holdStdin === true);
  const group = typeof spawned === "string" ? undefined : new ProcessGroup(spawned);
  const output = new OutputGate(req, onOutput, () => group?.kill());
  if (group === undefined) return notStarted(spawned as string, output, started);

  let timedOut = false;
  let cancelled = false;
  const timeout = setTimeout(() => {
    timedOut = true;
    output.close();
    group.kill();
  }, req.timeoutMs);
  const pumps = new Pumps(group.proc, output);
  const done = (async (): Promise<RunResult> => {
    await group.proc.exited;
    clearTimeout(timeout);
    if (group.proc.stdin) void Promise.resolve(group.proc.stdin.end()).catch(() => {});
    group.kill(); // whatever the main process left behind in its group goes with it
    await pumps.drain();
    output.close();
    await output.settled();
    group.finish();
    return output.result({
      exitCode: group.proc.exitCode,
      signal: group.proc.signalCode === null ? null : String(group.proc.signalCode),
      timedOut,
      cancelled: cancelled || output.consumerGone,
      durationMs: performance.now() - started,
    });
  })();

  return {
    pid: group.proc.pid,
    cancel(): void {
      if (cancelled || group.finished) return;
      cancelled = true;
      output.stop();
      group.kill();
    },
    done,
  };
}

type Spawned = ReturnType<typeof spawnGroup>;

/** The spawned process, or the stderr line saying why it could not start. */
function spawnVerb(argv: string[], env: Record<string, string>, cwd: string, holdStdin: boolean): Spawned | string {
  const argv0 = argv[0];
  if (argv0 === undefined) return "exec: empty argv";
  if (Bun.which(argv0, { PATH: env.PATH ?? "", cwd }) === null) return `exec: ${argv0}: command not found`;
  try {
    return spawnGroup(argv, env, cwd, holdStdin);
  } catch (e) {
    return `exec: ${argv0}: ${(e as Error).message}`;
  }
}

function spawnGroup(argv: string[], env: Record<string, string>, cwd: string, holdStdin: boolean) {
  return Bun.spawn(argv, {
    cwd,
    env,
    stdin: holdStdin ? "pipe" : "ignore",
    stdout: "pipe",
    stderr: "pipe",
    detached: true, // setsid(): the verb leads its own process group, so -pid reaches grandchildren
  });
}

/** A verb that never ran: exit 127, its reason on stderr (through the same gate as any output). */
function notStarted(reason: string, output: OutputGate, started: number): RunningVerb {
  output.forward("stderr", new TextEncoder().encode(`${reason}\n`));
  output.close();
  const done = output.settled().then(() =>
    output.result({ exitCode: EXIT_NOT_FOUND, signal: null, timedOut: false, cancelled: output.consumerGone, durationMs: performance.now() - started }),
  );
  return { pid: -1, cancel: () => {}, done };
}

/** The verb's process group: SIGTERM, then SIGKILL after a grace; nothing is signalled once it is reaped. */
class ProcessGroup {
  private killTimer: ReturnType<typeof setTimeout> | undefined;
  private gone = false;
  finished = false;

  constructor(readonly proc: Spawned) {}

  kill(): void {
    if (this.killTimer !== undefined) return;
    this.signal("SIGTERM");
    this.killTimer = setTimeout(() => this.signal("SIGKILL"), KILL_GRACE_MS);
    this.killTimer.unref?.();
  }

  /** After the result is known: a group still being killed gets SIGKILL now. */
  finish(): void {
    if (this.killTimer !== undefined) {
      clearTimeout(this.killTimer);
      this.signal("SIGKILL");
    }
    this.finished = true;
  }

  private signal(signal: NodeJS.Signals): void {
    if (this.gone || this.finished) return;
    try {
      process.kill(-this.proc.pid, signal);
    } catch {
      this.gone = true; // ESRCH: nothing left in the group
    }
  }
}

/** Reads both pipes into the gate; once the main process exits they get a grace to drain. */
class Pumps {
  private readonly cancels: Array<() => void> = [];
  private readonly reading: Promise<void>[];

  constructor(
    proc: Spawned,
    private readonly output: OutputGate,
  ) {
    this.reading = [this.pump(proc.stdout, "stdout"), this.pump(proc.stderr, "stderr")];
  }

  private async pump(stream: ReadableStream<Uint8Array>, name: OutputStream): Promise<void> {
    const reader = stream.getReader();
    this.cancels.push(() => reader.cancel().catch(() => {}));
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        // once the gate stops we keep reading (and dropping) so the verb never blocks on a full pipe
        if (this.output.open) await this.output.forward(name, value);
      }
    } catch {
      // the reader was cancelled after the drain grace
    }
  }

  async drain(): Promise<void> {
    const drained = Promise.all(this.reading);
    let graceTimer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((r) => (graceTimer = setTimeout(r, DRAIN_GRACE_MS + KILL_GRACE_MS)));
    await Promise.race([drained, grace]);
    clearTimeout(graceTimer);
    for (const c of this.cancels) c();
    await drained;
  }
}

/**
 * Between the pipes and the consumer: redacts each stream line by line, applies the output cap,
 * hashes what it forwards, and delivers one piece at a time across both streams, in read order.
 */
class OutputGate {
  private readonly redactors: Record<OutputStream, LineRedactor> | undefined;
  private readonly counts: RedactionCounts = {};
  // native SHA-256: noble's took a third of the daemon's CPU while streaming output
  private readonly hasher = new Bun.CryptoHasher("sha256");
  private delivery: Promise<void> = Promise.resolve();
  private bytesOut = 0;
  private truncated = false;
  private stopped = false;
  private closing = false;
  consumerGone = false;

  constructor(
    private readonly req: RunRequest,
    private readonly onOutput: OnOutput,
    private readonly killVerb: () => void,
  ) {
    const rules = req.redact === undefined ? builtinRuleSet() : req.redact;
    this.redactors = rules === null ? undefined : { stdout: new LineRedactor(rules, this.counts), stderr: new LineRedactor(rules, this.counts) };
  }

  /** Still taking output (not stopped, closed, over the cap, or abandoned by the consumer). */
  get open(): boolean {
    return !this.stopped && !this.closing;
  }

  forward(stream: OutputStream, chunk: Uint8Array): Promise<void> {
    if (!this.open || chunk.length === 0) return this.delivery;
    return this.enqueue(() => {
      const r = this.redactors?.[stream];
      return { stream, pieces: r ? r.push(chunk) : [chunk] };
    });
  }

  /** No more input: the streams' held last lines are redacted and delivered, then the gate stops. */
  close(): void {
    if (this.closing || this.stopped) return;
    this.closing = true;
    for (const stream of ["stdout", "stderr"] as const) {
      this.enqueue(() => {
        const r = this.redactors?.[stream];
        return { stream, pieces: r ? r.flush() : [] };
      });
    }
  }

  /** Drops everything not yet delivered (cancel): held lines are not flushed. */
  stop(): void {
    this.stopped = true;
  }

  settled(): Promise<void> {
    return this.delivery;
  }

  result(r: Omit<RunResult, "truncated" | "bytesOut" | "outputDigest" | "redactions">): RunResult {
    return { ...r, truncated: this.truncated, bytesOut: this.bytesOut, outputDigest: this.hasher.digest("hex"), redactions: { ...this.counts } };
  }

  private enqueue(next: () => { stream: OutputStream; pieces: readonly Uint8Array[] }): Promise<void> {
    this.delivery = this.delivery.then(async () => {
      if (this.stopped) return;
      let piece: { stream: OutputStream; pieces: readonly Uint8Array[] };
      try {
        piece = next();
      } catch {
        // Fail closed: output the redactor could not vouch for never leaves, and the verb ends
        // (reported as cancelled). The chain itself must not reject, or the pumps stop reading
        // and the verb blocks on a full pipe until its timeout.
        this.stopped = true;
        this.consumerGone = true;
        this.killVerb();
        return;
      }
      await this.deliver(piece.stream, piece.pieces);
    });
    return this.delivery;
  }

  private async deliver(stream: OutputStream, given: readonly Uint8Array[]): Promise<void> {
    let pieces = given.filter((p) => p.length > 0);
    let length = pieces.reduce((n, p) => n + p.length, 0);
    const room = this.req.maxOutputBytes - this.bytesOut;
    if (length > room) {
      pieces = truncated(pieces, Math.max(0, room));
      length = Math.max(0, room);
      this.truncated = true;
      this.stopped = true;
      this.killVerb();
    }
    if (length === 0) return;
    for (const p of pieces) this.hasher.update(p);
    this.bytesOut += length;
    try {
      await this.onOutput(stream, pieces);
    } catch {
      // a consumer that cannot take output any more ends the verb
      this.stopped = true;
      this.consumerGone = true;
      this.killVerb();
    }
  }
}

/** The first `bytes` bytes of the pieces. */
function truncated(pieces: readonly Uint8Array[], bytes: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let left = bytes;
  for (const p of pieces) {
    if (left === 0) break;
    out.push(p.length <= left ? p : p.subarray(0, left));
    left -= Math.min(left, p.length);
  }
  return out;
}
