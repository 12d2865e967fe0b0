// The verbs running right now, kept in a small file in the state folder (running.json) so that a
// daemon killed with SIGKILL can end, on its next start, the process groups it left behind (each
// verb leads its own group, so they outlive the daemon). A pid is only trusted together with its
// start time from /proc, so a recycled pid is never signalled. Changes within one tick share one
// write (a file rename took ~2 ms here, a quarter of the daemon's CPU per call at 4 in flight).
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";

interface Entry {
  pid: number;
  start: string; // /proc/<pid>/stat field 22 (start time in clock ticks since boot)
}

/** Field 22 of /proc/<pid>/stat, or undefined where there is no /proc or no such process. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: split after its last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

export class RunningVerbs {
  private readonly entries = new Map<number, Entry>();

  constructor(private readonly file: string) {}

  /** Kills the process groups a previous daemon left running; returns how many it ended. */
  reapLeftovers(): number {
    let ended = 0;
    if (existsSync(this.file)) {
      let old: Entry[] = [];
      try {
        old = JSON.parse(readFileSync(this.file, "utf8")) as Entry[];
      } catch {
        old = [];
      }
      for (const e of Array.isArray(old) ? old : []) {
        if (!Number.isSafeInteger(e?.pid) || e.pid <= 1 || typeof e.start !== "string") continue;
        if (processStartTime(e.pid) !== e.start) continue; // gone, or the pid was reused
        try {
          process.kill(-e.pid, "SIGKILL");
          ended++;
        } catch {
          /* already gone */
        }
      }
    }
    this.persist();
    return ended;
  }

  add(pid: number): void {
    const start = processStartTime(pid);
    if (pid <= 1 || start === undefined) return;
    this.entries.set(pid, { pid, start });
    this.persistSoon();
  }

  remove(pid: number): void {
    if (this.entries.delete(pid)) this.persistSoon();
  }

  private scheduled = false;

  /** One write for every change of this tick. */
  private persistSoon(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      try {
        this.persist();
      } catch {
        /* the state folder went away (the daemon is stopping); the next change writes again */
      }
    });
  }

  private persist(): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify([...this.entries.values()]), { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}
