// The interactive prompt on piped stdin, from source, against a real relay and daemon: what a
// person reads on a denial (the reason in passport terms), a verb outside the passport (a note,
// then the daemon's refusal), a malformed k=v, help; a second client while one is connected (told
// plainly, exit 4); and a revoke while connected (a clear message, exit 5). Also `call` one-shot:
// SIGINT (Ctrl-C) cancels the verb on the daemon, and --json reports it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Cluster, commandFor, type OpenedShare, type Recipient } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/spawn.ts";
import { pidsRunning } from "../helpers/procs.ts";

let c: Cluster;
let vendor: Recipient;
let share: OpenedShare;

const spawnInteractive = (s: OpenedShare) => vendor.spawn(["--passport", s.handle, "--fingerprint", s.fingerprint]);

beforeAll(async () => {
  c = await Cluster.start("source");
  expect((await c.openscope(["grant", "add", "--agent", "you", "--verb", "echo.word", "--verb", "ssh.restart_service", "--verb", "slow.sleep"])).code).toBe(0);
  vendor = c.recipient("vendor");
  expect((await c.openscope(["recipients", "add", "vendor-b", await vendor.keygen()])).code).toBe(0);
  share = await c.openShare(["--agent", "you", "--verb", "echo.word", "--verb", "ssh.restart_service:service=web", "--verb", "slow.sleep", "--to", "vendor-b", "--ttl", "10m"]);
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

describe("call, one-shot", () => {
  test("SIGINT cancels the running verb on the daemon: exit 130, --json says cancelled, audited", async () => {
    const proc = Bun.spawn(
      [...commandFor("source", "openscope-reflect-client"), "--passport", share.handle, "--fingerprint", share.fingerprint, "call", "slow.sleep", "seconds=97", "--json"],
      { env: { ...process.env, NO_COLOR: "1", XDG_CONFIG_HOME: vendor.configHome }, stdin: "ignore", stdout: "pipe", stderr: "pipe" },
    );
    await waitFor(() => pidsRunning("sleep", "97").length > 0, "the verb to run", 20_000);
    proc.kill("SIGINT");
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect(code).toBe(130);
    expect(err).toContain("slow.sleep was cancelled");
    expect(JSON.parse(out)).toMatchObject({ verb: "slow.sleep", cancelled: true, params: { seconds: "97" } });
    await waitFor(() => pidsRunning("sleep", "97").length === 0, "the daemon to kill the verb");
    const outcome = await waitFor(async () => (await c.auditRows(share.id)).find((r) => r.kind === "call.outcome" && r.verb === "slow.sleep"), "the outcome row");
    expect(String(outcome.detail)).toContain("cancelled");
  });
});

describe("the interactive prompt on piped stdin", () => {
  test("card, denial in passport terms, a note for a verb outside, a bad k=v, help; then revoke ends it (exit 5)", async () => {
    const cl = spawnInteractive(share);
    try {
      await waitFor(() => cl.io.err.includes("type help for commands"), "the card and verb list", 20_000);
      expect(cl.io.err).toContain("ssh.restart_service — service = web");
      expect(cl.io.err).toMatch(/Time left: \d+m\d*s?\. Every call is recorded\./);

      cl.write("ssh.restart_service service=api");
      await waitFor(() => cl.io.err.includes("✘ denied: service=api is outside this share (allowed: web)"), "the denial");

      cl.write("fail.exit code=1");
      await waitFor(() => cl.io.err.includes("note: fail.exit is not in this passport; sending it anyway"), "the note");
      await waitFor(() => /✘ denied: .*fail\.exit/.test(cl.io.err), "the daemon's refusal of fail.exit");

      cl.write("echo.word hello");
      await waitFor(() => cl.io.err.includes('"hello" is not a k=v argument\nhint: call arguments look like: lines=50 service=web'), "the k=v complaint and its hint");

      cl.write("help");
      await waitFor(() => cl.io.err.includes("Ctrl-C cancels a running call"), "the help text");

      cl.write("echo.word word=still");
      await waitFor(() => cl.io.out === "still\n", "a call after all that");

      // Every attempt reached the daemon and was recorded there.
      const denied = (await c.auditRows(share.id)).filter((r) => r.kind === "call.denied").map((r) => r.reason);
      expect(denied).toEqual(["param_outside_passport", "verb_not_in_passport"]);

      // While this client is connected, a second one is told plainly (exit 4).
      const second = await vendor.call(share, "echo.word", ["word=two"]);
      expect(second.code).toBe(4);
      expect(second.stderr).toContain("another client is already connected to this share");

      expect((await c.openscope(["share", "revoke", share.id])).code).toBe(0);
      expect(await cl.proc.exited).toBe(5);
      expect(cl.io.err).toContain("share revoked by the operator; disconnected");
    } finally {
      cl.proc.kill();
    }
  });
});
