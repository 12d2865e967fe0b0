// `openscope deny REQ [--reason TEXT]`: the waiting call does not run; the recipient gets exit 3
// with the reason (printable text, at most 200 characters).
import { defineCommand } from "citty";
import { denyRequest } from "../../lib/control/client.ts";
import { checkDenyReason, checkRequestId } from "../../lib/share/approval.ts";
import { homeArg, jsonArg } from "../args.ts";
import { log, printJson } from "../output.ts";
import { homeFrom } from "./_shared.ts";
import { callText } from "./watch-view.ts";

export default defineCommand({
  meta: { name: "deny", description: "Deny a call waiting for you; the recipient sees your reason" },
  args: {
    ...homeArg,
    ...jsonArg,
    request: { type: "positional", description: "Request id (see: openscope approvals)", required: false },
    reason: { type: "string", description: "Why, shown to the recipient", valueHint: "text" },
  },
  async run({ args }) {
    const paths = homeFrom(args);
    const id = checkRequestId(args.request as string | undefined);
    const reason = args.reason === undefined ? undefined : checkDenyReason(args.reason);
    const r = await denyRequest(paths.socket, id, reason);
    if (args.json) return printJson(r);
    log.success(`denied request ${r.id}: ${callText(r.verb, r.params)} in share ${r.share}`);
  },
});
