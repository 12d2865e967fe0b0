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
 * The local argv that runs `verb` on its host through the system ssh client:
 * [ssh, -o BatchMode=yes, -o StrictHostKeyChecking=yes, (-o UserKnownHostsFile=…), (-i …),
 *  (-o extra…), (-p port), (-l user), --, host, "<quoted remote command line>"].
 */
export function renderSshArgv(
  verb: VerbDef,
  params: Record<string, string>,
  opts: { sshBinary?: string; knownHostsFile?: string; identityFile?: string; extraOptions?: string[] },
): string[] {
  if (verb.adapter !== "ssh" || verb.host === undefined) throw usageError(`argv: ${verb.name} is not an ssh verb`);
  if (verb.host.startsWith("-")) throw usageError(`argv: ${verb.name}: host must not start with "-"`);
  const remote = renderArgv(verb, params).map(shellQuote).join(" ");
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
