// The recipient client across relay outages, on the compiled binaries: an interactive client on
// piped stdin with a call in flight when the relay dies reports that call as interrupted (and it
// is never repeated), retries with backoff while the relay stays down, re-handshakes when it
// comes back on the same port, and the next command works; a share that expires during the
// outage ends the client with exit 5 instead of retrying forever; a daemon restart (peer_gone)
// is followed at once by a fresh leg and handshake.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Cluster, markSlowVerb, testCatalog, type OpenedShare, type Recipient } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/spawn.ts";

setDefaultTimeout(90_000);

let c: Cluster;
let vendor: Recipient;
let marker: string;

const catalog = (dir: string, markerFile: string) => testCatalog(dir) + markSlowVerb(markerFile);

const executions = () => (existsSync(marker) ? readFileSync(marker, "utf8").split("\n").filter(Boolean).length : 0);

const spawnInteractive = (s: OpenedShare) => vendor.spawn(["--passport", s.handle, "--fingerprint", s.fingerprint]);

beforeAll(async () => {
  c = new Cluster("binary");
  marker = join(c.dir, "marker.txt");
  await c.startRelay();
  await c.init(catalog(join(c.dir, "data"), marker));
  await c.startDaemon();
  expect((await c.openscope(["grant", "add", "--agent", "you", "--verb", "echo.word", "--verb", "mark.slow"])).code).toBe(0);
  vendor = c.recipient("vendor");
  expect((await c.openscope(["recipients", "add", "vendor-b", await vendor.keygen()])).code).toBe(0);
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

describe("the relay drops during the share", () => {
  test("a call in flight is interrupted, not repeated; backoff retries; the next command works", async () => {
    const share = await c.openShare(["--agent", "you", "--verb", "echo.word", "--verb", "mark.slow", "--to", "vendor-b", "--ttl", "10m"]);
    const cl = spawnInteractive(share);
    cl.write("echo.word word=first");
    await waitFor(() => cl.io.out.includes("first\n"), "the first call's output", 20_000);
    const before = executions();
    cl.write("mark.slow");
    await waitFor(() => cl.io.out.includes("started\n"), "the slow verb to start", 20_000);
    const port = c.relay!.port;
    await c.relay!.stop("SIGKILL");
    await waitFor(() => cl.io.err.includes("interrupted"), "the call to be reported interrupted", 20_000);
    expect(cl.io.err).toContain("it was not repeated");
    // While the relay is down, the client keeps trying, each attempt numbered.
    await waitFor(() => cl.io.err.includes("reconnecting (attempt 3)"), "three reconnect attempts", 30_000);
    expect(cl.io.err).not.toContain("reconnected");
    await c.startRelay([], port);
    await waitFor(() => cl.io.err.includes("reconnected"), "the client to reconnect", 40_000);
    cl.write("echo.word word=second");
    await waitFor(() => cl.io.out.includes("second\n"), "a call after the relay came back", 20_000);
    cl.write("quit");
    expect(await cl.proc.exited).toBe(0);
    // The slow verb ran exactly once: the client never sent it again.
    expect(executions()).toBe(before + 1);
    const allowed = (await c.auditRows(share.id)).filter((r) => r.verb === "mark.slow" && r.kind === "call.allowed");
    expect(allowed.length).toBe(1);
  });

  test("a share that expires while the relay is down ends the client with exit 5", async () => {
    const share = await c.openShare(["--agent", "you", "--verb", "echo.word", "--to", "vendor-b", "--ttl", "6s"]);
    const cl = spawnInteractive(share);
    cl.write("echo.word word=short");
    await waitFor(() => cl.io.out.includes("short\n"), "a call on the short share", 20_000);
    const port = c.relay!.port;
    await c.relay!.stop("SIGKILL");
    try {
      await waitFor(() => cl.io.err.includes("reconnecting"), "the client to start reconnecting", 20_000);
      expect(await Promise.race([cl.proc.exited, Bun.sleep(30_000).then(() => "still running")])).toBe(5);
      expect(cl.io.err).toContain("expired");
    } finally {
      cl.proc.kill();
      await c.startRelay([], port);
    }
  });

  test("a share revoked while the relay is down: on reconnect the client says so and exits 5", async () => {
    const share = await c.openShare(["--agent", "you", "--verb", "echo.word", "--to", "vendor-b", "--ttl", "10m"]);
    const cl = spawnInteractive(share);
    cl.write("echo.word word=live");
    await waitFor(() => cl.io.out.includes("live\n"), "a call before the outage", 20_000);
    const port = c.relay!.port;
    await c.relay!.stop("SIGKILL");
    try {
      await waitFor(() => cl.io.err.includes("reconnecting"), "the client to start reconnecting", 20_000);
      expect((await c.openscope(["share", "revoke", share.id])).code).toBe(0);
    } finally {
      await c.startRelay([], port);
    }
    try {
      expect(await Promise.race([cl.proc.exited, Bun.sleep(40_000).then(() => "still running")])).toBe(5);
      expect(cl.io.err).toContain("share revoked by the operator; disconnected");
      expect(cl.io.err).not.toContain("share expired");
    } finally {
      cl.proc.kill();
    }
  });
});

describe("the daemon restarts during the share", () => {
  test("the relay says peer_gone; the client drops that leg, re-handshakes with the new daemon, and goes on", async () => {
    const share = await c.openShare(["--agent", "you", "--verb", "echo.word", "--to", "vendor-b", "--ttl", "10m"]);
    const cl = spawnInteractive(share);
    try {
      cl.write("echo.word word=before");
      await waitFor(() => cl.io.out.includes("before\n"), "a call before the restart", 20_000);
      await c.daemon!.stop("SIGTERM");
      await waitFor(() => cl.io.err.includes("reconnecting"), "the client to notice", 20_000);
      await c.startDaemon();
      await waitFor(() => cl.io.err.includes("reconnected"), "the client to reconnect", 40_000);
      // The old leg was given up at once, not left silent in the slot for the new daemon to
      // evict after its handshake timeout (which is what kept the client out for ~10 s).
      const evicted = (await c.auditRows(share.id)).filter((r) => r.kind === "share.disconnected" && String(r.detail).includes("handshake timed out"));
      expect(evicted).toEqual([]);
      cl.write("echo.word word=after");
      await waitFor(() => cl.io.out.includes("after\n"), "a call after the daemon came back", 20_000);
      cl.write("quit");
      expect(await cl.proc.exited).toBe(0);
    } finally {
      cl.proc.kill();
    }
  });
});
