// The passport's verbs as MCP tool schemas (lib/client/mcp-tools.ts): const for pins, enum for
// sets, minimum/maximum for ranges, pattern for patterns, defaults and required, and the tool
// arguments turned back into the string params of an RPC call.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { paramsFromToolArgs, toolsFromVerbs } from "../../lib/client/mcp-tools.ts";
import type { VerbInfo } from "../../lib/wire/rpc.ts";

const verbs: VerbInfo[] = [
  {
    name: "ssh.tail_logs",
    summary: "Last lines of a service's log",
    params: {
      service: { constraint: { kind: "enum", values: ["web"] } },
      lines: { constraint: { kind: "range", min: 1, max: 50 }, default: "10" },
    },
  },
  {
    name: "ssh.restart_service",
    summary: "Restart a service",
    params: { service: { constraint: { kind: "enum", values: ["web", "api"] } } },
  },
  { name: "echo.word", summary: "", params: { word: { constraint: { kind: "pattern", pattern: "^[a-z0-9]{1,32}$" } } } },
  { name: "count.fixed", summary: "Fixed count", params: { n: { constraint: { kind: "range", min: 7, max: 7 } } } },
  { name: "noargs", summary: "No parameters", params: {} },
];

describe("toolsFromVerbs", () => {
  const tools = toolsFromVerbs(verbs);
  const byName = Object.fromEntries(tools.map((t) => [t.name, t]));

  test("one tool per verb, in order, each a closed object schema", () => {
    expect(tools.map((t) => t.name)).toEqual(verbs.map((v) => v.name));
    for (const t of tools) {
      expect(t.inputSchema.type).toBe("object");
      expect(t.inputSchema.additionalProperties).toBe(false);
      expect(t.description).toContain("every call is recorded");
    }
  });

  test("a pinned enum is const, a set is enum; a range has minimum/maximum and a typed default", () => {
    const tail = byName["ssh.tail_logs"]!.inputSchema;
    expect(tail.properties.service).toEqual({ type: "string", const: "web" });
    expect(tail.properties.lines).toEqual({ type: "integer", minimum: 1, maximum: 50, default: 10 });
    expect(tail.required).toEqual([]);
    const restart = byName["ssh.restart_service"]!.inputSchema;
    expect(restart.properties.service).toEqual({ type: "string", enum: ["web", "api"] });
    expect(restart.required).toEqual(["service"]);
  });

  test("a pattern is kept verbatim and required; a one-value range is an integer const", () => {
    const echo = byName["echo.word"]!;
    expect(echo.inputSchema.properties.word).toEqual({ type: "string", pattern: "^[a-z0-9]{1,32}$" });
    expect(echo.inputSchema.required).toEqual(["word"]);
    expect(echo.description).toStartWith("echo.word");
    expect(byName["count.fixed"]!.inputSchema.properties.n).toEqual({ type: "integer", const: 7 });
    expect(byName["count.fixed"]!.inputSchema.required).toEqual([]);
    expect(byName["noargs"]!.inputSchema).toEqual({ type: "object", properties: {}, required: [], additionalProperties: false });
  });

  test("every value a range schema admits is inside the passport's range", () => {
    const lines = byName["ssh.tail_logs"]!.inputSchema.properties.lines as { minimum: number; maximum: number };
    fc.assert(
      fc.property(fc.integer({ min: lines.minimum, max: lines.maximum }), (n) => n >= 1 && n <= 50),
    );
  });
});

describe("paramsFromToolArgs", () => {
  test("strings stay, numbers and booleans become their text, null and undefined are dropped", () => {
    expect(paramsFromToolArgs({ service: "web", lines: 25, flag: true, gone: null, nope: undefined })).toEqual({ service: "web", lines: "25", flag: "true" });
    expect(paramsFromToolArgs(undefined)).toEqual({});
  });

  test("objects are sent as JSON text so the daemon sees (and refuses) exactly what came", () => {
    expect(paramsFromToolArgs({ service: ["web", "api"], x: { a: 1 } })).toEqual({ service: '["web","api"]', x: '{"a":1}' });
  });

  test("integers round-trip through their text", () => {
    fc.assert(fc.property(fc.integer(), (n) => Number(paramsFromToolArgs({ n }).n) === n));
  });
});
