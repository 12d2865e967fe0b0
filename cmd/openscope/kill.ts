// `openscope share kill ID [CALL]`: ends a running call of a share (or all of them, and any call
// still waiting for approval) without ending the share. The recipient sees "cancelled by the
// operator"; the daemon audits the kill before the verb's outcome.
import { defineCommand } from "citty";
import { killCalls } from "../../lib/control/client.ts";
import { usageError } from "../../lib/errors.ts";
import { homeArg, jsonArg } from "../args.ts";
import { log, printJson } from "../output.ts";
import { homeFrom } from "./_shared.ts";

/** A call id as the audit and the watch show it: session tag "." call number. */
const CALL_ID = /^[0-9a-f]{8}\.\d{1,10}$/;

export default defineCommand({
  meta: { name: "kill", description: "End a share's running call(s); the share goes on" },
  args: {
    ...homeArg,
    ...jsonArg,
    id: { type: "positional", description: "Share id", required: false },
    call: { type: "positional", description: "Call id as the watch and audit show it (default: every call of the share)", required: false },
  },
  async run({ args }) {
    const paths = homeFrom(args);
    const id = args.id as string | undefined;
    if (!id || !/^[0-9a-f]{12}$/.test(id)) throw usageError(`"${id ?? ""}" is not a share id`, ["see the ids with: openscope share list"]);
    const call = args.call as string | undefined;
    if (call !== undefined && !CALL_ID.test(call)) throw usageError(`"${call}" is not a call id`, ["call ids look like 1a2b3c4d.7; see them in: openscope share watch ID"]);
    const r = await killCalls(paths.socket, id, call);
    if (args.json) return printJson(r);
    if (r.killed.length === 0) return log.info(`no call of share ${id} was running`);
    log.success(`killed ${r.killed.join(", ")} in share ${id}; the share goes on`);
  },
});
