// `openscope-relay`: the blind byte-pump. Flags only; the work is in lib/relay/.
import { defineCommand } from "citty";
import { VERSION } from "../../lib/version.ts";
import { notImplemented } from "../run.ts";

export const relayMain = defineCommand({
  meta: { name: "openscope-relay", version: VERSION, description: "Blind relay: pairs a daemon leg and a client leg per rendezvous id and forwards opaque frames" },
  args: {
    listen: { type: "string", description: "Address to listen on", valueHint: "host:port", default: "0.0.0.0:8443" },
    "tokens-file": { type: "string", description: "Deployment tokens, one per line (# comments); reloaded on SIGHUP", valueHint: "file" },
    "tls-cert": { type: "string", description: "TLS certificate (PEM) for direct TLS", valueHint: "file" },
    "tls-key": { type: "string", description: "TLS private key (PEM)", valueHint: "file" },
  },
  run: () => notImplemented("openscope-relay"),
});
