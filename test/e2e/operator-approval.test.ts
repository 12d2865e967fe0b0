// Approval bound to the exact call (SPEC.md §17.2), on the compiled binaries: a verb the share
// opened with --approve (or the catalog marks approval = "always") waits for the operator. The
// one-shot client shows the request id; `openscope approve` runs exactly that call, `deny` answers
// exit 3 with the operator's reason, no answer answers exit 3 with not_approved; a call the policy
// denies is never queued; a revoke ends what waits. The same from MCP, where the tool call stays
// open with progress notifications. Every step is in the audit.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cluster, commandFor, testCatalog, type OpenedShare, type Recipient } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/spawn.ts";
import type { ProgramResult } from "../helpers/spawn.ts";

setDefaultTimeout(90_000);

let c: Cluster;
let vendor: Recipient;
let share: OpenedShare;
const mode = (process.env.OPENSCOPE_E2E_MODE as "binary" | "source" | undefined) ?? "binary";
const APPROVAL_TIMEOUT = "12s";

interface Pending {
  id: string;
  share: string;
  agent: string;
  call: string;
  verb: string;
  params: Record<string, string>;
  requested_at: string;
  expires_at: string;
}

const restarted = (svc: string) => join(c.dir, "data", "run", `${svc}.restarted`);

async function pendingFor(verb: string, params: Record<string, string>): Promise<Pending> {
  return waitFor(async () => {
    const r = await c.openscope(["approvals", "--json"]);
    if (r.code !== 0) throw new Error(r.stderr);
    return (JSON.parse(r.stdout) as Pending[]).find((p) => p.verb === verb && JSON.stringify(p.params) === JSON.stringify(params));
  }, `a pending request for ${verb}`, 30_000);
}

async function rowsOf(requestId: string): Promise<Array<Record<string, unknown>>> {
  return (await c.auditRows(share.id)).filter((r) => r.requestId === requestId);
}

beforeAll(async () => {
  c = new Cluster(mode);
  await c.startRelay();
  await c.init(`${testCatalog(join(c.dir, "data"))}
[verb."danger.touch"]
summary = "Touch a marker (always needs approval)"
adapter = "exec"
argv = ["touch", ${JSON.stringify(join(c.dir, "data", "run", "danger.{name}"))}]
timeout = "10s"
max_output = "4KiB"
approval = "always"
params.name = { enum = ["a", "b", "c", "d"] }
`);
  writeFileSync(join(c.home, "config.toml"), `relay = "${c.relay!.url}"\nrelay_token = "${c.token}"\napproval_timeout = "${APPROVAL_TIMEOUT}"\n`, { mode: 0o600 });
  await c.startDaemon();
  const opened = await c.shareTo({
    grant: ["ssh.restart_service", "echo.word", "danger.touch"],
    share: ["ssh.restart_service:service=web|api", "echo.word", "danger.touch"],
  });
  vendor = opened.vendor;
  // A second share of the same verbs, with the restart needing approval in it only.
  const r = await c.openscope(["share", "open", "--json", "--agent", "you", "--verb", "ssh.restart_service:service=web|api", "--verb", "echo.word", "--verb", "danger.touch", "--to", "vendor-b", "--ttl", "10m", "--approve", "ssh.restart_service"]);
  expect(r.code).toBe(0);
  share = JSON.parse(r.stdout) as OpenedShare;
  // The first share is left as the control: no --approve there.
  expect(opened.share.id).not.toBe(share.id);
  (globalThis as Record<string, unknown>).__plainShare = opened.share;
}, 90_000);

afterAll(async () => {
  await c?.stop();
});

const plainShare = () => (globalThis as Record<string, unknown>).__plainShare as OpenedShare;

describe("approval from the one-shot client", () => {
  test("share open refuses --approve of a verb the share does not carry (exit 2)", async () => {
    const r = await c.openscope(["share", "open", "--agent", "you", "--verb", "echo.word", "--to", "vendor-b", "--ttl", "5m", "--approve", "ssh.restart_service"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--approve ssh.restart_service: the share does not carry this verb");
  });

  test("share open --json names the verbs that wait: --approve ones and the catalog's approval = \"always\"", () => {
    expect((share as OpenedShare & { approval?: string[] }).approval).toEqual(["danger.touch", "ssh.restart_service"]);
    expect((plainShare() as OpenedShare & { approval?: string[] }).approval).toEqual(["danger.touch"]);
  });

  test("without --approve in its share the same verb runs at once", async () => {
    rmSync(restarted("api"), { force: true });
    const r = await vendor.call(plainShare(), "ssh.restart_service", ["service=api"]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain("approval");
    expect(existsSync(restarted("api"))).toBe(true);
  });

  test("approve runs exactly the requested call; the client showed the request id", async () => {
    rmSync(restarted("web"), { force: true });
    const call = vendor.call(share, "ssh.restart_service", ["service=web"]);
    const p = await pendingFor("ssh.restart_service", { service: "web" });
    expect(p.share).toBe(share.id);
    expect(p.id).toMatch(/^[0-9a-f]{8}$/);
    expect(existsSync(restarted("web"))).toBe(false); // nothing ran yet
    const listed = await c.openscope(["approvals"]);
    expect(listed.stdout).toContain(p.id);
    expect(listed.stdout).toContain("ssh.restart_service service=web");
    const a = await c.openscope(["approve", p.id]);
    expect(a.code).toBe(0);
    expect(a.stdout).toContain(`approved request ${p.id}: ssh.restart_service service=web runs now in share ${share.id}`);
    const r = await call;
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`waiting for the operator's approval (request ${p.id})`);
    expect(existsSync(restarted("web"))).toBe(true);
    const rows = await rowsOf(p.id);
    expect(rows.map((x) => x.kind)).toEqual(["approval.requested", "approval.approved"]);
    expect(rows[0]).toMatchObject({ verb: "ssh.restart_service", params: { service: "web" }, callId: p.call });
    const callRows = (await c.auditRows(share.id)).filter((x) => x.callId === p.call).map((x) => `${x.kind} ${JSON.stringify(x.params ?? null)}`);
    expect(callRows).toEqual([
      'approval.requested {"service":"web"}',
      'approval.approved {"service":"web"}',
      'call.allowed {"service":"web"}',
      'call.outcome {"service":"web"}',
    ]);
    // The audit table names the request on its rows.
    const table = await c.openscope(["audit", "--share", share.id]);
    expect(table.stdout).toMatch(new RegExp(`approval\\.approved .*ssh\\.restart_service service=web  request=${p.id}`));
    // An answer counts once.
    const again = await c.openscope(["approve", p.id]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`no pending request "${p.id}"`);
  });

  test("deny answers exit 3 with the operator's reason; nothing runs", async () => {
    rmSync(restarted("api"), { force: true });
    const call = vendor.call(share, "ssh.restart_service", ["service=api"]);
    const p = await pendingFor("ssh.restart_service", { service: "api" });
    const d = await c.openscope(["deny", p.id, "--reason", "not during the release freeze"]);
    expect(d.code).toBe(0);
    const r = await call;
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("denied: the operator denied ssh.restart_service: not during the release freeze");
    expect(existsSync(restarted("api"))).toBe(false);
    const rows = await rowsOf(p.id);
    expect(rows.map((x) => x.kind)).toEqual(["approval.requested", "approval.denied"]);
    expect(rows[1]).toMatchObject({ reason: "operator", message: "not during the release freeze" });
    expect((await c.auditRows(share.id)).some((x) => x.callId === p.call && x.kind === "call.allowed")).toBe(false);
  });

  test("a call the policy denies is denied at once and never queued", async () => {
    const r = await vendor.call(share, "danger.touch", ["name=zz"]);
    expect(r.code).toBe(3);
    const rows = await c.auditRows(share.id);
    const denied = rows.filter((x) => x.kind === "call.denied" && x.verb === "danger.touch");
    expect(denied.length).toBe(1);
    expect(rows.some((x) => x.kind === "approval.requested" && (x.params as Record<string, string>)?.name === "zz")).toBe(false);
    expect(JSON.parse((await c.openscope(["approvals", "--json"])).stdout)).toEqual([]);
  });

  test("bad request ids and reasons are usage errors (exit 2)", async () => {
    for (const args of [["approve", "nothex!!"], ["approve"], ["deny", "0000000g"], ["deny", "00000000", "--reason", "bad\u001b[31m"]]) {
      const r = await c.openscope(args);
      expect(r.code).toBe(2);
    }
    const unknown = await c.openscope(["deny", "00000000"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no pending request "00000000"');
  });

  test("a revoke ends the waiting call: the client is told the share is over (exit 5)", async () => {
    const extra = await c.openscope(["share", "open", "--json", "--agent", "you", "--verb", "echo.word", "--to", "vendor-b", "--ttl", "5m", "--approve", "echo.word"]);
    expect(extra.code).toBe(0);
    const s = JSON.parse(extra.stdout) as OpenedShare;
    const call = vendor.call(s, "echo.word", ["word=never"]);
    const p = await pendingFor("echo.word", { word: "never" });
    expect((await c.openscope(["share", "revoke", s.id])).code).toBe(0);
    const r = await call;
    expect(r.code).toBe(5);
    expect(r.stdout).not.toContain("never");
    const rows = (await c.auditRows(s.id)).filter((x) => x.requestId === p.id);
    expect(rows.map((x) => `${x.kind} ${x.reason ?? ""}`)).toEqual(["approval.requested ", "approval.denied revoked"]);
  });
});

describe("approval and the share's expiry", () => {
  test("a share that expires ends the waiting call: exit 5, and the request is closed in the audit", async () => {
    const extra = await c.openscope(["share", "open", "--json", "--agent", "you", "--verb", "echo.word", "--to", "vendor-b", "--ttl", "6s", "--approve", "echo.word"]);
    expect(extra.code).toBe(0);
    const s = JSON.parse(extra.stdout) as OpenedShare;
    const call = vendor.call(s, "echo.word", ["word=tooslow"]);
    const p = await pendingFor("echo.word", { word: "tooslow" });
    const r = await call;
    expect(r.code).toBe(5);
    const rows = (await c.auditRows(s.id)).filter((x) => x.requestId === p.id);
    expect(rows.map((x) => `${x.kind} ${x.reason ?? ""}`)).toEqual(["approval.requested ", "approval.denied expired"]);
    expect((await c.auditRows(s.id)).some((x) => x.kind === "call.allowed")).toBe(false);
  });
});

describe("approval from MCP and the timeout", () => {
  let client: Client;

  beforeAll(async () => {
    const [command, ...pre] = commandFor(mode, "openscope-reflect-client");
    const transport = new StdioClientTransport({
      command: command!,
      args: [...pre, "--passport", share.handle, "--fingerprint", share.fingerprint, "mcp"],
      env: { PATH: process.env.PATH ?? "", XDG_CONFIG_HOME: vendor.configHome, NO_COLOR: "1" },
      stderr: "pipe",
    });
    client = new Client({ name: "openscope-e2e-approval", version: "0.0.0" });
    await client.connect(transport);
  });

  afterAll(async () => {
    await client?.close().catch(() => {});
  });

  const text = (r: unknown) => ((r as { content: Array<{ text: string }> }).content)[0]!.text;

  test("a tool whose calls wait for approval says so in its description", async () => {
    const { tools } = await client.listTools();
    expect(tools.find((t) => t.name === "danger_touch")!.description).toContain("each call waits for the operator's approval");
    expect(tools.find((t) => t.name === "echo_word")!.description).not.toContain("approval");
  });

  test("the tool call stays open with progress notifications; approve runs it", async () => {
    rmSync(join(c.dir, "data", "run", "danger.a"), { force: true });
    const progress: Array<{ progress: number; message?: string }> = [];
    const call = client.callTool({ name: "danger_touch", arguments: { name: "a" } }, undefined, {
      onprogress: (p) => progress.push(p),
      resetTimeoutOnProgress: true,
      timeout: 60_000,
    });
    const p = await pendingFor("danger.touch", { name: "a" });
    await waitFor(() => progress.length > 0, "a progress notification");
    expect(progress[0]!.message).toContain(`waiting for the operator's approval (request ${p.id})`);
    expect((await c.openscope(["approve", p.id])).code).toBe(0);
    const r = await call;
    expect(r.isError).toBe(false);
    expect(text(r)).toContain("[exit code 0]");
    expect(existsSync(join(c.dir, "data", "run", "danger.a"))).toBe(true);
  });

  test("deny is a tool error carrying the operator's reason", async () => {
    const call = client.callTool({ name: "danger_touch", arguments: { name: "b" } }, undefined, { resetTimeoutOnProgress: true, timeout: 60_000, onprogress: () => {} });
    const p = await pendingFor("danger.touch", { name: "b" });
    expect((await c.openscope(["deny", p.id, "--reason", "ask me after lunch"])).code).toBe(0);
    const r = await call;
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("the operator denied danger.touch: ask me after lunch");
    expect(existsSync(join(c.dir, "data", "run", "danger.b"))).toBe(false);
  });

  test("no answer in time: exit 3 with not_approved from the one-shot client, a tool error from MCP; both audited", async () => {
    // Both wait at once, so the suite waits for one timeout, not two. (The MCP client holds the
    // first share's one session; the one-shot call uses the other share, where the catalog's
    // approval = "always" applies just the same.)
    const oneShot: Promise<ProgramResult> = vendor.call(plainShare(), "danger.touch", ["name=c"]);
    const mcp = client.callTool({ name: "danger_touch", arguments: { name: "d" } }, undefined, { resetTimeoutOnProgress: true, timeout: 60_000, onprogress: () => {} });
    const [pc, pd] = await Promise.all([pendingFor("danger.touch", { name: "c" }), pendingFor("danger.touch", { name: "d" })]);
    const [r, m] = await Promise.all([oneShot, mcp]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("not_approved");
    expect(m.isError).toBe(true);
    expect(text(m)).toContain("not_approved");
    for (const p of [pc, pd]) {
      const rows = (await c.auditRows(p.share)).filter((x) => x.requestId === p.id);
      expect(rows.map((x) => `${x.kind} ${x.reason ?? ""}`)).toEqual(["approval.requested ", "approval.timed_out not_approved"]);
    }
    expect(existsSync(join(c.dir, "data", "run", "danger.c"))).toBe(false);
    expect(existsSync(join(c.dir, "data", "run", "danger.d"))).toBe(false);
  });
});
