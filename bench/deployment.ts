// A loopback OpenScope deployment for the bench (relay and daemon as processes from source, via
// test/helpers/cluster.ts): a bench catalog with a `true` verb and a log-streaming verb, one
// bearer share for both, and in-process ClientSessions (lib/client/session.ts) to measure with.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ClientSession, sessionKeys } from "../lib/client/session.ts";
import { decodeHandle } from "../lib/wire/handle.ts";
import { Cluster, runCommand, type OpenedShare } from "../test/helpers/cluster.ts";
import { ROOT, type ProgramResult } from "../test/helpers/spawn.ts";
import { REDACTION_STREAM_MIN_BYTES, writeSecretLog } from "./redaction.ts";

export interface BenchDeployment {
  cluster: Cluster;
  share: OpenedShare;
  /** A file of log lines at least `logBytes` long. */
  logFile: string;
  /** handle → relay → handshake → passport verified (the hello). */
  connect(): Promise<ClientSession>;
  /** The compiled client the one-shot calls run, or undefined when they run from source. */
  clientBinary: string | undefined;
  /** One-shot CLI call as a recipient would type it (compiled client when built, else from source). */
  cliCall(verb: string, params?: string[]): Promise<ProgramResult>;
  stop(): Promise<void>;
}

const LOG_LINE = "2026-11-24T12:00:00.000Z INFO web[4242]: GET /api/items?page=3 200 12ms bytes=5120 ua=curl/8.5\n";

export function benchCatalog(logFile: string, secretsFile?: string): string {
  return `
[verb."bench.true"]
summary = "Run true"
adapter = "exec"
argv = ["true"]
timeout = "10s"
max_output = "4KiB"

[verb."bench.stream"]
summary = "Stream the first bytes of a log"
adapter = "exec"
argv = ["head", "-c", "{bytes}", ${JSON.stringify(logFile)}]
timeout = "600s"
max_output = "1GiB"
params.bytes = { int = [1, 1073741824] }
${secretsFile === undefined ? "" : `
[verb."bench.stream_secrets"]
summary = "Stream a log with one secret per 1,000 lines (redacted)"
adapter = "exec"
argv = ["head", "-c", "{bytes}", ${JSON.stringify(secretsFile)}]
timeout = "600s"
max_output = "1GiB"
params.bytes = { int = [1, 1073741824] }

[verb."bench.stream_secrets_raw"]
summary = "The same log with redaction off"
adapter = "exec"
argv = ["head", "-c", "{bytes}", ${JSON.stringify(secretsFile)}]
timeout = "600s"
max_output = "1GiB"
params.bytes = { int = [1, 1073741824] }
redact = false
`}`;
}

/** Writes `bytes` (rounded up to a whole line) of log lines. */
export function writeLogFile(path: string, bytes: number): void {
  const block = LOG_LINE.repeat(Math.ceil((1 << 20) / LOG_LINE.length));
  const blocks = Math.ceil(bytes / block.length);
  writeFileSync(path, block.repeat(blocks));
}

export async function startBenchDeployment(opts: { logBytes: number }): Promise<BenchDeployment> {
  const cluster = new Cluster("source");
  try {
    // many sessions and CLI processes from one address: lift the per-source rate limit
    await cluster.startRelay(["--rate", "100000", "--rate-burst", "100000"]);
    const logFile = join(cluster.dir, "bench.log");
    writeLogFile(logFile, opts.logBytes);
    const secretsFile = join(cluster.dir, "bench-secrets.log");
    writeSecretLog(secretsFile, Math.max(opts.logBytes, REDACTION_STREAM_MIN_BYTES));
    await cluster.init(benchCatalog(logFile, secretsFile));
    await cluster.startDaemon();
    const verbs = ["bench.true", "bench.stream", "bench.stream_secrets", "bench.stream_secrets_raw"].flatMap((v) => ["--verb", v]);
    const g = await cluster.openscope(["grant", "add", "--agent", "bench", ...verbs]);
    if (g.code !== 0) throw new Error(`bench: grant add failed: ${g.stderr}`);
    const share = await cluster.openShare(["--agent", "bench", ...verbs, "--bearer", "--ttl", "30m"]);
    const clientBinary = join(ROOT, "dist", "openscope-reflect-client");
    const clientCmd = existsSync(clientBinary) ? [clientBinary] : [process.execPath, join(ROOT, "client.ts")];
    const configHome = join(cluster.dir, "recipient");
    return {
      cluster,
      share,
      logFile,
      clientBinary: existsSync(clientBinary) ? clientBinary : undefined,
      async connect() {
        const handle = decodeHandle(share.handle);
        const s = new ClientSession(handle, sessionKeys(handle, undefined));
        await s.connect();
        return s;
      },
      cliCall(verb, params = []) {
        return runCommand([...clientCmd, "--passport", share.handle, "--fingerprint", share.fingerprint, "call", verb, ...params], {
          env: { XDG_CONFIG_HOME: configHome },
        });
      },
      stop: () => cluster.stop(),
    };
  } catch (e) {
    await cluster.stop();
    throw e;
  }
}
