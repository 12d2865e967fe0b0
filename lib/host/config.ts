// config.toml: the daemon's relay URL and deployment token, the approval timeout and where
// notifications go. Parsed with a schema; flags win.
import { existsSync, readFileSync } from "node:fs";
import * as v from "valibot";
import { usageError } from "../errors.ts";
import { refuseExposedSecretFile } from "./file-mode.ts";
import { parseDuration } from "../units.ts";
import { webhookUrlProblem } from "../notify/targets.ts";

/** How long a call waits for the operator's approval unless config.toml says otherwise (SPEC.md §17.2). */
export const DEFAULT_APPROVAL_TIMEOUT_MS = 5 * 60_000;
const APPROVAL_TIMEOUT_MIN_MS = 1_000;
const APPROVAL_TIMEOUT_MAX_MS = 30 * 60_000;

const durationWithin = (what: string, min: number, max: number) =>
  v.pipe(
    v.string(),
    v.check((s) => {
      try {
        const ms = parseDuration(s, what);
        return ms >= min && ms <= max;
      } catch {
        return false;
      }
    }, `must be a duration from ${min / 1000}s to ${max / 60_000}m, such as "5m"`),
  );

const NotifySchema = v.strictObject({
  // argv of a command that gets one event as JSON on stdin (never run through a shell).
  command: v.optional(v.pipe(v.array(v.pipe(v.string(), v.minLength(1))), v.minLength(1, "must name a program"))),
  webhook: v.optional(v.pipe(v.string(), v.check((s) => webhookUrlProblem(s) === undefined, "must be an https:// URL (http:// only to a loopback address)"))),
  // Per delivery; a slower target is abandoned and counted as failed.
  timeout: v.optional(durationWithin("notify.timeout", 100, 60_000)),
});
import { DAEMON_NAME } from "../wire/rpc.ts";

const ConfigSchema = v.strictObject({
  // How recipients' known-daemons files name this daemon (default: the host name).
  name: v.optional(v.pipe(v.string(), v.regex(DAEMON_NAME, "must be a simple name"))),
  relay: v.optional(v.pipe(v.string(), v.regex(/^(ws|wss|http|https):\/\/[^\s]+$/, "must be a ws:// or wss:// URL"))),
  relay_token: v.optional(v.pipe(v.string(), v.minLength(1))),
  // The ssh adapter's known_hosts (operator-controlled) and client key.
  ssh_known_hosts: v.optional(v.string()),
  ssh_identity: v.optional(v.string()),
  approval_timeout: v.optional(durationWithin("approval_timeout", APPROVAL_TIMEOUT_MIN_MS, APPROVAL_TIMEOUT_MAX_MS)),
  notify: v.optional(NotifySchema),
  // A group whose members may use the control socket (0660) without being root (SPEC.md §14).
  control_group: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/, "must be a group name"))),
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

/** The approval timeout in ms (checked by the schema already). */
export function approvalTimeoutMs(config: Config): number {
  return config.approval_timeout === undefined ? DEFAULT_APPROVAL_TIMEOUT_MS : parseDuration(config.approval_timeout, "approval_timeout");
}
