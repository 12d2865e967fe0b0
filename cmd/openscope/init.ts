import { defineCommand } from "citty";
import { homeArg, jsonArg } from "../args.ts";
import { notImplemented } from "../run.ts";

export default defineCommand({
  meta: { name: "init", description: "Create the daemon identity keys, the database and a sample verb catalog; print the fingerprint" },
  args: { ...homeArg, ...jsonArg },
  run: () => notImplemented("init"),
});
