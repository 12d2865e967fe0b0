// THREAT-MODEL.md "What must never happen": an edited database row is given a fresh signature.
// Someone who can write the daemon's database widens a live share's stored passport (a verb the
// passport never named, the old signature kept); `share extend` must verify the stored passport
// before re-signing it: refused (exit 3), audited, and the row is not re-signed.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { decodeBase64url, toBase64url } from "../../lib/bytes.ts";
import { Cluster, type OpenedShare, type Recipient } from "../helpers/cluster.ts";

setDefaultTimeout(60_000);

let c: Cluster;
let vendor: Recipient;
let share: OpenedShare;

beforeAll(async () => {
  c = await Cluster.start("binary");
  ({ vendor, share } = await c.shareTo({ grant: ["echo.word", "ssh.restart_service"], share: ["echo.word"] }));
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

/** The stored passport with `ssh.restart_service` added to its payload; the signature is kept. */
function widened(signed: string): string {
  const [prefix, payload, sig] = signed.split(".");
  const doc = JSON.parse(new TextDecoder().decode(decodeBase64url(payload!)!)) as { verbs: Record<string, unknown> };
  doc.verbs["ssh.restart_service"] = { service: { kind: "enum", values: ["web"] } };
  return `${prefix}.${toBase64url(new TextEncoder().encode(JSON.stringify(doc)))}.${sig}`;
}

test("share extend refuses a stored passport edited in the database: exit 3, audited, not re-signed", async () => {
  const db = new Database(join(c.home, "openscope.db"));
  db.run("PRAGMA busy_timeout = 10000");
  const before = db.query<{ passport: string }, [string]>("SELECT passport FROM shares WHERE id = ?").get(share.id)!.passport;
  const edited = widened(before);
  db.query("UPDATE shares SET passport = ? WHERE id = ?").run(edited, share.id);

  const r = await c.openscope(["share", "extend", share.id, "--ttl", "15m"]);
  expect(r.code).toBe(3);
  expect(r.stderr).toContain(`share ${share.id}: the stored passport does not verify`);
  expect(r.stderr).toContain("hint: ");
  // Not re-signed: the row still holds the edited text, whose signature does not cover it.
  expect(db.query<{ passport: string }, [string]>("SELECT passport FROM shares WHERE id = ?").get(share.id)!.passport).toBe(edited);
  db.close();

  const rows = await c.auditRows(share.id);
  const refused = rows.filter((row) => row.kind === "share.extend_refused");
  expect(refused.length).toBe(1);
  expect(String(refused[0]!.detail)).toContain("does not verify");
  expect(rows.some((row) => row.kind === "share.extended")).toBe(false);

  // And the widened verb is not callable: nothing ran.
  const call = await vendor.call(share, "ssh.restart_service", ["service=web"]);
  expect(call.code).toBe(3);
  expect(call.stderr).toContain("denied");
  expect(existsSync(join(c.dir, "data", "run", "web.restarted"))).toBe(false);
});
