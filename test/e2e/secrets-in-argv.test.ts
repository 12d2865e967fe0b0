// THREAT-MODEL "What must never happen": a deployment token must be typed on a command line to be
// used. The compiled daemon takes it from --relay-token-file or OPENSCOPE_RELAY_TOKEN (or
// config.toml), never shows it in /proc/PID/cmdline, and warns when --relay-token is used anyway.
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cluster, testCatalog } from "../helpers/cluster.ts";

setDefaultTimeout(60_000);

let c: Cluster | undefined;
afterEach(async () => {
  await c?.stop();
  c = undefined;
});

/** A relay and an initialised home whose config.toml names the relay but holds no token. */
async function clusterWithoutConfigToken(): Promise<Cluster> {
  const cl = new Cluster("binary");
  await cl.startRelay();
  await cl.init(testCatalog(join(cl.dir, "data")));
  writeFileSync(join(cl.home, "config.toml"), `relay = "${cl.relay!.url}"\n`, { mode: 0o600 });
  return cl;
}

/** The daemon holds a relay leg: a share opens (share open returns once the relay accepted it). */
async function expectShareOpens(cl: Cluster): Promise<void> {
  expect((await cl.openscope(["grant", "add", "--agent", "you", "--verb", "echo.word"])).code).toBe(0);
  const share = await cl.openShare(["--agent", "you", "--verb", "echo.word", "--bearer", "--ttl", "5m"]);
  expect(share.id).toMatch(/^[0-9a-f]{12}$/);
}

const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, "utf8");

describe("the daemon's deployment token", () => {
  test("--relay-token-file: the share opens and the token is not in the daemon's argv", async () => {
    c = await clusterWithoutConfigToken();
    const file = join(c.dir, "relay-token");
    writeFileSync(file, `${c.token}\n`, { mode: 0o600 });
    await c.startDaemon(["--relay-token-file", file]);
    expect(cmdline(c.daemon!.proc.pid)).not.toContain(c.token);
    expect(c.daemon!.stderr()).not.toContain(" warn  ");
    await expectShareOpens(c);
  });

  test("OPENSCOPE_RELAY_TOKEN: the share opens and the token is not in the daemon's argv", async () => {
    c = await clusterWithoutConfigToken();
    await c.startDaemon([], { OPENSCOPE_RELAY_TOKEN: c.token });
    expect(cmdline(c.daemon!.proc.pid)).not.toContain(c.token);
    await expectShareOpens(c);
  });

  test("--relay-token on the command line still works, with a warning naming the safe forms", async () => {
    c = await clusterWithoutConfigToken();
    await c.startDaemon(["--relay-token", c.token]);
    const err = c.daemon!.stderr();
    expect(err).toContain(" warn  --relay-token is readable by every local user in the process list");
    expect(err).toContain("--relay-token-file");
    await expectShareOpens(c);
  });

  test("a token file others can read is refused (exit 2), and the token is not printed", async () => {
    c = await clusterWithoutConfigToken();
    const file = join(c.dir, "relay-token");
    writeFileSync(file, `${c.token}\n`);
    chmodSync(file, 0o644);
    const r = await c.openscope(["daemon", "--relay-token-file", file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--relay-token-file ${file} is readable by others`);
    expect(r.stderr).not.toContain(c.token);
  });

  test("a missing or empty token file is a usage error (exit 2)", async () => {
    c = await clusterWithoutConfigToken();
    const missing = await c.openscope(["daemon", "--relay-token-file", join(c.dir, "nope")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("ENOENT");
    const empty = join(c.dir, "empty");
    writeFileSync(empty, "\n", { mode: 0o600 });
    const r = await c.openscope(["daemon", "--relay-token-file", empty]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("expected one token on one line");
  });
});
