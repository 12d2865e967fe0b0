// Saved shares (SPEC.md §13.2): a handle kept under a name the recipient chose, one file per share,
// `shares/<name>.handle` (0600, in a 0700 folder) under the client's config folder, so the handle is
// never typed on a command line again. The name rule is checked before any path is built, so a
// hostile name (`../x`, a newline, an escape) never reaches the filesystem or a terminal.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { usageError } from "../errors.ts";
import { decodeHandle, type Handle } from "../wire/handle.ts";

/** Lowercase letters, digits, `-` and `_`, starting with a letter or digit; at most 32. */
export const SHARE_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** Words the client itself uses where a saved name may stand: a share by one of these names could never be reached. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(["keygen", "call", "mcp", "add", "list", "remove", "completion", "help", "connect"]);

const SUFFIX = ".handle";

/** Why `name` cannot name a saved share, or undefined when it can. Pure. */
export function shareNameProblem(name: string): string | undefined {
  if (!SHARE_NAME.test(name)) return "use 1 to 32 lowercase letters, digits, - and _, starting with a letter or digit";
  if (RESERVED_NAMES.has(name)) return "it is one of the client's own commands";
  return undefined;
}

/** Throws a usage error for a name outside the rule; the name is shown JSON-quoted (escaped). */
export function checkShareName(name: string): string {
  const problem = shareNameProblem(name);
  if (problem) throw usageError(`${JSON.stringify(name).slice(0, 80)} cannot name a saved share: ${problem}`, ["e.g. openscope-reflect-client add acme-prod --passport-file handle.txt"]);
  return name;
}

export function sharesDir(configDir: string): string {
  return join(configDir, "shares");
}

function fileOf(configDir: string, name: string): string {
  return join(sharesDir(configDir), checkShareName(name) + SUFFIX);
}

export function hasSavedShare(configDir: string, name: string): boolean {
  return shareNameProblem(name) === undefined && existsSync(fileOf(configDir, name));
}

/** Stores `handleText` (already decoded once by the caller) under `name`; refuses to replace one unless `force`. */
export function saveShare(configDir: string, name: string, handleText: string, opts: { force?: boolean } = {}): string {
  const file = fileOf(configDir, name);
  if (existsSync(file) && !opts.force) {
    throw usageError(`a share named ${name} is already saved`, [`remove it first (openscope-reflect-client remove ${name}), or pass --force to replace it`]);
  }
  const dir = sharesDir(configDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  // Written beside, then renamed: a reader never sees half a handle, and the mode is set from the start.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, handleText.replace(/\s+/g, "") + "\n", { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return file;
}

/** The handle text saved under `name`. */
export function loadShare(configDir: string, name: string): string {
  const file = fileOf(configDir, name);
  if (!existsSync(file)) {
    throw usageError(`no saved share named ${name}`, ["see the saved ones with: openscope-reflect-client list", `save one with: openscope-reflect-client add ${name} --passport-file FILE`]);
  }
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) throw usageError(`${file} is readable by other users (mode ${mode.toString(8)})`, [`run: chmod 600 ${file}`]);
  return readFileSync(file, "utf8");
}

export interface SavedShare {
  name: string;
  file: string;
  /** Undefined when the file no longer decodes as a handle (shown as damaged). */
  handle: Handle | undefined;
  expired: boolean;
}

/** Every saved share, by name; a file whose name breaks the rule is skipped (never ours). */
export function listShares(configDir: string, now = Date.now()): SavedShare[] {
  const dir = sharesDir(configDir);
  if (!existsSync(dir)) return [];
  const out: SavedShare[] = [];
  for (const entry of readdirSync(dir).sort()) {
    if (!entry.endsWith(SUFFIX)) continue;
    const name = entry.slice(0, -SUFFIX.length);
    if (shareNameProblem(name)) continue;
    const file = join(dir, entry);
    let handle: Handle | undefined;
    try {
      handle = decodeHandle(readFileSync(file, "utf8"));
    } catch {
      handle = undefined;
    }
    out.push({ name, file, handle, expired: handle !== undefined && handle.expiresAt <= now });
  }
  return out;
}

/** Removes the share saved under `name`; a usage error when there is none. */
export function removeShare(configDir: string, name: string): void {
  const file = fileOf(configDir, name);
  if (!existsSync(file)) throw usageError(`no saved share named ${name}`, ["see the saved ones with: openscope-reflect-client list"]);
  unlinkSync(file);
}
