import { defineCommand } from "citty";
import { existsSync } from "node:fs";
import { usageError } from "../../lib/errors.ts";
import { fingerprint } from "../../lib/crypto/fingerprint.ts";
import { readDaemonIdentity } from "../../lib/host/keyfile.ts";
import { homeArg, jsonArg } from "../args.ts";
import { printJson } from "../output.ts";
import { homeFrom } from "./_shared.ts";

export default defineCommand({
  meta: { name: "fingerprint", description: "Print the daemon's fingerprint (read it to the recipient)" },
  args: { ...homeArg, ...jsonArg },
  run({ args }) {
    const paths = homeFrom(args);
    if (!existsSync(paths.identity)) throw usageError(`no daemon identity at ${paths.identity}`, ["run: openscope init"]);
    const fp = fingerprint(readDaemonIdentity(paths.identity).noisePublic);
    if (args.json) return printJson({ fingerprint: fp });
    process.stdout.write(fp + "\n");
  },
});
