// The postgres pack against a real PostgreSQL 15 started by the test (initdb in a temp folder as
// the unprivileged postgres user, unix socket only): every verb runs as the daemon would run it,
// query text stays hidden unless opted in, and the connection string makes any write fail.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startVerb } from "../../lib/exec/process.ts";
import { havePostgres, startPostgres, type PostgresServer } from "../helpers/postgres.ts";
import { waitFor } from "../helpers/spawn.ts";
import { packCatalog, runPackVerb } from "./verb-runner.ts";

const ok = havePostgres();
let pg: PostgresServer;
let sets: string[];
const sessions: Bun.Subprocess[] = [];

beforeAll(async () => {
  if (!ok) return;
  pg = await startPostgres({ settings: ["shared_preload_libraries=pg_stat_statements"] });
  sets = [`host=${pg.socketDir}`, `port=${pg.port}`, `user=${pg.user}`];
  await pg.psql("CREATE TABLE orders AS SELECT g AS id, md5(g::text) AS note FROM generate_series(1, 20000) g");
  await pg.psql("CREATE TABLE busy (id int)");
  await pg.psql("ANALYZE orders");
}, 60_000);

afterAll(async () => {
  for (const s of sessions) s.kill("SIGKILL");
  await pg?.stop();
});

function backgroundSql(sql: string, application: string): void {
  const p = Bun.spawn(["psql", "--no-psqlrc", "-h", pg.socketDir, "-p", String(pg.port), "-U", pg.user, "-d", "postgres", "-c", sql], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PGAPPNAME: application },
    stdout: "ignore",
    stderr: "ignore",
  });
  sessions.push(p);
}

describe.if(ok)("pack postgres on a real server", () => {
  test("table_sizes and database_sizes list the test's table and database", async () => {
    const cat = packCatalog("postgres", sets);
    const sizes = await runPackVerb(cat, "postgres.table_sizes", { limit: "5" });
    expect(sizes.exitCode).toBe(0);
    expect(sizes.stdout).toMatch(/public\s+\|\s+orders\s+\|/);
    expect(sizes.stdout).toMatch(/20000/); // estimated rows after ANALYZE
    const dbs = await runPackVerb(cat, "postgres.database_sizes");
    expect(dbs.exitCode).toBe(0);
    expect(dbs.stdout).toMatch(/^\s*postgres\s+\|/m);
  });

  test("slow_queries says when pg_stat_statements is missing, and lists statements once it is there", async () => {
    const cat = packCatalog("postgres", sets);
    const before = await runPackVerb(cat, "postgres.slow_queries");
    expect(before.exitCode).toBe(0);
    expect(before.stdout).toContain("pg_stat_statements is not installed in this database");
    await pg.psql("CREATE EXTENSION pg_stat_statements");
    await pg.psql("SELECT count(*) FROM orders WHERE note LIKE 'ab%'");
    const after = await runPackVerb(cat, "postgres.slow_queries", { limit: "50" });
    expect(after.exitCode).toBe(0);
    expect(after.stdout).toContain("FROM orders WHERE note LIKE $1"); // normalized: constants as $n
    expect(after.stdout).not.toContain("'ab%'");
  });

  test("activity hides query text unless query_text=true; locks and blocked show a real wait", async () => {
    backgroundSql("BEGIN; LOCK TABLE busy IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(120) /* secret-marker */;", "locker");
    await waitFor(async () => (await pg.psql("SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND relation = 'busy'::regclass")).trim() === "1", "the lock");
    backgroundSql("SELECT count(*) FROM busy", "waiter");
    await waitFor(async () => (await pg.psql("SELECT count(*) FROM pg_stat_activity WHERE cardinality(pg_blocking_pids(pid)) > 0")).trim() === "1", "the waiter");
    const lockerPid = (await pg.psql("SELECT pid FROM pg_stat_activity WHERE application_name = 'locker'")).trim();
    const waiterPid = (await pg.psql("SELECT pid FROM pg_stat_activity WHERE application_name = 'waiter'")).trim();

    const hidden = await runPackVerb(packCatalog("postgres", sets), "postgres.activity");
    expect(hidden.exitCode).toBe(0);
    expect(hidden.stdout).toMatch(new RegExp(`^\\s*${lockerPid}\\s+\\|\\s+${pg.user}\\s+\\|\\s+postgres\\s+\\|\\s+locker\\s+\\|`, "m"));
    expect(hidden.stdout).not.toContain("secret-marker");
    expect(hidden.stdout).not.toContain("pg_sleep");

    const shown = await runPackVerb(packCatalog("postgres", [...sets, "query_text=true"]), "postgres.activity");
    expect(shown.exitCode).toBe(0);
    expect(shown.stdout).toContain("secret-marker");

    const locks = await runPackVerb(packCatalog("postgres", sets), "postgres.locks");
    expect(locks.exitCode).toBe(0);
    expect(locks.stdout).toMatch(new RegExp(`^\\s*${lockerPid}\\s+\\|.*AccessExclusiveLock\\s+\\|\\s+t\\s+\\|\\s+busy\\s+\\|`, "m"));
    expect(locks.stdout).toMatch(new RegExp(`^\\s*${waiterPid}\\s+\\|.*AccessShareLock\\s+\\|\\s+f\\s+\\|\\s+busy\\s+\\|\\s+\\|\\s+\\{${lockerPid}\\}`, "m"));

    const blocked = await runPackVerb(packCatalog("postgres", sets), "postgres.blocked");
    expect(blocked.exitCode).toBe(0);
    expect(blocked.stdout).toMatch(new RegExp(`^\\s*${waiterPid}\\s+\\|\\s+${pg.user}\\s+\\|\\s+\\{${lockerPid}\\}\\s+\\|\\s+Lock`, "m"));
    await pg.psql(`SELECT pg_terminate_backend(${lockerPid})`);
  }, 60_000);

  test("replication reports a primary with no replicas", async () => {
    const r = await runPackVerb(packCatalog("postgres", sets), "postgres.replication");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/in_recovery \| replay_delay\s*\n-+\+-+\n f\s+\|/);
    expect(r.stdout).toContain("slot_name | slot_type");
  });

  test("the pack's connection is read-only: a write through the same argv fails", async () => {
    const verb = packCatalog("postgres", sets).get("postgres.database_sizes")!;
    const argv = [...verb.argv.slice(0, -1), "--command=CREATE TABLE intruder (i int)"];
    let err = "";
    const r = await startVerb({ argv, timeoutMs: 20_000, maxOutputBytes: 1 << 20 }, (s, c) => {
      if (s === "stderr") err += Buffer.concat([...c]).toString();
    }).done;
    expect(r.exitCode).not.toBe(0);
    expect(err).toContain("cannot execute CREATE TABLE in a read-only transaction");
    expect((await pg.psql("SELECT to_regclass('intruder') IS NULL")).trim()).toBe("t");
  });

  test("a server that is not there is a failed verb with psql's reason, not a hang", async () => {
    const r = await runPackVerb(packCatalog("postgres", [`host=${pg.socketDir}`, "port=1", `user=${pg.user}`]), "postgres.activity");
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/No such file or directory|could not connect/);
  });
});

test("PostgreSQL 15 is installed, so the real runs above happen (.ci/run installs postgresql)", () => {
  expect(ok).toBe(true);
});
