// A daemon killed with SIGKILL leaves its verbs running (each leads its own process group). The
// next daemon start ends them and records that their outcome is unknown.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Cluster, type OpenedShare, type Recipient } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/spawn.ts";
import { processStartTime } from "../../lib/daemon/running-verbs.ts";
import { pidsRunning } from "../helpers/procs.ts";

let c: Cluster;
let vendor: Recipient;
let share: OpenedShare;

beforeAll(async () => {
  c = await Cluster.start("source");
  ({ vendor, share } = await c.shareTo({ grant: ["slow.sleep"] }));
}, 60_000);

afterAll(async () => {
  for (const pid of pidsRunning("sleep", "113")) process.kill(pid, "SIGKILL");
  await c?.stop();
});

test("processStartTime reads this process's start time and nothing for a missing pid", () => {
  expect(processStartTime(process.pid)).toMatch(/^\d+$/);
  expect(processStartTime(2 ** 22 + 12345)).toBeUndefined();
});

test("after a SIGKILL of the daemon, the next start ends the verb it left and audits it", async () => {
  const cl = vendor.spawn(["--passport", share.handle, "--fingerprint", share.fingerprint, "call", "slow.sleep", "seconds=113"]);
  const [pid] = await waitFor(() => (pidsRunning("sleep", "113").length ? pidsRunning("sleep", "113") : undefined), "the verb to start");
  // The daemon records the pid right after the spawn returns; a kill inside that instant would
  // leave the verb unrecorded, so the test kills only once it is on record.
  await waitFor(() => readFileSync(join(c.home, "running.json"), "utf8").includes(`"pid":${pid}`), "the verb to be recorded");
  await c.daemon!.stop("SIGKILL");
  await cl.proc.exited;
  expect(pidsRunning("sleep", "113")).toContain(pid!); // outlived the daemon: it leads its own group
  await c.startDaemon();
  expect(c.daemon!.stderr()).toContain("ended 1 verb(s) left running");
  await waitFor(() => pidsRunning("sleep", "113").length === 0, "the leftover verb to be gone");
  const rows = await c.auditRows(share.id);
  const allowed = rows.filter((r) => r.kind === "call.allowed" && r.verb === "slow.sleep");
  const outcome = rows.find((r) => r.kind === "call.outcome" && r.callId === allowed[0]!.callId);
  expect(String(outcome?.detail)).toContain("outcome unknown");
  expect((await c.openscope(["audit", "--verify"])).code).toBe(0);
}, 60_000);
