// A slow reader of the compiled programs' stdout still gets every byte: the client's streamed
// verb output and `openscope audit --json` are larger than a pipe buffer, and the programs used
// to exit with output still queued (Bun's writableLength is 0 for a pipe write in progress).
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { ClientSession, sessionKeys } from "../../lib/client/session.ts";
import { decodeHandle } from "../../lib/wire/handle.ts";
import { readRecipientKey } from "../../lib/host/keyfile.ts";
import { Cluster, commandFor, type OpenedShare, type Recipient } from "../helpers/cluster.ts";

setDefaultTimeout(60_000);

let c: Cluster;
let vendor: Recipient;
let share: OpenedShare;

beforeAll(async () => {
  c = await Cluster.start("binary");
  expect((await c.openscope(["grant", "add", "--agent", "you", "--verb", "stream.seq", "--verb", "echo.word"])).code).toBe(0);
  vendor = c.recipient("vendor");
  const pub = await vendor.keygen();
  expect((await c.openscope(["recipients", "add", "vendor-b", pub])).code).toBe(0);
  share = await c.openShare(["--agent", "you", "--verb", "stream.seq", "--verb", "echo.word", "--to", "vendor-b", "--ttl", "10m"]);
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

/** Runs a program whose stdout nobody reads for `lagMs` (a slow consumer such as `| less`). */
async function slowlyRead(cmd: string[], env: Record<string, string>, lagMs: number): Promise<{ code: number; stdout: string }> {
  const proc = Bun.spawn(cmd, { env: { ...process.env, NO_COLOR: "1", ...env }, stdin: "ignore", stdout: "pipe", stderr: "ignore" });
  await Bun.sleep(lagMs); // the slow consumer itself, not a synchronisation
  const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  return { code, stdout };
}

test("a one-shot call's streamed output reaches a slow reader in full", async () => {
  const r = await slowlyRead(
    [...commandFor("binary", "openscope-reflect-client"), "--passport", share.handle, "--fingerprint", share.fingerprint, "call", "stream.seq", "count=200000"],
    { XDG_CONFIG_HOME: vendor.configHome },
    1500,
  );
  expect(r.code).toBe(0);
  const lines = r.stdout.split("\n");
  expect(lines.length).toBe(200_001);
  expect(lines[199_999]).toBe("200000");
});

test("audit --json larger than a pipe buffer reaches a slow reader in full", async () => {
  // Many audit rows, quickly: one in-process session, four calls at a time.
  const handle = decodeHandle(share.handle);
  const session = new ClientSession(handle, sessionKeys(handle, readRecipientKey(join(vendor.configHome, "openscope", "recipient.key")).privateKey));
  await session.connect();
  for (let i = 0; i < 160; i += 4) {
    const rs = await Promise.all([0, 1, 2, 3].map((k) => session.call("echo.word", { word: `w${i + k}` }).done));
    for (const x of rs) expect(x.exitCode).toBe(0);
  }
  session.close();
  const r = await slowlyRead([...commandFor("binary", "openscope"), "audit", "--json"], { OPENSCOPE_HOME: c.home }, 1500);
  expect(r.code).toBe(0);
  expect(r.stdout.length).toBeGreaterThan(65_536);
  const rows = JSON.parse(r.stdout) as unknown[];
  expect(rows.length).toBeGreaterThan(300);
});
