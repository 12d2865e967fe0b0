// `openscope reload`: what SIGHUP does, with an answer (SPEC.md §14 "Reload"). The daemon reads
// verbs.toml and config.toml again; a file that fails its checks is refused with the reason
// (exit 2) and the daemon keeps what it had. Live shares meet the new catalog at their next call.
import { defineCommand } from "citty";
import { reloadDaemon } from "../../lib/control/client.ts";
import { OpenScopeError } from "../../lib/errors.ts";
import { readCatalogFile } from "../../lib/host/catalog-file.ts";
import { homeArg, jsonArg } from "../args.ts";
import { log, printJson } from "../output.ts";
import { homeFrom } from "./_shared.ts";

export default defineCommand({
  meta: { name: "reload", description: "Make the running daemon read verbs.toml and config.toml again (same as SIGHUP)" },
  args: { ...homeArg, ...jsonArg },
  async run({ args }) {
    const paths = homeFrom(args);
    const r = await reloadDaemon(paths.socket);
    if (args.json) return printJson(r);
    const changes = [
      r.added.length ? `added ${r.added.join(", ")}` : "",
      r.removed.length ? `removed ${r.removed.join(", ")}` : "",
      r.changed.length ? `changed ${r.changed.join(", ")}` : "",
      r.relay_changed ? "relay changed (open shares keep theirs)" : "",
      r.token_changed ? "deployment token changed" : "",
    ].filter(Boolean);
    log.success(`reloaded: ${r.verbs} verbs in the catalog${changes.length ? `; ${changes.join("; ")}` : "; catalog, relay and token unchanged"}`);
    for (const w of r.warnings) log.warn(w);
  },
});

/**
 * For `share open`: the daemon does not know a verb that verbs.toml on disk has (added after the
 * daemon loaded it, e.g. by `openscope verbs add`): say so and say to reload, instead of "unknown".
 */
export function withReloadHint(err: unknown, catalogPath: string): unknown {
  if (!(err instanceof OpenScopeError)) return err;
  const verb = /unknown verb (\S+)/.exec(err.message)?.[1];
  if (!verb) return err;
  let onDisk = false;
  try {
    onDisk = readCatalogFile(catalogPath).has(verb);
  } catch {
    return err; // verbs.toml unreadable or invalid here: the daemon's own words stand
  }
  if (!onDisk) return err;
  return new OpenScopeError(err.kind, `verb ${verb} is in verbs.toml but the running daemon has not loaded it`, {
    hints: ["run: openscope reload (or systemctl reload openscope-daemon), then open the share again"],
  });
}
