// `openscope daemon`: wires identity, settings (catalog and config, reloadable), store, audit,
// shares and the control socket, then runs until SIGTERM/SIGINT; SIGHUP (cmd/openscope/daemon.ts)
// and `openscope reload` call `reload`. The daemon opens no listening network port: relay legs dial out.
import { catalogWarnings } from "../capability/catalog.ts";
import { usageError } from "../errors.ts";
import { fingerprint, verificationCode } from "../crypto/fingerprint.ts";
import { openHomeToGroup, type HomePaths } from "../host/home.ts";
import { readDaemonIdentity } from "../host/keyfile.ts";
import { Store } from "../store/store.ts";
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { controlSocketAnswers } from "../control/client.ts";
import { startControlServer } from "../control/server.ts";
import { RunningVerbs } from "./running-verbs.ts";
import { ShareManager } from "./shares.ts";
import { GrantWatch } from "./grant-watch.ts";
import { ObservedAuditLog } from "./observed-audit.ts";
import { OperatorDesk } from "./operator.ts";
import { lineLogger, silentLogger, type Logger } from "../host/log.ts";
import { LiveSettings, type ReloadReport } from "./settings.ts";
import { daemonStatus } from "./status.ts";
import type { OpsControl } from "../control/ops-routes.ts";
import { auditLogEvent } from "./audit-lines.ts";

export interface DaemonOptions {
  paths: HomePaths;
  relayUrl?: string;
  relayToken?: string;
  /** Reads --relay-token-file / OPENSCOPE_RELAY_TOKEN again at each reload (else `relayToken` stays). */
  readRelayToken?: () => string | undefined;
  /** Where the daemon's log lines go (cmd/log.ts); `log` is the same as plain lines. */
  logger?: Logger;
  log?: (line: string) => void;
}

export interface RunningDaemon {
  stop(): Promise<void>;
  /** SIGHUP and `openscope reload`: verbs.toml and config.toml again; throws (keeping the old ones) when either fails its checks. */
  reload(): ReloadReport;
}

export async function runDaemon(opts: DaemonOptions): Promise<RunningDaemon> {
  const { paths } = opts;
  const log = opts.log ?? (opts.logger ? lineLogger(opts.logger) : () => {});
  const logger = opts.logger ?? silentLogger;
  if (!existsSync(paths.identity)) throw usageError(`no daemon identity at ${paths.identity}`, ["run: openscope init"]);
  const identity = readDaemonIdentity(paths.identity);
  // An invalid catalog or config.toml stops the daemon here (exit 2).
  const settings = new LiveSettings({ paths, relayUrlFlag: opts.relayUrl, relayTokenFlag: opts.readRelayToken ?? (() => opts.relayToken) });
  const startedAt = Date.now();
  for (const w of catalogWarnings(settings.current.catalog)) log(`warning: ${w}`);
  const config = settings.current.config;
  // control_group: its members may use the socket without being root (applied at start; an unknown group stops it here).
  const socketGroup = config.control_group === undefined ? undefined : openHomeToGroup(paths, config.control_group);
  const store = Store.open(paths.database);
  // Every committed row is also shown to watchers and, for some, sent as a notification (SPEC.md §17).
  const audit = new ObservedAuditLog(store, log);
  // Each committed row is also one log line (the audit stays the record; the log is for eyes and journald).
  if (opts.logger)
    audit.listen((row) => {
      const e = auditLogEvent(row);
      logger[e.level](e.msg, e.fields);
    });
  const catalog = () => settings.current.catalog;
  const daemonName = () => settings.current.config.name ?? hostname();
  const operator = new OperatorDesk({ audit, store, catalog, config: () => settings.current.config, daemonName: daemonName(), now: Date.now, log });
  const fp = fingerprint(identity.noisePublic, identity.signPublic);
  const runningVerbs = new RunningVerbs(join(paths.stateDir, "running.json"));
  // Read at each use, so a reload reaches new shares, new sessions and every call's decision.
  const ssh = { knownHostsFile: config.ssh_known_hosts, identityFile: config.ssh_identity };
  const shares = new ShareManager({
    runningVerbs,
    store,
    audit,
    identity,
    fingerprint: fp,
    get daemonName() {
      return daemonName();
    },
    operator,
    code: verificationCode(identity.noisePublic, identity.signPublic),
    catalog,
    get relay() {
      return settings.current.relay;
    },
    ssh,
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

  const reload = (): ReloadReport => {
    let report: ReloadReport;
    try {
      report = settings.reload();
    } catch (e) {
      logger.error((e as Error).message);
      throw e;
    }
    const cfg = settings.current.config;
    ssh.knownHostsFile = cfg.ssh_known_hosts;
    ssh.identityFile = cfg.ssh_identity;
    for (const w of report.warnings) logger.warn(w);
    logger.info(`reloaded: ${report.verbs} verbs in the catalog`, {
      added: report.added.join(",") || undefined,
      removed: report.removed.join(",") || undefined,
      changed: report.changed.join(",") || undefined,
      relay: report.relay_changed ? (settings.current.relay?.url ?? "none") : undefined,
      token_changed: report.token_changed || undefined,
    });
    if (report.relay_changed) logger.warn("the relay changed: new shares use it; open shares keep the relay their handles name until they end");
    // A verb removed or narrowed: running calls it no longer admits end, as on a grant change (SPEC.md §15.4).
    if (report.removed.length > 0 || report.changed.length > 0) shares.catalogChanged();
    return report;
  };
  const ops: OpsControl = {
    reload,
    status: () => daemonStatus({ settings: settings.current, startedAt, fingerprint: fp, shares: shares.list(), elsewhere: shares.elsewhere() }),
  };
  // Grant commands write the store directly: a change made while calls run ends those it no longer admits.
  const grantWatch = new GrantWatch(store, (agents) => shares.grantChanged(agents), log);
  grantWatch.start();
  const server = startControlServer({ socketPath: paths.socket, shares, store, operator, ops, socketGroup });
  log(`daemon running; fingerprint ${fp}`);
  log(settings.current.relayUrl ? `relay ${settings.current.relayUrl}` : "no relay configured: share open will refuse until one is set");
  log(`control socket ${paths.socket}; ${settings.current.catalog.size} verbs in the catalog`);
  let stopped = false;
  return {
    reload,
    async stop() {
      if (stopped) return;
      stopped = true;
      grantWatch.stop();
      operator.shutdown();
      shares.shutdown();
      await server.stop(true);
      // A batch still waiting for its tick (or for another process's lock) is committed now,
      // waiting on the lock this time; any row that still cannot be is logged, never dropped silently.
      for (const e of audit.drain()) log(`error: audit: not recorded at shutdown: ${JSON.stringify(e)}`);
      store.close();
    },
  };
}
