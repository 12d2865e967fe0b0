// What the daemon reads from disk and may read again without a restart (SPEC.md §14 "Reload"):
// the verb catalog (verbs.toml, with the digest of the bytes it was parsed from) and config.toml
// (relay URL and deployment token, name, ssh options). `reload` parses both first and swaps them
// in only when both pass their checks; a file that fails keeps everything as it was and says why.
// Flags given at start (--relay, --relay-token-file, OPENSCOPE_RELAY_TOKEN) keep winning.
import { nodeCrypto } from "../platform/node-crypto.ts";
import { existsSync, readFileSync } from "node:fs";
import { catalogWarnings, parseCatalog, type Catalog } from "../capability/catalog.ts";
import { OpenScopeError, usageError } from "../errors.ts";
import { readConfig, type Config } from "../host/config.ts";
import { parseOperatorRelayUrl } from "../wire/relay-url.ts";
import { refuseWritableByOthers } from "../host/file-mode.ts";
import type { HomePaths } from "../host/home.ts";

export interface Settings {
  catalog: Catalog;
  /** SHA-256 (hex) of the verbs.toml bytes the catalog was parsed from. */
  catalogDigest: string;
  config: Config;
  relay: { url: string; token: string } | undefined;
  /** The relay URL as configured (before a missing token refused it), for messages. */
  relayUrl: string | undefined;
  loadedAt: number;
}

export interface SettingsSource {
  paths: HomePaths;
  /** --relay, which wins over config.toml's relay. */
  relayUrlFlag?: string;
  /** --relay-token-file / OPENSCOPE_RELAY_TOKEN (re-read at each load), which win over config.toml. */
  relayTokenFlag?: () => string | undefined;
}

/** What a reload changed, for the log line and `openscope reload`. */
export interface ReloadReport {
  verbs: number;
  added: string[];
  removed: string[];
  changed: string[];
  relay_changed: boolean;
  token_changed: boolean;
  warnings: string[];
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return nodeCrypto().createHash("sha256").update(bytes).digest("hex");
}

/** The digest of verbs.toml as it is on disk now, or undefined when it is missing or unreadable. */
export function catalogDigestOnDisk(path: string): string | undefined {
  try {
    return sha256Hex(readFileSync(path));
  } catch {
    return undefined;
  }
}

/** verbs.toml: the root-owned check, then the parser; the digest is of the very bytes parsed. */
function readCatalog(path: string): { catalog: Catalog; digest: string } {
  if (!existsSync(path)) throw usageError(`no verb catalog at ${path}`, ["run: openscope init (it writes a sample catalog)"]);
  refuseWritableByOthers(path, "verb catalog");
  const bytes = readFileSync(path);
  return { catalog: parseCatalog(bytes.toString("utf8"), path), digest: sha256Hex(bytes) };
}

/** Reads both files; throws the first usage error (an invalid catalog, a bad config.toml). */
export function loadSettings(src: SettingsSource, now: number): Settings {
  const { catalog, digest } = readCatalog(src.paths.catalog);
  const config = readConfig(src.paths.config);
  const relayText = src.relayUrlFlag ?? config.relay;
  // Refused with the handle's own rules (SPEC.md §10.2): no user, query or fragment.
  const relayUrl = relayText === undefined ? undefined : parseOperatorRelayUrl(relayText).url;
  const token = src.relayTokenFlag?.() ?? config.relay_token;
  if (relayUrl && !token)
    throw usageError("a relay URL is set but no deployment token", ["pass --relay-token-file FILE, set OPENSCOPE_RELAY_TOKEN, or set relay_token in config.toml"]);
  const relay = relayUrl && token ? { url: relayUrl, token } : undefined;
  return { catalog, catalogDigest: digest, config, relay, relayUrl: relay?.url ?? relayUrl, loadedAt: now };
}

/** Verb names added, removed, and changed (any field) between two catalogs. */
export function diffCatalogs(before: Catalog, after: Catalog): { added: string[]; removed: string[]; changed: string[] } {
  const added = [...after.keys()].filter((k) => !before.has(k)).sort();
  const removed = [...before.keys()].filter((k) => !after.has(k)).sort();
  const changed = [...after.keys()].filter((k) => before.has(k) && JSON.stringify(before.get(k)) !== JSON.stringify(after.get(k))).sort();
  return { added, removed, changed };
}

/** The settings in force, read again on demand. */
export class LiveSettings {
  current: Settings;

  constructor(
    private readonly src: SettingsSource,
    private readonly now: () => number = Date.now,
  ) {
    this.current = loadSettings(src, now());
  }

  /**
   * Reads verbs.toml and config.toml again. Both must pass their checks: otherwise this throws a
   * usage error naming the file and the problem, and the settings in force stay as they were.
   */
  reload(): ReloadReport {
    let next: Settings;
    try {
      next = loadSettings(this.src, this.now());
    } catch (e) {
      if (e instanceof OpenScopeError) {
        throw new OpenScopeError(e.kind, `reload refused, the daemon keeps what it loaded before: ${e.message}`, { hints: [...e.hints] });
      }
      throw e;
    }
    const before = this.current;
    this.current = next;
    return {
      verbs: next.catalog.size,
      ...diffCatalogs(before.catalog, next.catalog),
      relay_changed: before.relay?.url !== next.relay?.url,
      token_changed: before.relay?.token !== next.relay?.token,
      warnings: [
        ...catalogWarnings(next.catalog),
        // The socket's group and mode are set when the daemon starts (SPEC.md §14).
        ...(before.config.control_group !== next.config.control_group
          ? [`control_group changed in config.toml (${before.config.control_group ?? "none"} -> ${next.config.control_group ?? "none"}): it takes effect when the daemon restarts`]
          : []),
      ],
    };
  }
}
