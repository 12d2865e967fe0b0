// `openscope daemon`: wires identity, catalog, store, audit, shares and the control socket, then
// runs until SIGTERM/SIGINT. The daemon opens no listening network port: relay legs dial out.
import { readCatalogFile } from "../host/catalog-file.ts";
import { catalogWarnings } from "../capability/catalog.ts";
import { readConfig } from "../host/config.ts";
import { parseOperatorRelayUrl } from "../wire/relay-url.ts";
import { usageError } from "../errors.ts";
import { fingerprint, verificationCode } from "../crypto/fingerprint.ts";
import type { HomePaths } from "../host/home.ts";
import { readDaemonIdentity } from "../host/keyfile.ts";
import { Store } from "../store/store.ts";
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { controlSocketAnswers } from "../control/client.ts";
import { startControlServer } from "../control/server.ts";
import { RunningVerbs } from "./running-verbs.ts";
import { ShareManager } from "./shares.ts";
import { ObservedAuditLog } from "./observed-audit.ts";
import { OperatorDesk } from "./operator.ts";
import { lineLogger, type Logger } from "../host/log.ts";
import { auditLogEvent } from "./audit-lines.ts";

export interface DaemonOptions {
  paths: HomePaths;
  relayUrl?: string;
  relayToken?: string;
  /** Where the daemon's log lines go (cmd/log.ts); `log` is the same as plain lines. */
  logger?: Logger;
  log?: (line: string) => void;
}

export async function runDaemon(opts: DaemonOptions): Promise<{ stop(): Promise<void> }> {
  const { paths } = opts;
  const log = opts.log ?? (opts.logger ? lineLogger(opts.logger) : () => {});
  if (!existsSync(paths.identity)) throw usageError(`no daemon identity at ${paths.identity}`, ["run: openscope init"]);
  const identity = readDaemonIdentity(paths.identity);
  const catalog = readCatalogFile(paths.catalog); // an invalid catalog stops the daemon here (exit 2)
  for (const w of catalogWarnings(catalog)) log(`warning: ${w}`);
  const config = readConfig(paths.config);
  const relayText = opts.relayUrl ?? config.relay;
  // Refused here, at start, with the handle's own rules (SPEC.md §10.2): no user, query or fragment.
  const relayUrl = relayText === undefined ? undefined : parseOperatorRelayUrl(relayText).url;
  const relayToken = opts.relayToken ?? config.relay_token;
  if (relayUrl && !relayToken)
    throw usageError("a relay URL is set but no deployment token", ["pass --relay-token-file FILE, set OPENSCOPE_RELAY_TOKEN, or set relay_token in config.toml"]);
  const store = Store.open(paths.database);
  // Every committed row is also shown to watchers and, for some, sent as a notification (SPEC.md §17).
  const audit = new ObservedAuditLog(store, log);
  // Each committed row is also one log line (the audit stays the record; the log is for eyes and journald).
  const logger = opts.logger;
  if (logger)
    audit.listen((row) => {
      const e = auditLogEvent(row);
      logger[e.level](e.msg, e.fields);
    });
  const daemonName = config.name ?? hostname();
  const operator = new OperatorDesk({ audit, store, catalog: () => catalog, config, daemonName, now: Date.now, log });
  const fp = fingerprint(identity.noisePublic, identity.signPublic);
  const runningVerbs = new RunningVerbs(join(paths.stateDir, "running.json"));
  const shares = new ShareManager({
    runningVerbs,
    store,
    audit,
    identity,
    fingerprint: fp,
    daemonName,
    operator,
    code: verificationCode(identity.noisePublic, identity.signPublic),
    catalog: () => catalog,
    relay: relayUrl && relayToken ? { url: relayUrl, token: relayToken } : undefined,
    ssh: {
      knownHostsFile: config.ssh_known_hosts,
      identityFile: config.ssh_identity,
    },
    log,
  });
  if (await controlSocketAnswers(paths.socket)) {
    store.close();
    throw usageError(`a daemon is already running for this home (socket ${paths.socket})`, ["stop it first, or use another --home"]);
  }
  const reaped = runningVerbs.reapLeftovers();
  if (reaped > 0) log(`ended ${reaped} verb(s) left running by a daemon that stopped abruptly`);
  operator.attach(shares);
  operator.closeOrphanedRequests();
  await shares.recover();
  const server = startControlServer({ socketPath: paths.socket, shares, store, operator });
  log(`daemon running; fingerprint ${fp}`);
  log(relayUrl ? `relay ${relayUrl}` : "no relay configured: share open will refuse until one is set");
  log(`control socket ${paths.socket}; ${catalog.size} verbs in the catalog`);
  let stopped = false;
  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      operator.shutdown();
      shares.shutdown();
      await server.stop(true);
      audit.flushSoon(); // a batch still waiting for its tick is committed, not lost
      store.close();
    },
  };
}
