// `openscope-reflect-client`: the recipient's side. `--passport` is declared here, on the
// parent, so `--passport H call verb k=v` resolves `call` (subcommands read it from rawArgs).
import { defineCommand, type CommandDef } from "citty";
import { VERSION } from "../../lib/version.ts";

export const clientMain = defineCommand({
  meta: { name: "openscope-reflect-client", version: VERSION, description: "Connect to a share with a handle, confirm the daemon, call the sanctioned verbs" },
  args: {
    passport: { type: "string", description: "The handle the operator sent you", valueHint: "handle" },
    verify: { type: "string", description: "The verification code the operator read to you (openscope fingerprint)", valueHint: "code" },
    fingerprint: { type: "string", description: "Or the daemon's full fingerprint (SHA256:…)", valueHint: "fp" },
    key: { type: "string", description: "Recipient key file (default $XDG_CONFIG_HOME/openscope/recipient.key)", valueHint: "file" },
    json: { type: "boolean", description: "Print JSON on stdout" },
  },
  subCommands: {
    keygen: () => import("./keygen.ts").then((m) => m.default),
    call: () => import("./call.ts").then((m) => m.default),
    mcp: () => import("./mcp.ts").then((m) => m.default),
    completion: (): Promise<CommandDef<any>> => import("../completion.ts").then((m) => m.completionCommand("openscope-reflect-client", async () => clientMain)),
  },
  async run({ args }) {
    // citty also runs the parent after a subcommand: only act when no subcommand was named.
    if (args._.length > 0) return;
    const { runInteractive } = await import("./interactive.ts");
    const code = await runInteractive();
    if (code !== 0) process.exitCode = code;
  },
});
