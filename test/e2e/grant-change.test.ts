// THREAT-MODEL.md "What must never happen": a share outlives the grant it was issued from. On the
// compiled binaries: `grant revoke --all` then a later `grant add` does not bring the old live
// share back (the passport is bound to its grant's id).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { Cluster, testCatalog } from "../helpers/cluster.ts";

setDefaultTimeout(60_000);

let c: Cluster;

beforeAll(async () => {
  c = new Cluster("binary");
  await c.startRelay();
  await c.init(testCatalog(join(c.dir, "data")));
  await c.startDaemon();
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

describe("a share is bound to the grant it was issued from", () => {
  test("grant revoke --all, then grant add again: the old share stays denied (exit 3) with a clear reason; a new share works", async () => {
    const { vendor, share } = await c.shareTo({ grant: ["echo.word"], agent: "rebound", alias: "vendor-rebound" });
    expect((await vendor.call(share, "echo.word", ["word=before"])).code).toBe(0);

    expect((await c.openscope(["grant", "revoke", "--agent", "rebound", "--all"])).code).toBe(0);
    expect((await vendor.call(share, "echo.word", ["word=between"])).code).toBe(3);
    expect((await c.openscope(["grant", "add", "--agent", "rebound", "--verb", "echo.word"])).code).toBe(0);

    const after = await vendor.call(share, "echo.word", ["word=after"]);
    expect(after.code).toBe(3);
    expect(after.stdout).toBe("");
    expect(after.stderr).toContain("this share's grant was replaced by the operator; ask for a new share");
    const denied = (await c.auditRows(share.id)).filter((r) => r.kind === "call.denied" && r.reason === "param_outside_grant");
    expect(denied.map((r) => r.message)).toContain("this share's grant was replaced by the operator; ask for a new share");

    // A share opened from the new grant works.
    const fresh = await c.openShare(["--agent", "rebound", "--verb", "echo.word", "--to", "vendor-rebound", "--ttl", "5m"]);
    const ok = await vendor.call(fresh, "echo.word", ["word=fresh"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe("fresh\n");
  });

  test("narrowing a grant (grant revoke --verb) keeps its id: the share goes on for what is left", async () => {
    const { vendor, share } = await c.shareTo({ grant: ["echo.word", "ssh.restart_service"], agent: "narrowed", alias: "vendor-narrowed" });
    expect((await c.openscope(["grant", "revoke", "--agent", "narrowed", "--verb", "ssh.restart_service"])).code).toBe(0);
    const r = await vendor.call(share, "echo.word", ["word=still"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("still\n");
    const gone = await vendor.call(share, "ssh.restart_service", ["service=web"]);
    expect(gone.code).toBe(3);
    expect(gone.stderr).toContain("ssh.restart_service is no longer granted by the operator");
  });
});
