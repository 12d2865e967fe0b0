import { defineCommand } from "citty";
import { extendShare, listShares, openShare, revokeShare, type OpenedShare } from "../../lib/control/client.ts";
import { formatDuration } from "../../lib/units.ts";
import { parseShareTtl } from "../../lib/capability/limits.ts";
import { parseVerbSpec } from "../../lib/capability/verbspec.ts";
import { usageError } from "../../lib/errors.ts";
import { checkName, type HomePaths } from "../../lib/host/home.ts";
import { homeArg, jsonArg, repeatedFlag } from "../args.ts";
import { log, paint, printJson, printTable, spinner } from "../output.ts";
import { checkShareId, homeFrom, readAgentToken, withStore } from "./_shared.ts";
import { withReloadHint } from "./reload.ts";

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
    approve: { type: "string", description: "This verb needs your approval at each call, in this share (repeatable)", valueHint: "verb" },
  },
  async run({ args, rawArgs }) {
    const paths = homeFrom(args);
    const agent = checkName("agent", args.agent);
    if (args.to) checkName("alias", args.to);
    // Malformed input is a usage error (exit 2) before any question of who may open the share.
    parseShareTtl(args.ttl);
    const specs = repeatedFlag(rawArgs, "verb");
    for (const spec of specs) parseVerbSpec(spec);
    const approve = repeatedFlag(rawArgs, "approve");
    const token = readAgentToken(paths, agent);
    const opened = await openShare(paths.socket, token, {
      agent,
      verbs: specs,
      to: args.to,
      bearer: Boolean(args.bearer),
      ttl: args.ttl,
      ...(approve.length ? { approve } : {}),
    }).catch((e: unknown) => {
      throw withReloadHint(e, paths.catalog);
    });
    if (args.json) printJson(opened);
    else {
      log.success(`share ${opened.id} open for ${opened.recipient}: ${opened.verbs.join(", ")} until ${opened.expires_at}`);
      log.info("");
      const who = opened.recipient === "bearer" ? "the recipient" : opened.recipient;
      log.info(`send this handle to ${who}:`);
      log.info(`handle: ${opened.handle}`);
      log.info(`they connect with: ${opened.command}`);
      log.info("");
      // Apart from the handle, never in the same message: a swapped handle would come with a swapped code.
      log.info(`read this code to ${who} by phone: ${opened.code}`);
      if (opened.approval) log.info(`\neach call of ${opened.approval.join(", ")} waits for your approval: see openscope approvals, or openscope share watch ${opened.id}`);
    }
    if (args.wait) await waitForConnection(paths, opened, Boolean(args.json));
  },
});

async function waitForConnection(paths: HomePaths, opened: OpenedShare, quiet: boolean): Promise<void> {
  const socket = paths.socket;
  // A one-shot call can connect and leave between two polls: the audit's share.connected row
  // says someone did connect even when `connected` is false again.
  const everConnected = () => withStore(paths, (_store, audit) => audit.list({ shareId: opened.id }).some((r) => r.kind === "share.connected"));
  const who = opened.recipient === "bearer" ? "the recipient" : opened.recipient;
  const spin = quiet ? undefined : spinner(`waiting for ${who} to connect…`);
  for (;;) {
    const shares = await listShares(socket);
    const s = shares.find((x) => x.id === opened.id);
    if (!s || s.state !== "live") {
      spin?.stop();
      throw usageError(`share ${opened.id} ended before anyone connected (${s?.state ?? "gone"})`);
    }
    if (s.connected || (await everConnected())) {
      spin?.stop(`${who} connected`);
      return;
    }
    spin?.update(`waiting for ${who} to connect… (${formatDuration(Date.parse(s.expires_at) - Date.now())} left)`);
    await Bun.sleep(250);
  }
}

const list = defineCommand({
  meta: { name: "list", description: "List shares" },
  args: { ...homeArg, ...jsonArg },
  async run({ args }) {
    const paths = homeFrom(args);
    const shares = await listShares(paths.socket);
    if (args.json) return printJson(shares);
    if (shares.length === 0) return log.info("no shares yet; open one with: openscope share open --agent NAME --verb VERB --to ALIAS");
    const now = Date.now();
    printTable(
      ["ID", "AGENT", "RECIPIENT", "STATE", "LEFT", "CONNECTED", "VERBS"],
      shares.map((s) => [
        s.id,
        s.agent,
        s.recipient,
        s.state === "live" ? paint("live", "green") : s.state,
        s.state === "live" ? formatDuration(Date.parse(s.expires_at) - now) : "-",
        s.connected ? "yes" : "no",
        s.verbs.join(", "),
      ]),
    );
  },
});

const extend = defineCommand({
  meta: { name: "extend", description: "Set a live share's expiry to now + TTL (at most 30m)" },
  args: {
    ...homeArg,
    ...jsonArg,
    id: { type: "positional", description: "Share id" },
    ttl: { type: "string", description: "New lifetime from now", valueHint: "duration", required: true },
  },
  async run({ args }) {
    const paths = homeFrom(args);
    const s = await extendShare(paths.socket, checkShareId(args.id), args.ttl);
    if (args.json) return printJson(s);
    log.success(`share ${s.id} now expires at ${s.expires_at}`);
  },
});

const revoke = defineCommand({
  meta: { name: "revoke", description: "End a share now, killing running verbs" },
  args: { ...homeArg, ...jsonArg, id: { type: "positional", description: "Share id" } },
  async run({ args }) {
    const paths = homeFrom(args);
    const s = await revokeShare(paths.socket, checkShareId(args.id));
    if (args.json) return printJson(s);
    log.success(`share ${s.id} revoked; a recipient who connects now is told so`);
  },
});

export default defineCommand({
  meta: { name: "share", description: "Live delegations: open, list, extend, revoke, watch, kill" },
  subCommands: {
    open,
    list,
    extend,
    revoke,
    watch: () => import("./watch.ts").then((m) => m.default),
    kill: () => import("./kill.ts").then((m) => m.default),
  },
});
