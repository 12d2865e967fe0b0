// `keygen`: the recipient's X25519 key, written 0600 (refusing to overwrite without --force),
// and its public key on stdout for the operator to register with `openscope recipients add`.
// `keygen --show` prints the public key of the key already there (as age-keygen -y does).
import { defineCommand } from "citty";
import { existsSync } from "node:fs";
import { generateX25519, encodePublicKey } from "../../lib/crypto/keys.ts";
import { usageError } from "../../lib/errors.ts";
import { readRecipientKey, writeRecipientKey } from "../../lib/host/keyfile.ts";
import { defaultKeyPath, globalFlag } from "./_shared.ts";

export default defineCommand({
  meta: { name: "keygen", description: "Create your recipient key and print the public key to send to the operator (--show: print it again)" },
  args: {
    key: { type: "string", description: "Where to write the key (default $XDG_CONFIG_HOME/openscope/recipient.key)", valueHint: "file" },
    force: { type: "boolean", description: "Overwrite an existing key" },
    show: { type: "boolean", description: "Print the public key of the existing key; write nothing" },
  },
  run({ args }) {
    const path = args.key ?? globalFlag("key") ?? defaultKeyPath();
    if (args.show) {
      if (args.force) throw usageError("--show writes nothing; it does not go with --force");
      if (!existsSync(path)) throw usageError(`there is no key at ${path}`, ["create one with: openscope-reflect-client keygen"]);
      process.stdout.write(encodePublicKey(readRecipientKey(path).publicKey) + "\n");
      return;
    }
    const key = generateX25519();
    writeRecipientKey(path, key, { force: Boolean(args.force) });
    const pub = encodePublicKey(key.publicKey);
    process.stdout.write(pub + "\n");
    process.stderr.write(`wrote ${path} (0600). Send the public key above to the operator; they register it with:\n  openscope recipients add <your-alias> ${pub}\n`);
  },
});
