// Finding processes by their command line in /proc, for tests that check a verb was killed or
// measure a client's memory. Zombies count as gone.
import { readdirSync, readFileSync } from "node:fs";

/** Pids of live processes whose NUL-separated command line satisfies `match`. */
export function livePids(match: (cmdline: string) => boolean): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (match(readFileSync(`/proc/${d}/cmdline`, "utf8")) && !/\) Z /.test(readFileSync(`/proc/${d}/stat`, "utf8"))) out.push(Number(d));
    } catch {
      /* the process ended while we looked */
    }
  }
  return out;
}

/** Live processes whose command line is exactly `argv`. */
export function pidsRunning(...argv: string[]): number[] {
  const want = argv.join("\0") + "\0";
  return livePids((cmd) => cmd === want);
}

/** Live processes whose command line (arguments joined by spaces) contains `needle`. */
export function pidsWith(needle: string): number[] {
  return livePids((cmd) => cmd.replaceAll("\0", " ").includes(needle));
}

/** The parent pid of a live process, from /proc/PID/stat (undefined once it is gone). */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

/**
 * Live processes below `root` (children, grandchildren…) whose command line contains `needle`:
 * what one test's own daemon runs, never another test's process on a shared machine.
 */
export function pidsUnder(root: number, needle: string): number[] {
  return pidsWith(needle).filter((pid) => {
    for (let p: number | undefined = pid, hops = 0; p !== undefined && p > 1 && hops < 64; p = parentOf(p), hops++) if (p === root) return true;
    return false;
  });
}
