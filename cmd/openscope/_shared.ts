// What the operator commands share: the home folder, the store and audit log, the agent
// credential files, and short renderings of grants for tables.
import { chownSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { nodeCrypto } from "../../lib/platform/node-crypto.ts";
import { AuditLog } from "../../lib/store/audit.ts";
import { describeConstraint, type Constraint } from "../../lib/capability/constraint.ts";
import { deniedError, usageError } from "../../lib/errors.ts";
import type { GrantVerbs } from "../../lib/capability/grant.ts";
import { agentTokenPath, checkHomeUsable, ensurePrivateDir, resolveHome, type HomePaths } from "../../lib/host/home.ts";
import { Store } from "../../lib/store/store.ts";
import { SHARE_ID } from "../../lib/share/issue.ts";
import { setHumanOutput, terminalSafe } from "../output.ts";

export function homeFrom(args: { home?: string; json?: boolean }): HomePaths {
  if (args.json) setHumanOutput(false);
  const paths = resolveHome(args.home);
  checkHomeUsable(paths, args.home !== undefined || Boolean(process.env.OPENSCOPE_HOME));
  return paths;
}

/** Runs `fn` with the store and audit log open, closing them after. */
export async function withStore<T>(paths: HomePaths, fn: (store: Store, audit: AuditLog) => T | Promise<T>): Promise<T> {
  ensurePrivateDir(paths.stateDir);
  const store = Store.open(paths.database);
  try {
    return await fn(store, new AuditLog(store));
  } finally {
    store.close();
  }
}

/** Creates the agent's local credential file (0600) if missing; returns the token. */
export function ensureAgentToken(paths: HomePaths, agent: string): string {
  ensurePrivateDir(paths.agentsDir);
  const file = agentTokenPath(paths, agent);
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const token = nodeCrypto().randomBytes(32).toString("base64url");
  writeFileSync(file, token + "\n", { mode: 0o600, flag: "wx" });
  // Readable by root and by the agent's owner: a local user of the same name owns the file.
  const owner = localUser(agent);
  if (owner) chownSync(file, owner.uid, owner.gid);
  return token;
}

function localUser(name: string): { uid: number; gid: number } | undefined {
  try {
    for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
      const f = line.split(":");
      if (f[0] === name && f[2] && f[3]) return { uid: Number(f[2]), gid: Number(f[3]) };
    }
  } catch {
    /* no passwd database: root alone holds the credential */
  }
  return undefined;
}

export function readAgentToken(paths: HomePaths, agent: string): string {
  const file = agentTokenPath(paths, agent);
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    throw deniedError(`you do not hold agent "${agent}"'s local credential (${file})`, [
      `root grants verbs (and writes the credential) with: openscope grant add --agent ${agent} --verb …`,
    ]);
  }
}

/** A share id as typed on the command line: checked before any question of whether it exists. */
export function checkShareId(id: string | undefined): string {
  if (!id || !SHARE_ID.test(id)) throw usageError(`"${terminalSafe(id ?? "")}" is not a share id`, ["see the ids with: openscope share list"]);
  return id;
}

export function describeParams(params: Record<string, Constraint>): string {
  const parts = Object.entries(params).map(([k, c]) => `${k}=${describeConstraint(c)}`);
  return parts.length ? parts.join("; ") : "(no parameters)";
}

export function grantRows(verbs: GrantVerbs): Array<{ verb: string; params: string }> {
  return Object.entries(verbs).map(([verb, params]) => ({ verb, params: describeParams(params) }));
}
