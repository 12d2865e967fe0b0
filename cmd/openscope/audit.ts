import { defineCommand } from "citty";
import { homeArg, jsonArg } from "../args.ts";
import { notImplemented } from "../run.ts";

export default defineCommand({
  meta: { name: "audit", description: "Show the audit log (every decision and share event)" },
  args: {
    ...homeArg,
    ...jsonArg,
    share: { type: "string", description: "Only this share", valueHint: "id" },
    follow: { type: "boolean", description: "Keep printing new rows" },
    verify: { type: "boolean", description: "Check the hash chain of the whole log" },
  },
  run: () => notImplemented("audit"),
});
