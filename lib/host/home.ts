// Where things live (SPEC.md §14): `--home dir` or OPENSCOPE_HOME puts everything in one flat
// folder; otherwise config and catalog in /etc/openscope and state in /var/lib/openscope.
import { accessSync, chmodSync, chownSync, constants, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { usageError } from "../errors.ts";

export interface HomePaths {
  configDir: string;
  stateDir: string;
  config: string; // config.toml
  catalog: string; // verbs.toml
  identity: string; // daemon.key
  database: string; // openscope.db
  socket: string; // control.sock
  agentsDir: string; // agents/<name>.token
}

export function resolveHome(flag?: string, env: Record<string, string | undefined> = process.env): HomePaths {
  const home = flag ?? env.OPENSCOPE_HOME;
  const configDir = home ? resolve(home) : "/etc/openscope";
  const stateDir = home ? resolve(home) : "/var/lib/openscope";
  return {
    configDir,
    stateDir,
    config: join(configDir, "config.toml"),
    catalog: join(configDir, "verbs.toml"),
    identity: join(stateDir, "daemon.key"),
    database: join(stateDir, "openscope.db"),
    socket: join(stateDir, "control.sock"),
    agentsDir: join(stateDir, "agents"),
  };
}

/**
 * The system-wide home (/etc/openscope, /var/lib/openscope) is root's. A user who is not root and
 * has not chosen a home of their own gets a usage error that says what to do, instead of a
 * permission error from deep inside (or a misleading "run openscope init"). A state folder the
 * user can enter (a group-readable home, see control_group) is fine.
 */
export function checkHomeUsable(paths: HomePaths, chosen: boolean, uid = process.getuid?.() ?? 0): void {
  if (chosen || uid === 0) return;
  let usable = false;
  try {
    accessSync(paths.stateDir, constants.X_OK);
    usable = true;
  } catch {
    usable = false;
  }
  if (!usable)
    throw usageError(`no OpenScope home for this user: ${paths.stateDir} ${existsSync(paths.stateDir) ? "is root's" : "does not exist"}`, [
      "pass --home DIR (or set OPENSCOPE_HOME=DIR) for a home of your own, e.g. --home ~/.openscope",
      "or run as root for the system-wide home in /etc/openscope and /var/lib/openscope",
    ]);
}

export function agentTokenPath(paths: HomePaths, agent: string): string {
  return join(paths.agentsDir, `${agent}.token`);
}

/** Agent and alias names: what may appear in a file name and a log line. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export function checkName(kind: "agent" | "alias", name: string | undefined): string {
  if (!name || !NAME_PATTERN.test(name)) {
    throw usageError(`${kind} "${name ?? ""}" is not a valid name`, [
      "use 1-64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit",
    ]);
  }
  return name;
}

/**
 * Creates a private folder (0700) if missing, and narrows one that is wider: nobody else may list
 * or write it. Group traverse (0710) is kept, so the members of `control_group` can reach the
 * control socket and their agent credential (SPEC.md §14).
 */
export function ensurePrivateDir(dir: string): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, privateDirMode(statSync(dir).mode));
}

/** 0700, plus group execute when the folder already had it. */
export function privateDirMode(mode: number): number {
  return 0o700 | (mode & 0o010);
}

/**
 * `control_group` (SPEC.md §14): the state folder and the agents folder become traversable by the
 * group (0710, group set), so its members reach control.sock (made 0660 by the control server) and
 * their own agent credential (0600, owned by them). Nothing becomes listable or readable by it.
 */
export function openHomeToGroup(paths: HomePaths, group: string): number {
  const gid = groupId(group);
  if (gid === undefined) throw usageError(`config.toml: control_group "${group}" is not a group on this host`, ["create it (groupadd), or remove control_group"]);
  if (!existsSync(paths.agentsDir)) mkdirSync(paths.agentsDir, { recursive: true, mode: 0o700 });
  for (const dir of [paths.stateDir, paths.agentsDir]) {
    chownSync(dir, statSync(dir).uid, gid);
    chmodSync(dir, 0o710);
  }
  return gid;
}

/** The numeric id of a group in /etc/group, or undefined. */
export function groupId(name: string, groupFile = "/etc/group"): number | undefined {
  let text: string;
  try {
    text = readFileSync(groupFile, "utf8");
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f[0] === name && f[2] !== undefined && /^\d+$/.test(f[2])) return Number(f[2]);
  }
  return undefined;
}
