import { defineCommand } from "citty";
import { readCatalogFile } from "../../lib/host/catalog-file.ts";
import { usageError } from "../../lib/errors.ts";
import type { GrantVerbs } from "../../lib/capability/grant.ts";
import { checkName } from "../../lib/host/home.ts";
import { homeArg, jsonArg } from "../args.ts";
import { log, printJson, printTable } from "../output.ts";
import { describeParams, homeFrom, withStore } from "./_shared.ts";

export default defineCommand({
  meta: { name: "verbs", description: "List the verb catalog, or one agent's capability surface" },
  args: { ...homeArg, ...jsonArg, agent: { type: "string", description: "Show what this agent's grant allows", valueHint: "name" } },
  async run({ args }) {
    const paths = homeFrom(args);
    const catalog = readCatalogFile(paths.catalog);
    if (args.agent) {
      const agent = checkName("agent", args.agent);
      const grant = await withStore(paths, (s) => s.getGrant(agent));
      if (!grant) throw usageError(`agent "${agent}" has no grant`, [`grant verbs with: openscope grant add --agent ${agent} --verb …`]);
      const verbs = grant.verbs as GrantVerbs;
      const rows = Object.entries(verbs).map(([name, params]) => ({ name, summary: catalog.get(name)?.summary ?? "", params }));
      if (args.json) return printJson(rows);
      printTable(["VERB", "ALLOWED", "SUMMARY"], rows.map((r) => [r.name, describeParams(r.params), r.summary]));
      return;
    }
    const rows = [...catalog.values()].map((v) => ({
      name: v.name,
      summary: v.summary,
      adapter: v.adapter,
      params: Object.fromEntries(Object.entries(v.params).map(([k, p]) => [k, p.constraint])),
    }));
    if (args.json) return printJson(rows);
    if (rows.length === 0) return log.info("the catalog has no verbs");
    printTable(["VERB", "ADAPTER", "PARAMETERS", "SUMMARY"], rows.map((r) => [r.name, r.adapter, describeParams(r.params), r.summary]));
  },
});
