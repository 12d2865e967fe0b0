// `openscope fingerprint`: the daemon's fingerprint and its speakable verification code (SPEC.md
// §8.2), both over the Noise and the passport-signing key. The operator reads the code to the
// recipient over another channel than the one that carries the handle.
import { defineCommand } from "citty";
import { existsSync } from "node:fs";
import { usageError } from "../../lib/errors.ts";
import { fingerprint, verificationCode } from "../../lib/crypto/fingerprint.ts";
import { readDaemonIdentity } from "../../lib/host/keyfile.ts";
import { homeArg, jsonArg } from "../args.ts";
import { printJson } from "../output.ts";
import { homeFrom } from "./_shared.ts";

export default defineCommand({
  meta: { name: "fingerprint", description: "Print the daemon's fingerprint and verification code (read the code to the recipient)" },
  args: { ...homeArg, ...jsonArg },
  run({ args }) {
    const paths = homeFrom(args);
    if (!existsSync(paths.identity)) throw usageError(`no daemon identity at ${paths.identity}`, ["run: openscope init"]);
    const id = readDaemonIdentity(paths.identity);
    const fp = fingerprint(id.noisePublic, id.signPublic);
    const code = verificationCode(id.noisePublic, id.signPublic);
    if (args.json) return printJson({ fingerprint: fp, code });
    process.stdout.write(`fingerprint: ${fp}\nverification code: ${code}\n`);
  },
});
