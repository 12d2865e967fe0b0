import { defineCommand } from "citty";
import { usageError } from "../../lib/errors.ts";
import { checkName } from "../../lib/host/home.ts";
import { decodePublicKey } from "../../lib/crypto/keys.ts";
import { homeArg, jsonArg } from "../args.ts";
import { log, printJson, printTable } from "../output.ts";
import { homeFrom, withStore } from "./_shared.ts";

const add = defineCommand({
  meta: { name: "add", description: "Register a recipient's public key under an alias" },
  args: {
    ...homeArg,
    alias: { type: "positional", description: "Alias, e.g. vendor-b" },
    key: { type: "positional", description: "The public key printed by `openscope-reflect-client keygen`" },
  },
  async run({ args }) {
    const paths = homeFrom(args);
    const alias = checkName("alias", args.alias);
    if (!args.key) throw usageError("recipients add needs the public key", ["usage: openscope recipients add <alias> <public-key>"]);
    decodePublicKey(args.key); // malformed → exit 2 before anything is stored
    await withStore(paths, (store, audit) => {
      store.addRecipient(alias, args.key!.trim(), Date.now());
      audit.append({ kind: "recipient.changed", detail: `added ${alias}` });
    });
    log.success(`registered recipient ${alias}`);
  },
});

const list = defineCommand({
  meta: { name: "list", description: "List registered recipients" },
  args: { ...homeArg, ...jsonArg },
  async run({ args }) {
    const paths = homeFrom(args);
    const rows = await withStore(paths, (s) => s.listRecipients());
    if (args.json) return printJson(rows.map((r) => ({ alias: r.alias, public_key: r.publicKey, added_at: new Date(r.addedAt).toISOString() })));
    if (rows.length === 0) return log.info("no recipients yet; add one with: openscope recipients add ALIAS PUBLIC-KEY");
    printTable(["ALIAS", "PUBLIC KEY", "ADDED"], rows.map((r) => [r.alias, r.publicKey, new Date(r.addedAt).toISOString()]));
  },
});

const remove = defineCommand({
  meta: { name: "remove", description: "Forget a recipient" },
  args: { ...homeArg, alias: { type: "positional", description: "Alias" } },
  async run({ args }) {
    const paths = homeFrom(args);
    const alias = checkName("alias", args.alias);
    await withStore(paths, (store, audit) => {
      if (!store.removeRecipient(alias)) throw usageError(`unknown recipient "${alias}"`, ["see: openscope recipients list"]);
      audit.append({ kind: "recipient.changed", detail: `removed ${alias}` });
    });
    log.success(`removed recipient ${alias}`);
  },
});

export default defineCommand({
  meta: { name: "recipients", description: "Manage recipient keys: add, list, remove" },
  subCommands: { add, list, remove },
});
