// `openscope approvals [--json]`: the calls waiting for the operator's approval, with the exact
// verb and parameters each would run with (SPEC.md §17.2).
import { defineCommand } from "citty";
import { listApprovals } from "../../lib/control/client.ts";
import { formatDuration } from "../../lib/units.ts";
import { homeArg, jsonArg } from "../args.ts";
import { log, printJson, printTable } from "../output.ts";
import { homeFrom } from "./_shared.ts";
import { callText } from "./watch-view.ts";

export default defineCommand({
  meta: { name: "approvals", description: "List calls waiting for your approval" },
  args: { ...homeArg, ...jsonArg },
  async run({ args }) {
    const paths = homeFrom(args);
    const pending = await listApprovals(paths.socket);
    if (args.json) return printJson(pending);
    if (pending.length === 0) return log.info("no call is waiting for approval");
    const now = Date.now();
    printTable(
      ["ID", "SHARE", "CALL", "REQUESTED", "LEFT"],
      pending.map((p) => [p.id, p.share, callText(p.verb, p.params), p.requested_at, formatDuration(Date.parse(p.expires_at) - now)]),
    );
    log.info("");
    log.info("answer with: openscope approve ID   or   openscope deny ID --reason TEXT");
  },
});
