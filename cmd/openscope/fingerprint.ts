import { defineCommand } from "citty";
import { homeArg, jsonArg } from "../args.ts";
import { notImplemented } from "../run.ts";

export default defineCommand({
  meta: { name: "fingerprint", description: "Print the daemon's fingerprint (read it to the recipient)" },
  args: { ...homeArg, ...jsonArg },
  run: () => notImplemented("fingerprint"),
});
