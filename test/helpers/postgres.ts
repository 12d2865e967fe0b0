// A real PostgreSQL server for tests: initdb in a mkdtemp folder as the unprivileged `postgres`
// user (created with useradd when missing), listening only on a unix socket in that folder (no
// TCP port, so nothing to collide with), trust authentication for the superuser `openscope`.
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "./spawn.ts";

export const PG_BIN = "/usr/lib/postgresql/15/bin";
const PG_USER = "postgres";

export interface PostgresServer {
  dir: string;
  socketDir: string;
  port: number;
  user: string;
  /** psql as the superuser over the socket; throws with psql's stderr on failure. */
  psql(sql: string, dbname?: string): Promise<string>;
  stop(): Promise<void>;
}

export function havePostgres(): boolean {
  return existsSync(join(PG_BIN, "initdb")) && existsSync(join(PG_BIN, "postgres")) && Bun.which("psql") !== null && Bun.which("setpriv") !== null;
}

function userIds(name: string): { uid: number; gid: number } | undefined {
  for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
    const f = line.split(":");
    if (f[0] === name) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

function ensureUser(): { uid: number; gid: number } {
  const ids = userIds(PG_USER);
  if (ids) return ids;
  const r = Bun.spawnSync(["useradd", "--system", "--user-group", "--no-create-home", PG_USER]);
  if (r.exitCode !== 0) throw new Error(`useradd ${PG_USER}: ${r.stderr.toString()}`);
  return userIds(PG_USER)!;
}

/** Runs argv as the unprivileged user (setpriv execs: signals reach the program itself). */
function asUser(ids: { uid: number; gid: number }, argv: string[]): string[] {
  return ["setpriv", `--reuid=${ids.uid}`, `--regid=${ids.gid}`, "--clear-groups", "--", ...argv];
}

export async function startPostgres(opts: { settings?: string[] } = {}): Promise<PostgresServer> {
  const ids = ensureUser();
  const dir = mkdtempSync(join(tmpdir(), "openscope-pg-"));
  const data = join(dir, "data");
  const socketDir = join(dir, "sock");
  mkdirSync(socketDir);
  chownSync(dir, ids.uid, ids.gid);
  chownSync(socketDir, ids.uid, ids.gid);
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8", HOME: dir };
  const init = Bun.spawnSync(
    asUser(ids, [join(PG_BIN, "initdb"), "-D", data, "--auth=trust", "--username=openscope", "--encoding=UTF8", "--no-sync", "--no-instructions"]),
    { env, cwd: dir },
  );
  if (init.exitCode !== 0) throw new Error(`initdb: ${init.stderr.toString()}${init.stdout.toString()}`);
  const port = 20000 + Math.floor(Math.random() * 40000); // names the socket file only
  const settings = ["listen_addresses=", "fsync=off", "max_connections=20", "shared_buffers=16MB", ...(opts.settings ?? [])];
  const proc = Bun.spawn(
    asUser(ids, [join(PG_BIN, "postgres"), "-D", data, "-k", socketDir, "-p", String(port), ...settings.flatMap((s) => ["-c", s])]),
    { env, cwd: dir, stdout: "ignore", stderr: Bun.file(join(dir, "server.log")) },
  );
  const server: PostgresServer = {
    dir,
    socketDir,
    port,
    user: "openscope",
    async psql(sql, dbname = "postgres") {
      const p = Bun.spawn(["psql", "--no-psqlrc", "--no-password", "--set=ON_ERROR_STOP=1", "-At", "-h", socketDir, "-p", String(port), "-U", "openscope", "-d", dbname, "-c", sql], {
        env,
        stdout: "pipe",
        stderr: "pipe",
      });
      const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      if (code !== 0) throw new Error(`psql ${JSON.stringify(sql)}: ${err}`);
      return out;
    },
    async stop() {
      proc.kill("SIGINT"); // fast shutdown
      const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      await proc.exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitFor(async () => (await server.psql("SELECT 1")).trim() === "1", "postgres to accept connections", 30_000);
  } catch (e) {
    const log = existsSync(join(dir, "server.log")) ? readFileSync(join(dir, "server.log"), "utf8") : "";
    await server.stop();
    throw new Error(`${(e as Error).message}\n${log}`);
  }
  return server;
}
