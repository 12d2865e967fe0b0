import { defineCommand } from "citty";
import { readFileSync } from "node:fs";
import { runDaemon } from "../../lib/daemon/runtime.ts";
import { cryptoFromEnv } from "../../lib/platform/crypto.ts";
import { usageError } from "../../lib/errors.ts";
import { refuseExposedSecretFile } from "../../lib/host/file-mode.ts";
import { homeArg } from "../args.ts";
import { homeFrom } from "./_shared.ts";
import { logArgs, loggerFromArgs } from "../log.ts";
import { lineLogger } from "../../lib/host/log.ts";

/**
 * The deployment token, from the first of: --relay-token (warned: every local user can read a
 * process's argv), --relay-token-file, OPENSCOPE_RELAY_TOKEN; else runDaemon reads config.toml.
 */
export function relayTokenFrom(
  args: { "relay-token"?: string; "relay-token-file"?: string },
  env: Record<string, string | undefined>,
  warn: (line: string) => void,
): string | undefined {
  if (args["relay-token"] !== undefined) {
    warn(
      "warning: --relay-token is readable by every local user in the process list; " +
        "use --relay-token-file FILE, OPENSCOPE_RELAY_TOKEN or relay_token in config.toml",
    );
    return args["relay-token"];
  }
  const file = args["relay-token-file"];
  if (file !== undefined) {
    let text: string;
    try {
      refuseExposedSecretFile(file, "--relay-token-file");
      text = readFileSync(file, "utf8");
    } catch (e) {
      if (e instanceof Error && e.name === "OpenScopeError") throw e;
      throw usageError(`--relay-token-file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, ["pass a file holding the deployment token on one line"]);
    }
    const token = text.trim();
    if (token === "" || /\s/.test(token)) throw usageError(`--relay-token-file ${file}: expected one token on one line`);
    return token;
  }
  const fromEnv = env.OPENSCOPE_RELAY_TOKEN;
  return fromEnv !== undefined && fromEnv !== "" ? fromEnv : undefined;
}

export default defineCommand({
  meta: { name: "daemon", description: "Run the daemon: dial out to the relay, serve shares, run verbs (control API on a local unix socket)" },
  args: {
    ...homeArg,
    relay: { type: "string", description: "Relay URL, e.g. wss://relay.example.com (or relay in config.toml)", valueHint: "url" },
    "relay-token-file": {
      type: "string",
      description: "File holding the relay's deployment token (or OPENSCOPE_RELAY_TOKEN, or relay_token in config.toml)",
      valueHint: "file",
    },
    "relay-token": { type: "string", description: "Deployment token on the command line (visible to local users: prefer --relay-token-file)", valueHint: "token" },
    ...logArgs,
  },
  async run({ args }) {
    const logger = loggerFromArgs(args);
    const log = lineLogger(logger);
    const relayToken = relayTokenFrom(args, process.env, log);
    cryptoFromEnv(); // a bad OPENSCOPE_CRYPTO is a usage error now, not a failed handshake later
    const daemon = await runDaemon({
      paths: homeFrom(args),
      relayUrl: args.relay,
      relayToken,
      // A reload reads the token file (or the environment) again: a rotated token needs no restart.
      readRelayToken: () => relayTokenFrom(args, process.env, () => {}),
      logger,
      log,
    });
    // SIGHUP: verbs.toml and config.toml again; a file that fails its checks is logged and changes nothing.
    process.on("SIGHUP", () => {
      logger.info("SIGHUP: reloading verbs.toml and config.toml");
      try {
        daemon.reload();
      } catch {
        /* logged by reload, the settings in force stay */
      }
    });
    await new Promise<void>((resolve) => {
      const stop = (sig: string) => {
        log(`${sig}: stopping`);
        daemon.stop().then(resolve, resolve);
      };
      process.once("SIGTERM", () => stop("SIGTERM"));
      process.once("SIGINT", () => stop("SIGINT"));
    });
  },
});
