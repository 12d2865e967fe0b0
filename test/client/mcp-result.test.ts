// One MCP tool result (lib/client/mcp-result.ts) and the host config snippet (cmd/client/mcp-config.ts):
// the output is sent once, cut at the cap with a notice naming the verb's paging parameter (or
// saying there is none), a split character is dropped rather than garbled; the snippet names the
// handle's file or saved name, never the handle, in each host's shape.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_MAX_RESULT, errorToolResult, OutputCap, restHint, verbToolResult } from "../../lib/client/mcp-result.ts";
import { mcpConfig, serverLaunch } from "../../cmd/client/mcp-config.ts";
import { failedInstructions, liveInstructions } from "../../lib/client/mcp-instructions.ts";
import type { Hello } from "../../lib/client/link.ts";
import { saveShare } from "../../lib/client/saved-shares.ts";
import type { VerbInfo } from "../../lib/wire/rpc.ts";
import { OpenScopeError } from "../../lib/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "openscope-mcp-result-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ok = { exitCode: 0, signal: null, timedOut: false, cancelled: false, truncated: false };
const tail: VerbInfo = { name: "ssh.tail_logs", summary: "", params: { lines: { constraint: { kind: "range", min: 1, max: 5000 } } } } as unknown as VerbInfo;
const bare: VerbInfo = { name: "sys.dump", summary: "", params: {} } as unknown as VerbInfo;

describe("OutputCap", () => {
  test("under the cap: everything, not cut", () => {
    const c = new OutputCap(10);
    c.push(new TextEncoder().encode("hello"));
    expect(c.cut).toBe(false);
    expect(c.text()).toBe("hello");
    expect(c.total).toBe(5);
  });

  test("over the cap: the first cap bytes, the total counted, a split character dropped", () => {
    const c = new OutputCap(4);
    c.push(new TextEncoder().encode("abc€"));
    c.push(new TextEncoder().encode("more"));
    expect(c.cut).toBe(true);
    expect(c.total).toBe(10);
    expect(c.text()).toBe("abc");
  });

  test("the default is 256 KiB", () => {
    expect(DEFAULT_MAX_RESULT).toBe(256 * 1024);
  });
});

describe("verbToolResult", () => {
  test("the text carries the output once; structuredContent only the outcome", () => {
    const c = new OutputCap(1024);
    c.push(new TextEncoder().encode("line\n"));
    const r = verbToolResult(ok, c, tail);
    expect(r).toEqual({
      isError: false,
      content: [{ type: "text", text: "line\n\n[exit code 0]" }],
      structuredContent: { exitCode: 0, signal: null, timedOut: false, cancelled: false, truncated: false, redactions: {}, bytes: 5, cut: false },
    });
    expect(JSON.stringify(r.structuredContent)).not.toContain("line");
  });

  test("a cut result says so, with the verb's paging parameter", () => {
    const c = new OutputCap(1024);
    c.push(new Uint8Array(4 * 1024 * 1024).fill(0x61));
    const r = verbToolResult(ok, c, tail);
    const text = r.content[0]!.text;
    expect(text.length).toBeLessThan(1200);
    expect(text).toContain("[output cut: this result holds the first 1 KiB of 4.0 MiB; to get the rest, call again in smaller parts with `lines`]");
    expect(text.endsWith("[exit code 0]")).toBe(true);
    expect(r.structuredContent).toMatchObject({ bytes: 4 * 1024 * 1024, cut: true });
  });

  test("without a paging parameter, a notice says the rest cannot be fetched", () => {
    expect(restHint(bare)).toContain("no parameter to ask for part of its output");
    expect(restHint(undefined)).toContain("no parameter");
  });

  test("a failed verb is an error result; the verb's own truncation is noted", () => {
    const c = new OutputCap(1024);
    const r = verbToolResult({ ...ok, exitCode: 3, truncated: true }, c, tail);
    expect(r.isError).toBe(true);
    expect(r.content[0]!.text).toBe("\n[output truncated at the verb's own cap on the operator's side]\n[exit code 3]");
  });

  test("an error result: the message, then hint lines", () => {
    expect(errorToolResult("share expired", ["ask the operator"]).content[0]!.text).toBe("share expired\nhint: ask the operator");
  });
});

describe("--print-config", () => {
  test("each host's shape", () => {
    const launch = { name: "openscope-acme", command: "/usr/local/bin/openscope-reflect-client", args: ["mcp", "acme"], env: {} };
    expect(mcpConfig("claude", launch)).toEqual({ mcpServers: { "openscope-acme": { command: launch.command, args: ["mcp", "acme"] } } });
    expect(mcpConfig("cursor", launch)).toEqual({ mcpServers: { "openscope-acme": { command: launch.command, args: ["mcp", "acme"] } } });
    expect(mcpConfig("vscode", { ...launch, env: { XDG_CONFIG_HOME: "/c" } })).toEqual({
      servers: { "openscope-acme": { type: "stdio", command: launch.command, args: ["mcp", "acme"], env: { XDG_CONFIG_HOME: "/c" } } },
    });
  });

  test("a saved share or a file (made absolute); flags that confirm the daemon come along", () => {
    const cfg = join(dir, "cfg");
    saveShare(cfg, "acme", "osh1whatever");
    const saved = serverLaunch({ kind: "saved", name: "acme" }, cfg, { fingerprint: "SHA256:abc", maxResult: "64KiB" }, { XDG_CONFIG_HOME: dir });
    expect(saved.name).toBe("openscope-acme");
    expect(saved.args.slice(-6)).toEqual(["--fingerprint", "SHA256:abc", "mcp", "acme", "--max-result", "64KiB"]);
    expect(saved.env).toEqual({ XDG_CONFIG_HOME: dir });
    const file = join(dir, "h.txt");
    writeFileSync(file, "osh1whatever");
    const fromFile = serverLaunch({ kind: "file", path: file }, cfg, {}, {});
    expect(fromFile.args.slice(-3)).toEqual(["--passport-file", file, "mcp"]);
    expect(fromFile.env).toEqual({});
  });

  test("a handle given inline, or none, is refused (it would land in the config file)", () => {
    for (const source of [{ kind: "argv", text: "osh1secret" }, { kind: "env", text: "osh1secret" }, { kind: "stdin" }, undefined] as const) {
      let err: unknown;
      try {
        serverLaunch(source, dir, {}, {});
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OpenScopeError);
      expect((err as OpenScopeError).exitCode).toBe(2);
      expect((err as OpenScopeError).message).not.toContain("osh1secret");
    }
  });
});

describe("instructions at initialize", () => {
  test("live: who shared, on which daemon, when it ends, that every call is recorded", () => {
    const now = Date.parse("2026-11-29T01:00:00Z");
    const hello = { passport: { principal: "you", verbs: { "a.b": {}, "c.d": {} } }, daemonName: "prod-1", fingerprint: "SHA256:fp", expiresAt: now + 12 * 60_000, clockSkewMs: 0 } as unknown as Hello;
    const text = liveInstructions(hello, now);
    expect(text).toContain('"you" on the daemon "prod-1" (fingerprint SHA256:fp) lets you run 2 named action(s)');
    expect(text).toContain("The share ends at 2026-11-29T01:12:00.000Z (12m from the start of this session)");
    expect(text).toContain("Every call, allowed or denied, is recorded in the operator's audit log");
    expect(text).toContain("the tool list becomes empty");
  });

  test("failed: why there are no tools, and the hints", () => {
    expect(failedInstructions("this daemon is not known yet", ["pass --verify CODE"])).toBe(
      "OpenScope could not open the share, so there are no tools: this daemon is not known yet.\nHint: pass --verify CODE",
    );
  });
});
