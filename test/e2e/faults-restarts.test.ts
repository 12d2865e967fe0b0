// Faults survived (issue 8), on the compiled binaries: the relay killed and restarted on the same
// port mid-session (the daemon reconnects, the client comes back, a call in flight is reported
// interrupted and never repeated); the daemon killed with SIGKILL and restarted (the audit chain
// verifies, live shares work, ended ones stay ended); the client killed mid-stream (the daemon
// kills the verb and audits the outcome).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cluster, markSlowVerb, testCatalog, type OpenedShare, type Recipient } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/spawn.ts";
import { pidsWith } from "../helpers/procs.ts";

setDefaultTimeout(90_000);

let c: Cluster;
let vendor: Recipient;
let share: OpenedShare;
let marker: string;

const faultCatalog = (dir: string, markerFile: string) => testCatalog(dir) + markSlowVerb(markerFile);

const executions = () => (existsSync(marker) ? readFileSync(marker, "utf8").split("\n").filter(Boolean).length : 0);

const spawnClient = (r: Recipient, args: string[]) => r.spawn(args);

async function grantAndShare(verbs: string[], ttl = "10m"): Promise<OpenedShare> {
  return c.openShare(["--agent", "you", ...verbs.flatMap((v) => ["--verb", v]), "--to", "vendor-b", "--ttl", ttl]);
}

beforeAll(async () => {
  c = new Cluster("binary");
  marker = join(c.dir, "marker.txt");
  await c.startRelay();
  await c.init(faultCatalog(join(c.dir, "data"), marker));
  await c.startDaemon();
  const g = await c.openscope(["grant", "add", "--agent", "you", "--verb", "echo.word", "--verb", "mark.slow", "--verb", "logs.follow", "--verb", "ssh.restart_service"]);
  expect(g.code).toBe(0);
  vendor = c.recipient("vendor");
  const pub = await vendor.keygen();
  expect((await c.openscope(["recipients", "add", "vendor-b", pub])).code).toBe(0);
  share = await grantAndShare(["echo.word", "mark.slow", "logs.follow", "ssh.restart_service:service=web"]);
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

async function restartRelay(): Promise<void> {
  const port = c.relay!.port;
  await c.relay!.stop("SIGKILL");
  await c.startRelay([], port);
}

describe("the relay killed and restarted on the same port", () => {
  test("an interactive client on piped stdin reconnects and calls work again", async () => {
    const cl = spawnClient(vendor, ["--passport", share.handle, "--fingerprint", share.fingerprint]);
    cl.write("echo.word word=before");
    await waitFor(() => cl.io.out.includes("before\n"), "the first call's output", 20_000);
    await restartRelay();
    await waitFor(() => cl.io.err.includes("reconnected"), "the client to reconnect", 30_000);
    cl.write("echo.word word=after");
    await waitFor(() => cl.io.out.includes("after\n"), "a call after the relay came back", 20_000);
    cl.write("quit");
    expect(await cl.proc.exited).toBe(0);
    expect(cl.io.err).toContain("connection lost; reconnecting");
  });

  test("a call in flight is reported interrupted (exit 4) and never repeated; a new call works", async () => {
    const before = executions();
    const cl = spawnClient(vendor, ["--passport", share.handle, "--fingerprint", share.fingerprint, "call", "mark.slow"]);
    await waitFor(() => cl.io.out.includes("started"), "the slow verb to start", 20_000);
    await restartRelay();
    expect(await cl.proc.exited).toBe(4);
    expect(cl.io.err).toContain("interrupted");
    expect(cl.io.err).toContain("not repeated");
    // The daemon dials back to the restarted relay on its own; the next call goes through.
    await waitFor(async () => (await vendor.call(share, "echo.word", ["word=again"])).code === 0, "a call after the restart", 30_000);
    expect(executions()).toBe(before + 1);
    // The interrupted verb was ended by the daemon, and its outcome audited.
    await waitFor(async () => {
      const rows = (await c.auditRows(share.id)).filter((r) => r.verb === "mark.slow");
      return rows.filter((r) => r.kind === "call.outcome").length === rows.filter((r) => r.kind === "call.allowed").length;
    }, "the interrupted call's outcome", 20_000);
    await waitFor(() => pidsWith(`${marker}; echo started`).length === 0, "the verb's process to be gone", 10_000);
    expect(executions()).toBe(before + 1);
  });
});

describe("the client killed mid-stream", () => {
  test("the daemon kills the verb and audits its outcome", async () => {
    const log = join(c.dir, "data", "logs", "web.log");
    const cl = spawnClient(vendor, ["--passport", share.handle, "--fingerprint", share.fingerprint, "call", "logs.follow", "service=web"]);
    await waitFor(() => cl.io.out.includes("web line 100"), "the follow to stream", 20_000);
    await waitFor(() => pidsWith(log).length === 1, "the tail process", 10_000);
    writeFileSync(log, "web line 101\n", { flag: "a" });
    await waitFor(() => cl.io.out.includes("web line 101"), "a line written after the call started", 10_000);
    cl.proc.kill("SIGKILL");
    await cl.proc.exited;
    await waitFor(() => pidsWith(log).length === 0, "the daemon to kill the verb", 20_000);
    const rows = await waitFor(async () => {
      const r = (await c.auditRows(share.id)).filter((x) => x.verb === "logs.follow");
      return r.some((x) => x.kind === "call.outcome") ? r : undefined;
    }, "the outcome row", 10_000);
    expect(rows.map((r) => r.kind)).toEqual(["call.allowed", "call.outcome"]);
    const outcome = rows[1]!;
    expect(outcome.exitCode).not.toBe(0);
    expect(String(outcome.detail)).toMatch(/cancelled|session ended|signal/);
  });
});

describe("the daemon killed with SIGKILL and restarted", () => {
  test("the chain verifies, the live share works, ended ones stay ended, nothing is wider", async () => {
    const short = await grantAndShare(["echo.word"], "5s");
    const revoked = await grantAndShare(["echo.word"]);
    expect((await c.openscope(["share", "revoke", revoked.id])).code).toBe(0);
    // A call is running when the daemon dies.
    const before = executions();
    const cl = spawnClient(vendor, ["--passport", share.handle, "--fingerprint", share.fingerprint, "call", "mark.slow"]);
    await waitFor(() => cl.io.out.includes("started"), "the slow verb to start", 20_000);
    c.daemon!.proc.kill("SIGKILL");
    await c.daemon!.proc.exited;
    expect(await cl.proc.exited).toBe(4);
    expect(cl.io.err).toContain("interrupted");
    // The short share's expiry passes while the daemon is down.
    await waitFor(() => Date.now() > Date.parse(short.expires_at) + 500, "the short share's expiry", 10_000);
    await c.startDaemon();
    const verify = await c.openscope(["audit", "--verify"]);
    expect(verify.code).toBe(0);
    const list = JSON.parse((await c.openscope(["share", "list", "--json"])).stdout) as Array<Record<string, unknown>>;
    expect(list.find((s) => s.id === share.id)?.state).toBe("live");
    expect(list.find((s) => s.id === short.id)?.state).toBe("expired");
    expect(list.find((s) => s.id === revoked.id)?.state).toBe("revoked");
    // The live share works again, exactly as narrow as before.
    const ok = await waitFor(async () => {
      const r = await vendor.call(share, "echo.word", ["word=back"]);
      return r.code === 0 ? r : undefined;
    }, "a call on the live share after the restart", 30_000);
    expect(ok.stdout).toBe("back\n");
    const wider = await vendor.call(share, "ssh.restart_service", ["service=api"]);
    expect(wider.code).toBe(3);
    expect(existsSync(join(c.dir, "data", "run", "api.restarted"))).toBe(false);
    // The expired and revoked shares stay over (exit 5), with the reason.
    const exp = await vendor.call(short, "echo.word", ["word=late"]);
    expect(exp.code).toBe(5);
    expect(exp.stderr).toContain("expired");
    const rev = await vendor.call(revoked, "echo.word", ["word=late"]);
    expect(rev.code).toBe(5);
    expect(rev.stderr).toContain("revoked by the operator");
    // The call that was running when the daemon died ran once and was not repeated.
    expect(executions()).toBe(before + 1);
    const rows = (await c.auditRows(share.id)).filter((r) => r.verb === "mark.slow" && r.kind === "call.allowed");
    expect(rows.length).toBe(executions());
    expect((await c.openscope(["audit", "--verify"])).code).toBe(0);
    // A SIGKILLed daemon cannot reap its children: end the orphaned verb ourselves.
    for (const pid of pidsWith(`${marker}; echo started`)) process.kill(pid, "SIGKILL");
  });
});
