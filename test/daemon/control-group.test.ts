// `control_group` in config.toml (SPEC.md §14): a non-root operator in that group opens a share
// through the control socket (0660, the group's), holding only their own agent credential; a user
// outside the group cannot reach the socket. A real user and groups (useradd/groupadd), the CLI
// run as that user with setpriv; tests run as root.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { appendFileSync, chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cluster, runCommand, testCatalog } from "../helpers/cluster.ts";
import { openscopeForOtherUsers } from "../helpers/other-user.ts";

const suffix = Math.random().toString(36).slice(2, 8);
const GROUP = `osops${suffix}`;
const MEMBER = `osagent${suffix}`;
const OUTSIDER = `osout${suffix}`;
let c: Cluster;

function ids(name: string): { uid: number; gid: number } {
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith(`${name}:`))!;
  const f = line.split(":");
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

function run(argv: string[]): void {
  const r = Bun.spawnSync(argv, { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr.toString()}`);
}

/** `openscope ARGS` as a local user, with their own supplementary groups. */
async function openscopeAs(user: string, args: string[]) {
  const { uid, gid } = ids(user);
  const program = await openscopeForOtherUsers();
  const argv = ["setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--init-groups", "--", ...program.argv, ...args];
  return runCommand(argv, { env: { OPENSCOPE_HOME: c.home, HOME: c.dir, BUN_INSTALL_CACHE_DIR: join(c.dir, "bun-cache") }, cwd: program.cwd });
}

beforeAll(async () => {
  run(["groupadd", GROUP]);
  run(["useradd", "--no-create-home", "--user-group", "--groups", GROUP, MEMBER]);
  run(["useradd", "--no-create-home", "--user-group", OUTSIDER]);
  c = new Cluster("source");
  chmodSync(c.dir, 0o711); // mkdtemp's 0700 would stop anyone else before the home
  await c.startRelay();
  await c.init(testCatalog(join(c.dir, "data")));
  appendFileSync(join(c.home, "config.toml"), `control_group = "${GROUP}"\n`);
  await c.startDaemon();
  // Root grants the member's agent (named like the user): its credential file is the member's own.
  expect((await c.openscope(["grant", "add", "--agent", MEMBER, "--verb", "echo.word"])).code).toBe(0);
}, 60_000);

afterAll(async () => {
  await c?.stop();
  for (const u of [MEMBER, OUTSIDER]) Bun.spawnSync(["userdel", u]);
  Bun.spawnSync(["groupdel", GROUP]);
});

test("the socket is 0660 with the group; the state and agents folders only traversable by it", () => {
  const sock = statSync(join(c.home, "control.sock"));
  expect(sock.mode & 0o777).toBe(0o660);
  expect(sock.gid).toBe(Number(readFileSync("/etc/group", "utf8").split("\n").find((l) => l.startsWith(`${GROUP}:`))!.split(":")[2]));
  expect(statSync(c.home).mode & 0o777).toBe(0o710);
  expect(statSync(join(c.home, "agents")).mode & 0o777).toBe(0o710);
  expect(statSync(join(c.home, "agents", `${MEMBER}.token`)).uid).toBe(ids(MEMBER).uid);
  expect(statSync(join(c.home, "openscope.db")).mode & 0o777).toBe(0o600);
});

test("a member of control_group opens a share as themself, not as root", async () => {
  const r = await openscopeAs(MEMBER, ["share", "open", "--agent", MEMBER, "--verb", "echo.word", "--bearer", "--ttl", "5m", "--json"]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ recipient: "bearer", verbs: ["echo.word"] });
  // The share list (the socket again) works for the member too.
  expect((await openscopeAs(MEMBER, ["share", "list", "--json"])).code).toBe(0);
}, 30_000);

test("a user outside the group cannot reach the daemon", async () => {
  const r = await openscopeAs(OUTSIDER, ["share", "list"]);
  expect(r.code).toBe(4);
  expect(r.stdout).toBe("");
  expect(r.stderr).toContain("openscope: error: no permission to use the daemon's control socket");
  expect(r.stderr).toContain("hint: run as root, or ask root to set control_group in config.toml to a group you are in");
}, 30_000);

test("a reload that changes control_group says it waits for a restart; the socket keeps its group", async () => {
  const config = join(c.home, "config.toml");
  const socket = join(c.home, "control.sock");
  const before = readFileSync(config, "utf8");
  const gid = statSync(socket).gid;
  try {
    writeFileSync(config, before.replace(`control_group = "${GROUP}"`, 'control_group = "root"'));
    const r = await c.openscope(["reload"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`control_group changed in config.toml (${GROUP} -> root): it takes effect when the daemon restarts`);
    expect(statSync(socket).gid).toBe(gid);
  } finally {
    writeFileSync(config, before);
    await c.openscope(["reload"]);
  }
});
