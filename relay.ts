// Entry point of `openscope-relay`.
import { relayMain } from "./cmd/relay/index.ts";
import { runCli } from "./cmd/run.ts";

await runCli("openscope-relay", relayMain);
