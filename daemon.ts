// Entry point of `openscope`: the operator's CLI and the daemon.
import { openscopeMain } from "./cmd/openscope/index.ts";
import { runCli } from "./cmd/run.ts";

await runCli("openscope", openscopeMain);
