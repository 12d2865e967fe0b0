import { defineCommand } from "citty";
import { notImplemented } from "../run.ts";

export default defineCommand({
  meta: { name: "keygen", description: "Create your recipient key and print the public key to send to the operator" },
  args: {
    key: { type: "string", description: "Where to write the key", valueHint: "file" },
    force: { type: "boolean", description: "Overwrite an existing key" },
  },
  run: () => notImplemented("keygen"),
});
