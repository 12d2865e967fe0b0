// A passport is bound to its share (SPEC.md §5.1, §6 check 2; issue 21 item 3), on the compiled
// binaries: a wider share's signed passport copied onto a narrower share's row in SQLite, then the
// daemon restarted. The client refuses the hello (its passport names another rendezvous id); a
// client that skips that check gets every call denied by the daemon, and nothing runs; the wider
// share itself still works. Before the binding, the copied row let the narrow handle call outside
// its pins (exit 0 where it had been 3).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Cluster, type OpenedShare, type Recipient } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/spawn.ts";
import { handshakeAs } from "../helpers/raw-leg.ts";
import { encodeMessage } from "../../lib/wire/rpc.ts";

setDefaultTimeout(90_000);

let c: Cluster;
let vendor: Recipient;
let wide: OpenedShare;
let narrow: OpenedShare;

beforeAll(async () => {
  c = await Cluster.start("binary");
  expect((await c.openscope(["grant", "add", "--agent", "you", "--verb", "echo.word", "--verb", "ssh.restart_service"])).code).toBe(0);
  vendor = c.recipient("vendor");
  expect((await c.openscope(["recipients", "add", "vendor-b", await vendor.keygen()])).code).toBe(0);
  wide = await c.openShare(["--agent", "you", "--verb", "echo.word", "--verb", "ssh.restart_service", "--to", "vendor-b", "--ttl", "10m"]);
  narrow = await c.openShare(["--agent", "you", "--verb", "ssh.restart_service:service=web", "--to", "vendor-b", "--ttl", "10m"]);
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

describe("a passport copied onto another share's row", () => {
  test("before the edit, the narrow share refuses api (exit 3) and allows web", async () => {
    expect((await vendor.call(narrow, "ssh.restart_service", ["service=api"])).code).toBe(3);
    expect((await vendor.call(narrow, "ssh.restart_service", ["service=web"])).code).toBe(0);
  });

  test("after the edit and a restart, the client refuses the hello: the passport is for another share (exit 4)", async () => {
    await c.daemon!.stop("SIGTERM");
    const db = new Database(join(c.home, "openscope.db"));
    try {
      const { passport } = db.query("SELECT passport FROM shares WHERE id = ?").get(wide.id) as { passport: string };
      db.query("UPDATE shares SET passport = ? WHERE id = ?").run(passport, narrow.id);
    } finally {
      db.close();
    }
    await c.startDaemon();
    const r = await waitFor(async () => {
      const x = await vendor.call(narrow, "ssh.restart_service", ["service=api"]);
      return x.stderr.includes("hello") ? x : undefined; // the daemon's leg may still be coming back
    }, "the restarted daemon's hello", 30_000);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("the daemon's hello carries a passport for another share; refusing");
    expect(existsSync(join(c.dir, "data", "run", "api.restarted"))).toBe(false);
  });

  test("a client that skips that check is denied by the daemon at every call, and nothing runs", async () => {
    const { leg, channel } = await handshakeAs(narrow.handle, join(vendor.configHome, "openscope", "recipient.key"));
    const calls: { verb: string; params: Record<string, string> }[] = [
      { verb: "ssh.restart_service", params: { service: "api" } }, // outside the narrow share, inside the copied passport
      { verb: "ssh.restart_service", params: { service: "web" } }, // inside both
      { verb: "echo.word", params: { word: "x" } }, // only in the copied passport
    ];
    calls.forEach((call, i) => {
      for (const w of channel.write(encodeMessage({ type: "call", id: i + 1, ...call }))) leg.send(w);
    });
    const answers: string[] = [];
    let processed = 0; // every frame in order, the hello first: record nonces are sequential
    await waitFor(() => {
      for (; processed < leg.binaries.length; processed++) {
        const { payloads, out } = channel.receive(leg.binaries[processed]!);
        for (const w of out) leg.send(w);
        for (const p of payloads) if (p[0] === 0x7b) answers.push(new TextDecoder().decode(p));
      }
      return answers.filter((a) => a.includes('"type":"error"')).length >= calls.length ? true : undefined;
    }, "the daemon's answers to the three calls", 20_000);
    leg.close();
    const errors = answers.filter((a) => a.includes('"type":"error"')).map((a) => JSON.parse(a));
    expect(errors.map((e) => [e.code, e.reason, e.message])).toEqual(calls.map(() => ["denied", "malformed", "this share's passport is invalid"]));
    expect(answers.some((a) => a.includes('"type":"started"'))).toBe(false);
    expect(existsSync(join(c.dir, "data", "run", "api.restarted"))).toBe(false);
    const denied = (await c.auditRows(narrow.id)).filter((r) => r.kind === "call.denied" && r.reason === "malformed");
    expect(denied.length).toBe(calls.length);
  });

  test("the wide share, on its own row, still works", async () => {
    const r = await vendor.call(wide, "echo.word", ["word=mine"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("mine\n");
  });
});
