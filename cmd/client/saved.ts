// `add NAME`, `list`, `remove NAME | --expired`: handles kept under a name (lib/client/saved-shares.ts),
// so `openscope-reflect-client NAME`, `call NAME verb k=v` and `mcp NAME` need no handle typed
// again. An expired share is shown as such from the expiry its handle carries.
import { defineCommand } from "citty";
import { checkShareName, listShares, removeShare, saveShare, type SavedShare } from "../../lib/client/saved-shares.ts";
import { shareOverError, usageError } from "../../lib/errors.ts";
import { formatDuration } from "../../lib/units.ts";
import { log, printJson, printTable, setHumanOutput, terminalSafe } from "../output.ts";
import { handleArgs } from "./args.ts";
import { configDir, handleSourceOf } from "./_shared.ts";
import { decodeGiven, readHandleText } from "./handle-source.ts";

const json = { json: { type: "boolean", description: "Print JSON on stdout" } } as const;

export const addCommand = defineCommand({
  meta: { name: "add", description: "Save a handle under a name: add NAME --passport-file FILE (or --passport -, or OPENSCOPE_PASSPORT)" },
  args: {
    name: { type: "positional", required: false, description: "The name to save it under (lowercase letters, digits, - and _)" },
    "passport-file": handleArgs["passport-file"],
    passport: handleArgs.passport,
    force: { type: "boolean", description: "Replace a share already saved under this name" },
    ...json,
  },
  async run({ args }) {
    if (args.json) setHumanOutput(false);
    if (!args.name) throw usageError("add needs a name", ["e.g. openscope-reflect-client add acme-prod --passport-file handle.txt"]);
    const name = checkShareName(String(args.name));
    const source = handleSourceOf();
    if (!source) throw usageError("add needs the handle", ["e.g. openscope-reflect-client add acme-prod --passport-file handle.txt (or --passport - to read stdin)"]);
    const text = await readHandleText(source, configDir());
    // Decoded (and a bearer handle on argv warned about) before anything is written.
    const handle = decodeGiven(source, text);
    const left = handle.expiresAt - Date.now();
    if (left <= 0) throw shareOverError("this handle's share has already expired; nothing saved", ["ask the operator for a new share"]);
    const file = saveShare(configDir(), name, text, { force: Boolean(args.force) });
    if (args.json) {
      printJson({ name, file, kind: handle.secret.kind, relay: handle.relayUrl, expires_at: new Date(handle.expiresAt).toISOString() });
      return;
    }
    log.success(`saved share ${name} (${handle.secret.kind}, ${formatDuration(left)} left) in ${file}`);
    log.info(`use it with: openscope-reflect-client ${name}  |  call ${name} VERB k=v  |  mcp ${name}`);
  },
});

function stateOf(s: SavedShare, now: number): string {
  if (!s.handle) return "damaged";
  return s.expired ? "expired" : `${formatDuration(s.handle.expiresAt - now)} left`;
}

export const listCommand = defineCommand({
  meta: { name: "list", description: "The saved shares: name, kind, relay, time left (expired ones say so)" },
  args: { ...json },
  run({ args }) {
    const now = Date.now();
    const shares = listShares(configDir(), now);
    if (args.json) {
      printJson(
        shares.map((s) => ({
          name: s.name,
          kind: s.handle?.secret.kind ?? null,
          relay: s.handle?.relayUrl ?? null,
          expires_at: s.handle ? new Date(s.handle.expiresAt).toISOString() : null,
          state: s.handle ? (s.expired ? "expired" : "live") : "damaged",
        })),
      );
      return;
    }
    if (shares.length === 0) {
      process.stderr.write("no saved shares; save one with: openscope-reflect-client add NAME --passport-file FILE\n");
      return;
    }
    // The relay URL is the operator's text: escaped.
    printTable(["NAME", "KIND", "RELAY", "STATE"], shares.map((s) => [s.name, s.handle?.secret.kind ?? "-", terminalSafe(s.handle?.relayUrl ?? "-"), stateOf(s, now)]));
    if (shares.some((s) => s.expired)) process.stderr.write("remove the expired ones with: openscope-reflect-client remove --expired\n");
  },
});

export const removeCommand = defineCommand({
  meta: { name: "remove", description: "Forget a saved share: remove NAME, or remove --expired for every expired one" },
  args: {
    name: { type: "positional", required: false, description: "The saved share's name" },
    expired: { type: "boolean", description: "Remove every saved share whose handle has expired" },
    ...json,
  },
  run({ args }) {
    if (!args.name && !args.expired) throw usageError("remove needs a name, or --expired", ["e.g. openscope-reflect-client remove acme-prod", "or: openscope-reflect-client remove --expired"]);
    const removed: string[] = [];
    if (args.name) {
      const name = checkShareName(String(args.name));
      removeShare(configDir(), name);
      removed.push(name);
    }
    if (args.expired) {
      for (const s of listShares(configDir())) {
        if (!s.expired || removed.includes(s.name)) continue;
        removeShare(configDir(), s.name);
        removed.push(s.name);
      }
    }
    if (args.json) return printJson({ removed });
    if (removed.length === 0) process.stderr.write("no expired shares to remove\n");
    for (const n of removed) log.success(`removed ${n}`);
  },
});
