// The passport's verbs as MCP tool schemas (lib/client/mcp-tools.ts): const for pins, enum for
// sets, minimum/maximum for ranges, pattern for patterns, defaults and required, and the tool
// arguments turned back into the string params of an RPC call.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { TOOL_NAME, paramsFromToolArgs, toolNamesFor, toolsFromVerbs } from "../../lib/client/mcp-tools.ts";
import { VERB_NAME } from "../../lib/capability/catalog.ts";
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
  const byName = Object.fromEntries(tools.map((t) => [t.title, t]));

  test("one tool per verb, in order, each a closed object schema", () => {
    expect(tools.map((t) => t.name)).toEqual(["ssh_tail_logs", "ssh_restart_service", "echo_word", "count_fixed", "noargs"]);
    expect(tools.map((t) => t.title)).toEqual(verbs.map((v) => v.name));
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

describe("tool names every MCP host loads (SPEC.md §13.1)", () => {
  // Any verb name the catalog accepts: 1 to 4 dot-separated segments of [a-z][a-z0-9_-]{0,31}.
  const segment = fc.tuple(fc.constantFrom(..."abcz"), fc.stringMatching(/^[a-z0-9_-]{0,31}$/)).map(([a, b]) => a + b);
  const verbName = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join("."));

  test("every verb name a catalog can hold maps to a name matching ^[a-zA-Z0-9_-]{1,64}$, distinct, and back", () => {
    fc.assert(
      fc.property(fc.uniqueArray(verbName, { minLength: 1, maxLength: 30 }), (names) => {
        for (const n of names) expect(VERB_NAME.test(n)).toBe(true);
        const { toolOf, verbOf } = toolNamesFor(names);
        const tools = names.map((n) => toolOf.get(n)!);
        for (const t of tools) expect(t).toMatch(TOOL_NAME);
        expect(new Set(tools).size).toBe(names.length);
        for (const n of names) expect(verbOf.get(toolOf.get(n)!)).toBe(n);
      }),
      { numRuns: 2000, seed: 20261129 },
    );
  });

  test("fixed rows: dots become underscores; colliding names both take a hash; the longest verb fits", () => {
    expect(toolNamesFor(["ssh.tail_logs"]).toolOf.get("ssh.tail_logs")).toBe("ssh_tail_logs");
    const clash = toolNamesFor(["a.b", "a_b"]).toolOf;
    expect(clash.get("a.b")).toMatch(/^a_b_[0-9a-f]{8}$/);
    expect(clash.get("a_b")).toMatch(/^a_b_[0-9a-f]{8}$/);
    expect(clash.get("a.b")).not.toBe(clash.get("a_b"));
    const longest = Array.from({ length: 4 }, (_, i) => `s${i}${"x".repeat(30)}`).join(".");
    expect(VERB_NAME.test(longest)).toBe(true);
    const t = toolNamesFor([longest]).toolOf.get(longest)!;
    expect(t.length).toBe(64);
    expect(t).toMatch(TOOL_NAME);
  });

  test("a verb literally named like another's hashed form does not take its tool name", () => {
    const hashed = toolNamesFor(["a.b", "a_b"]).toolOf.get("a.b")!;
    expect(VERB_NAME.test(hashed)).toBe(true);
    const { toolOf, verbOf } = toolNamesFor(["a.b", "a_b", hashed]);
    expect(new Set(toolOf.values()).size).toBe(3);
    expect(toolOf.get(hashed)).not.toBe(hashed);
    expect(verbOf.get(toolOf.get(hashed)!)).toBe(hashed);
  });
});

describe("tools of verbs that wait for approval (SPEC.md §17.2)", () => {
  test("say so in their description; the others do not", () => {
    const tools = toolsFromVerbs(verbs, [verbs[0]!.name]);
    expect(tools[0]!.description).toContain("each call waits for the operator's approval");
    for (const t of tools.slice(1)) expect(t.description).not.toContain("approval");
  });
});
