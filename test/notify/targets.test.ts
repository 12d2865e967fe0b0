import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Notification } from "../../lib/notify/event.ts";
import { commandTarget, webhookTarget, webhookUrlProblem } from "../../lib/notify/targets.ts";

const n: Notification = { event: "recipient.connected", at: "2026-11-28T12:00:00.000Z", daemon: "d", share: "s1", text: "OpenScope on d: vendor-b connected to share s1" };
const dir = mkdtempSync(join(tmpdir(), "openscope-notify-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("notify targets", () => {
  test("a command gets the event as one JSON line on stdin, with no daemon secrets in its environment", async () => {
    const out = join(dir, "event.json");
    const env = join(dir, "env.txt");
    await commandTarget(["sh", "-c", `cat > ${out}; env > ${env}`]).deliver(n, new AbortController().signal);
    expect(JSON.parse(readFileSync(out, "utf8"))).toEqual(n);
    expect(readFileSync(out, "utf8").endsWith("}\n")).toBe(true);
    expect(readFileSync(env, "utf8")).not.toContain("OPENSCOPE");
  });

  test("a failing or missing command is an error naming why", async () => {
    await expect(commandTarget(["sh", "-c", "echo nope >&2; exit 3"]).deliver(n, new AbortController().signal)).rejects.toThrow("exited with code 3: nope");
    await expect(commandTarget(["no-such-notify-program"]).deliver(n, new AbortController().signal)).rejects.toThrow("command not found");
  });

  test("an aborted command is killed", async () => {
    const ac = new AbortController();
    const p = commandTarget(["sleep", "30"]).deliver(n, ac.signal);
    ac.abort();
    await expect(p).rejects.toThrow();
  });

  test("a webhook gets a POST of the event as JSON with its text field; a non-2xx answer is an error", async () => {
    const bodies: unknown[] = [];
    let status = 200;
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        bodies.push({ method: req.method, type: req.headers.get("content-type"), body: await req.json() });
        return new Response("ok", { status });
      },
    });
    try {
      const t = webhookTarget(`http://127.0.0.1:${server.port}/hook`);
      await t.deliver(n, new AbortController().signal);
      expect(bodies).toEqual([{ method: "POST", type: "application/json", body: n }]);
      status = 500;
      await expect(t.deliver(n, new AbortController().signal)).rejects.toThrow("answered 500");
    } finally {
      server.stop(true);
    }
  });

  test("webhook URLs: https anywhere, http only to loopback", () => {
    for (const ok of ["https://hooks.slack.com/services/x", "http://127.0.0.1:9/x", "http://localhost/x", "http://[::1]:80/"]) expect(webhookUrlProblem(ok)).toBeUndefined();
    for (const bad of ["http://example.com/x", "http://10.0.0.1/", "ftp://x/", "not a url", "file:///etc/passwd"]) expect(webhookUrlProblem(bad)).toBeDefined();
  });
});
