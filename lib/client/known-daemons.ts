// The recipient's known-daemons file: "<fingerprint> <daemon name>" per line, 0600 in a 0700
// folder, KEYED BY THE FINGERPRINT (both daemon keys, SPEC.md §8.2), never by the name. The name
// is the daemon's own text (refused by the client unless it matches DAEMON_NAME): a label only,
// so two daemons both called "vm" are two lines, and no name can plant or replace a line.
// trustOf() is the one decision before a connection: verified now, known, or not seen before.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { DAEMON_NAME } from "../wire/rpc.ts";

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

export function knownDaemonsPath(configDir: string): string {
  return join(configDir, "known_daemons");
}

function fingerprintOf(line: string): string | undefined {
  const fp = line.trim().split(/\s+/)[0];
  return fp !== undefined && FINGERPRINT.test(fp) ? fp : undefined;
}

/** Whether a person confirmed this daemon (these two keys) before. */
export function isKnown(file: string, fingerprint: string): boolean {
  if (!existsSync(file)) return false;
  return readFileSync(file, "utf8")
    .split("\n")
    .some((line) => fingerprintOf(line) === fingerprint);
}

/** The names remembered for this fingerprint (a label for listings; never a key). */
export function knownName(file: string, fingerprint: string): string | undefined {
  if (!existsSync(file)) return undefined;
  for (const line of readFileSync(file, "utf8").split("\n")) if (fingerprintOf(line) === fingerprint) return line.trim().split(/\s+/)[1];
  return undefined;
}

/** Remembers a confirmed daemon, replacing the line of the same fingerprint; other lines stay. */
export function rememberDaemon(file: string, fingerprint: string, name: string): void {
  if (!FINGERPRINT.test(fingerprint)) throw new Error("known_daemons: not a fingerprint");
  const label = DAEMON_NAME.test(name) ? name : "-";
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const kept = existsSync(file) ? readFileSync(file, "utf8").split("\n").filter((l) => l.trim() && fingerprintOf(l) !== fingerprint) : [];
  writeFileSync(file, [...kept, `${fingerprint} ${label}`].join("\n") + "\n", { mode: 0o600 });
}

/** What to do before dialing, given --verify/--fingerprint and the file. */
export type Trust =
  | { kind: "verified" } //  --verify or --fingerprint matched the handle's keys: go on, and remember them
  | { kind: "known" } //     the file has this fingerprint: go on
  | { kind: "unknown" }; //  not seen before: a person types the code at a TTY, else refuse

/** `verified`: the flag was given and matched (a mismatch is refused before this). */
export function trustOf(verified: boolean, known: boolean): Trust {
  if (verified) return { kind: "verified" };
  return known ? { kind: "known" } : { kind: "unknown" };
}
