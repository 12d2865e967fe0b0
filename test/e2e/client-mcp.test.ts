// `openscope-reflect-client mcp` on the compiled binary, driven by the MCP SDK's own Client over
// stdio against a real relay and daemon: the tools are exactly the passport's verbs with JSON
// Schemas from its constraints, a call returns output and exit code, a denial is a tool error with
// the reason in passport terms, and stdout carries nothing but the protocol.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
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
  const g = await c.openscope(["grant", "add", "--agent", "you", "--verb", "ssh.tail_logs", "--verb", "ssh.restart_service", "--verb", "echo.word", "--verb", "fail.exit", "--verb", "self.kill", "--verb", "slow.timeout"]);
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
    await waitFor(() => stderrText.includes("MCP server ready with 6 tool(s)"), "the ready line on stderr");
  });

  test("the tools are the passport's verbs, with schemas from its constraints", async () => {
    const { tools } = await client.listTools();
    // Every host loads the list only if every name matches ^[a-zA-Z0-9_-]{1,64}$; the title keeps the verb.
    for (const t of tools) expect(t.name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    expect(tools.map((t) => t.name).sort()).toEqual(["echo_word", "fail_exit", "self_kill", "slow_timeout", "ssh_restart_service", "ssh_tail_logs"]);
    expect(tools.map((t) => t.title).sort()).toEqual(["echo.word", "fail.exit", "self.kill", "slow.timeout", "ssh.restart_service", "ssh.tail_logs"]);
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

  test("a call returns the verb's output and exit code 0", async () => {
    const r = await client.callTool({ name: "ssh_tail_logs", arguments: { lines: 2 } });
    expect(r.isError).toBe(false);
    const text = (r.content as Array<{ type: string; text: string }>)[0]!.text;
    expect(text).toBe("web line 99\nweb line 100\n\n[exit code 0]");
    expect(r.structuredContent).toEqual({ exitCode: 0, signal: null, timedOut: false, truncated: false, redactions: {}, output: "web line 99\nweb line 100\n" });
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
    const unknown = await client.callTool({ name: "slow.sleep", arguments: { seconds: 1 } });
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
  test("an unknown daemon and no --fingerprint: exit 4 before any protocol, nothing on stdout", async () => {
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
