import { defineCommand } from "citty";
import { homeArg, jsonArg } from "../args.ts";
import { notImplemented } from "../run.ts";

const add = defineCommand({
  meta: { name: "add", description: "Grant verbs to an agent (root); writes the agent's local credential" },
  args: {
    ...homeArg,
    ...jsonArg,
    agent: { type: "string", description: "Agent name", valueHint: "name", required: true },
    verb: { type: "string", description: "verb[:k=v|w,k=1..500] (repeatable)", valueHint: "spec", required: true },
  },
  run: () => notImplemented("grant add"),
});
const list = defineCommand({
  meta: { name: "list", description: "List grants" },
  args: { ...homeArg, ...jsonArg, agent: { type: "string", description: "Only this agent", valueHint: "name" } },
  run: () => notImplemented("grant list"),
});
const revoke = defineCommand({
  meta: { name: "revoke", description: "Remove one verb from an agent's grant, or --all" },
  args: {
    ...homeArg,
    agent: { type: "string", description: "Agent name", valueHint: "name", required: true },
    verb: { type: "string", description: "Verb to remove (repeatable)", valueHint: "verb" },
    all: { type: "boolean", description: "Remove the agent's whole grant" },
  },
  run: () => notImplemented("grant revoke"),
});

export default defineCommand({
  meta: { name: "grant", description: "Manage root-owned grants: add, list, revoke" },
  subCommands: { add, list, revoke },
});
