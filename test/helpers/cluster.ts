// A whole OpenScope deployment on loopback for tests: a relay process, an operator home with a
// daemon, and recipients with their own config folders. Runs the programs from source
// (`bun daemon.ts`, quick tier) or the compiled binaries in dist/ (the e2e suite), as processes.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, waitFor, type ProgramResult } from "./spawn.ts";

export type Mode = "source" | "binary";
export type Program = "openscope" | "openscope-relay" | "openscope-reflect-client";

const ENTRY: Record<Program, string> = {
  openscope: "daemon.ts",
  "openscope-relay": "relay.ts",
  "openscope-reflect-client": "client.ts",
};

export function commandFor(mode: Mode, program: Program): string[] {
  return mode === "binary" ? [join(ROOT, "dist", program)] : [process.execPath, join(ROOT, ENTRY[program])];
}

export interface Background {
  proc: Bun.Subprocess<"ignore" | "pipe", "pipe", "pipe">;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/** Spawns a long-running program; resolves once a stderr line matches `ready`. */
export async function startBackground(
  cmd: string[],
  env: Record<string, string | undefined>,
  ready: RegExp,
  timeoutMs = 15_000,
): Promise<Background & { match: RegExpMatchArray }> {
  const proc = Bun.spawn(cmd, { env: { ...process.env, NO_COLOR: "1", ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let err = "";
  const decoder = new TextDecoder();
  void (async () => {
    for await (const chunk of proc.stderr) err += decoder.decode(chunk);
  })();
  void new Response(proc.stdout).arrayBuffer().catch(() => {});
  let match: RegExpMatchArray | null = null;
  try {
    await waitFor(() => (match = err.match(ready)) !== null || proc.exitCode !== null, `${cmd.join(" ")} to start`, timeoutMs);
  } catch (e) {
    proc.kill("SIGKILL");
    throw new Error(`${(e as Error).message}\nstderr:\n${err}`);
  }
  if (!match) throw new Error(`${cmd.join(" ")} exited ${proc.exitCode} before it was ready:\n${err}`);
  return {
    proc,
    match,
    stderr: () => err,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (proc.exitCode === null) proc.kill(signal);
      const done = await Promise.race([proc.exited, Bun.sleep(5000).then(() => null)]);
      if (done === null) {
        proc.kill("SIGKILL");
        return proc.exited;
      }
      return done;
    },
  };
}

export async function runCommand(cmd: string[], opts: { env?: Record<string, string | undefined>; stdin?: string; timeoutMs?: number; cwd?: string } = {}): Promise<ProgramResult> {
  const proc = Bun.spawn(cmd, {
    env: { ...process.env, NO_COLOR: "1", ...opts.env },
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

export interface OpenedShare {
  id: string;
  handle: string;
  fingerprint: string;
  code: string;
  expires_at: string;
}

export class Cluster {
  readonly dir: string;
  readonly home: string;
  readonly token = crypto.randomUUID();
  relay: (Background & { url: string; port: number }) | undefined;
  daemon: Background | undefined;
  private readonly all: Background[] = [];

  constructor(readonly mode: Mode = "source") {
    this.dir = mkdtempSync(join(tmpdir(), "openscope-test-"));
    this.home = join(this.dir, "operator");
    writeFileSync(join(this.dir, "tokens.txt"), `${this.token}\n`, { mode: 0o600 });
  }

  /** The usual deployment of a test: a relay, an initialised home with the test catalog, a running daemon. */
  static async start(mode: Mode = "source"): Promise<Cluster> {
    const c = new Cluster(mode);
    await c.startRelay();
    await c.init(testCatalog(join(c.dir, "data")));
    await c.startDaemon();
    return c;
  }

  /** Starts the relay (again, on the same port when `port` is given). */
  async startRelay(extraArgs: string[] = [], port = 0): Promise<void> {
    const r = await startBackground(
      [...commandFor(this.mode, "openscope-relay"), "--listen", `127.0.0.1:${port}`, "--tokens-file", join(this.dir, "tokens.txt"), ...extraArgs],
      {},
      /listening on https?:\/\/[\d.]+:(\d+)/,
    );
    const p = Number(r.match[1]);
    this.relay = Object.assign(r, { url: `ws://127.0.0.1:${p}`, port: p });
    this.all.push(r);
  }

  /** `openscope init` plus a config.toml pointing at the relay; `catalog` replaces the sample verbs.toml. */
  async init(catalog?: string): Promise<void> {
    const r = await this.openscope(["init"]);
    if (r.code !== 0) throw new Error(`init failed: ${r.stderr}`);
    if (catalog !== undefined) writeFileSync(join(this.home, "verbs.toml"), catalog, { mode: 0o644 });
    if (this.relay) writeFileSync(join(this.home, "config.toml"), `relay = "${this.relay.url}"\nrelay_token = "${this.token}"\n`, { mode: 0o600 });
  }

  async startDaemon(extraArgs: string[] = [], env: Record<string, string> = {}): Promise<void> {
    this.daemon = await startBackground([...commandFor(this.mode, "openscope"), "daemon", ...extraArgs], { OPENSCOPE_HOME: this.home, ...env }, /control socket/);
    this.all.push(this.daemon);
  }

  openscope(args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}): Promise<ProgramResult> {
    return runCommand([...commandFor(this.mode, "openscope"), ...args], { ...opts, env: { OPENSCOPE_HOME: this.home, ...opts.env } });
  }

  /** A recipient with its own config folder (key, known daemons). */
  recipient(name: string): Recipient {
    const configHome = join(this.dir, `recipient-${name}`);
    mkdirSync(configHome, { recursive: true });
    return new Recipient(this, configHome);
  }

  async openShare(args: string[]): Promise<OpenedShare> {
    const r = await this.openscope(["share", "open", "--json", ...args]);
    if (r.code !== 0) throw new Error(`share open failed (${r.code}): ${r.stderr}`);
    return JSON.parse(r.stdout) as OpenedShare;
  }

  /**
   * The usual setup of a test: root grants `grant` verbs to the agent, a new recipient makes a key
   * and is registered under `alias`, and a share of `share` specs (default: the granted verbs) is
   * opened to it.
   */
  async shareTo(opts: { grant: string[]; share?: string[]; agent?: string; alias?: string; ttl?: string }): Promise<{ vendor: Recipient; share: OpenedShare }> {
    const agent = opts.agent ?? "you";
    const alias = opts.alias ?? "vendor-b";
    const g = await this.openscope(["grant", "add", "--agent", agent, ...opts.grant.flatMap((v) => ["--verb", v])]);
    if (g.code !== 0) throw new Error(`grant add failed: ${g.stderr}`);
    const vendor = this.recipient(alias);
    const r = await this.openscope(["recipients", "add", alias, await vendor.keygen()]);
    if (r.code !== 0) throw new Error(`recipients add failed: ${r.stderr}`);
    const share = await this.openShare(["--agent", agent, ...(opts.share ?? opts.grant).flatMap((v) => ["--verb", v]), "--to", alias, "--ttl", opts.ttl ?? "10m"]);
    return { vendor, share };
  }

  async auditRows(shareId?: string): Promise<Array<Record<string, unknown>>> {
    const r = await this.openscope(["audit", "--json", ...(shareId ? ["--share", shareId] : [])]);
    if (r.code !== 0) throw new Error(`audit failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as Array<Record<string, unknown>>;
  }

  async stop(): Promise<void> {
    for (const b of this.all.reverse()) await b.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface SpawnedClient {
  proc: Bun.Subprocess<"pipe", "pipe", "pipe">;
  /** stdout and stderr so far. */
  io: { out: string; err: string };
  /** Resolves once both output streams have closed. */
  pumped: Promise<unknown>;
  write(line: string): void;
}

export class Recipient {
  constructor(
    private readonly cluster: Cluster,
    readonly configHome: string,
  ) {}

  client(args: string[], opts: { stdin?: string; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<ProgramResult> {
    return runCommand([...commandFor(this.cluster.mode, "openscope-reflect-client"), ...args], { ...opts, env: { XDG_CONFIG_HOME: this.configHome, OPENSCOPE_PASSPORT: undefined, ...opts.env } });
  }

  /** A long-running client with piped stdin (the prompt driven line by line); output collected as it comes. */
  spawn(args: string[]): SpawnedClient {
    const proc = Bun.spawn([...commandFor(this.cluster.mode, "openscope-reflect-client"), ...args], {
      env: { ...process.env, NO_COLOR: "1", XDG_CONFIG_HOME: this.configHome },
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    const io = { out: "", err: "" };
    const pump = async (stream: ReadableStream<Uint8Array>, key: "out" | "err") => {
      const dec = new TextDecoder();
      for await (const ch of stream) io[key] += dec.decode(ch, { stream: true });
    };
    const pumped = Promise.all([pump(proc.stdout, "out"), pump(proc.stderr, "err")]);
    return {
      proc,
      io,
      pumped,
      write(line: string) {
        proc.stdin.write(line + "\n");
        proc.stdin.flush();
      },
    };
  }

  /** keygen; returns the public key line. */
  async keygen(): Promise<string> {
    const r = await this.client(["keygen"]);
    if (r.code !== 0) throw new Error(`keygen failed: ${r.stderr}`);
    return r.stdout.trim();
  }

  /** A one-shot call; the handle goes in OPENSCOPE_PASSPORT, off the command line (SPEC.md §13.2). */
  call(share: OpenedShare, verb: string, params: string[] = [], extra: string[] = []): Promise<ProgramResult> {
    return this.client(["--fingerprint", share.fingerprint, ...extra, "call", verb, ...params], { env: { OPENSCOPE_PASSPORT: share.handle } });
  }
}

/** A verb whose every run appends a line to `markerFile`, prints "started", then sleeps 30 s. */
export function markSlowVerb(markerFile: string): string {
  return `
[verb."mark.slow"]
summary = "Append a line to a marker file, then take a while"
adapter = "exec"
argv = ["sh", "-c", ${JSON.stringify(`echo x >> ${markerFile}; echo started; sleep 30`)}]
timeout = "60s"
max_output = "4KiB"
`;
}

/** A catalog for tests: quick verbs, a streaming one and a slow one, over files in `dir`. */
export function testCatalog(dir: string): string {
  const p = (rest: string) => JSON.stringify(join(dir, rest));
  mkdirSync(join(dir, "logs"), { recursive: true });
  mkdirSync(join(dir, "run"), { recursive: true });
  for (const svc of ["web", "api"]) {
    writeFileSync(join(dir, "logs", `${svc}.log`), Array.from({ length: 100 }, (_, i) => `${svc} line ${i + 1}`).join("\n") + "\n");
  }
  return `
[verb."ssh.tail_logs"]
summary = "Last lines of a service's log"
adapter = "exec"
argv = ["tail", "-n", "{lines}", ${p("logs/{service}.log")}]
timeout = "10s"
max_output = "1MiB"
params.service = { enum = ["web", "api"] }
params.lines = { int = [1, 5000], default = 10 }

[verb."ssh.restart_service"]
summary = "Restart a service"
adapter = "exec"
argv = ["touch", ${p("run/{service}.restarted")}]
timeout = "10s"
max_output = "64KiB"
params.service = { enum = ["web", "api"] }

[verb."echo.word"]
summary = "Echo one word back"
adapter = "exec"
argv = ["echo", "{word}"]
timeout = "5s"
max_output = "4KiB"
params.word = { pattern = "^[a-z0-9]{1,32}$" }

[verb."stream.forever"]
summary = "Count up, one line at a time, until stopped (paced by the shell, well under the output cap)"
adapter = "exec"
argv = ["sh", "-c", "i=0; while :; do i=$((i+1)); echo $i; done"]
timeout = "60s"
max_output = "256MiB"

[verb."stream.seq"]
summary = "Print numbers 1..count"
adapter = "exec"
argv = ["seq", "1", "{count}"]
timeout = "60s"
max_output = "256MiB"
params.count = { int = [1, 50000000] }

[verb."slow.sleep"]
summary = "Sleep for a while"
adapter = "exec"
argv = ["sleep", "{seconds}"]
timeout = "120s"
max_output = "4KiB"
params.seconds = { int = [0, 120] }

[verb."logs.follow"]
summary = "Follow a log"
adapter = "exec"
argv = ["tail", "-n", "1", "-f", ${p("logs/{service}.log")}]
timeout = "120s"
max_output = "16MiB"
params.service = { enum = ["web", "api"] }

[verb."fail.exit"]
summary = "Exit with a code"
adapter = "exec"
argv = ["sh", "-c", "exit {code}"]
timeout = "5s"
max_output = "4KiB"
params.code = { int = [0, 9] }
`;
}
