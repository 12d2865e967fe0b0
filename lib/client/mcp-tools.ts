// The sanctioned verbs as MCP tools: each verb's input JSON Schema comes from the passport's
// constraints (const for pins, enum, minimum/maximum, pattern), so an agent only sees calls it may
// make. Pure: the MCP server in cmd/client/mcp.ts wires it to a session.
import type { VerbInfo } from "../wire/rpc.ts";

export interface ToolDef {
  name: string;
  description: string;
  inputSchema: { type: "object"; properties: Record<string, unknown>; required: string[]; additionalProperties: false };
}

export function toolsFromVerbs(verbs: VerbInfo[]): ToolDef[] {
  return verbs.map((v) => {
    const properties: Record<string, unknown> = {};
    const required: string[] = [];
    for (const [name, p] of Object.entries(v.params)) {
      const c = p.constraint;
      let schema: Record<string, unknown>;
      if (c.kind === "enum") schema = c.values.length === 1 ? { type: "string", const: c.values[0] } : { type: "string", enum: c.values };
      else if (c.kind === "range") schema = c.min === c.max ? { type: "integer", const: c.min } : { type: "integer", minimum: c.min, maximum: c.max };
      else schema = { type: "string", pattern: c.pattern };
      if (p.default !== undefined) schema.default = c.kind === "range" ? Number(p.default) : p.default;
      const pinned = (c.kind === "enum" && c.values.length === 1) || (c.kind === "range" && c.min === c.max);
      if (p.default === undefined && !pinned) required.push(name);
      properties[name] = schema;
    }
    return {
      name: v.name,
      description: `${v.summary || v.name} (runs on the operator's system through OpenScope; every call is recorded)`,
      inputSchema: { type: "object", properties, required, additionalProperties: false },
    };
  });
}

/** Tool arguments (JSON values) → the string params of an RPC call. */
export function paramsFromToolArgs(args: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(args ?? {})) {
    if (v === null || v === undefined) continue;
    out[k] = typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : JSON.stringify(v);
  }
  return out;
}
