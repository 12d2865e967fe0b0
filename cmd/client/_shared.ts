// What the recipient's commands share: where the key and known-daemons file live, reading the
// parent's flags (citty hides them from subcommands), connecting with fingerprint confirmation,
// and the passport card.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline/promises";
import { ClientSession, sessionKeys, type Hello } from "../../lib/client/session.ts";
import type { Constraint } from "../../lib/capability/constraint.ts";
import { formatDuration } from "../../lib/units.ts";
import { connectionError, usageError } from "../../lib/errors.ts";
import { decodeHandle } from "../../lib/wire/handle.ts";
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

// ---- known daemons: "<daemon name> <fingerprint>" per line, as OpenSSH's known_hosts ----

function knownDaemonsPath(): string {
  return join(configDir(), "known_daemons");
}

function knownFingerprint(name: string): string | undefined {
  const file = knownDaemonsPath();
  if (!existsSync(file)) return undefined;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const [n, fp] = line.trim().split(/\s+/);
    if (n === name && fp) return fp;
  }
  return undefined;
}

function rememberDaemon(name: string, fp: string): void {
  const file = knownDaemonsPath();
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const kept = existsSync(file) ? readFileSync(file, "utf8").split("\n").filter((l) => l.trim() && l.trim().split(/\s+/)[0] !== name) : [];
  writeFileSync(file, [...kept, `${name} ${fp}`].join("\n") + "\n", { mode: 0o600 });
}

export interface Connected {
  session: ClientSession;
  hello: Hello;
}

/**
 * handle → key → relay → handshake → hello, then the fingerprint check: `--fingerprint` must
 * match exactly; else a known daemon must match; else a person confirms at a TTY (y/N).
 */
export async function connectToShare(opts: { interactiveConfirm: boolean; events?: ConstructorParameters<typeof ClientSession>[2] }): Promise<Connected> {
  const handleText = globalFlag("passport");
  if (!handleText) throw usageError("no handle given", ["pass the handle the operator sent: --passport <handle>"]);
  const handle = decodeHandle(handleText);
  const keyPath = globalFlag("key") ?? defaultKeyPath();
  let privateKey: Uint8Array | undefined;
  if (handle.secret.kind === "sealed") {
    if (!existsSync(keyPath)) {
      throw usageError(`this handle is sealed to a recipient key, and there is no key at ${keyPath}`, [
        "create one with: openscope-reflect-client keygen, send the public key to the operator, or pass --key FILE",
      ]);
    }
    privateKey = readRecipientKey(keyPath).privateKey;
  }
  const session = new ClientSession(handle, sessionKeys(handle, privateKey), opts.events);
  const expected = globalFlag("fingerprint");
  if (expected !== undefined && expected.trim() !== session.daemonFingerprint) {
    throw connectionError(`fingerprint mismatch: the handle's daemon is ${session.daemonFingerprint}, not ${expected.trim()}`, [
      "do not connect; ask the operator to read `openscope fingerprint` to you again",
    ]);
  }
  const hello = await session.connect();
  const known = knownFingerprint(hello.daemonName);
  if (expected !== undefined) {
    rememberDaemon(hello.daemonName, hello.fingerprint);
  } else if (known === hello.fingerprint) {
    // confirmed before
  } else if (known !== undefined) {
    session.close();
    process.stderr.write(
      [
        "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@",
        "@    WARNING: THE DAEMON'S KEY HAS CHANGED                @",
        "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@",
        `daemon "${hello.daemonName}" was ${known}`,
        `it now presents ${hello.fingerprint}`,
        "",
      ].join("\n"),
    );
    throw connectionError(`the key of daemon "${hello.daemonName}" changed; refusing to connect`, [
      `if the operator confirms the new fingerprint, pass --fingerprint or remove the line from ${knownDaemonsPath()}`,
    ]);
  } else if (opts.interactiveConfirm && process.stdin.isTTY) {
    process.stderr.write(`daemon "${hello.daemonName}" fingerprint: ${paint(hello.fingerprint, "bold", process.stderr)}\n`);
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    const answer = (await rl.question("Does it match what the operator read to you? [y/N] ")).trim().toLowerCase();
    rl.close();
    if (answer !== "y" && answer !== "yes") {
      session.close();
      throw connectionError("fingerprint not confirmed; disconnected");
    }
    rememberDaemon(hello.daemonName, hello.fingerprint);
  } else {
    session.close();
    throw connectionError(`daemon "${hello.daemonName}" is not known yet; confirm its fingerprint`, [
      `if the operator read you ${hello.fingerprint}, pass --fingerprint '${hello.fingerprint}'`,
    ]);
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
      return `  ${verb}${words.length ? ` — ${words.join(", ")}` : ""}`;
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

