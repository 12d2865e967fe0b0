// Entry point of `openscope-reflect-client`.
import { clientMain, routeSavedShare } from "./cmd/client/index.ts";
import { runCli } from "./cmd/run.ts";

await runCli("openscope-reflect-client", clientMain, routeSavedShare(process.argv.slice(2)));
