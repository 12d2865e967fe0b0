// `openscope status`: the first command to run when something is off (SPEC.md §14 "Status").
// Whether the daemon runs, whether its relay answers (reachable, TLS trusted, deployment token
// accepted), the catalog it loaded against verbs.toml on disk, its shares, and the audit chain
// head. Exit 0 when all is well; 4 when the daemon is not running or its relay check fails; 1
// when the daemon and relay are fine but something needs attention (verbs.toml changed since it
// was loaded, or fails its checks). `--json` prints the same as one object.
import { defineCommand } from "citty";
import { OpenScopeError, type ErrorKind } from "../../lib/errors.ts";
import { daemonStatus, type DaemonStatus } from "../../lib/control/client.ts";
import { readCatalogFile } from "../../lib/host/catalog-file.ts";
import { catalogDigestOnDisk } from "../../lib/daemon/settings.ts";
import { homeArg, jsonArg } from "../args.ts";
import { paint, printJson, terminalSafe } from "../output.ts";
import { homeFrom, withStore } from "./_shared.ts";

interface DiskCatalog {
  digest: string | null;
  verbs: number | null;
  problem?: string;
}

function diskCatalog(path: string): DiskCatalog {
  const digest = catalogDigestOnDisk(path) ?? null;
  try {
    return { digest, verbs: readCatalogFile(path).size };
  } catch (e) {
    return { digest, verbs: null, problem: (e as Error).message };
  }
}

async function auditHead(paths: ReturnType<typeof homeFrom>): Promise<{ rows: number; head: string } | { problem: string }> {
  try {
    return await withStore(paths, (_s, audit) => {
      const h = audit.head();
      return { rows: h.seq, head: h.hash };
    });
  } catch (e) {
    return { problem: (e as Error).message };
  }
}

/** A problem found, and the exit code it calls for (the worst one wins). */
interface Problem {
  kind: ErrorKind;
  text: string;
}

export function judge(daemon: DaemonStatus | null, disk: DiskCatalog): Problem[] {
  const problems: Problem[] = [];
  if (!daemon) return [{ kind: "connection", text: "the daemon is not running" }];
  if (!daemon.relay) problems.push({ kind: "connection", text: "no relay configured: share open will refuse" });
  else if (daemon.relay.problem) problems.push({ kind: "connection", text: `relay ${daemon.relay.url}: ${daemon.relay.problem}` });
  if (disk.problem) problems.push({ kind: "verbFailed", text: `verbs.toml on disk fails its checks (the daemon keeps the loaded catalog): ${disk.problem}` });
  else if (disk.digest !== daemon.catalog.digest) problems.push({ kind: "verbFailed", text: "verbs.toml on disk differs from the catalog the daemon loaded: run openscope reload" });
  return problems;
}

const yes = (ok: boolean | null, good: string, bad: string) => (ok === null ? "" : ok ? paint(good, "green") : paint(bad, "red"));

function relayLine(d: DaemonStatus): string {
  const r = d.relay;
  if (!r) return paint("none configured", "yellow");
  const parts = [r.reachable ? paint("reachable", "green") : paint("unreachable", "red"), yes(r.tls_trusted, "TLS trusted", "TLS not trusted"), yes(r.token_accepted, "token accepted", "token refused")].filter(Boolean);
  const tail = r.problem ? `\n${" ".repeat(11)}${paint(terminalSafe(r.problem), "red")}` : "";
  return `${terminalSafe(r.url)}: ${parts.join(", ")} (${r.ms} ms)${tail}`;
}

export default defineCommand({
  meta: { name: "status", description: "Is the daemon running, its relay reachable and accepting the token, its catalog current? (exit 0 all well, 1 needs attention, 4 daemon or relay down)" },
  args: { ...homeArg, ...jsonArg },
  async run({ args }) {
    const paths = homeFrom(args);
    let daemon: DaemonStatus | null = null;
    try {
      daemon = await daemonStatus(paths.socket);
    } catch (e) {
      if (!(e instanceof OpenScopeError) || e.kind !== "connection") throw e;
    }
    const disk = diskCatalog(paths.catalog);
    const audit = await auditHead(paths);
    const problems = judge(daemon, disk);
    if (args.json) {
      printJson({
        ok: problems.length === 0,
        problems: problems.map((p) => p.text),
        daemon,
        catalog: { loaded: daemon?.catalog ?? null, on_disk: disk, differs: daemon ? disk.digest !== daemon.catalog.digest : null },
        audit,
      });
    } else {
      const line = (label: string, text: string) => process.stdout.write(`${label.padEnd(10)} ${text}\n`);
      line("daemon", daemon ? `${paint("running", "green")} (pid ${daemon.pid}, since ${daemon.started_at}, version ${daemon.version})` : paint("not running", "red"));
      if (daemon) line("relay", relayLine(daemon));
      const loaded = daemon ? `${daemon.catalog.verbs} verbs loaded ${daemon.catalog.loaded_at}` : "not loaded";
      const onDisk = disk.problem ? paint("verbs.toml fails its checks", "red") : daemon && disk.digest !== daemon.catalog.digest ? paint(`verbs.toml differs (${disk.verbs} verbs): run openscope reload`, "yellow") : daemon ? "verbs.toml unchanged" : `verbs.toml holds ${disk.verbs} verbs`;
      line("catalog", `${loaded}; ${onDisk}`);
      if (daemon) line("shares", `${daemon.shares.live} live (${daemon.shares.connected} connected), ${daemon.shares.ended} ended`);
      // Shares whose handles name the relay the daemon used before: that relay is still needed.
      for (const e of daemon?.shares.elsewhere ?? []) line("", e.live === 1 ? `1 of them dials ${terminalSafe(e.relay)}, the relay its handle names (keep that relay up until it ends)` : `${e.live} of them dial ${terminalSafe(e.relay)}, the relay their handles name (keep that relay up until they end)`);
      line("audit", "problem" in audit ? paint(terminalSafe(audit.problem), "red") : `${audit.rows} rows, head ${audit.head.slice(0, 16)}…`);
    }
    if (problems.length === 0) return;
    // The worst problem sets the exit code: connection (4) over attention (1).
    const worst = problems.find((p) => p.kind === "connection") ?? problems[0]!;
    throw new OpenScopeError(worst.kind, problems.map((p) => p.text).join("; "), worst.kind === "connection" && !daemon ? { hints: ["start it with: openscope daemon (or systemctl start openscope-daemon)"] } : {});
  },
});
