// Argv rendering (SPEC.md §7): a decided call becomes an argv array, never a shell string. Each
// {name} is replaced inside its own element after re-checking the value; for the ssh adapter the
// remote command line is built with strict POSIX single-quote quoting, one word per argument.
import type { VerbDef } from "../capability/catalog.ts";
import { admits, displayValue } from "../capability/constraint.ts";
import { usageError } from "../errors.ts";

const PLACEHOLDER = /\{([a-z_][a-z0-9_]*)\}/g;

/** argv with every placeholder replaced; refuses a missing, extra or out-of-constraint value. */
export function renderArgv(verb: VerbDef, params: Record<string, string>): string[] {
  for (const key of Object.keys(params))
    if (!Object.hasOwn(verb.params, key)) throw usageError(`argv: ${verb.name}: unknown parameter ${key}`);
  for (const [name, def] of Object.entries(verb.params)) {
    const value = Object.hasOwn(params, name) ? params[name] : undefined;
    if (typeof value !== "string") throw usageError(`argv: ${verb.name}: missing ${name}`);
    if (!admits(def.constraint, value)) throw usageError(`argv: ${verb.name}: ${name}=${displayValue(value)} is outside its constraint`);
  }
  return verb.argv.map((template, i) => {
    const arg = i === 0 ? template : template.replace(PLACEHOLDER, (_, name: string) => params[name]!);
    if (arg.includes("\0")) throw usageError(`argv: ${verb.name}: argument ${i} contains a NUL byte`);
    return arg;
  });
}

/** Strict POSIX quoting: always single-quoted, each ' written as '\''. NUL cannot be quoted. */
export function shellQuote(arg: string): string {
  if (arg.includes("\0")) throw usageError("argv: a NUL byte cannot be passed to a remote shell");
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

const SSH_OPTION = /^[A-Za-z][A-Za-z0-9]*=[\x21-\x7e]*$/;

/**
 * The remote side of an ssh verb (SPEC.md §7): `sh -c WATCHDOG openscope ARG…` runs the quoted
 * argv with stdin from /dev/null (in its own process group where `setsid` exists) and holds the
 * connection's stdin. The daemon keeps its end of ssh's stdin open while the verb runs, so stdin
 * reaches EOF only when the connection ends (a cancel, a timeout, a revoke, the daemon gone): then
 * the command's group gets SIGTERM, and SIGKILL a second later. Without a tty sshd signals nothing
 * itself. On a normal end whatever the command left in its group is killed, as for a local verb.
 */
export const REMOTE_WATCHDOG = [
  "exec 3<&0 </dev/null",
  'if command -v setsid >/dev/null 2>&1; then setsid "$@" 3<&- & else "$@" 3<&- & fi',
  "c=$!",
  '(while read -r _; do :; done <&3; kill -TERM -"$c" "$c"; sleep 1; kill -KILL -"$c" "$c") >/dev/null 2>&1 &',
  "w=$!",
  "exec 3<&-",
  'wait "$c"',
  "s=$?",
  'kill "$w" 2>/dev/null',
  'kill -KILL -"$c" 2>/dev/null',
  'exit "$s"',
].join("\n");

/** The remote command line: the watchdog, then each argument as one single-quoted word. */
export function remoteCommandLine(argv: string[]): string {
  return ["sh", "-c", REMOTE_WATCHDOG, "openscope", ...argv].map(shellQuote).join(" ");
}

/**
 * The local argv that runs `verb` on its host through the system ssh client:
 * [ssh, -o BatchMode=yes, -o StrictHostKeyChecking=yes, (-o UserKnownHostsFile=…), (-i …),
 *  (-o extra…), (-p port), (-l user), --, host, "<quoted remote command line>"], the remote
 * command line being `remoteCommandLine`: run it with stdin held open (RunRequest.holdStdin).
 */
export function renderSshArgv(
  verb: VerbDef,
  params: Record<string, string>,
  opts: { sshBinary?: string; knownHostsFile?: string; identityFile?: string; extraOptions?: string[] },
): string[] {
  if (verb.adapter !== "ssh" || verb.host === undefined) throw usageError(`argv: ${verb.name} is not an ssh verb`);
  if (verb.host.startsWith("-")) throw usageError(`argv: ${verb.name}: host must not start with "-"`);
  const remote = remoteCommandLine(renderArgv(verb, params));
  const out = [opts.sshBinary ?? "ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"];
  if (opts.knownHostsFile !== undefined) {
    // ssh splits this option's value on whitespace (it is a list of files).
    if (!/^[\x21-\x7e]+$/.test(opts.knownHostsFile)) throw usageError("argv: known hosts file path must not contain spaces");
    out.push("-o", `UserKnownHostsFile=${opts.knownHostsFile}`);
  }
  if (opts.identityFile !== undefined) out.push("-i", opts.identityFile);
  for (const o of opts.extraOptions ?? []) {
    if (!SSH_OPTION.test(o)) throw usageError(`argv: ssh option ${JSON.stringify(o)} must look like Name=value`);
    out.push("-o", o);
  }
  if (verb.port !== undefined) out.push("-p", String(verb.port));
  if (verb.user !== undefined) out.push("-l", verb.user);
  out.push("--", verb.host, remote);
  return out;
}
