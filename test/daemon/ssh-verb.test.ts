// The ssh adapter through the whole product: a catalog verb with adapter "ssh" runs on a real
// sshd (127.0.0.1, throwaway keys) when a recipient calls it, with the operator's known_hosts and
// key from config.toml, and a hostile-looking allowed value stays one inert remote argument.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cluster, type OpenedShare, type Recipient } from "../helpers/cluster.ts";
import { startSshd, type TestSshd } from "../helpers/sshd.ts";

let c: Cluster;
let sshd: TestSshd;
let vendor: Recipient;
let share: OpenedShare;

beforeAll(async () => {
  sshd = await startSshd();
  c = new Cluster("source");
  await c.startRelay();
  const marker = join(c.dir, "remote-marker");
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
`);
  writeFileSync(
    join(c.home, "config.toml"),
    `relay = "${c.relay!.url}"\nrelay_token = "${c.token}"\nssh_known_hosts = "${sshd.knownHosts}"\nssh_identity = "${sshd.clientKey}"\n`,
    { mode: 0o600 },
  );
  await c.startDaemon();
  expect((await c.openscope(["grant", "add", "--agent", "ops", "--verb", "remote.echo", "--verb", "remote.touch"])).code).toBe(0);
  vendor = c.recipient("vendor");
  expect((await c.openscope(["recipients", "add", "vendor", await vendor.keygen()])).code).toBe(0);
  share = await c.openShare(["--agent", "ops", "--verb", "remote.echo", "--verb", "remote.touch", "--to", "vendor", "--ttl", "5m"]);
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
});
