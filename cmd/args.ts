// Argument definitions shared by several commands, and helpers for flags citty cannot express
// (a repeated flag keeps only its last value in citty: read those from rawArgs).
import type { ArgsDef } from "citty";
import { usageError } from "../lib/errors.ts";

export const homeArg = {
  home: { type: "string", description: "Put config, keys, database and socket under this folder (env OPENSCOPE_HOME)", valueHint: "dir" },
} as const satisfies ArgsDef;

export const jsonArg = {
  json: { type: "boolean", description: "Print JSON on stdout for scripts" },
} as const satisfies ArgsDef;

/** Every value of a flag that may repeat: `--verb a --verb b` and `--verb=a` forms. */
export function repeatedFlag(rawArgs: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i]!;
    if (a === `--${name}`) {
      const v = rawArgs[i + 1];
      if (v === undefined || v.startsWith("--")) throw usageError(`--${name} needs a value`);
      out.push(v);
      i++;
    } else if (a.startsWith(`--${name}=`)) {
      out.push(a.slice(name.length + 3));
    }
  }
  return out;
}
