// Where things live (SPEC.md §14): `--home dir` or OPENSCOPE_HOME puts everything in one flat
// folder; otherwise config and catalog in /etc/openscope and state in /var/lib/openscope.
import { chmodSync, existsSync, mkdirSync, statSync } from "node:fs";
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

/** Creates a private folder (0700) if missing. */
export function ensurePrivateDir(dir: string): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}
