// Saved shares with the compiled binaries: `add NAME --passport-file F` keeps a sealed handle under
// a name; `call NAME …`, `NAME` (the prompt) and `mcp NAME` reach the share by it; `mcp NAME
// --print-config` prints a host config whose command, run as the host would run it, serves the
// share's tools (and names no handle); `list` shows an ended share as expired from the handle's
// own expiry and `remove --expired` cleans it; `remove NAME` forgets one.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cluster, type OpenedShare, type Recipient } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/spawn.ts";

setDefaultTimeout(60_000);

let c: Cluster;
let vendor: Recipient;
let share: OpenedShare;

beforeAll(async () => {
  c = await Cluster.start("binary");
  ({ vendor, share } = await c.shareTo({ grant: ["echo.word"] }));
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

/** Retries while the share's one client slot is still held by the previous test's session. */
async function settled(args: string[], stdin?: string) {
  return waitFor(async () => {
    const r = await vendor.client(args, stdin === undefined ? {} : { stdin });
    return r.stderr.includes("another client is already connected") ? undefined : r;
  }, "the share's client slot", 20_000);
}

describe("saved shares", () => {
  test("add from a file: stored 0600 under the config folder, listed as live", async () => {
    const file = join(c.dir, "from-operator.txt");
    writeFileSync(file, share.handle + "\n", { mode: 0o600 });
    const r = await vendor.client(["add", "acme", "--passport-file", file]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const saved = join(vendor.configHome, "openscope", "shares", "acme.handle");
    expect(statSync(saved).mode & 0o777).toBe(0o600);
    expect(readFileSync(saved, "utf8").trim()).toBe(share.handle);
    const l = await vendor.client(["list", "--json"]);
    expect(JSON.parse(l.stdout)).toEqual([{ name: "acme", kind: "sealed", relay: c.relay!.url, expires_at: share.expires_at, state: "live" }]);
  });

  test("call NAME VERB k=v: the first time with --fingerprint, then the daemon is known", async () => {
    const first = await settled(["--fingerprint", share.fingerprint, "call", "acme", "echo.word", "word=first"]);
    expect(first.stderr).toBe("");
    expect(first.stdout).toBe("first\n");
    expect(first.code).toBe(0);
    const again = await settled(["call", "acme", "echo.word", "word=again"]);
    expect(again.stdout).toBe("again\n");
    expect(again.code).toBe(0);
  });

  test("NAME alone opens the prompt over the saved share", async () => {
    const r = await settled(["acme"], "echo.word word=prompt\nquit\n");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("prompt\n");
    expect(r.stderr).toContain("Passport");
  });

  test("mcp NAME --print-config: the host's JSON names the share, and its command serves the tools", async () => {
    const r = await vendor.client(["mcp", "acme", "--print-config", "--host", "claude"]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain(share.handle);
    const config = JSON.parse(r.stdout) as { mcpServers: Record<string, { command: string; args: string[]; env?: Record<string, string> }> };
    expect(Object.keys(config.mcpServers)).toEqual(["openscope-acme"]);
    const server = config.mcpServers["openscope-acme"]!;
    expect(server.command).toBe(join(import.meta.dir, "..", "..", "dist", "openscope-reflect-client"));
    expect(server.args).toEqual(["mcp", "acme"]);
    expect(server.env).toEqual({ XDG_CONFIG_HOME: vendor.configHome });
    const vscode = JSON.parse((await vendor.client(["mcp", "acme", "--print-config", "--host", "vscode"])).stdout) as { servers: Record<string, { type: string }> };
    expect(vscode.servers["openscope-acme"]!.type).toBe("stdio");
    // Launched exactly as the host would launch it.
    const client = new Client({ name: "host", version: "0" });
    await waitFor(async () => {
      const transport = new StdioClientTransport({ command: server.command, args: server.args, env: { PATH: process.env.PATH ?? "", ...server.env }, stderr: "pipe" });
      await client.connect(transport);
      const { tools } = await client.listTools();
      if (tools.length === 1) return true;
      await client.close(); // the prompt's slot was not free yet: the server started without tools
      return false;
    }, "the MCP server with the share's tools", 20_000);
    try {
      const called = await client.callTool({ name: "echo_word", arguments: { word: "host" } });
      expect((called.content as Array<{ text: string }>)[0]!.text).toBe("host\n\n[exit code 0]");
    } finally {
      await client.close();
    }
  });

  test("--print-config refuses a handle given inline (it would land in the host's config)", async () => {
    const r = await vendor.client(["--passport", share.handle, "mcp", "--print-config"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("never the handle itself");
    expect(r.stderr).not.toContain(share.handle);
    expect((await vendor.client(["mcp", "nosuch", "--print-config"])).code).toBe(2);
    expect((await vendor.client(["mcp", "acme", "--print-config", "--host", "emacs"])).code).toBe(2);
  });

  test("an ended share is listed as expired from the handle's expiry; remove --expired cleans it", async () => {
    const brief = await c.openShare(["--agent", "you", "--verb", "echo.word", "--to", "vendor-b", "--ttl", "5s"]);
    expect((await vendor.client(["add", "brief", "--passport", "-"], { stdin: brief.handle })).code).toBe(0);
    await waitFor(async () => {
      const l = await vendor.client(["list"]);
      return /^brief\s+sealed\s+\S+\s+expired$/m.test(l.stdout) ? l : undefined;
    }, "brief to show as expired", 20_000);
    const r = await vendor.client(["remove", "--expired"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("✔ removed brief");
    const names = (JSON.parse((await vendor.client(["list", "--json"])).stdout) as Array<{ name: string }>).map((s) => s.name);
    expect(names).toEqual(["acme"]);
  });

  test("remove NAME forgets it: the name reaches nothing afterwards", async () => {
    expect((await vendor.client(["remove", "acme"])).code).toBe(0);
    expect(existsSync(join(vendor.configHome, "openscope", "shares", "acme.handle"))).toBe(false);
    const r = await vendor.client(["call", "acme", "echo.word", "word=gone"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no saved share named acme");
  });
});
