// The recipient's global flags, defined once: declared on the program and again on each command
// that connects, so `call --help` and `mcp --help` list them and they work before or after the
// command's name (cmd/run.ts moves them; cmd/client/_shared.ts reads them from anywhere).
import type { ArgsDef } from "citty";

export const handleArgs = {
  "passport-file": { type: "string", description: "Read the handle the operator sent from FILE (- for stdin)", valueHint: "file" },
  passport: { type: "string", description: "The handle itself, or - to read it from stdin (a handle on the command line is visible to every local user: prefer --passport-file or OPENSCOPE_PASSPORT)", valueHint: "handle" },
  verify: { type: "string", description: "The verification code the operator read to you (openscope fingerprint)", valueHint: "code" },
  fingerprint: { type: "string", description: "Or the daemon's full fingerprint (SHA256:…)", valueHint: "fp" },
  key: { type: "string", description: "Recipient key file (default $XDG_CONFIG_HOME/openscope/recipient.key)", valueHint: "file" },
} as const satisfies ArgsDef;

export const outputArgs = {
  json: { type: "boolean", description: "Print JSON on stdout" },
  raw: { type: "boolean", description: "Pass the verb's output to the terminal as it is, escape codes included (default: shown escaped on a terminal)" },
} as const satisfies ArgsDef;
