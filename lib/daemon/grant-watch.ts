// Notices grant changes made by other processes: `grant add|revoke` work on the store directly,
// with or without a daemon (SPEC.md §3), so a running daemon polls SQLite's data_version (moved by
// any other connection's commit) and, when it moved, compares each agent's grant id and revision.
// The agents whose grant changed are handed on, so their running calls are decided again.
import type { Store } from "../store/store.ts";

/** How often the daemon looks: a changed grant ends the calls it no longer admits within this. */
export const GRANT_POLL_MS = 500;

/** The agents whose grant (`id:revision`) differs between two snapshots: changed, added or removed. */
export function changedAgents(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): string[] {
  const agents = new Set<string>();
  for (const [agent, version] of after) if (before.get(agent) !== version) agents.add(agent);
  for (const agent of before.keys()) if (!after.has(agent)) agents.add(agent);
  return [...agents].sort();
}

export class GrantWatch {
  private timer: ReturnType<typeof setInterval> | undefined;
  private dataVersion: number;
  private versions: Map<string, string>;

  constructor(
    private readonly store: Pick<Store, "dataVersion" | "grantVersions">,
    private readonly onChange: (agents: string[]) => void,
    private readonly log: (line: string) => void,
  ) {
    this.dataVersion = store.dataVersion();
    this.versions = store.grantVersions();
  }

  start(intervalMs = GRANT_POLL_MS): void {
    this.timer ??= setInterval(() => this.check(), intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One look: nothing is read beyond one pragma unless another process committed. */
  check(): void {
    try {
      const dataVersion = this.store.dataVersion();
      if (dataVersion === this.dataVersion) return;
      this.dataVersion = dataVersion;
      const versions = this.store.grantVersions();
      const agents = changedAgents(this.versions, versions);
      this.versions = versions;
      if (agents.length > 0) this.onChange(agents);
    } catch (e) {
      // A locked or busy database: look again at the next tick.
      this.log(`warning: grant watch: ${(e as Error)?.message ?? String(e)}; looking again shortly`);
    }
  }
}
