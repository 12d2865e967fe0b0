// The ssh adapter through the whole product: a catalog verb with adapter "ssh" runs on a real
// sshd (127.0.0.1, throwaway keys) when a recipient calls it, with the operator's known_hosts and
// key from config.toml, and a hostile-looking allowed value stays one inert remote argument.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cluster, type OpenedShare, type Recipient } from "../helpers/cluster.ts";
import { startSshd, type TestSshd } from "../helpers/sshd.ts";
import { waitFor } from "../helpers/spawn.ts";

let c: Cluster;
let sshd: TestSshd;
let vendor: Recipient;
let share: OpenedShare;
let pidFile: string;

beforeAll(async () => {
  sshd = await startSshd();
  c = new Cluster("source");
  await c.startRelay();
  const marker = join(c.dir, "remote-marker");
  pidFile = join(c.dir, "remote-pids");
  await c.init(`
[verb."remote.echo"]
summary = "Echo words on the remote host"
adapter = "ssh"
host = "127.0.0.1"
port = ${sshd.port}
user = "${sshd.user}"
argv = ["printf", "[%s]\\\\n", "{a}", "{b}"]
timeout = "20s"
max_output = "64KiB"
params.a = { enum = ["one", "two words"], allow = ["whitespace"] }
params.b = { pattern = "^[a-z;&|$()]{1,16}$" }

[verb."remote.touch"]
summary = "Touch a marker on the remote host"
adapter = "ssh"
host = "127.0.0.1"
port = ${sshd.port}
user = "${sshd.user}"
argv = ["touch", ${JSON.stringify(marker)}]
timeout = "20s"
max_output = "4KiB"

[verb."remote.sleeper"]
summary = "Write its pids, then wait a long time on the remote host"
adapter = "ssh"
host = "127.0.0.1"
port = ${sshd.port}
user = "${sshd.user}"
argv = ["sh", "-c", ${JSON.stringify(`sleep 300 & echo "$$ $!" > ${pidFile}; echo started; wait`)}]
timeout = "120s"
max_output = "4KiB"
`);
  writeFileSync(
    join(c.home, "config.toml"),
    `relay = "${c.relay!.url}"\nrelay_token = "${c.token}"\nssh_known_hosts = "${sshd.knownHosts}"\nssh_identity = "${sshd.clientKey}"\n`,
    { mode: 0o600 },
  );
  await c.startDaemon();
  expect((await c.openscope(["grant", "add", "--agent", "ops", "--verb", "remote.echo", "--verb", "remote.touch", "--verb", "remote.sleeper"])).code).toBe(0);
  vendor = c.recipient("vendor");
  expect((await c.openscope(["recipients", "add", "vendor", await vendor.keygen()])).code).toBe(0);
  share = await c.openShare(["--agent", "ops", "--verb", "remote.echo", "--verb", "remote.touch", "--verb", "remote.sleeper", "--to", "vendor", "--ttl", "5m"]);
}, 60_000);

afterAll(async () => {
  await c?.stop();
  await sshd?.stop();
});

describe("ssh adapter end to end", () => {
  test("a verb runs on the remote host through ssh", async () => {
    const r = await vendor.call(share, "remote.touch");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(existsSync(join(c.dir, "remote-marker"))).toBe(true);
  }, 30_000);

  test("each value arrives as one argument; shell characters stay inert on the remote shell", async () => {
    const r = await vendor.call(share, "remote.echo", ["a=two words", "b=$(id);ls|cat&"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("[two words]\n[$(id);ls|cat&]\n");
  }, 30_000);

  // THREAT-MODEL.md: a killed (or cancelled, timed-out, revoked) ssh verb ends on the remote host
  // too, not only the local ssh client. sshd is on this host, so the remote pids can be watched.
  test("share kill ends the remote command and its child, not only the local ssh client", async () => {
    const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
    const call = vendor.call(share, "remote.sleeper");
    const pids = await waitFor(() => readPids(pidFile), "the remote command to start", 20_000);
    expect(pids.length).toBe(2);
    expect(pids.every(alive)).toBe(true);
    expect((await c.openscope(["share", "kill", share.id])).code).toBe(0);
    const r = await call;
    expect(r.code).not.toBe(0);
    await waitFor(() => !pids.some(alive), `remote pids ${pids.join(", ")} to end`, 5_000);
    const outcome = (await c.auditRows(share.id)).find((row) => row.kind === "call.outcome" && row.verb === "remote.sleeper");
    expect(String(outcome?.detail)).toContain("cancelled");
  }, 60_000);
});

/** The two pids the remote command wrote ("$$ $!"), once the line is complete. */
function readPids(file: string): number[] | undefined {
  if (!existsSync(file)) return undefined;
  const m = /^(\d+) (\d+)\n$/.exec(readFileSync(file, "utf8"));
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}
