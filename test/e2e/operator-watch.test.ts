// `openscope share watch --json` and `share kill` on the compiled binaries (SPEC.md §17.1):
// the events of a share's whole life, one JSON object per line (its history first, then calls,
// decisions, output chunks, the operator's kill, the revoke, after which the watch ends by itself);
// and a watcher that stops reading does not slow a streaming verb: it loses its own events and is
// told how many.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { Cluster, commandFor, testCatalog, type OpenedShare, type Recipient } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/spawn.ts";

setDefaultTimeout(120_000);

const mode = (process.env.OPENSCOPE_E2E_MODE as "binary" | "source" | undefined) ?? "binary";
let c: Cluster;

type Event = { kind: string; at: number; shareId?: string } & Record<string, unknown>;

interface Watcher {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  events(): Event[];
  text(): string;
  exited: Promise<number>;
}

/** `openscope share watch [ID] --json` in the background; its stdout parsed line by line as it comes. */
function watch(args: string[]): Watcher {
  const proc = Bun.spawn([...commandFor(mode, "openscope"), "share", "watch", ...args, "--json"], {
    env: { ...process.env, NO_COLOR: "1", OPENSCOPE_HOME: c.home },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  const pump = (async () => {
    const d = new TextDecoder();
    for await (const chunk of proc.stdout) out += d.decode(chunk, { stream: true });
  })();
  void new Response(proc.stderr).text();
  const timer = setTimeout(() => proc.kill("SIGKILL"), 110_000);
  return {
    proc,
    text: () => out,
    events: () =>
      out
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as Event),
    exited: proc.exited.then(async (code) => {
      clearTimeout(timer);
      await pump;
      return code;
    }),
  };
}

const kinds = (evs: Event[]) => evs.map((e) => e.kind);

beforeAll(async () => {
  c = new Cluster(mode);
  await c.startRelay();
  await c.init(`${testCatalog(join(c.dir, "data"))}
[verb."say.twice"]
summary = "Print two lines, a moment apart"
adapter = "exec"
argv = ["sh", "-c", "echo first; sleep 0.2; echo second"]
timeout = "10s"
max_output = "4KiB"
`);
  await c.startDaemon();
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

describe("share watch --json", () => {
  let vendor: Recipient;
  let share: OpenedShare;

  test("a share's whole life: history, calls, output, a denial, a kill, the revoke; then the watch ends", async () => {
    ({ vendor, share } = await c.shareTo({ grant: ["say.twice", "slow.sleep", "echo.word"], share: ["say.twice", "slow.sleep:seconds=0..90", "echo.word"] }));
    const w = watch([share.id]);
    await waitFor(() => kinds(w.events()).includes("watch.started"), "the watch to start");

    const said = await vendor.call(share, "say.twice");
    expect(said.code).toBe(0);
    expect(said.stdout).toBe("first\nsecond\n");
    const denied = await vendor.call(share, "slow.sleep", ["seconds=100"]);
    expect(denied.code).toBe(3);

    // A long call, killed by the operator: the recipient is told, the share goes on.
    const slow = vendor.call(share, "slow.sleep", ["seconds=80"]);
    const allowed = await waitFor(() => w.events().find((e) => e.kind === "call.allowed" && e.verb === "slow.sleep"), "the slow call in the watch");
    const kill = await c.openscope(["share", "kill", share.id]);
    expect(kill.code).toBe(0);
    expect(kill.stdout).toContain(`killed ${allowed.callId} in share ${share.id}; the share goes on`);
    const killed = await slow;
    expect(killed.code).toBe(1);
    expect(killed.stderr).toContain("slow.sleep was cancelled by the operator");
    const again = await vendor.call(share, "echo.word", ["word=stillhere"]);
    expect(again.stdout).toBe("stillhere\n");

    expect((await c.openscope(["share", "revoke", share.id])).code).toBe(0);
    expect(await w.exited).toBe(0); // the watch of one share ends with it

    const evs = w.events();
    const seq = kinds(evs);
    expect(seq[0]).toBe("watch.started");
    expect(evs[0]!.shares).toEqual([expect.objectContaining({ id: share.id, recipient: "vendor-b", state: "live" })]);
    expect(evs.find((e) => e.kind === "share.opened")).toMatchObject({ replay: true, shareId: share.id });
    // Every event is about this share.
    for (const e of evs.slice(1)) expect(e.shareId).toBe(share.id);
    // The first call: allowed, its output as streamed, its outcome.
    const sayId = evs.find((e) => e.kind === "call.allowed" && e.verb === "say.twice")!.callId;
    const sayEvents = evs.filter((e) => e.callId === sayId);
    expect(kinds(sayEvents)[0]).toBe("call.allowed");
    expect(kinds(sayEvents).at(-1)).toBe("call.outcome");
    const output = sayEvents.filter((e) => e.kind === "call.output");
    expect(output.length).toBeGreaterThanOrEqual(1);
    expect(output.map((e) => (e.encoding === "utf8" ? e.data : Buffer.from(String(e.data), "base64").toString())).join("")).toBe("first\nsecond\n");
    for (const o of output) expect(o.stream).toBe("stdout");
    expect(sayEvents.at(-1)).toMatchObject({ exitCode: 0, bytesOut: 13 });
    // The denial, with its reason.
    expect(evs.find((e) => e.kind === "call.denied")).toMatchObject({ verb: "slow.sleep", params: { seconds: "100" }, reason: "param_outside_passport" });
    // The kill: the operator's row, then the outcome saying so.
    const killRows = evs.filter((e) => e.callId === allowed.callId).map((e) => e.kind);
    expect(killRows).toEqual(["call.allowed", "call.killed", "call.outcome"]);
    expect(String(evs.find((e) => e.callId === allowed.callId && e.kind === "call.outcome")!.detail)).toContain("cancelled by the operator");
    // Connections come and go with each one-shot call; the share's state follows.
    expect(seq.filter((k) => k === "share.connected").length).toBe(4);
    expect(seq.filter((k) => k === "share.disconnected").length).toBe(4);
    expect(seq.indexOf("share.revoked")).toBeGreaterThan(seq.lastIndexOf("call.outcome"));
    expect(evs.filter((e) => e.kind === "share.state").at(-1)!.share).toMatchObject({ id: share.id, state: "revoked", connected: false });
    // The audit holds the kill too.
    const audit = await c.auditRows(share.id);
    expect(audit.some((r) => r.kind === "call.killed" && r.callId === allowed.callId)).toBe(true);
  });

  test("watching an ended share prints its history and ends; an unknown share is exit 2", async () => {
    const w = watch([share.id]);
    expect(await w.exited).toBe(0);
    const seq = kinds(w.events());
    expect(seq[0]).toBe("watch.started");
    expect(seq).toContain("share.revoked");
    const none = await c.openscope(["share", "watch", "0123456789ab", "--json"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no share with id "0123456789ab"');
    const bad = await c.openscope(["share", "kill", "nope"]);
    expect(bad.code).toBe(2);
  });
});

describe("share watch --json of every share", () => {
  test("starts with the live shares and follows each of them until it is stopped", async () => {
    const all = watch([]);
    await waitFor(() => kinds(all.events()).includes("watch.started"), "the watch to start");
    const before = (all.events()[0]!.shares as Array<{ id: string }>).map((s) => s.id);
    const a = await c.openShare(["--agent", "you", "--verb", "echo.word", "--to", "vendor-b", "--ttl", "5m"]);
    const b = await c.openShare(["--agent", "you", "--verb", "echo.word", "--to", "vendor-b", "--ttl", "5m"]);
    const vendor = c.recipient("vendor-b");
    expect((await vendor.call(a, "echo.word", ["word=froma"])).code).toBe(0);
    expect((await vendor.call(b, "echo.word", ["word=fromb"])).code).toBe(0);
    await waitFor(() => all.events().some((e) => e.shareId === b.id && e.kind === "call.outcome"), "both shares' calls");
    const outputs = all.events().filter((e) => e.kind === "call.output").map((e) => `${e.shareId} ${e.data}`);
    expect(outputs).toEqual([`${a.id} froma\n`, `${b.id} fromb\n`]);
    expect(all.events().filter((e) => e.kind === "share.opened").map((e) => e.shareId)).toEqual([a.id, b.id]);
    expect(before).not.toContain(a.id);
    // Revoking one share does not end a watch of all of them.
    expect((await c.openscope(["share", "revoke", a.id])).code).toBe(0);
    await waitFor(() => all.events().some((e) => e.shareId === a.id && e.kind === "share.revoked"), "the revoke");
    expect(all.proc.exitCode).toBeNull();
    all.proc.kill("SIGTERM");
    await all.exited;
    expect((await c.openscope(["share", "revoke", b.id])).code).toBe(0);
  });
});

describe("a quiet watch", () => {
  test("outlives the control server's idle timeout: nothing happens for 12 s, then an event still arrives", async () => {
    const s = await c.openShare(["--agent", "you", "--verb", "echo.word", "--to", "vendor-b", "--ttl", "5m"]);
    const w = watch([s.id]);
    await waitFor(() => kinds(w.events()).includes("watch.started"), "the watch to start");
    // Bun.serve's default idle timeout is 10 s (and server.timeout(req, 0) does not lift it on 1.4.4).
    await Bun.sleep(12_000);
    expect(w.proc.exitCode).toBeNull();
    expect((await c.openscope(["share", "revoke", s.id])).code).toBe(0);
    expect(await w.exited).toBe(0);
    expect(kinds(w.events())).toContain("share.revoked");
  });
});

describe("a stalled watcher", () => {
  test("does not slow a streaming verb: it loses its own events and is told how many", async () => {
    const vendor = c.recipient("staller");
    expect((await c.openscope(["recipients", "add", "staller", await vendor.keygen()])).code).toBe(0);
    expect((await c.openscope(["grant", "add", "--agent", "you", "--verb", "stream.seq", "--verb", "echo.word"])).code).toBe(0);
    const share = await c.openShare(["--agent", "you", "--verb", "echo.word", "--verb", "stream.seq", "--to", "staller", "--ttl", "10m"]);
    const w = watch([share.id]);
    await waitFor(() => kinds(w.events()).includes("watch.started"), "the watch to start");
    // The watcher stops reading altogether (as a frozen terminal would).
    w.proc.kill("SIGSTOP");
    try {
      const count = 3_000_000; // about 21 MB of output, far past the watcher's buffer
      const r = await vendor.call(share, "stream.seq", [`count=${count}`]);
      expect(r.code).toBe(0);
      const lines = r.stdout.split("\n");
      expect(lines.length).toBe(count + 1);
      expect(lines[count - 1]).toBe(String(count));
      // The verb finished while the watcher was frozen: the daemon did not wait for it.
      const rows = await c.auditRows(share.id);
      expect(rows.find((x) => x.kind === "call.outcome" && x.verb === "stream.seq")).toMatchObject({ exitCode: 0 });
    } finally {
      w.proc.kill("SIGCONT");
    }
    // Back: it gets what fitted, then the count of what it lost, then live events again.
    const dropped = await waitFor(() => w.events().find((e) => e.kind === "watch.dropped"), "the dropped-events notice", 60_000);
    expect(Number(dropped.count)).toBeGreaterThan(0);
    const r2 = await vendor.call(share, "echo.word", ["word=after"]);
    expect(r2.code).toBe(0);
    await waitFor(() => w.events().some((e) => e.kind === "call.output" && e.data === "after\n"), "live events after the gap", 60_000);
    expect((await c.openscope(["share", "revoke", share.id])).code).toBe(0);
    expect(await w.exited).toBe(0);
  });
});

describe("the daemon goes away", () => {
  test("a watch of a live share ends with exit 4, not 0, so a script can tell", async () => {
    const s = await c.openShare(["--agent", "you", "--verb", "echo.word", "--to", "vendor-b", "--ttl", "5m"]);
    const w = watch([s.id]);
    await waitFor(() => kinds(w.events()).includes("watch.started"), "the watch to start");
    await c.daemon!.stop();
    expect(await w.exited).toBe(4);
  });
});
