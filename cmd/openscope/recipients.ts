import { defineCommand } from "citty";
import { homeArg, jsonArg } from "../args.ts";
import { notImplemented } from "../run.ts";

const add = defineCommand({
  meta: { name: "add", description: "Register a recipient's public key under an alias" },
  args: {
    ...homeArg,
    alias: { type: "positional", description: "Alias, e.g. vendor-b" },
    key: { type: "positional", description: "The public key printed by `openscope-reflect-client keygen`" },
  },
  run: () => notImplemented("recipients add"),
});
const list = defineCommand({
  meta: { name: "list", description: "List registered recipients" },
  args: { ...homeArg, ...jsonArg },
  run: () => notImplemented("recipients list"),
});
const remove = defineCommand({
  meta: { name: "remove", description: "Forget a recipient" },
  args: { ...homeArg, alias: { type: "positional", description: "Alias" } },
  run: () => notImplemented("recipients remove"),
});

export default defineCommand({
  meta: { name: "recipients", description: "Manage recipient keys: add, list, remove" },
  subCommands: { add, list, remove },
});
