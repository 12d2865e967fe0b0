import { defineCommand } from "citty";
import { homeArg, jsonArg } from "../args.ts";
import { notImplemented } from "../run.ts";

export default defineCommand({
  meta: { name: "verbs", description: "List the verb catalog, or one agent's capability surface" },
  args: { ...homeArg, ...jsonArg, agent: { type: "string", description: "Show what this agent's grant allows", valueHint: "name" } },
  run: () => notImplemented("verbs"),
});
