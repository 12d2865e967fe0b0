import { defineCommand } from "citty";
import { readCatalogFile } from "../../lib/host/catalog-file.ts";
import { usageError } from "../../lib/errors.ts";
import { grantVerbsFromSpecs, mergeGrantVerbs } from "../../lib/capability/grant.ts";
import { checkName } from "../../lib/host/home.ts";
import { parseVerbSpec } from "../../lib/capability/verbspec.ts";
import { tokenSha256 } from "../../lib/store/store.ts";
import { homeArg, jsonArg, repeatedFlag } from "../args.ts";
import { log, printJson, printTable } from "../output.ts";
import { ensureAgentToken, grantRows, homeFrom, withStore } from "./_shared.ts";

const add = defineCommand({
  meta: { name: "add", description: "Grant verbs to an agent (root); writes the agent's local credential" },
  args: {
    ...homeArg,
    ...jsonArg,
    agent: { type: "string", description: "Agent name", valueHint: "name", required: true },
    verb: { type: "string", description: "verb[:k=v|w,k=1..500] (repeatable)", valueHint: "spec", required: true },
  },
  async run({ args, rawArgs }) {
    const paths = homeFrom(args);
    const agent = checkName("agent", args.agent);
    const specs = repeatedFlag(rawArgs, "verb").map(parseVerbSpec);
    const catalog = readCatalogFile(paths.catalog);
    const added = grantVerbsFromSpecs(catalog, specs);
    const grant = await withStore(paths, (store, audit) => {
      const existing = store.getGrant(agent)?.verbs ?? {};
      const g = store.putGrant(agent, mergeGrantVerbs(existing, added));
      const token = ensureAgentToken(paths, agent);
      store.setAgentCredential(agent, tokenSha256(token));
      // The same grant again is not a change: no new revision, no audit row.
      if (g.changed) audit.append({ kind: "grant.changed", agent, detail: `added ${Object.keys(added).join(", ")}; revision ${g.revision}` });
      return g;
    });
    const { changed, ...row } = grant;
    if (args.json) return printJson(row);
    if (changed) log.success(`agent ${agent} now holds ${Object.keys(grant.verbs).length} verb(s) (grant revision ${grant.revision})`);
    else log.success(`agent ${agent} already holds exactly this grant (revision ${grant.revision} unchanged)`);
    printTable(["VERB", "ALLOWED"], grantRows(grant.verbs).map((r) => [r.verb, r.params]));
  },
});

const list = defineCommand({
  meta: { name: "list", description: "List grants" },
  args: { ...homeArg, ...jsonArg, agent: { type: "string", description: "Only this agent", valueHint: "name" } },
  async run({ args }) {
    const paths = homeFrom(args);
    const grants = await withStore(paths, (s) => s.listGrants().filter((g) => !args.agent || g.agent === args.agent));
    if (args.json) return printJson(grants);
    if (grants.length === 0) return log.info("no grants yet; add one with: openscope grant add --agent NAME --verb VERB");
    const rows = grants.flatMap((g) => grantRows(g.verbs).map((r) => [g.agent, String(g.revision), r.verb, r.params]));
    printTable(["AGENT", "REV", "VERB", "ALLOWED"], rows);
  },
});

const revoke = defineCommand({
  meta: { name: "revoke", description: "Remove one verb from an agent's grant, or --all" },
  args: {
    ...homeArg,
    agent: { type: "string", description: "Agent name", valueHint: "name", required: true },
    verb: { type: "string", description: "Verb to remove (repeatable)", valueHint: "verb" },
    all: { type: "boolean", description: "Remove the agent's whole grant" },
  },
  async run({ args, rawArgs }) {
    const paths = homeFrom(args);
    const agent = checkName("agent", args.agent);
    const verbs = repeatedFlag(rawArgs, "verb");
    if (!args.all && verbs.length === 0) throw usageError("say what to revoke: --verb VERB (repeatable) or --all");
    await withStore(paths, (store, audit) => {
      const noGrant = () => usageError(`agent "${agent}" has no grant`);
      if (args.all) {
        // Not read first: --all also clears a stored grant that no longer parses.
        if (!store.deleteGrant(agent)) throw noGrant();
        audit.append({ kind: "grant.changed", agent, detail: "revoked all" });
        log.success(`agent ${agent} holds no verbs now; live shares of ${agent} are denied from now on, also if ${agent} is granted verbs again`);
        return;
      }
      const grant = store.getGrant(agent);
      if (!grant) throw noGrant();
      const remaining = { ...grant.verbs };
      for (const v of verbs) {
        if (!(v in remaining)) throw usageError(`agent "${agent}" holds no verb "${v}"`, [`see: openscope grant list --agent ${agent}`]);
        delete remaining[v];
      }
      const g = store.putGrant(agent, remaining);
      if (g.changed) audit.append({ kind: "grant.changed", agent, detail: `revoked ${verbs.join(", ")}; revision ${g.revision}` });
      log.success(`removed ${verbs.join(", ")} from ${agent} (grant revision ${g.revision})`);
    });
  },
});

export default defineCommand({
  meta: { name: "grant", description: "Manage root-owned grants: add, list, revoke" },
  subCommands: { add, list, revoke },
});
