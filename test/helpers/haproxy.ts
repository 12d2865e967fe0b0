// HAProxy and relay processes on loopback for the scale-out test: free fixed ports (HAProxy's
// config names each relay's port), a config whose routing lines come from deploy/haproxy.cfg,
// and process start/stop with readiness polled through the network.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { ROOT, waitFor } from "./spawn.ts";

/** A port that was free a moment ago (bind to port 0, read it, close). */
export function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

export function haproxyBinary(): string {
  const found = Bun.which("haproxy") ?? ["/usr/sbin/haproxy", "/usr/local/sbin/haproxy"].find((p) => Bun.file(p).size > 0);
  if (!found) throw new Error("haproxy not found (Debian: apt-get install haproxy; .ci/run installs it)");
  return found;
}

/** The backend lines marked `# routing` (balance, hash-type) or `# forwarding` (option forwardfor) in deploy/haproxy.cfg, comments cut. */
export function documentedRoutingLines(): string[] {
  const text = readFileSync(join(ROOT, "deploy", "haproxy.cfg"), "utf8");
  const lines = text.split("\n").filter((l) => /#\s*(routing|forwarding)\b/.test(l)).map((l) => l.replace(/#.*$/, "").trim());
  if (!lines.some((l) => l.startsWith("balance")) || !lines.some((l) => l.startsWith("hash-type"))) {
    throw new Error("deploy/haproxy.cfg lost its `# routing` balance/hash-type lines");
  }
  if (!lines.includes("option forwardfor")) throw new Error("deploy/haproxy.cfg lost its `# forwarding` option forwardfor line");
  return lines;
}

export interface RelayBackend {
  name: string;
  port: number;
}

/** A loopback config: the documented routing, fast health checks so a stopped relay drops out quickly. */
export function haproxyConfig(frontendPort: number, relays: RelayBackend[]): string {
  return [
    "global",
    "    maxconn 4000",
    "defaults",
    "    mode http",
    "    timeout connect 2s",
    "    timeout client 30s",
    "    timeout server 30s",
    "    timeout tunnel 10m",
    "    timeout client-fin 2s",
    "frontend openscope_relay",
    `    bind 127.0.0.1:${frontendPort}`,
    "    default_backend openscope_relays",
    "backend openscope_relays",
    ...documentedRoutingLines().map((l) => `    ${l}`),
    "    option httpchk",
    "    http-check send meth GET uri /healthz ver HTTP/1.1 hdr host openscope-relay",
    "    http-check expect status 200",
    "    default-server check inter 250ms fall 1 rise 1 observe layer4 error-limit 1 on-error mark-down",
    ...relays.map((r) => `    server ${r.name} 127.0.0.1:${r.port}`),
    "",
  ].join("\n");
}

export interface Running {
  proc: Subprocess;
  stderr(): string;
}

function spawnLogged(cmd: string[], cwd: string): Running {
  const proc = Bun.spawn(cmd, { cwd, stdout: "ignore", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
  let err = "";
  void (async () => {
    const dec = new TextDecoder();
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) err += dec.decode(chunk, { stream: true });
  })();
  return { proc, stderr: () => err };
}

/** `bun relay.ts --listen 127.0.0.1:PORT --tokens-file F` plus extra flags; resolves once /metrics answers. */
export async function startRelay(port: number, tokensFile: string, extra: string[] = []): Promise<Running> {
  const r = spawnLogged([process.execPath, join(ROOT, "relay.ts"), "--listen", `127.0.0.1:${port}`, "--tokens-file", tokensFile, ...extra], ROOT);
  await waitFor(async () => {
    if (r.proc.exitCode !== null) throw new Error(`relay exited ${r.proc.exitCode}: ${r.stderr()}`);
    return r.stderr().includes(`listening on http://127.0.0.1:${port}`) && (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
  }, `relay on port ${port}`, 20_000);
  return r;
}

/** Starts haproxy in the foreground with `config`; resolves once the frontend accepts connections. */
export async function startHaproxy(dir: string, config: string, frontendPort: number): Promise<Running> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "haproxy.cfg");
  writeFileSync(file, config);
  const check = Bun.spawnSync([haproxyBinary(), "-c", "-q", "-f", file]);
  if (check.exitCode !== 0) throw new Error(`haproxy -c refused the config:\n${check.stderr.toString()}\n${config}`);
  const r = spawnLogged([haproxyBinary(), "-db", "-f", file], dir);
  await waitFor(async () => {
    if (r.proc.exitCode !== null) throw new Error(`haproxy exited ${r.proc.exitCode}: ${r.stderr()}`);
    const res = await fetch(`http://127.0.0.1:${frontendPort}/v1/rendezvous/x`, { signal: AbortSignal.timeout(1000) });
    return res.status > 0;
  }, "haproxy frontend", 15_000);
  return r;
}

/** The value of one Prometheus sample (`name{labels}`) on a relay's /metrics page. */
export async function metricValue(port: number, sample: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${sample} `));
  if (!line) throw new Error(`no ${sample} on :${port}/metrics`);
  return Number(line.slice(sample.length + 1));
}

/** Stops a process started here and waits for it to exit. */
export async function stopProcess(r: Running, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (r.proc.exitCode === null && !r.proc.killed) r.proc.kill(signal);
  await r.proc.exited;
}
