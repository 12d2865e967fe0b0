// Notifications (SPEC.md §17.4) on the compiled binaries: config.toml's [notify] sends each event
// of a share's life (opened, recipient connected and disconnected, a denied call, an approval
// request, the end) to a local webhook (POST of JSON with a human `text` field) and to a command
// (the event as JSON on stdin). A webhook that never answers does not hold up a call: the delivery
// times out, is logged and counted.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cluster, testCatalog, type OpenedShare, type Recipient } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/spawn.ts";

setDefaultTimeout(90_000);

const mode = (process.env.OPENSCOPE_E2E_MODE as "binary" | "source" | undefined) ?? "binary";
let c: Cluster;
let vendor: Recipient;
let share: OpenedShare;
let hook: ReturnType<typeof Bun.serve>;
const posts: Array<{ path: string; type: string | null; body: Record<string, unknown> }> = [];
/** Requests to /stall are never answered (until the test ends). */
const stalled: Array<() => void> = [];
let eventsFile: string;

type Note = Record<string, unknown> & { event: string; text: string; share: string };

function commandEvents(): Note[] {
  if (!existsSync(eventsFile)) return [];
  return readFileSync(eventsFile, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Note);
}

const webhookEvents = (path = "/hook") => posts.filter((p) => p.path === path).map((p) => p.body as Note);

async function health(): Promise<Record<string, unknown>> {
  const res = await fetch("http://openscope/v1/health", { unix: join(c.home, "control.sock") } as RequestInit);
  return (await res.json()) as Record<string, unknown>;
}

beforeAll(async () => {
  hook = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      posts.push({ path, type: req.headers.get("content-type"), body: (await req.json()) as Record<string, unknown> });
      if (path === "/stall") return new Promise<Response>((resolve) => stalled.push(() => resolve(new Response("late"))));
      return new Response("ok");
    },
  });
  c = new Cluster(mode);
  await c.startRelay();
  await c.init(testCatalog(join(c.dir, "data")));
  eventsFile = join(c.dir, "events.jsonl");
  writeFileSync(
    join(c.home, "config.toml"),
    [
      `relay = "${c.relay!.url}"`,
      `relay_token = "${c.token}"`,
      `[notify]`,
      `command = ["sh", "-c", "cat >> ${eventsFile}"]`,
      `webhook = "http://127.0.0.1:${hook.port}/hook"`,
      `timeout = "2s"`,
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  await c.startDaemon();
}, 60_000);

afterAll(async () => {
  for (const s of stalled) s();
  await c?.stop();
  hook?.stop(true);
});

describe("notifications", () => {
  test("each event of a share's life reaches the webhook and the command", async () => {
    ({ vendor, share } = await c.shareTo({ grant: ["echo.word", "ssh.restart_service"], share: ["echo.word", "ssh.restart_service:service=web"] }));
    const call = await vendor.call(share, "echo.word", ["word=hi"]);
    expect(call.code).toBe(0);
    const denied = await vendor.call(share, "ssh.restart_service", ["service=api"]);
    expect(denied.code).toBe(3);
    expect((await c.openscope(["share", "revoke", share.id])).code).toBe(0);

    const expected = ["share.opened", "recipient.connected", "recipient.disconnected", "recipient.connected", "call.denied", "recipient.disconnected", "share.ended"];
    const mine = (list: Note[]) => list.filter((n) => n.share === share.id).map((n) => n.event);
    await waitFor(() => mine(webhookEvents()).length >= expected.length && mine(commandEvents()).length >= expected.length, "every event at both targets", 30_000);
    expect(mine(webhookEvents())).toEqual(expected);
    expect(mine(commandEvents())).toEqual(expected);
    // The webhook's body is JSON with a human text line (what a chat webhook shows) and the facts.
    expect(posts.every((p) => p.type === "application/json")).toBe(true);
    const byEvent = (e: string) => webhookEvents().find((n) => n.share === share.id && n.event === e)!;
    expect(byEvent("share.opened").text).toMatch(new RegExp(`^OpenScope on .+: share ${share.id} opened for vendor-b \\(agent you\\)$`));
    expect(byEvent("recipient.connected")).toMatchObject({ recipient: "vendor-b", agent: "you" });
    expect(byEvent("call.denied")).toMatchObject({ verb: "ssh.restart_service", params: { service: "api" }, reason: "param_outside_passport" });
    expect(byEvent("call.denied").text).toContain("denied ssh.restart_service service=api");
    expect(byEvent("share.ended")).toMatchObject({ state: "revoked" });
    // The command got the same objects.
    expect(commandEvents().find((n) => n.share === share.id && n.event === "call.denied")).toEqual(byEvent("call.denied"));
  });

  test("an approval request is sent with its id and the exact call", async () => {
    const opened = await c.openscope(["share", "open", "--json", "--agent", "you", "--verb", "ssh.restart_service:service=web", "--to", "vendor-b", "--ttl", "5m", "--approve", "ssh.restart_service"]);
    expect(opened.code).toBe(0);
    const s = JSON.parse(opened.stdout) as OpenedShare;
    const call = vendor.call(s, "ssh.restart_service", ["service=web"]);
    const note = await waitFor(() => webhookEvents().find((n) => n.share === s.id && n.event === "approval.requested"), "the approval request at the webhook", 30_000);
    expect(note).toMatchObject({ verb: "ssh.restart_service", params: { service: "web" } });
    expect(String(note.request)).toMatch(/^[0-9a-f]{8}$/);
    expect(note.text).toContain(`openscope approve ${note.request}`);
    expect((await c.openscope(["deny", String(note.request)])).code).toBe(0);
    expect((await call).code).toBe(3);
    await waitFor(() => commandEvents().some((n) => n.share === s.id && n.event === "approval.requested"), "the request at the command");
  });

  test("a webhook that never answers does not hold up calls; the failure is logged and counted", async () => {
    await c.daemon!.stop();
    writeFileSync(
      join(c.home, "config.toml"),
      [`relay = "${c.relay!.url}"`, `relay_token = "${c.token}"`, `[notify]`, `webhook = "http://127.0.0.1:${hook.port}/stall"`, `timeout = "1s"`, ""].join("\n"),
      { mode: 0o600 },
    );
    await c.startDaemon();
    const opened = await c.openShare(["--agent", "you", "--verb", "echo.word", "--to", "vendor-b", "--ttl", "5m"]);
    // Every event of these calls goes to a webhook that hangs; the calls finish regardless.
    for (const word of ["one", "two", "three"]) {
      const r = await vendor.call(opened, "echo.word", [`word=${word}`]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${word}\n`);
    }
    await waitFor(() => c.daemon!.stderr().includes("not delivered: no answer within 1000 ms"), "the failed delivery in the daemon's log", 30_000);
    const h = await waitFor(async () => {
      const x = await health();
      return Number((x.notify as Record<string, number>)?.failed) >= 1 ? x : undefined;
    }, "the failure counted");
    expect(h.notify).toMatchObject({ sent: 0 });
  });

  test("openscope reload applies a new [notify] to the next event", async () => {
    writeFileSync(
      join(c.home, "config.toml"),
      [`relay = "${c.relay!.url}"`, `relay_token = "${c.token}"`, `[notify]`, `webhook = "http://127.0.0.1:${hook.port}/after-reload"`, ""].join("\n"),
      { mode: 0o600 },
    );
    const r = await c.openscope(["reload"]);
    expect(r.code).toBe(0);
    const opened = await c.openShare(["--agent", "you", "--verb", "echo.word", "--to", "vendor-b", "--ttl", "5m"]);
    await waitFor(() => webhookEvents("/after-reload").some((n) => n.share === opened.id && n.event === "share.opened"), "the event at the new webhook", 30_000);
  });
});
