// The recipient's known-daemons file, as OpenSSH's known_hosts: "<daemon name> <fingerprint>" per
// line, 0600 in a 0700 folder. trustOf() is the one decision on a daemon's hello (pinned by
// --fingerprint, known, changed, or not seen before); the file's reading and writing sit beside it.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export function knownDaemonsPath(configDir: string): string {
  return join(configDir, "known_daemons");
}

function parseLine(line: string): { name: string; fingerprint: string | undefined } {
  const [name = "", fingerprint] = line.trim().split(/\s+/);
  return { name, fingerprint };
}

/** The fingerprint remembered for `name`, if any. */
export function knownFingerprint(file: string, name: string): string | undefined {
  if (!existsSync(file)) return undefined;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const { name: n, fingerprint } = parseLine(line);
    if (n === name && fingerprint) return fingerprint;
  }
  return undefined;
}

/** Remembers `fingerprint` for `name`, replacing any line for that name. */
export function rememberDaemon(file: string, name: string, fingerprint: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const kept = existsSync(file) ? readFileSync(file, "utf8").split("\n").filter((l) => l.trim() && parseLine(l).name !== name) : [];
  writeFileSync(file, [...kept, `${name} ${fingerprint}`].join("\n") + "\n", { mode: 0o600 });
}

/** What to make of a daemon's hello, given the --fingerprint flag and the known-daemons file. */
export type Trust =
  | { kind: "pinned" } //                 --fingerprint named the handshake key: go on, and remember it
  | { kind: "known" } //                  the file names this fingerprint for this daemon: go on
  | { kind: "changed"; was: string } //   the file names another one: refuse, loudly
  | { kind: "unknown" }; //               not seen before: a person confirms at a TTY, else refuse

/**
 * `pinned`: the flag was given (and already matched the handle's key before connecting).
 * `known`: the file's fingerprint for the daemon's name. `presented`: the hello's fingerprint.
 */
export function trustOf(pinned: boolean, known: string | undefined, presented: string): Trust {
  if (pinned) return { kind: "pinned" };
  if (known === undefined) return { kind: "unknown" };
  return known === presented ? { kind: "known" } : { kind: "changed", was: known };
}
