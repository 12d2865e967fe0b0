// What the recipient's commands share: where the key and config live, reading the parent's flags
// (citty hides them from subcommands), connecting with fingerprint confirmation (the decision is
// lib/client/known-daemons.ts), and the passport card.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline/promises";
import { ClientSession, sessionKeys, type Hello } from "../../lib/client/session.ts";
import type { Constraint } from "../../lib/capability/constraint.ts";
import { formatDuration } from "../../lib/units.ts";
import { connectionError, usageError } from "../../lib/errors.ts";
import { decodeHandle, type Handle } from "../../lib/wire/handle.ts";
import { fingerprint, fingerprintMatches } from "../../lib/crypto/fingerprint.ts";
import { knownDaemonsPath, knownFingerprint, rememberDaemon, trustOf } from "../../lib/client/known-daemons.ts";
import { readRecipientKey } from "../../lib/host/keyfile.ts";
import { paint } from "../output.ts";

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

/** handle → key: reads the handle from --passport and, for a sealed one, the recipient key. */
function openHandle(): { handle: Handle; privateKey: Uint8Array | undefined } {
  const handleText = globalFlag("passport");
  if (!handleText) throw usageError("no handle given", ["pass the handle the operator sent: --passport <handle>"]);
  const handle = decodeHandle(handleText);
  if (handle.secret.kind !== "sealed") return { handle, privateKey: undefined };
  const keyPath = globalFlag("key") ?? defaultKeyPath();
  if (!existsSync(keyPath)) {
    throw usageError(`this handle is sealed to a recipient key, and there is no key at ${keyPath}`, [
      "create one with: openscope-reflect-client keygen, send the public key to the operator, or pass --key FILE",
    ]);
  }
  return { handle, privateKey: readRecipientKey(keyPath).privateKey };
}

/** --fingerprint, when given, must name the handle's daemon key before anything is dialed. */
function checkPinnedFingerprint(handle: Handle, expected: string | undefined): void {
  if (expected === undefined || fingerprintMatches(handle.daemonPublicKey, expected)) return;
  throw connectionError(`fingerprint mismatch: the handle's daemon is ${fingerprint(handle.daemonPublicKey)}, not ${expected.trim()}`, [
    "do not connect; ask the operator to read `openscope fingerprint` to you again",
  ]);
}

/** A person at a TTY reads the fingerprint and answers y/N. */
async function confirmAtTty(hello: Hello): Promise<boolean> {
  process.stderr.write(`daemon "${hello.daemonName}" fingerprint: ${paint(hello.fingerprint, "bold", process.stderr)}\n`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = (await rl.question("Does it match what the operator read to you? [y/N] ")).trim().toLowerCase();
  rl.close();
  return answer === "y" || answer === "yes";
}

function keyChangedError(hello: Hello, was: string, file: string): Error {
  process.stderr.write(
    [
      "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@",
      "@    WARNING: THE DAEMON'S KEY HAS CHANGED                @",
      "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@",
      `daemon "${hello.daemonName}" was ${was}`,
      `it now presents ${hello.fingerprint}`,
      "",
    ].join("\n"),
  );
  return connectionError(`the key of daemon "${hello.daemonName}" changed; refusing to connect`, [
    `if the operator confirms the new fingerprint, pass --fingerprint or remove the line from ${file}`,
  ]);
}

/**
 * handle → key → relay → handshake → hello, then the fingerprint check: `--fingerprint` must
 * match exactly; else a known daemon must match; else a person confirms at a TTY (y/N).
 */
export async function connectToShare(opts: { interactiveConfirm: boolean; events?: ConstructorParameters<typeof ClientSession>[2] }): Promise<Connected> {
  const { handle, privateKey } = openHandle();
  const session = new ClientSession(handle, sessionKeys(handle, privateKey), opts.events);
  const expected = globalFlag("fingerprint");
  checkPinnedFingerprint(handle, expected);
  const hello = await session.connect();
  const file = knownDaemonsPath(configDir());
  const trust = trustOf(expected !== undefined, knownFingerprint(file, hello.daemonName), hello.fingerprint);
  switch (trust.kind) {
    case "known":
      break;
    case "pinned":
      rememberDaemon(file, hello.daemonName, hello.fingerprint);
      break;
    case "changed":
      session.close();
      throw keyChangedError(hello, trust.was, file);
    case "unknown":
      if (!opts.interactiveConfirm || !process.stdin.isTTY) {
        session.close();
        throw connectionError(`daemon "${hello.daemonName}" is not known yet; confirm its fingerprint`, [
          `if the operator read you ${hello.fingerprint}, pass --fingerprint '${hello.fingerprint}'`,
        ]);
      }
      if (!(await confirmAtTty(hello))) {
        session.close();
        throw connectionError("fingerprint not confirmed; disconnected");
      }
      rememberDaemon(file, hello.daemonName, hello.fingerprint);
      break;
  }
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

/** The passport card: who delegated, the daemon, each verb in plain words, time left. */
export function printPassportCard(hello: Hello, write: (s: string) => void = (s) => process.stderr.write(s)): void {
  const p = hello.passport;
  const lines = [
    "",
    `${paint("Passport", "bold", process.stderr)} from ${p.principal} on daemon ${hello.daemonName} (${hello.fingerprint})`,
    ...Object.entries(p.verbs).map(([verb, params]) => {
      const words = Object.entries(params).map(([k, c]) => describeParamPlain(k, c));
      const approval = p.approval?.includes(verb) ? " (each call waits for the operator's approval)" : "";
      return `  ${verb}${words.length ? ` — ${words.join(", ")}` : ""}${approval}`;
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
