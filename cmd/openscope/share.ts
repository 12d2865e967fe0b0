import { defineCommand } from "citty";
import { homeArg, jsonArg } from "../args.ts";
import { notImplemented } from "../run.ts";

const open = defineCommand({
  meta: { name: "open", description: "Open a share: a passport narrowed from the agent's grant; prints the handle" },
  args: {
    ...homeArg,
    ...jsonArg,
    agent: { type: "string", description: "Whose grant to delegate from", valueHint: "name", required: true },
    verb: { type: "string", description: "verb[:k=v,…] to delegate (repeatable)", valueHint: "spec", required: true },
    to: { type: "string", description: "Seal to this registered recipient", valueHint: "alias" },
    bearer: { type: "boolean", description: "Issue an unbound handle you convey yourself" },
    ttl: { type: "string", description: "Lifetime, at most 30m", valueHint: "duration", default: "30m" },
    wait: { type: "boolean", description: "Wait until the recipient connects" },
  },
  run: () => notImplemented("share open"),
});
const list = defineCommand({
  meta: { name: "list", description: "List shares" },
  args: { ...homeArg, ...jsonArg },
  run: () => notImplemented("share list"),
});
const extend = defineCommand({
  meta: { name: "extend", description: "Set a live share's expiry to now + TTL (at most 30m)" },
  args: { ...homeArg, id: { type: "positional", description: "Share id" }, ttl: { type: "string", description: "New lifetime from now", valueHint: "duration", required: true } },
  run: () => notImplemented("share extend"),
});
const revoke = defineCommand({
  meta: { name: "revoke", description: "End a share now, killing running verbs" },
  args: { ...homeArg, id: { type: "positional", description: "Share id" } },
  run: () => notImplemented("share revoke"),
});

export default defineCommand({
  meta: { name: "share", description: "Live delegations: open, list, extend, revoke" },
  subCommands: { open, list, extend, revoke },
});
