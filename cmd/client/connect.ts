// `openscope-reflect-client NAME`: the interactive prompt over a saved share. Hidden: people type
// the name alone (cmd/client/index.ts routes it here), so help and completion do not list it.
import { defineCommand } from "citty";
import { hasSavedShare, listShares } from "../../lib/client/saved-shares.ts";
import { closestWord, usageError } from "../../lib/errors.ts";
import { handleArgs, outputArgs } from "./args.ts";
import { configDir } from "./_shared.ts";

const COMMANDS = ["keygen", "call", "mcp", "add", "list", "remove", "completion"];

export default defineCommand({
  meta: { name: "connect", description: "Connect to a saved share by name", hidden: true },
  args: {
    ...handleArgs,
    ...outputArgs,
    name: { type: "positional", required: true, description: "The saved share's name" },
  },
  async run({ args }) {
    const { runInteractive } = await import("./interactive.ts");
    const name = String(args.name);
    if (!hasSavedShare(configDir(), name)) {
      // A mistyped command lands here too: say both, escaped (JSON-quoted), with a guess.
      const guess = closestWord(name, [...COMMANDS, ...listShares(configDir()).map((s) => s.name)]);
      throw usageError(`unknown command or saved share ${JSON.stringify(name).slice(0, 80)}`, [
        ...(guess ? [`did you mean "openscope-reflect-client ${guess}"?`] : []),
        "see the saved shares with: openscope-reflect-client list; save one with: openscope-reflect-client add NAME --passport-file FILE",
      ]);
    }
    const code = await runInteractive(name);
    if (code !== 0) process.exitCode = code;
  },
});
