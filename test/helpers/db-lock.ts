// Another process holding the write lock of a SQLite database (BEGIN EXCLUSIVE in a bun:sqlite
// child), as a CLI command or an operator's sqlite3 shell could: the daemon must neither stall
// nor lose an audit row while it waits (THREAT-MODEL.md). The child holds the lock until released.
import { waitFor } from "./spawn.ts";

export interface DbLock {
  /** Commits the child's transaction and waits for it to exit. */
  release(): Promise<void>;
}

const CHILD = `
import { Database } from "bun:sqlite";
const db = new Database(process.argv[1], { readwrite: true });
db.run("BEGIN EXCLUSIVE");
console.log("locked");
for await (const _ of console) break;
db.run("COMMIT");
db.close();
console.log("released");
`;

export async function holdExclusiveLock(dbFile: string): Promise<DbLock> {
  const proc = Bun.spawn([process.execPath, "-e", CHILD, dbFile], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  let out = "";
  void (async () => {
    for await (const c of proc.stdout) out += new TextDecoder().decode(c);
  })();
  await waitFor(() => out.includes("locked") || proc.exitCode !== null, "the child to take the lock");
  if (!out.includes("locked")) throw new Error(`the lock holder exited: ${await new Response(proc.stderr).text()}`);
  return {
    async release() {
      proc.stdin.write("release\n");
      proc.stdin.flush();
      const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      await proc.exited;
      clearTimeout(timer);
    },
  };
}
