import { defineCommand } from "citty";
import { runDaemon } from "../../lib/daemon/runtime.ts";
import { homeArg } from "../args.ts";
import { homeFrom } from "./_shared.ts";

export default defineCommand({
  meta: { name: "daemon", description: "Run the daemon: dial out to the relay, serve shares, run verbs (control API on a local unix socket)" },
  args: {
    ...homeArg,
    relay: { type: "string", description: "Relay URL, e.g. wss://relay.example.com (or relay in config.toml)", valueHint: "url" },
    "relay-token": { type: "string", description: "Deployment token for the relay (or relay_token in config.toml)", valueHint: "token" },
  },
  async run({ args }) {
    const log = (line: string) => process.stderr.write(`openscope: ${line}\n`);
    const daemon = await runDaemon({ paths: homeFrom(args), relayUrl: args.relay, relayToken: args["relay-token"], log });
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
