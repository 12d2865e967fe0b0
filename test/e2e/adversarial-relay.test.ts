// THREAT-MODEL.md "What must never happen": "the relay reads or alters a record undetected, or replays one": the compiled
// daemon and client talk through a relay that flips, drops, duplicates, reorders, replays or
// truncates one binary frame. Each time the session ends with an error and no call runs twice.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "../helpers/spawn.ts";
import { Cluster, testCatalog, type OpenedShare, type Recipient } from "../helpers/cluster.ts";
import { startEvilRelay, type EvilPlan, type EvilRelay } from "../helpers/evil-relay.ts";

let c: Cluster;
let evil: EvilRelay;
let vendor: Recipient;
let share: OpenedShare;
let marker: string;

/** A verb whose every execution appends one line to the marker file. */
function markCatalog(dir: string, markerFile: string): string {
  return `${testCatalog(dir)}
[verb."mark.run"]
summary = "Append a line to a marker file"
adapter = "exec"
argv = ["sh", "-c", ${JSON.stringify(`echo x >> ${markerFile}; echo ran`)}]
timeout = "5s"
max_output = "4KiB"
`;
}

const executions = () => (existsSync(marker) ? readFileSync(marker, "utf8").split("\n").filter(Boolean).length : 0);

/** call.allowed rows of mark.run, once every one of them has its outcome row. */
async function allowedMarks(): Promise<number> {
  return waitFor(async () => {
    const rows = (await c.auditRows(share.id)).filter((r) => r.verb === "mark.run");
    const allowed = rows.filter((r) => r.kind === "call.allowed").length;
    return allowed === rows.filter((r) => r.kind === "call.outcome").length ? { allowed } : undefined;
  }, "every allowed call's outcome in the audit").then((x) => x.allowed);
}

beforeAll(async () => {
  c = new Cluster("binary");
  evil = startEvilRelay({ token: c.token });
  marker = join(c.dir, "marker.txt");
  await c.init(markCatalog(join(c.dir, "data"), marker));
  writeFileSync(join(c.home, "config.toml"), `relay = "${evil.url}"\nrelay_token = "${c.token}"\n`, { mode: 0o600 });
  await c.startDaemon();
  expect((await c.openscope(["grant", "add", "--agent", "you", "--verb", "mark.run", "--verb", "echo.word"])).code).toBe(0);
  vendor = c.recipient("vendor");
  const pub = await vendor.keygen();
  expect((await c.openscope(["recipients", "add", "vendor-b", pub])).code).toBe(0);
  share = await c.openShare(["--agent", "you", "--verb", "mark.run", "--verb", "echo.word", "--to", "vendor-b", "--ttl", "10m"]);
}, 60_000);

afterAll(async () => {
  await c?.stop();
  await evil?.stop();
});

describe("a relay that tampers with frames", () => {
  test("untampered, a call runs exactly once", async () => {
    const before = executions();
    const r = await vendor.call(share, "mark.run");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("ran\n");
    expect(executions()).toBe(before + 1);
  });

  // Daemon → client frames of a one-shot call: 0 handshake reply, 1 hello, 2 started, 3 output, 4 result.
  // Client → daemon frames: 0 handshake message 1, 1 the call.
  const cases: Array<[string, EvilPlan, RegExp]> = [
    ["flips a bit in the handshake reply", { mode: "flip", direction: "toClient", at: 0 }, /handshake failed/],
    ["flips a bit in the hello", { mode: "flip", direction: "toClient", at: 1 }, /tampered with or broken/],
    ["flips a bit in a record mid-call", { mode: "flip", direction: "toClient", at: 2 }, /tampered with or broken/],
    ["drops a record", { mode: "drop", direction: "toClient", at: 2 }, /tampered with or broken/],
    ["duplicates a record", { mode: "duplicate", direction: "toClient", at: 2 }, /tampered with or broken/],
    ["reorders two records", { mode: "reorder", direction: "toClient", at: 2 }, /tampered with or broken/],
    ["replays an older record", { mode: "replay", direction: "toClient", at: 3 }, /tampered with or broken/],
    ["truncates a record", { mode: "truncate", direction: "toClient", at: 2 }, /tampered with or broken/],
    ["flips a bit in the client's handshake", { mode: "flip", direction: "toDaemon", at: 0 }, /could not reach|handshake failed/],
    ["flips a bit in the call record", { mode: "flip", direction: "toDaemon", at: 1 }, /interrupted/],
    ["truncates the call record", { mode: "truncate", direction: "toDaemon", at: 1 }, /interrupted/],
    ["duplicates the call record", { mode: "duplicate", direction: "toDaemon", at: 1 }, /interrupted|tampered/],
    ["replays the handshake in place of the call", { mode: "replay", direction: "toDaemon", at: 1 }, /interrupted/],
    // Nothing follows the last frame, so Noise cannot notice its loss: the client's deadline does.
    ["drops the final record (the result)", { mode: "drop", direction: "toClient", at: 4 }, /interrupted: no answer from the daemon in time/],
  ];

  for (const [name, plan, message] of cases) {
    test(`a relay that ${name}: the session ends with an error (exit 4), the call runs at most once`, async () => {
      const firedBefore = evil.fired;
      const ranBefore = executions();
      const allowedBefore = await allowedMarks();
      evil.arm(plan);
      const r = await vendor.call(share, "mark.run", [], []);
      evil.arm(undefined);
      expect(evil.fired).toBe(firedBefore + 1);
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(message);
      // allowedMarks waits until the verb the daemon started (if any) has its outcome audited.
      const allowed = (await allowedMarks()) - allowedBefore;
      expect(allowed).toBeLessThanOrEqual(1);
      const ran = executions() - ranBefore;
      expect(ran).toBeLessThanOrEqual(allowed);
      if (plan.direction === "toDaemon" && plan.mode !== "duplicate") expect(allowed).toBe(0); // the altered call never decoded
      // The session is usable again at once with an honest relay.
      const ok = await vendor.call(share, "echo.word", ["word=after"]);
      expect(ok.stderr).toBe("");
      expect(ok.code).toBe(0);
      expect(ok.stdout).toBe("after\n");
      expect(executions()).toBe(ran + ranBefore); // the honest call did not re-run the tampered one
    }, 60_000);
  }

  test("the daemon audited the rejected records and the chain verifies", async () => {
    const rows = await c.auditRows(share.id);
    expect(rows.some((r) => r.kind === "share.disconnected" && String(r.detail).includes("record rejected"))).toBe(true);
    expect(rows.some((r) => r.kind === "share.disconnected" && String(r.detail).includes("handshake failed"))).toBe(true);
    const v = await c.openscope(["audit", "--verify"]);
    expect(v.code).toBe(0);
    expect(c.daemon!.proc.exitCode).toBeNull();
  });
});
