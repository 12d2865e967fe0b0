// The operator's command registry (`openscope`). Subcommands load lazily so `--version` and
// `--help` stay fast.
import { defineCommand, type CommandDef } from "citty";
import { VERSION } from "../../lib/version.ts";
import { homeArg } from "../args.ts";

export const openscopeMain = defineCommand({
  meta: { name: "openscope", version: VERSION, description: "Delegate a narrowed slice of your verbs to an outsider, through a blind relay" },
  // Global: accepted before or after the command (`openscope --home X fingerprint`).
  args: { ...homeArg },
  subCommands: {
    init: () => import("./init.ts").then((m) => m.default),
    daemon: () => import("./daemon.ts").then((m) => m.default),
    verbs: () => import("./verbs.ts").then((m) => m.default),
    grant: () => import("./grant.ts").then((m) => m.default),
    recipients: () => import("./recipients.ts").then((m) => m.default),
    share: () => import("./share.ts").then((m) => m.default),
    audit: () => import("./audit.ts").then((m) => m.default),
    fingerprint: () => import("./fingerprint.ts").then((m) => m.default),
    status: () => import("./status.ts").then((m) => m.default),
    reload: () => import("./reload.ts").then((m) => m.default),
    completion: (): Promise<CommandDef<any>> => import("../completion.ts").then((m) => m.completionCommand("openscope", async () => openscopeMain)),
    approvals: () => import("./approvals.ts").then((m) => m.default),
    approve: () => import("./approve.ts").then((m) => m.default),
    deny: () => import("./deny.ts").then((m) => m.default),
  },
});
