// What the operator commands share: the home folder, the store and audit log, the agent
// credential files, and short renderings of grants for tables.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { AuditLog } from "../../lib/audit.ts";
import { describeConstraint, type Constraint } from "../../lib/constraint.ts";
import { deniedError } from "../../lib/errors.ts";
import type { GrantVerbs } from "../../lib/grant.ts";
import { agentTokenPath, ensurePrivateDir, resolveHome, type HomePaths } from "../../lib/home.ts";
import { Store } from "../../lib/store.ts";
import { setHumanOutput } from "../output.ts";

export function homeFrom(args: { home?: string; json?: boolean }): HomePaths {
  if (args.json) setHumanOutput(false);
  return resolveHome(args.home);
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
  const token = randomBytes(32).toString("base64url");
  writeFileSync(file, token + "\n", { mode: 0o600, flag: "wx" });
  return token;
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

export function describeParams(params: Record<string, Constraint>): string {
  const parts = Object.entries(params).map(([k, c]) => `${k}=${describeConstraint(c)}`);
  return parts.length ? parts.join("; ") : "(no parameters)";
}

export function grantRows(verbs: GrantVerbs): Array<{ verb: string; params: string }> {
  return Object.entries(verbs).map(([verb, params]) => ({ verb, params: describeParams(params) }));
}
