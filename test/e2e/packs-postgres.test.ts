// The packs' "done when", on the compiled binaries: the packs are embedded in dist/openscope (it
// lists and adds them from any folder), and `openscope verbs add postgres --set …`, then grant
// and share, lets a recipient's client run postgres.activity against a real PostgreSQL started by
// the test and see its sessions, with the query text hidden and every parameter bounded.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Cluster, commandFor, type OpenedShare, type Recipient } from "../helpers/cluster.ts";
import { startPostgres, type PostgresServer } from "../helpers/postgres.ts";
import { waitFor } from "../helpers/spawn.ts";

setDefaultTimeout(60_000);

describe("the compiled binary embeds the packs", () => {
  test("dist/openscope verbs packs and verbs add systemd work from another folder", async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), "openscope-elsewhere-"));
    try {
      const bin = commandFor("binary", "openscope");
      const run = (args: string[]) => runCommandIn(elsewhere, [...bin, ...args]);
      const packs = await run(["verbs", "packs"]);
      expect(packs.code).toBe(0);
      expect(packs.stdout).toMatch(/^postgres\s+1\s+activity locks/m);
      const home = join(elsewhere, "home");
      expect((await run(["init", "--home", home])).code).toBe(0);
      const add = await run(["verbs", "add", "systemd", "--home", home, "--set", "units=nginx,postgresql"]);
      expect(add.code).toBe(0);
      expect(add.stdout).toContain("added 6 verbs of pack systemd (version 1)");
      const text = readFileSync(join(home, "verbs.toml"), "utf8");
      expect(text).toContain("# pack systemd version 1: openscope verbs add systemd --set units=nginx,postgresql");
      const list = await run(["verbs", "--home", home]);
      expect(list.stdout).toMatch(/^systemd\.journal\s+exec\s+unit=nginx, postgresql; lines=1\.\.10000/m);
      const clash = await run(["verbs", "add", "systemd", "--home", home]);
      expect(clash.code).toBe(2);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});

/** runCommand with a working directory (the helper's runs in the test's own). */
async function runCommandIn(cwd: string, cmd: string[]) {
  const proc = Bun.spawn(cmd, { cwd, env: { ...process.env, NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

describe("postgres pack: verbs add, grant, share, and the client sees real sessions", () => {
  let pg: PostgresServer;
  let c: Cluster;
  let vendor: Recipient;
  let share: OpenedShare;
  let session: Bun.Subprocess | undefined;
  let leaky: Bun.Subprocess | undefined;
  const LEAKED_TOKEN = `ghp_${"A1b2C3d4E5".repeat(4)}`;

  beforeAll(async () => {
    pg = await startPostgres();
    // A session the recipient should see, running a query whose text must stay hidden.
    session = Bun.spawn(
      ["psql", "--no-psqlrc", "-h", pg.socketDir, "-p", String(pg.port), "-U", pg.user, "-d", "postgres", "-c", "SELECT pg_sleep(300) /* password=hunter2 */"],
      { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PGAPPNAME: "billing-worker" }, stdout: "ignore", stderr: "ignore" },
    );
    await waitFor(async () => (await pg.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'billing-worker'")).trim() === "1", "the billing-worker session");
    // A session whose application name is a secret someone pasted there: redaction is on for pack verbs.
    leaky = Bun.spawn(["psql", "--no-psqlrc", "-h", pg.socketDir, "-p", String(pg.port), "-U", pg.user, "-d", "postgres", "-c", "SELECT pg_sleep(300)"], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PGAPPNAME: LEAKED_TOKEN },
      stdout: "ignore",
      stderr: "ignore",
    });
    await waitFor(async () => (await pg.psql(`SELECT count(*) FROM pg_stat_activity WHERE application_name = '${LEAKED_TOKEN}'`)).trim() === "1", "the leaky session");

    c = new Cluster("binary");
    await c.startRelay();
    await c.init();
    const add = await c.openscope(["verbs", "add", "postgres", "--set", `host=${pg.socketDir}`, "--set", `port=${pg.port}`, "--set", `user=${pg.user}`]);
    expect(add.code).toBe(0);
    await c.startDaemon();
    ({ vendor, share } = await c.shareTo({ grant: ["postgres.activity", "postgres.locks"], share: ["postgres.activity:limit=1..50"] }));
  }, 90_000);

  afterAll(async () => {
    session?.kill("SIGKILL");
    leaky?.kill("SIGKILL");
    await c?.stop();
    await pg?.stop();
  });

  test("the client runs postgres.activity and sees the server's sessions, query text hidden", async () => {
    const r = await vendor.call(share, "postgres.activity", ["limit=20"]);
    expect(r.code).toBe(0);
    const billing = r.stdout.split("\n").find((l) => l.includes("billing-worker"));
    expect(billing).toBeDefined();
    expect(billing!).toMatch(new RegExp(`^\\s*\\d+\\s+\\|\\s+${pg.user}\\s+\\|\\s+postgres\\s+\\|\\s+billing-worker\\s+\\|.*\\|\\s+client backend\\s+\\|\\s+active\\s+\\|\\s+Timeout\\s+\\|\\s+PgSleep\\s+\\|`));
    expect(r.stdout).toMatch(/checkpointer/);
    expect(r.stdout).toMatch(/\(\d+ rows\)/);
    expect(r.stdout).not.toContain("hunter2");
    expect(r.stdout).not.toContain("pg_sleep");
  });

  test("with redaction on: a secret in a session's application name reaches the client only as a marker; the audit counts it", async () => {
    const r = await vendor.call(share, "postgres.activity", ["limit=20"]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain(LEAKED_TOKEN);
    expect(r.stdout).toContain("[REDACTED:github-token]");
    expect(r.stdout).toContain("billing-worker");
    const rows = (await c.auditRows(share.id)) as Array<{ kind: string; verb?: string; redactions?: Record<string, number> }>;
    const outcomes = rows.filter((x) => x.kind === "call.outcome" && x.verb === "postgres.activity");
    expect(outcomes.at(-1)?.redactions).toEqual({ "github-token": 1 });
  });

  test("the passport bounds the parameter and the verb set; hostile values never reach psql", async () => {
    const over = await vendor.call(share, "postgres.activity", ["limit=51"]);
    expect(over.code).toBe(3);
    for (const bad of ["1;DROP TABLE x", "-1", "1 OR 1=1"]) {
      const r = await vendor.call(share, "postgres.activity", [`limit=${bad}`]);
      expect({ bad, code: r.code }).toEqual({ bad, code: 3 });
    }
    const other = await vendor.call(share, "postgres.locks");
    expect(other.code).toBe(3);
  });

  test("the operator's audit has every call: the intent with its parameters, the outcome, the refusals", async () => {
    const rows = (await c.auditRows(share.id)) as Array<{ kind: string; verb?: string; params?: Record<string, string>; exitCode?: number; reason?: string }>;
    const allowed = rows.filter((r) => r.kind === "call.allowed" && r.verb === "postgres.activity");
    expect(allowed.map((r) => r.params)).toContainEqual({ limit: "20" });
    expect(rows.some((r) => r.kind === "call.outcome" && r.verb === "postgres.activity" && r.exitCode === 0)).toBe(true);
    const denied = rows.filter((r) => r.kind === "call.denied");
    expect(denied.filter((r) => r.verb === "postgres.activity")).toHaveLength(4);
    expect(denied.some((r) => r.verb === "postgres.locks")).toBe(true);
  });
});

