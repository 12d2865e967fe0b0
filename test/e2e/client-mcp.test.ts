// `openscope-reflect-client mcp` on the compiled binary, driven by the MCP SDK's own Client over
// stdio against a real relay and daemon: the tools are exactly the passport's verbs with JSON
// Schemas from its constraints, a call returns output and exit code (the text once), a denial is
// a tool error with the reason in passport terms, notifications/cancelled ends the verb on the
// daemon (audited cancelled), a large result is cut with a notice, the instructions say who
// shared and that calls are recorded, an ended share empties the tool list (list_changed) and
// answers calls with the reason, a wrong fingerprint is an in-protocol error, and stdout carries
// nothing but the protocol.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { pidsRunning } from "../helpers/procs.ts";
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Cluster, commandFor, testCatalog, type OpenedShare, type Recipient } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/spawn.ts";

setDefaultTimeout(60_000);

let c: Cluster;
let vendor: Recipient;
let share: OpenedShare;
let client: Client;
let transport: StdioClientTransport;
const protocolErrors: Error[] = [];
let stderrText = "";

beforeAll(async () => {
  c = new Cluster("binary");
  await c.startRelay();
  await c.init(`${testCatalog(join(c.dir, "data"))}
[verb."self.kill"]
summary = "Die of a signal"
adapter = "exec"
argv = ["sh", "-c", "kill -KILL $$"]
timeout = "5s"
max_output = "4KiB"

[verb."slow.timeout"]
summary = "Outlive its timeout"
adapter = "exec"
argv = ["sleep", "30"]
timeout = "1s"
max_output = "4KiB"
`);
  await c.startDaemon();
  const g = await c.openscope(["grant", "add", "--agent", "you", "--verb", "ssh.tail_logs", "--verb", "ssh.restart_service", "--verb", "echo.word", "--verb", "fail.exit", "--verb", "self.kill", "--verb", "slow.timeout", "--verb", "slow.sleep", "--verb", "stream.seq"]);
  expect(g.code).toBe(0);
  vendor = c.recipient("vendor");
  expect((await c.openscope(["recipients", "add", "vendor-b", await vendor.keygen()])).code).toBe(0);
  share = await c.openShare([
    "--agent", "you",
    "--verb", "ssh.tail_logs:service=web,lines=1..50",
    "--verb", "ssh.restart_service:service=web|api",
    "--verb", "echo.word",
    "--verb", "fail.exit",
    "--verb", "self.kill",
    "--verb", "slow.timeout",
    "--verb", "slow.sleep",
    "--verb", "stream.seq",
    "--to", "vendor-b", "--ttl", "10m",
  ]);
  const [command, ...pre] = commandFor("binary", "openscope-reflect-client");
  transport = new StdioClientTransport({
    command: command!,
    args: [...pre, "--passport", share.handle, "--fingerprint", share.fingerprint, "mcp"],
    env: { PATH: process.env.PATH ?? "", XDG_CONFIG_HOME: vendor.configHome, NO_COLOR: "1" },
    stderr: "pipe",
  });
  transport.stderr?.on("data", (d: Buffer) => (stderrText += d.toString("utf8")));
  client = new Client({ name: "openscope-e2e", version: "0.0.0" });
  client.onerror = (e) => protocolErrors.push(e);
  await client.connect(transport);
}, 60_000);

afterAll(async () => {
  await client?.close().catch(() => {});
  await c?.stop();
});

describe("mcp over stdio with the SDK's client", () => {
  test("the server names itself and says on stderr that it is ready", async () => {
    expect(client.getServerVersion()?.name).toBe("openscope");
    await waitFor(() => stderrText.includes("MCP server ready with 8 tool(s)"), "the ready line on stderr");
  });

  test("the instructions at initialize say who shared, the time left, and that every call is recorded", () => {
    const text = client.getInstructions() ?? "";
    expect(text).toContain('"you" on the daemon');
    expect(text).toContain(share.fingerprint);
    expect(text).toMatch(/The share ends at \d{4}-\d\d-\d\dT[\d:.]+Z \((9m\d+s|10m)/);
    expect(text).toContain("Every call, allowed or denied, is recorded in the operator's audit log");
  });

  test("the tools are the passport's verbs, with schemas from its constraints", async () => {
    const { tools } = await client.listTools();
    // Every host loads the list only if every name matches ^[a-zA-Z0-9_-]{1,64}$; the title keeps the verb.
    for (const t of tools) expect(t.name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    expect(tools.map((t) => t.name).sort()).toEqual(["echo_word", "fail_exit", "self_kill", "slow_sleep", "slow_timeout", "ssh_restart_service", "ssh_tail_logs", "stream_seq"]);
    expect(tools.map((t) => t.title).sort()).toEqual(["echo.word", "fail.exit", "self.kill", "slow.sleep", "slow.timeout", "ssh.restart_service", "ssh.tail_logs", "stream.seq"]);
    const schema = (name: string) => tools.find((t) => t.title === name)!.inputSchema as { properties: Record<string, unknown>; required?: string[]; additionalProperties?: boolean };
    expect(schema("ssh.tail_logs").properties.service).toEqual({ type: "string", const: "web" });
    expect(schema("ssh.tail_logs").properties.lines).toEqual({ type: "integer", minimum: 1, maximum: 50, default: 10 });
    const restart = schema("ssh.restart_service").properties.service as { type: string; enum: string[] };
    expect(restart.type).toBe("string");
    expect([...restart.enum].sort()).toEqual(["api", "web"]);
    expect(schema("ssh.restart_service").required).toEqual(["service"]);
    expect(schema("echo.word").properties.word).toEqual({ type: "string", pattern: "^[a-z0-9]{1,32}$" });
    expect(schema("fail.exit").properties.code).toEqual({ type: "integer", minimum: 0, maximum: 9 });
    for (const t of tools) expect(t.inputSchema.additionalProperties).toBe(false);
  });

  test("a call returns the verb's output once (text) and its outcome (structuredContent)", async () => {
    const r = await client.callTool({ name: "ssh_tail_logs", arguments: { lines: 2 } });
    expect(r.isError).toBe(false);
    const text = (r.content as Array<{ type: string; text: string }>)[0]!.text;
    expect(text).toBe("web line 99\nweb line 100\n\n[exit code 0]");
    expect(r.content as unknown[]).toHaveLength(1);
    expect(r.structuredContent).toEqual({ exitCode: 0, signal: null, timedOut: false, cancelled: false, truncated: false, redactions: {}, bytes: 25, cut: false });
  });

  test("a large result is cut at 256 KiB with a notice naming the verb's parameter to ask for less", async () => {
    const r = await client.callTool({ name: "stream_seq", arguments: { count: 300000 } });
    expect(r.isError).toBe(false);
    const text = (r.content as Array<{ text: string }>)[0]!.text;
    const total = Array.from({ length: 300000 }, (_, i) => `${i + 1}\n`).join("").length;
    expect(text.length).toBeLessThan(256 * 1024 + 400);
    expect(text.startsWith("1\n2\n3\n")).toBe(true);
    expect(text).toContain(`[output cut: this result holds the first 256 KiB of ${(total / (1024 * 1024)).toFixed(1)} MiB; to get the rest, call again in smaller parts with \`count\`]`);
    expect(text.endsWith("[exit code 0]")).toBe(true);
    expect(r.structuredContent).toMatchObject({ bytes: total, cut: true });
  });

  test("notifications/cancelled ends the verb on the daemon, and the audit says cancelled", async () => {
    const abort = new AbortController();
    const pending = client.callTool({ name: "slow_sleep", arguments: { seconds: 93 } }, undefined, { signal: abort.signal }).catch((e: unknown) => e);
    await waitFor(() => pidsRunning("sleep", "93").length > 0, "the verb to run", 20_000);
    abort.abort("the user pressed stop");
    expect(await pending).toBeInstanceOf(Error);
    await waitFor(() => pidsRunning("sleep", "93").length === 0, "the daemon to end the verb", 10_000);
    const outcome = await waitFor(
      async () => (await c.auditRows(share.id)).find((r) => r.kind === "call.outcome" && r.verb === "slow.sleep"),
      "the outcome row",
    );
    expect(String(outcome.detail)).toContain("cancelled (by the recipient)");
    // The session goes on: the next call works.
    const next = await client.callTool({ name: "echo_word", arguments: { word: "after" } });
    expect((next.content as Array<{ text: string }>)[0]!.text).toBe("after\n\n[exit code 0]");
  });

  test("the verb's own non-zero exit is a tool error carrying the code", async () => {
    const r = await client.callTool({ name: "fail_exit", arguments: { code: 3 } });
    expect(r.isError).toBe(true);
    expect((r.structuredContent as { exitCode: number }).exitCode).toBe(3);
    expect((r.content as Array<{ text: string }>)[0]!.text).toContain("[exit code 3]");
  });

  test("a verb killed by a signal or by its timeout says which", async () => {
    const killed = await client.callTool({ name: "self_kill", arguments: {} });
    expect(killed.isError).toBe(true);
    expect((killed.content as Array<{ text: string }>)[0]!.text).toContain("[killed by SIGKILL]");
    expect(killed.structuredContent).toMatchObject({ exitCode: null, signal: "SIGKILL", timedOut: false });
    const slow = await client.callTool({ name: "slow_timeout", arguments: {} });
    expect(slow.isError).toBe(true);
    expect((slow.content as Array<{ text: string }>)[0]!.text).toContain("[timed out]");
    expect(slow.structuredContent).toMatchObject({ timedOut: true });
  });

  test("a value outside the passport comes back as a tool error with the reason; nothing runs", async () => {
    const r = await client.callTool({ name: "ssh_tail_logs", arguments: { service: "api", lines: 5 } });
    expect(r.isError).toBe(true);
    const text = (r.content as Array<{ text: string }>)[0]!.text;
    expect(text).toContain("denied");
    expect(text).toContain("service=api is outside this share (allowed: web)");
    const big = await client.callTool({ name: "ssh_tail_logs", arguments: { lines: 500 } });
    expect(big.isError).toBe(true);
    expect((big.content as Array<{ text: string }>)[0]!.text).toContain("denied");
    const unknown = await client.callTool({ name: "nope_verb", arguments: { seconds: 1 } });
    expect(unknown.isError).toBe(true);
    expect((unknown.content as Array<{ text: string }>)[0]!.text).toContain("denied");
    const rows = await c.auditRows(share.id);
    expect(rows.filter((r) => r.kind === "call.denied").length).toBe(3);
  });

  test("a sanctioned restart runs on the operator's side", async () => {
    const r = await client.callTool({ name: "ssh_restart_service", arguments: { service: "api" } });
    expect(r.isError).toBe(false);
    expect(existsSync(join(c.dir, "data", "run", "api.restarted"))).toBe(true);
  });

  test("stdout carried only protocol: the SDK saw no unparsable line", () => {
    expect(protocolErrors).toEqual([]);
  });

  test("closing stdin ends the server and frees the share's client slot", async () => {
    const pid = transport.pid!;
    await client.close();
    await waitFor(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, "the mcp process to exit", 10_000);
  });
});

describe("mcp without a confirmed fingerprint", () => {
  test("an unknown daemon and no --fingerprint: exit 4 once stdin closes, nothing on stdout", async () => {
    const stranger = c.recipient("stranger");
    const args = ["--passport", share.handle, "--key", join(vendor.configHome, "openscope", "recipient.key"), "mcp"];
    // The relay frees the previous client's slot as soon as it sees that leg close: poll for it.
    const r = await waitFor(async () => {
      const res = await stranger.client(args, { stdin: "" });
      return res.stderr.includes("not known yet") ? res : undefined;
    }, "the share's client slot to be free", 10_000);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("--verify CODE");
    expect(r.stderr).not.toContain(share.fingerprint);
  });
});

describe("stdout is protocol only, read raw", () => {
  test("every stdout line is a JSON-RPC message", async () => {
    const proc = Bun.spawn([...commandFor("binary", "openscope-reflect-client"), "--passport", share.handle, "mcp"], {
      env: { ...process.env, NO_COLOR: "1", XDG_CONFIG_HOME: vendor.configHome },
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    let out = "";
    const dec = new TextDecoder();
    void (async () => {
      for await (const ch of proc.stdout) out += dec.decode(ch);
    })();
    const send = (m: unknown) => {
      proc.stdin.write(JSON.stringify(m) + "\n");
      proc.stdin.flush();
    };
    send({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "0" } } });
    await waitFor(() => out.includes('"id":1'), "the initialize answer", 20_000);
    send({ jsonrpc: "2.0", method: "notifications/initialized" });
    send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "echo_word", arguments: { word: "raw" } } });
    await waitFor(() => out.includes('"id":2'), "the call answer", 20_000);
    proc.stdin.end();
    expect(await proc.exited).toBe(0);
    const lines = out.split("\n").filter(Boolean);
    expect(lines.length).toBe(2);
    for (const l of lines) expect(JSON.parse(l).jsonrpc).toBe("2.0");
    expect(JSON.parse(lines[1]!).result.content[0].text).toBe("raw\n\n[exit code 0]");
  });
});

/** Another MCP client over the compiled binary with these client arguments before `mcp`. */
async function mcpClient(args: string[], configHome: string): Promise<{ client: Client; listChanged: () => number; stderr: () => string }> {
  const [command, ...pre] = commandFor("binary", "openscope-reflect-client");
  const t = new StdioClientTransport({ command: command!, args: [...pre, ...args, "mcp"], env: { PATH: process.env.PATH ?? "", XDG_CONFIG_HOME: configHome, NO_COLOR: "1" }, stderr: "pipe" });
  let err = "";
  t.stderr?.on("data", (d: Buffer) => (err += d.toString("utf8")));
  const cl = new Client({ name: "openscope-e2e-2", version: "0.0.0" });
  let changed = 0;
  cl.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
    changed++;
  });
  await cl.connect(t);
  return { client: cl, listChanged: () => changed, stderr: () => err };
}

const textOf = (r: unknown) => (r as { content: Array<{ text: string }> }).content[0]!.text;

describe("an ended share, in-protocol", () => {
  test("expiry: list_changed, then an empty tool list, and calls answer the reason and a hint", async () => {
    const short = await c.openShare(["--agent", "you", "--verb", "echo.word", "--to", "vendor-b", "--ttl", "5s"]);
    const m = await mcpClient(["--passport", short.handle, "--fingerprint", short.fingerprint], vendor.configHome);
    try {
      expect((await m.client.listTools()).tools.map((t) => t.name)).toEqual(["echo_word"]);
      await waitFor(() => m.listChanged() > 0, "notifications/tools/list_changed", 20_000);
      expect((await m.client.listTools()).tools).toEqual([]);
      const r = await m.client.callTool({ name: "echo_word", arguments: { word: "late" } });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toBe("share expired\nhint: ask the operator to extend it or open a new share");
      expect(m.stderr().split("share expired; the tool list is now empty").length - 1).toBe(1);
    } finally {
      await m.client.close();
    }
  });

  test("revoke: list_changed, an empty list, calls say revoked by the operator", async () => {
    const s2 = await c.openShare(["--agent", "you", "--verb", "echo.word", "--to", "vendor-b", "--ttl", "5m"]);
    const m = await waitFor(async () => {
      try {
        return await mcpClient(["--passport", s2.handle, "--fingerprint", s2.fingerprint], vendor.configHome);
      } catch {
        return undefined;
      }
    }, "an MCP session on the new share", 20_000);
    try {
      expect((await m.client.listTools()).tools).toHaveLength(1);
      expect((await c.openscope(["share", "revoke", s2.id])).code).toBe(0);
      await waitFor(() => m.listChanged() > 0, "notifications/tools/list_changed", 20_000);
      expect((await m.client.listTools()).tools).toEqual([]);
      const r = await m.client.callTool({ name: "echo_word", arguments: { word: "late" } });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toBe("share revoked by the operator\nhint: ask the operator if you still need access");
    } finally {
      await m.client.close();
    }
  });
});

describe("a wrong fingerprint, in-protocol", () => {
  test("the host gets instructions saying why, no tools, and calls answering the reason; nothing is dialed", async () => {
    // Well formed, one character changed: the daemon in the handle is not the one the operator named.
    const fp = share.fingerprint;
    const i = fp.length - 3;
    const wrong = fp.slice(0, i) + (fp[i] === "A" ? "B" : "A") + fp.slice(i + 1);
    const stranger = c.recipient("wrong-fp");
    const m = await mcpClient(["--passport", share.handle, "--key", join(vendor.configHome, "openscope", "recipient.key"), "--fingerprint", wrong], stranger.configHome);
    try {
      expect(m.client.getInstructions()).toContain("OpenScope could not open the share, so there are no tools");
      expect((await m.client.listTools()).tools).toEqual([]);
      const r = await m.client.callTool({ name: "echo_word", arguments: { word: "x" } });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain("fingerprint");
      expect(textOf(r)).toContain("hint: ");
    } finally {
      await m.client.close();
    }
  });
});

describe("usage errors still come before the protocol", () => {
  test("garbage given to --fingerprint is exit 2 with nothing on stdout (not a connection error)", async () => {
    const r = await vendor.client(["--passport", share.handle, "--fingerprint", "not-a-fingerprint", "mcp"], { stdin: "" });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    const call = await vendor.client(["--passport", share.handle, "--fingerprint", "SHA256:!!", "call", "echo.word", "word=x"]);
    expect(call.code).toBe(2);
    const max = await vendor.client(["--passport", share.handle, "--fingerprint", share.fingerprint, "mcp", "--max-result", "lots"], { stdin: "" });
    expect(max.code).toBe(2);
    expect(max.stderr).toContain('--max-result: "lots" is not a size');
    expect(max.stdout).toBe("");
  });
});
