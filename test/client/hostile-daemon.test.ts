// A hostile test daemon (the real ShareManager in-process, whose name the daemon's own config rule
// would refuse) behind a real relay, against the real client (issue 14 item 1; SPEC.md §13): a
// name with terminal escapes that fakes a fingerprint line, or with a newline that would plant a
// known_daemons line, is refused (exit 4) after the person's code matched; the name never reaches
// the terminal and nothing is written to known_daemons. The same daemon under a plain name works.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Cluster, testCatalog, type Recipient } from "../helpers/cluster.ts";
import { ShareManager } from "../../lib/daemon/shares.ts";
import { issueShare } from "../../lib/share/issue.ts";
import { Store } from "../../lib/store/store.ts";
import { AuditLog } from "../../lib/store/audit.ts";
import { generateDaemonIdentity } from "../../lib/host/keyfile.ts";
import { parseCatalog } from "../../lib/capability/catalog.ts";
import { grantVerbsFromSpecs } from "../../lib/capability/grant.ts";
import { parseVerbSpec } from "../../lib/capability/verbspec.ts";
import { fingerprint, verificationCode } from "../../lib/crypto/fingerprint.ts";
import { defaultRandom } from "../../lib/noise/crypto.ts";

let c: Cluster;
let dir: string;
const managers: ShareManager[] = [];
const identity = generateDaemonIdentity();
const fp = fingerprint(identity.noisePublic, identity.signPublic);
const code = verificationCode(identity.noisePublic, identity.signPublic);

beforeAll(async () => {
  c = new Cluster("source");
  await c.startRelay();
  dir = mkdtempSync(join(tmpdir(), "hostile-daemon-"));
}, 30_000);

afterAll(async () => {
  for (const m of managers) m.shutdown();
  await c?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A daemon that calls itself `name`, holding one bearer share of echo.word; returns its handle. */
async function daemonNamed(name: string): Promise<string> {
  const catalog = parseCatalog(testCatalog(join(dir, "data")));
  const store = Store.open(join(dir, `${managers.length}.db`));
  const now = Date.now();
  const grant = store.putGrant("you", grantVerbsFromSpecs(catalog, [parseVerbSpec("echo.word")]));
  const { row, handle } = issueShare({ agent: "you", verbs: ["echo.word"], bearer: true, ttl: "5m" }, grant, catalog, {
    now,
    random: defaultRandom,
    identity,
    fingerprint: fp,
    relayUrl: c.relay!.url,
    recipientKey: undefined,
  });
  store.insertShare(row);
  const m = new ShareManager({
    store,
    audit: new AuditLog(store),
    identity,
    fingerprint: fp,
    code,
    daemonName: name,
    catalog: () => catalog,
    relay: { url: c.relay!.url, token: c.token },
    ssh: {},
    log: () => {},
  });
  managers.push(m);
  await m.recover();
  return handle;
}

const knownFile = (r: Recipient) => join(r.configHome, "openscope", "known_daemons");

describe("a daemon whose name is not a plain name", () => {
  const hostile: [string, string][] = [
    ["escapes that fake a fingerprint line and hide the rest", `prod-db" fingerprint: SHA256:${"B".repeat(43)}\u001b[8m`],
    ["a newline that would plant a known_daemons line", `vm\nSHA256:${"C".repeat(43)} other`],
    ["an OSC title sequence", "vm\u001b]0;owned\u0007"],
    ["65 characters", "a".repeat(65)],
  ];
  for (const [what, name] of hostile)
    test(`${what}: exit 4, the name is not printed, nothing is remembered`, async () => {
      const handle = await daemonNamed(name);
      const r = c.recipient(`r${managers.length}`);
      const out = await r.client(["--passport", "-", "--verify", code, "call", "echo.word", "word=x"], { stdin: handle });
      expect(out.code).toBe(4);
      expect(out.stderr).toContain("the daemon's hello names the daemon with more than letters, digits, '.', '_' and '-'; refusing");
      expect(out.stdout).toBe("");
      expect(out.stderr).not.toContain("\u001b");
      for (const piece of ["prod-db", "SHA256:BBBB", "SHA256:CCCC", "owned", "a".repeat(65)]) expect(out.stderr).not.toContain(piece);
      expect(existsSync(knownFile(r))).toBe(false);
    });

  test("the same daemon under a plain name: the call runs, and known_daemons gets one line keyed by its fingerprint", async () => {
    const handle = await daemonNamed("vm-1.example_ok");
    const r = c.recipient("plain");
    const out = await r.client(["--passport", "-", "--verify", code, "call", "echo.word", "word=fine"], { stdin: handle });
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    expect(out.stdout).toBe("fine\n");
    expect(await Bun.file(knownFile(r)).text()).toBe(`${fp} vm-1.example_ok\n`);
  });
});
