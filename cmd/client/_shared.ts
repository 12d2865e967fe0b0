// What the recipient's commands share: where the key and config live, reading the parent's flags
// (citty hides them from subcommands), connecting with fingerprint confirmation (the decision is
// lib/client/known-daemons.ts), and the passport card.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { ClientSession, sessionKeys, type Hello } from "../../lib/client/session.ts";
import type { Constraint } from "../../lib/capability/constraint.ts";
import { formatDuration } from "../../lib/units.ts";
import { connectionError, usageError } from "../../lib/errors.ts";
import { type Handle } from "../../lib/wire/handle.ts";
import { fingerprint, isFingerprintText, normalizeCode, parseVerification, verificationMatches } from "../../lib/crypto/fingerprint.ts";
import { isKnown, knownDaemonsPath, rememberDaemon, trustOf } from "../../lib/client/known-daemons.ts";
import { readRecipientKey } from "../../lib/host/keyfile.ts";
import { paint, terminalSafe } from "../output.ts";
import { chooseHandleSource, noHandleError, readHandle, type HandleSource, type StdinUse } from "./handle-source.ts";

export function configDir(env = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "openscope");
}

export function defaultKeyPath(): string {
  return join(configDir(), "recipient.key");
}

/** A flag given anywhere on the command line (`--passport H call …` puts it before the subcommand). */
export function globalFlag(name: string, argv = process.argv.slice(2)): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === `--${name}`) return argv[i + 1];
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
}

export function hasFlag(name: string, argv = process.argv.slice(2)): boolean {
  return argv.includes(`--${name}`);
}

export interface Connected {
  session: ClientSession;
  hello: Hello;
}

/** Where this command line says the handle is (SPEC.md §13.2); `saved` is a saved share's name given as a word. */
export function handleSourceOf(saved?: string): HandleSource | undefined {
  return chooseHandleSource({ passport: globalFlag("passport"), passportFile: globalFlag("passport-file"), env: process.env.OPENSCOPE_PASSPORT, saved });
}

/** Whether the handle comes from a flag or the environment (so a first word is a verb, not a saved name). */
export function handleFlagGiven(): boolean {
  return handleSourceOf() !== undefined;
}

/** handle → key: reads the handle from where it was given and, for a sealed one, the recipient key. */
async function openHandle(saved: string | undefined, stdin: StdinUse): Promise<{ handle: Handle; privateKey: Uint8Array | undefined }> {
  const source = handleSourceOf(saved);
  if (!source) throw noHandleError();
  const handle = await readHandle(source, configDir(), stdin);
  if (handle.secret.kind !== "sealed") return { handle, privateKey: undefined };
  const keyPath = globalFlag("key") ?? defaultKeyPath();
  if (!existsSync(keyPath)) {
    throw usageError(`this handle is sealed to a recipient key, and there is no key at ${keyPath}`, [
      "create one with: openscope-reflect-client keygen, send the public key to the operator, or pass --key FILE",
    ]);
  }
  return { handle, privateKey: readRecipientKey(keyPath).privateKey };
}

/** How many times a person may retype the code before the client gives up. */
const CODE_ATTEMPTS = 3;

/**
 * The person's check of the daemon (SPEC.md §8.2), before anything is sent to the relay: the
 * handle's two keys must match `--verify CODE` / `--fingerprint FP`, else a known daemon, else
 * the code a person at a TTY types after hearing it from the operator. Errors and hints never
 * show the expected value: a swapped handle would hand the attacker's value to the victim.
 */
async function verifyDaemon(handle: Handle, interactive: boolean): Promise<{ remember: boolean }> {
  const fp = fingerprint(handle.daemonPublicKey, handle.signPublicKey);
  const given = globalFlag("verify") ?? globalFlag("fingerprint");
  const flag = globalFlag("verify") !== undefined ? "--verify" : "--fingerprint";
  if (given !== undefined) {
    const v = parseVerification(given, flag); // garbage: usage error, exit 2
    if (!verificationMatches(handle.daemonPublicKey, handle.signPublicKey, v))
      throw connectionError(`${flag}: the daemon in this handle does not match the ${v.kind === "code" ? "verification code" : "fingerprint"} you were given; not connecting`, [
        "the handle may have been swapped on its way to you: ask the operator to send it again, and to read you the code from `openscope fingerprint` by phone",
      ]);
    return { remember: true };
  }
  const trust = trustOf(false, isKnown(knownDaemonsPath(configDir()), fp));
  if (trust.kind === "known") return { remember: false };
  if (interactive && process.stdin.isTTY) {
    process.stderr.write("This daemon is new to you. Ask the operator to read you its verification code (openscope fingerprint).\n");
    // loaded here, not at the top: a static builtin import costs every start of the binary
    const { createInterface } = await import("node:readline/promises");
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    // Ctrl-C at the question leaves, as at every other wait of the client (exit 130); without a
    // listener readline would only pause and leave the person at a dead prompt.
    rl.on("SIGINT", () => {
      rl.close();
      process.stderr.write("\n");
      process.exit(130);
    });
    try {
      for (let attempt = 1; attempt <= CODE_ATTEMPTS; attempt++) {
        const typed = (await rl.question("Type the code you heard (XXXXX-XXXXX-…): ")).trim();
        if (typed === "") break;
        if (normalizeCode(typed) !== undefined || isFingerprintText(typed)) {
          const v = parseVerification(typed, "--verify");
          if (verificationMatches(handle.daemonPublicKey, handle.signPublicKey, v)) return { remember: true };
          process.stderr.write("That code does not match this handle's daemon.\n");
        } else process.stderr.write("That is not a verification code: 26 letters and digits, in groups of five.\n");
      }
    } finally {
      rl.close();
    }
    throw connectionError("the daemon's verification code was not confirmed; not connecting", [
      "if the code you heard does not match, the handle may have been swapped: ask the operator to send it again",
    ]);
  }
  throw connectionError("this daemon is not known yet; confirm its verification code", [
    "ask the operator to read you the code from `openscope fingerprint` by phone, then pass --verify CODE",
  ]);
}

/** handle → key → the person's check of the daemon's keys → relay → handshake → hello. */
export async function connectToShare(opts: { interactiveConfirm: boolean; saved?: string; stdin?: StdinUse; events?: ConstructorParameters<typeof ClientSession>[2] }): Promise<Connected> {
  const { handle, privateKey } = await openHandle(opts.saved, opts.stdin ?? "read");
  // Usage errors first (exit 2), before any question is asked or anything dialed.
  const given = globalFlag("verify") ?? globalFlag("fingerprint");
  if (given !== undefined) parseVerification(given, globalFlag("verify") !== undefined ? "--verify" : "--fingerprint");
  const keys = sessionKeys(handle, privateKey);
  const { remember } = await verifyDaemon(handle, opts.interactiveConfirm);
  const session = new ClientSession(handle, keys, opts.events);
  const hello = await session.connect();
  if (remember) rememberDaemon(knownDaemonsPath(configDir()), hello.fingerprint, hello.daemonName);
  return { session, hello };
}

/** "service = web", "lines 1..5000", "service: web or api", "name matching ^[a-z]+$" */
export function describeParamPlain(name: string, c: Constraint): string {
  switch (c.kind) {
    case "enum":
      return c.values.length === 1 ? `${name} = ${c.values[0]}` : `${name}: ${c.values.join(" or ")}`;
    case "range":
      return c.min === c.max ? `${name} = ${c.min}` : `${name} ${c.min}..${c.max}`;
    case "pattern":
      return `${name} matching ${c.pattern}`;
  }
}

export function timeLeft(hello: Hello): number {
  return hello.expiresAt - (Date.now() + hello.clockSkewMs);
}

/** The passport card: who delegated, the daemon, each verb in plain words, time left. The daemon
 *  chose every name and value on it, so each of its words goes through terminalSafe. */
export function printPassportCard(hello: Hello, write: (s: string) => void = (s) => process.stderr.write(s)): void {
  const p = hello.passport;
  const lines = [
    "",
    // Ours first, on its own line; then what the daemon chose (its name, the principal).
    `daemon ${hello.fingerprint} (verified)`,
    `${paint("Passport", "bold", process.stderr)} from ${terminalSafe(p.principal)} on daemon ${terminalSafe(hello.daemonName)}`,
    ...Object.entries(p.verbs).map(([verb, params]) => {
      const words = Object.entries(params).map(([k, c]) => describeParamPlain(k, c));
      const approval = p.approval?.includes(verb) ? " (each call waits for the operator's approval)" : "";
      return terminalSafe(`  ${verb}${words.length ? ` — ${words.join(", ")}` : ""}${approval}`);
    }),
    `Time left: ${formatDuration(timeLeft(hello))}. Every call is recorded.`,
    "",
  ];
  write(lines.join("\n") + "\n");
}

/** `k=v` words → params; anything else is a usage error. */
export function parseCallArgs(words: string[]): Record<string, string> {
  // No prototype: a "__proto__=x" argument stays a key the daemon sees (and refuses).
  const params = Object.create(null) as Record<string, string>;
  for (const w of words) {
    const eq = w.indexOf("=");
    if (eq <= 0) throw usageError(`"${w}" is not a k=v argument`, ["call arguments look like: lines=50 service=web"]);
    const k = w.slice(0, eq);
    if (Object.hasOwn(params, k)) throw usageError(`${k} is given twice`, ["give each parameter once: lines=50 service=web"]);
    params[k] = w.slice(eq + 1);
  }
  return params;
}


/** What the recipient is told while a call waits for the operator (SPEC.md §17.2). */
export function approvalWaitLine(p: { request: string; timeoutMs: number }): string {
  // The id comes from the daemon: only its safe characters reach the terminal.
  const id = p.request.replace(/[^0-9A-Za-z_-]/g, "?").slice(0, 32);
  return `openscope-reflect-client: waiting for the operator's approval (request ${id}); it may take up to ${formatDuration(p.timeoutMs)}`;
}
