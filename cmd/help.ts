// What every `--help` ends with (README "Using it"): examples for the command, the exit codes of
// SPEC.md §1 and the environment variables the program reads. Examples live in one table keyed
// by the command path, so each command's help shows the commands people actually type.
import { ExitCode } from "../lib/errors.ts";

const EXAMPLES: Record<string, string[]> = {
  openscope: ["openscope init", "openscope daemon --relay wss://relay.example.com --relay-token-file /etc/openscope/relay-token", "openscope share open --agent you --verb ssh.tail_logs:service=web --to vendor-b --ttl 30m"],
  "openscope init": ["openscope init", "openscope --home ./demo init"],
  "openscope daemon": [
    "openscope daemon --relay wss://relay.example.com --relay-token-file /etc/openscope/relay-token",
    "OPENSCOPE_RELAY_TOKEN=… openscope daemon          # relay from config.toml",
    "openscope daemon --log-format json --log-level debug",
  ],
  "openscope verbs": ["openscope verbs", "openscope verbs --agent you --json", "openscope verbs add systemd --set units=nginx,postgresql"],
  "openscope verbs list": ["openscope verbs list", "openscope verbs list --agent you --json"],
  "openscope verbs packs": ["openscope verbs packs", "openscope verbs packs postgres"],
  "openscope verbs add": ["openscope verbs add systemd --set units=nginx,postgresql", "openscope verbs add postgres --as db --set dbname=app --set user=monitor"],
  "openscope grant": ["openscope grant add --agent you --verb 'ssh.tail_logs:service=web|api'", "openscope grant list", "openscope grant revoke --agent you --verb ssh.tail_logs"],
  "openscope grant add": ["openscope grant add --agent you --verb 'ssh.tail_logs:service=web|api' --verb ssh.restart_service"],
  "openscope grant list": ["openscope grant list", "openscope grant list --json"],
  "openscope grant revoke": ["openscope grant revoke --agent you --verb ssh.tail_logs", "openscope grant revoke --agent you --all"],
  "openscope recipients": ["openscope recipients add vendor-b osk1…", "openscope recipients list", "openscope recipients remove vendor-b"],
  "openscope recipients add": ["openscope recipients add vendor-b osk1…      # the line the vendor's keygen printed"],
  "openscope recipients list": ["openscope recipients list --json"],
  "openscope recipients remove": ["openscope recipients remove vendor-b"],
  "openscope share": ["openscope share open --agent you --verb ssh.tail_logs:service=web --to vendor-b --ttl 30m", "openscope share list", "openscope share revoke 3f2a9c0d1b7e"],
  "openscope share open": [
    "openscope share open --agent you --verb ssh.tail_logs:service=web,lines=1..500 --to vendor-b --ttl 30m",
    "openscope share open --agent you --verb ssh.restart_service:service=web --bearer --ttl 10m --json",
    "openscope share open --agent you --verb ssh.tail_logs --verb ssh.restart_service --approve ssh.restart_service --to vendor-b",
  ],
  "openscope share list": ["openscope share list", "openscope share list --json"],
  "openscope share extend": ["openscope share extend 3f2a9c0d1b7e --ttl 15m"],
  "openscope share revoke": ["openscope share revoke 3f2a9c0d1b7e"],
  "openscope share watch": ["openscope share watch 3f2a9c0d1b7e", "openscope share watch", "openscope share watch 3f2a9c0d1b7e --json | jq -c 'select(.kind == \"call.denied\")'"],
  "openscope share kill": ["openscope share kill 3f2a9c0d1b7e", "openscope share kill 3f2a9c0d1b7e 1a2b3c4d.7"],
  "openscope approvals": ["openscope approvals", "openscope approvals --json"],
  "openscope approve": ["openscope approve 0badf00d"],
  "openscope deny": ["openscope deny 0badf00d", "openscope deny 0badf00d --reason \"not during the release freeze\""],
  "openscope audit": ["openscope audit", "openscope audit --share 3f2a9c0d1b7e --json", "openscope audit --follow", "openscope audit --json --since 24h >> siem.jsonl", "openscope audit --verify"],
  "openscope fingerprint": ["openscope fingerprint", "openscope fingerprint --json"],
  "openscope status": ["openscope status", "openscope status --json | jq .problems", "openscope status || systemctl restart openscope-daemon"],
  "openscope reload": ["openscope reload", "sudo systemctl reload openscope-daemon      # the same, by SIGHUP"],
  "openscope completion": ["openscope completion bash > /etc/bash_completion.d/openscope", "openscope completion zsh > \"${fpath[1]}/_openscope\"", "openscope completion fish > ~/.config/fish/completions/openscope.fish"],
  "openscope-relay": [
    "openscope-relay --listen 0.0.0.0:8443 --tokens-file /etc/openscope-relay/tokens.txt",
    "openscope-relay --listen 0.0.0.0:443 --tokens-file tokens.txt --tls-cert cert.pem --tls-key key.pem",
    "openscope-relay --listen 10.0.0.11:8443 --tokens-file tokens.txt --trust-proxy 10.0.0.10 --metrics-listen 10.0.0.11:9100",
    "openscope-relay --listen 0.0.0.0:8443 --tokens-file tokens.txt --log-format json --log-level debug",
  ],
  "openscope-relay completion": ["openscope-relay completion bash > /etc/bash_completion.d/openscope-relay"],
  "openscope-reflect-client": [
    "openscope-reflect-client keygen",
    "openscope-reflect-client --passport-file handle.txt",
    "openscope-reflect-client add acme-prod --passport-file handle.txt && openscope-reflect-client acme-prod",
    "openscope-reflect-client --passport-file handle.txt --verify CODE call ssh.tail_logs lines=50",
  ],
  "openscope-reflect-client keygen": ["openscope-reflect-client keygen", "openscope-reflect-client keygen --show      # print the public key again", "openscope-reflect-client keygen --key ./vendor.key"],
  "openscope-reflect-client call": [
    "openscope-reflect-client --passport-file handle.txt --verify CODE call ssh.tail_logs lines=50",
    "openscope-reflect-client call acme-prod ssh.tail_logs lines=50      # a saved share",
    "OPENSCOPE_PASSPORT=\"$(cat handle.txt)\" openscope-reflect-client call ssh.tail_logs lines=50 --json",
    "openscope-reflect-client --passport - call ssh.tail_logs lines=50 < handle.txt > tail.log",
  ],
  "openscope-reflect-client mcp": [
    "openscope-reflect-client mcp acme-prod --print-config --host claude     # paste into the host's config",
    "openscope-reflect-client --passport-file handle.txt --verify CODE mcp",
    "openscope-reflect-client mcp acme-prod --max-result 64KiB",
  ],
  "openscope-reflect-client add": ["openscope-reflect-client add acme-prod --passport-file handle.txt", "openscope-reflect-client add acme-prod --passport - < handle.txt"],
  "openscope-reflect-client list": ["openscope-reflect-client list", "openscope-reflect-client list --json"],
  "openscope-reflect-client remove": ["openscope-reflect-client remove acme-prod", "openscope-reflect-client remove --expired"],
  "openscope-reflect-client completion": ["openscope-reflect-client completion bash > /etc/bash_completion.d/openscope-reflect-client"],
};

const ENVIRONMENT: Record<string, Array<[string, string]>> = {
  openscope: [
    ["OPENSCOPE_HOME", "put config, keys, database and socket under this folder (like --home)"],
    ["OPENSCOPE_RELAY_TOKEN", "the relay's deployment token for `openscope daemon`"],
    ["NO_COLOR", "no colours in output"],
  ],
  "openscope-relay": [["NO_COLOR", "no colours in output"]],
  "openscope-reflect-client": [
    ["OPENSCOPE_PASSPORT", "the handle, instead of --passport (never type a bearer handle on a command line)"],
    ["XDG_CONFIG_HOME", "where the recipient key, known daemons and saved shares live (default ~/.config/openscope)"],
    ["NO_COLOR", "no colours in output"],
  ],
};

const EXIT_CODES: Array<[number, string]> = [
  [ExitCode.ok, "ok"],
  [ExitCode.verbFailed, "the verb ran and failed (its own exit code is printed)"],
  [ExitCode.usage, "usage or malformed input"],
  [ExitCode.denied, "denied by policy"],
  [ExitCode.connection, "connection failure"],
  [ExitCode.shareOver, "share over (revoked or expired)"],
  [ExitCode.internal, "internal error of OpenScope itself"],
];

/** What a code means for one command where the general words would mislead. */
const EXIT_NOTES: Record<string, Partial<Record<number, string>>> = {
  "openscope status": {
    [ExitCode.verbFailed]: "needs attention: verbs.toml on disk differs from the loaded catalog, or fails its checks",
    [ExitCode.connection]: "the daemon is not running, no relay is configured, or the relay check failed",
  },
  "openscope reload": { [ExitCode.usage]: "refused: verbs.toml or config.toml fails its checks (nothing changed)" },
};

/** The command paths that have examples (a test checks every command has some). */
export function examplesFor(path: string): readonly string[] {
  return EXAMPLES[path] ?? [];
}

/** The text appended to `--help` of `program` at `path` (e.g. ["share", "open"]). */
export function helpFooter(program: string, path: string[]): string {
  const examples = examplesFor([program, ...path].join(" "));
  const lines: string[] = [];
  if (examples.length > 0) lines.push("EXAMPLES", "", ...examples.map((e) => `  ${e}`), "");
  const codes = program === "openscope-reflect-client" ? [...EXIT_CODES, [130, "interrupted by Ctrl-C (the running call is cancelled on the daemon)"] as [number, string]] : EXIT_CODES;
  const notes = EXIT_NOTES[[program, ...path].join(" ")] ?? {};
  lines.push("EXIT CODES", "", ...codes.map(([code, what]) => `  ${String(code).padEnd(3)} ${notes[code] ?? what}`), "");
  const env = ENVIRONMENT[program] ?? [];
  if (env.length > 0) lines.push("ENVIRONMENT", "", ...env.map(([name, what]) => `  ${name.padEnd(22)} ${what}`), "");
  return lines.join("\n");
}
