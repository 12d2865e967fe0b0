// `openscope-reflect-client`: the recipient's side. The global flags (cmd/client/args.ts) are
// declared here and on each connecting command. `openscope-reflect-client NAME` (a saved share) is
// routed to the hidden `connect` command by routeSavedShare before citty sees the words.
import { defineCommand, type CommandDef } from "citty";
import { VERSION } from "../../lib/version.ts";
import { handleArgs, outputArgs } from "./args.ts";

const subCommands = {
  keygen: () => import("./keygen.ts").then((m) => m.default),
  call: () => import("./call.ts").then((m) => m.default),
  mcp: () => import("./mcp.ts").then((m) => m.default),
  add: () => import("./saved.ts").then((m) => m.addCommand),
  list: () => import("./saved.ts").then((m) => m.listCommand),
  remove: () => import("./saved.ts").then((m) => m.removeCommand),
  connect: () => import("./connect.ts").then((m) => m.default),
  completion: (): Promise<CommandDef<any>> => import("../completion.ts").then((m) => m.completionCommand("openscope-reflect-client", async () => clientMain)),
};

export const clientMain = defineCommand({
  meta: { name: "openscope-reflect-client", version: VERSION, description: "Connect to a share with a handle (or a saved share's NAME), confirm the daemon, call the sanctioned verbs" },
  args: {
    ...handleArgs,
    ...outputArgs,
    name: { type: "positional", required: false, description: "A saved share's name (see add, list), instead of a handle flag" },
  },
  subCommands,
  async run({ args }) {
    // citty also runs the parent after a subcommand: only act when no subcommand was named.
    if (args._.length > 0) return;
    const { runInteractive } = await import("./interactive.ts");
    const code = await runInteractive();
    if (code !== 0) process.exitCode = code;
  },
});

const VALUE_FLAGS = new Set(Object.entries(clientMain.args ?? {}).filter(([, d]) => (d as { type?: string }).type === "string").map(([n]) => `--${n}`));

/**
 * `openscope-reflect-client [flags] NAME [flags]` → `… connect NAME …`: the first word that is not
 * a flag, a flag's value or one of our commands names a saved share. Anything else is unchanged.
 */
export function routeSavedShare(argv: readonly string[]): string[] {
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]!;
    if (w === "--") break;
    if (w.startsWith("-") && w !== "-") {
      if (VALUE_FLAGS.has(w)) i++;
      continue;
    }
    if (Object.hasOwn(subCommands, w)) return [...argv];
    return [...argv.slice(0, i), "connect", ...argv.slice(i)];
  }
  return [...argv];
}
