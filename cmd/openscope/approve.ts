// `openscope approve REQ`: the waiting call runs, exactly as requested (the daemon re-checks the
// share and the grant first).
import { defineCommand } from "citty";
import { approveRequest } from "../../lib/control/client.ts";
import { checkRequestId } from "../../lib/share/approval.ts";
import { homeArg, jsonArg } from "../args.ts";
import { log, printJson } from "../output.ts";
import { homeFrom } from "./_shared.ts";
import { callText } from "./watch-view.ts";

export default defineCommand({
  meta: { name: "approve", description: "Approve a call waiting for you; it runs exactly as requested" },
  args: { ...homeArg, ...jsonArg, request: { type: "positional", description: "Request id (see: openscope approvals)", required: false } },
  async run({ args }) {
    const paths = homeFrom(args);
    const id = checkRequestId(args.request as string | undefined);
    const r = await approveRequest(paths.socket, id);
    if (args.json) return printJson(r);
    log.success(`approved request ${r.id}: ${callText(r.verb, r.params)} runs now in share ${r.share}`);
  },
});
