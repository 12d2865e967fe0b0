// `mcp --print-config [--host claude|cursor|vscode]`: the JSON snippet for an MCP host's config file
// (SPEC.md §13.1). The handle is named by a saved share or a file, never written into the snippet:
// host config files are often synced, shared or committed.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { usageError } from "../../lib/errors.ts";
import { hasSavedShare } from "../../lib/client/saved-shares.ts";
import type { HandleSource } from "./handle-source.ts";

export const MCP_HOSTS = ["claude", "cursor", "vscode"] as const;
export type McpHost = (typeof MCP_HOSTS)[number];

export interface ServerLaunch {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** The host's config shape: `mcpServers` for Claude (Desktop and Code) and Cursor, `servers` with a type for VS Code. Pure. */
export function mcpConfig(host: McpHost, s: ServerLaunch): unknown {
  const env = Object.keys(s.env).length > 0 ? { env: s.env } : {};
  if (host === "vscode") return { servers: { [s.name]: { type: "stdio", command: s.command, args: s.args, ...env } } };
  return { mcpServers: { [s.name]: { command: s.command, args: s.args, ...env } } };
}

/** How this very program is started again: the compiled binary, or bun with the entry file. */
export function selfCommand(): string[] {
  return Bun.main.endsWith(".ts") ? [process.execPath, Bun.main] : [process.execPath];
}

/**
 * The launch line for the host: this program, the handle's file or saved name, the flags that
 * confirm the daemon and pick the key, then `mcp`. A handle given inline (argv, stdin or
 * OPENSCOPE_PASSPORT) is refused: it would end up in the config file.
 */
export function serverLaunch(source: HandleSource | undefined, configDir: string, flags: { key?: string; fingerprint?: string; verify?: string; maxResult?: string }, env: NodeJS.ProcessEnv = process.env): ServerLaunch {
  const safe = "save it first (openscope-reflect-client add NAME --passport-file FILE, then mcp NAME --print-config) or pass --passport-file FILE";
  if (!source) throw usageError("--print-config needs the share: a saved share's NAME or --passport-file FILE", [safe]);
  const [command, ...pre] = selfCommand();
  const tail = [
    ...(flags.verify !== undefined ? ["--verify", flags.verify] : []),
    ...(flags.fingerprint !== undefined ? ["--fingerprint", flags.fingerprint] : []),
    ...(flags.key !== undefined ? ["--key", resolve(flags.key)] : []),
  ];
  const mcpTail = flags.maxResult !== undefined ? ["--max-result", flags.maxResult] : [];
  const launchEnv: Record<string, string> = env.XDG_CONFIG_HOME ? { XDG_CONFIG_HOME: resolve(env.XDG_CONFIG_HOME) } : {};
  switch (source.kind) {
    case "saved":
      if (!hasSavedShare(configDir, source.name)) throw usageError(`no saved share named ${source.name}`, ["see the saved ones with: openscope-reflect-client list"]);
      return { name: `openscope-${source.name}`, command: command!, args: [...pre, ...tail, "mcp", source.name, ...mcpTail], env: launchEnv };
    case "file": {
      const path = resolve(source.path);
      if (!existsSync(path)) throw usageError(`--passport-file ${source.path}: no such file`);
      return { name: "openscope", command: command!, args: [...pre, "--passport-file", path, ...tail, "mcp", ...mcpTail], env: launchEnv };
    }
    default:
      throw usageError("--print-config writes the handle's place into the host's config, never the handle itself", [safe]);
  }
}
