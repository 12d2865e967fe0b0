// `openscope-relay`: the blind byte-pump. Flags only; the work is in lib/relay/.
// Parses the flags (every limit has one, defaults shown in --help), starts the relay, logs the
// listening line on stderr (cmd/log.ts: text or JSON lines), reloads tokens on SIGHUP and drains
// on SIGTERM/SIGINT.
import { defineCommand, type CommandDef } from "citty";
import { formatDuration, parseDuration, parseSize } from "../../lib/units.ts";
import { usageError } from "../../lib/errors.ts";
import { RELAY_DEFAULTS, startRelay } from "../../lib/relay/server.ts";
import { VERSION } from "../../lib/version.ts";
import { repeatedFlag } from "../args.ts";
import { logArgs, loggerFromArgs } from "../log.ts";

const D = RELAY_DEFAULTS;

function kib(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / 1024 / 1024}MiB` : n % 1024 === 0 ? `${n / 1024}KiB` : `${n}B`;
}

/** "127.0.0.1:8443", "[::1]:0", ":8443" → hostname and port. */
export function parseListen(text: string, flag = "--listen"): { hostname: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]*)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw usageError(`relay: ${flag} "${text}" is not host:port`, [`e.g. ${flag} 0.0.0.0:8443 or ${flag} [::1]:8443`]);
  return { hostname: m[1] ?? (m[2] || "0.0.0.0"), port };
}

function positiveInt(text: string, flag: string): number {
  if (!/^\d{1,9}$/.test(text.trim()) || Number(text) <= 0) throw usageError(`relay: --${flag} "${text}" is not a positive whole number`);
  return Number(text);
}

export const relayMain = defineCommand({
  meta: { name: "openscope-relay", version: VERSION, description: "Blind relay: pairs a daemon leg and a client leg per rendezvous id and forwards opaque frames" },
  args: {
    listen: { type: "string", description: "Address to listen on", valueHint: "host:port", default: "0.0.0.0:8443" },
    "tokens-file": { type: "string", description: "Deployment tokens, one per line (# comments); reloaded on SIGHUP", valueHint: "file" },
    "tls-cert": { type: "string", description: "TLS certificate (PEM) for direct TLS", valueHint: "file" },
    "tls-key": { type: "string", description: "TLS private key (PEM)", valueHint: "file" },
    "max-message": { type: "string", description: "Largest WebSocket message; bigger closes the leg with 1009", valueHint: "size", default: kib(D.maxMessageBytes) },
    backpressure: { type: "string", description: "Bytes queued for a slow leg before its sender is paused", valueHint: "size", default: kib(D.backpressureBytes) },
    grace: { type: "string", description: "How long a client leg waits for its daemon leg before 404", valueHint: "duration", default: formatDuration(D.graceMs) },
    "unpaired-max": { type: "string", description: "How long a leg may stay without a peer", valueHint: "duration", default: formatDuration(D.unpairedMaxMs) },
    "idle-timeout": { type: "string", description: "Close a leg silent this long (pings every 25s; at most 960s)", valueHint: "duration", default: formatDuration(D.idleTimeoutS * 1000) },
    "max-legs-per-token": { type: "string", description: "Daemon legs one deployment token may hold", valueHint: "n", default: String(D.maxLegsPerToken) },
    "max-legs": { type: "string", description: "Legs held at once, in all", valueHint: "n", default: String(D.maxLegs) },
    rate: { type: "string", description: "New connections per second per source address", valueHint: "n", default: String(D.ratePerSecond) },
    "rate-burst": { type: "string", description: "Burst of new connections per source address", valueHint: "n", default: String(D.rateBurst) },
    "trust-proxy": {
      type: "string",
      description: "A proxy (address or CIDR; repeatable) whose X-Forwarded-For names the client for rate limits and logs",
      valueHint: "cidr",
    },
    "metrics-listen": { type: "string", description: "Serve /metrics on this address only (not on --listen)", valueHint: "host:port" },
    ...logArgs,
  },
  subCommands: {
    completion: (): Promise<CommandDef<any>> => import("../completion.ts").then((m) => m.completionCommand("openscope-relay", async () => relayMain)),
  },
  async run({ args, rawArgs }) {
    // citty also runs the parent after a subcommand: only serve when none was named.
    if (args._.length > 0) return;
    const logger = loggerFromArgs(args, "relay");
    const { hostname, port } = parseListen(args.listen);
    const metricsListen = args["metrics-listen"] === undefined ? undefined : parseListen(args["metrics-listen"], "--metrics-listen");
    // A comma-separated list is accepted too: --trust-proxy 10.0.0.0/8,192.168.0.0/16
    const trustProxy = repeatedFlag(rawArgs, "trust-proxy").flatMap((v) => v.split(",")).filter((v) => v.trim() !== "");
    if (!args["tokens-file"]) throw usageError("relay: --tokens-file is required", ["one deployment token per line; daemons present one as Authorization: Bearer"]);
    if (Boolean(args["tls-cert"]) !== Boolean(args["tls-key"])) throw usageError("relay: --tls-cert and --tls-key go together");
    const idleMs = parseDuration(args["idle-timeout"], "relay: --idle-timeout");
    if (idleMs < 1000 || idleMs > 960_000) throw usageError("relay: --idle-timeout must be between 1s and 960s");
    const relay = startRelay({
      hostname,
      port,
      tokensFile: args["tokens-file"],
      tls: args["tls-cert"] ? { cert: args["tls-cert"], key: args["tls-key"]! } : undefined,
      maxMessageBytes: parseSize(args["max-message"], "relay: --max-message"),
      backpressureBytes: parseSize(args.backpressure, "relay: --backpressure"),
      graceMs: parseDuration(args.grace, "relay: --grace"),
      unpairedMaxMs: parseDuration(args["unpaired-max"], "relay: --unpaired-max"),
      idleTimeoutS: Math.ceil(idleMs / 1000),
      maxLegsPerToken: positiveInt(args["max-legs-per-token"], "max-legs-per-token"),
      maxLegs: positiveInt(args["max-legs"], "max-legs"),
      ratePerSecond: positiveInt(args.rate, "rate"),
      rateBurst: positiveInt(args["rate-burst"], "rate-burst"),
      trustProxy,
      metricsListen,
      logger,
    });
    logger.info(`listening on ${relay.url}`, { version: VERSION, tls: Boolean(args["tls-cert"]), trust_proxy: trustProxy.join(",") || undefined });
    if (relay.metricsUrl) logger.info(`metrics on ${relay.metricsUrl}/metrics (not on the main listener)`);
    process.on("SIGHUP", () => {
      logger.info("SIGHUP: reloading the tokens file");
      relay.reloadTokens();
    });
    await new Promise<void>((resolve) => {
      const drain = (sig: string) => {
        logger.info(`${sig}: closing legs and stopping`);
        void relay.stop(true).then(resolve);
      };
      process.once("SIGTERM", () => drain("SIGTERM"));
      process.once("SIGINT", () => drain("SIGINT"));
    });
  },
});
