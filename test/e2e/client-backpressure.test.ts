// A recipient whose stdout reader stalls must not make the client buffer the stream: credit is
// granted only for output the client has handed on, so the daemon's verb waits instead.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { Cluster, commandFor, type OpenedShare, type Recipient } from "../helpers/cluster.ts";
import { livePids } from "../helpers/procs.ts";
import { waitFor } from "../helpers/spawn.ts";

let c: Cluster;
let vendor: Recipient;
let share: OpenedShare;

const rssKiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);

beforeAll(async () => {
  c = await Cluster.start("binary");
  ({ vendor, share } = await c.shareTo({ grant: ["stream.seq"] }));
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

test("a stalled stdout reader: the client's memory stays flat, and all output arrives once it reads", async () => {
  const count = 8_000_000; // about 69 MB of lines
  // A real OS pipe whose reader sleeps first (a Bun pipe would be drained into the test's memory).
  const client = [...commandFor("binary", "openscope-reflect-client"), "--passport", share.handle, "--fingerprint", share.fingerprint, "call", "stream.seq", `count=${count}`];
  const proc = Bun.spawn(["bash", "-c", 'set -o pipefail; "$@" | { sleep 6; wc -c; }', "bash", ...client], {
    env: { ...process.env, NO_COLOR: "1", XDG_CONFIG_HOME: vendor.configHome },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const bin = commandFor("binary", "openscope-reflect-client")[0]!;
  const pid = await waitFor(() => livePids((cmd) => cmd.startsWith(bin) && cmd.includes(share.handle))[0], "the client to start", 20_000);
  let peak = 0;
  const until = Date.now() + 5000;
  while (Date.now() < until) {
    try {
      peak = Math.max(peak, rssKiB(pid));
    } catch {
      break; // exited: the assertions below say why
    }
    await Bun.sleep(200);
  }
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(err).toBe("");
  expect(code).toBe(0);
  // Without backpressure the client would hold most of the 69 MB while its reader sleeps.
  expect(peak).toBeGreaterThan(0);
  expect(peak).toBeLessThan(110 * 1024);
  // seq prints 1..count, one per line: every byte of those lines arrived.
  let expected = 0;
  for (let digits = 1, lo = 1; lo <= count; digits++, lo *= 10) expected += (Math.min(count, lo * 10 - 1) - lo + 1) * (digits + 1);
  expect(Number(out.trim())).toBe(expected);
}, 120_000);
