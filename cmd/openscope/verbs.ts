// `openscope verbs`: the catalog (`verbs` or `verbs list`), one agent's capability surface
// (`--agent`), the built-in verb packs (`verbs packs [PACK]`) and `verbs add PACK`, which appends a
// pack's reviewed verbs to verbs.toml (SPEC.md §2.7).
import { defineCommand, type CommandDef } from "citty";
import { readCatalogFile } from "../../lib/host/catalog-file.ts";
import { usageError } from "../../lib/errors.ts";
import type { VerbDef } from "../../lib/capability/catalog.ts";
import { checkName } from "../../lib/host/home.ts";
import { buildPackToml } from "../../lib/host/packs/pack.ts";
import { allPacks, findPack } from "../../lib/host/packs/registry.ts";
import { addPackToCatalog, planPackAddition } from "../../lib/host/packs/install.ts";
import { homeArg, jsonArg, repeatedFlag } from "../args.ts";
import { log, printJson, printTable } from "../output.ts";
import { describeParams, homeFrom, withStore } from "./_shared.ts";

const listArgs = {
  ...homeArg,
  ...jsonArg,
  agent: { type: "string", description: "Show what this agent's grant allows", valueHint: "name" },
} as const;

async function listVerbs(args: { home?: string; json?: boolean; agent?: string }): Promise<void> {
  const paths = homeFrom(args);
  const catalog = readCatalogFile(paths.catalog);
  if (args.agent) {
    const agent = checkName("agent", args.agent);
    const grant = await withStore(paths, (s) => s.getGrant(agent));
    if (!grant) throw usageError(`agent "${agent}" has no grant`, [`grant verbs with: openscope grant add --agent ${agent} --verb …`]);
    const verbs = grant.verbs;
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
}

const list = defineCommand({
  meta: { name: "list", description: "List the verb catalog, or one agent's capability surface (the default)" },
  args: listArgs,
  run: ({ args }) => listVerbs(args),
});

function paramsOf(v: VerbDef): string {
  return describeParams(Object.fromEntries(Object.entries(v.params).map(([k, p]) => [k, p.constraint])));
}

function settingValue(v: string | string[]): string {
  return Array.isArray(v) ? v.join(",") : v === "" ? "(unset)" : v;
}

const packs = defineCommand({
  meta: { name: "packs", description: "List the built-in verb packs, or one pack's settings and verbs" },
  args: { ...jsonArg, pack: { type: "positional", description: "Show this pack", required: false, valueHint: "pack" } },
  run({ args }) {
    if (args.json) homeFrom({ json: true });
    if (!args.pack) {
      const rows = allPacks().map((p) => ({ name: p.name, version: p.version, summary: p.summary, verbs: Object.keys(p.verbs) }));
      if (args.json) return printJson(rows);
      printTable(["PACK", "VERSION", "VERBS", "SUMMARY"], rows.map((r) => [r.name, String(r.version), r.verbs.join(" "), r.summary]));
      log.info("\nsee one pack with: openscope verbs packs NAME; add it with: openscope verbs add NAME [--set key=value]");
      return;
    }
    const pack = findPack(args.pack);
    const { catalog } = buildPackToml(pack);
    const settings = pack.settings.map((s) => ({ key: s.key, kind: s.kind, default: s.default, example: s.example, summary: s.summary }));
    const verbs = [...catalog.values()].map((v) => ({
      name: v.name,
      summary: v.summary,
      params: Object.fromEntries(Object.entries(v.params).map(([k, p]) => [k, { constraint: p.constraint, default: p.default }])),
    }));
    if (args.json) return printJson({ name: pack.name, version: pack.version, summary: pack.summary, settings, verbs });
    log.info(`pack ${pack.name} version ${pack.version}: ${pack.summary}\n`);
    printTable(["SETTING (--set)", "DEFAULT", "MEANING"], settings.map((s) => [s.key, settingValue(s.default), s.summary]));
    log.info("");
    printTable(
      ["VERB (with defaults)", "PARAMETERS", "SUMMARY"],
      [...catalog.values()].map((v) => [v.name, paramsOf(v), v.summary]),
    );
  },
});

const add = defineCommand({
  meta: { name: "add", description: "Append a pack's verbs to verbs.toml (named PACK.verb, or PREFIX.verb with --as)" },
  args: {
    ...homeArg,
    ...jsonArg,
    pack: { type: "positional", description: "The pack (see: openscope verbs packs)", required: true, valueHint: "pack" },
    as: { type: "string", description: "Name the verbs PREFIX.verb instead of PACK.verb", valueHint: "prefix" },
    set: { type: "string", description: "key=value for one of the pack's settings (repeatable; lists comma-separated)", valueHint: "key=value" },
    "dry-run": { type: "boolean", description: "Print the verbs.toml text instead of writing it" },
  },
  run({ args, rawArgs }) {
    const paths = homeFrom(args);
    const pack = findPack(args.pack);
    const opts = { prefix: args.as, setFlags: repeatedFlag(rawArgs, "set") };
    if (args["dry-run"]) {
      const plan = planPackAddition(paths.catalog, pack, opts);
      if (args.json) return printJson({ pack: pack.name, version: pack.version, verbs: plan.verbs, settings: plan.values, toml: plan.toml, written: false });
      process.stdout.write(plan.toml);
      return;
    }
    const added = addPackToCatalog(paths.catalog, pack, opts);
    if (args.json) return printJson({ pack: pack.name, version: pack.version, verbs: added.verbs, settings: added.values, file: paths.catalog, written: true });
    log.success(`added ${added.verbs.length} verbs of pack ${pack.name} (version ${pack.version}) to ${paths.catalog}`);
    printTable(["VERB", "PARAMETERS", "SUMMARY"], [...added.catalog.values()].map((v) => [v.name, paramsOf(v), v.summary]));
    log.info(`\nnext: openscope grant add --agent NAME --verb ${added.verbs[0]} …, then openscope reload so the running daemon reads the catalog`);
  },
});

const SUBCOMMANDS = ["list", "packs", "add"];

/** True when the first word that is not an option or an option's value names a subcommand. */
function namesSubcommand(rawArgs: string[]): boolean {
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i]!;
    if (a === "--") return false;
    if (a.startsWith("-")) {
      if ((a === "--home" || a === "--agent") && !a.includes("=")) i++;
      continue;
    }
    return SUBCOMMANDS.includes(a);
  }
  return false;
}

export default defineCommand({
  meta: { name: "verbs", description: "List the verb catalog or one agent's capability surface; add verbs from a built-in pack" },
  args: listArgs,
  subCommands: {
    list: () => list,
    packs: () => packs,
    add: () => add,
  } as Record<string, () => CommandDef<any>>,
  // Without a subcommand, `openscope verbs [--agent you]` lists as it always did. citty runs a
  // parent's run after its subcommand's, so skip it when one was named.
  async run({ args, rawArgs }) {
    if (namesSubcommand(rawArgs)) return;
    await listVerbs(args);
  },
});
