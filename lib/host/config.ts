// config.toml: the daemon's relay URL and deployment token. Parsed with a schema; flags win.
import { existsSync, readFileSync } from "node:fs";
import * as v from "valibot";
import { usageError } from "../errors.ts";
import { refuseExposedSecretFile } from "./file-mode.ts";

const ConfigSchema = v.strictObject({
  // How recipients' known-daemons files name this daemon (default: the host name).
  name: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "must be a simple name"))),
  relay: v.optional(v.pipe(v.string(), v.regex(/^(ws|wss|http|https):\/\/[^\s]+$/, "must be a ws:// or wss:// URL"))),
  relay_token: v.optional(v.pipe(v.string(), v.minLength(1))),
  // The ssh adapter's known_hosts (operator-controlled) and client key.
  ssh_known_hosts: v.optional(v.string()),
  ssh_identity: v.optional(v.string()),
});
export type Config = v.InferOutput<typeof ConfigSchema>;

export function readConfig(path: string): Config {
  if (!existsSync(path)) return {};
  refuseExposedSecretFile(path, "config.toml");
  let raw: unknown;
  try {
    raw = Bun.TOML.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw usageError(`config.toml: ${(e as Error).message}`, [`fix ${path}`]);
  }
  const r = v.safeParse(ConfigSchema, raw);
  if (!r.success) throw usageError(`config.toml: ${v.summarize(r.issues).replace(/\n/g, "; ")}`, [`fix ${path}`]);
  return r.output;
}

/** ws(s):// URL of the relay, accepting http(s):// as a synonym. */
export function normalizeRelayUrl(url: string): string {
  const u = url.replace(/^http:/, "ws:").replace(/^https:/, "wss:").replace(/\/+$/, "");
  if (!/^wss?:\/\/[^\s/]+/.test(u)) throw usageError(`relay URL "${url}" is not a ws:// or wss:// URL`);
  return u;
}
