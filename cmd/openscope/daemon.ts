import { defineCommand } from "citty";
import { homeArg } from "../args.ts";
import { notImplemented } from "../run.ts";

export default defineCommand({
  meta: { name: "daemon", description: "Run the daemon: dial out to the relay, serve shares, run verbs (control API on a local unix socket)" },
  args: {
    ...homeArg,
    relay: { type: "string", description: "Relay URL, e.g. wss://relay.example.com (or relay in config.toml)", valueHint: "url" },
    "relay-token": { type: "string", description: "Deployment token for the relay (or relay_token in config.toml)", valueHint: "token" },
  },
  run: () => notImplemented("daemon"),
});
