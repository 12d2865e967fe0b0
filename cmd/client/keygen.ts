// `keygen`: the recipient's X25519 key, written 0600 (refusing to overwrite without --force),
// and its public key on stdout for the operator to register with `openscope recipients add`.
import { defineCommand } from "citty";
import { generateX25519, encodePublicKey } from "../../lib/crypto/keys.ts";
import { writeRecipientKey } from "../../lib/host/keyfile.ts";
import { defaultKeyPath, globalFlag } from "./_shared.ts";

export default defineCommand({
  meta: { name: "keygen", description: "Create your recipient key and print the public key to send to the operator" },
  args: {
    key: { type: "string", description: "Where to write the key (default $XDG_CONFIG_HOME/openscope/recipient.key)", valueHint: "file" },
    force: { type: "boolean", description: "Overwrite an existing key" },
  },
  run({ args }) {
    const path = args.key ?? globalFlag("key") ?? defaultKeyPath();
    const key = generateX25519();
    writeRecipientKey(path, key, { force: Boolean(args.force) });
    const pub = encodePublicKey(key.publicKey);
    process.stdout.write(pub + "\n");
    process.stderr.write(`wrote ${path} (0600). Send the public key above to the operator; they register it with:\n  openscope recipients add <your-alias> ${pub}\n`);
  },
});
