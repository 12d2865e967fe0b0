// The sanctioned verbs as MCP tools: each verb's input JSON Schema comes from the passport's
// constraints (const for pins, enum, minimum/maximum, pattern), so an agent only sees calls it may
// make. Tool names are the verb names made safe for every MCP host (SPEC.md §13.1). Pure: the
// MCP server in cmd/client/mcp.ts wires it to a session.
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { VerbInfo } from "../wire/rpc.ts";

/** What Claude Desktop/Code, Copilot CLI and Codex accept; a list with one other name loads none. */
export const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const MAX_TOOL_NAME = 64;
const HASH_CHARS = 8;

/** `ssh.tail_logs` → `ssh_tail_logs`; a name over 64 characters is cut and gets a hash suffix. */
function plainToolName(verb: string): string {
  const base = verb.replace(/\./g, "_");
  return base.length <= MAX_TOOL_NAME ? base : hashedToolName(verb);
}

/** The verb's name cut to fit, then `_` and 8 hex characters of SHA-256 of the verb name. */
function hashedToolName(verb: string, hashChars = HASH_CHARS): string {
  const base = verb.replace(/\./g, "_");
  const hash = bytesToHex(sha256(new TextEncoder().encode(verb))).slice(0, hashChars);
  return `${base.slice(0, MAX_TOOL_NAME - hashChars - 1)}_${hash}`;
}

/**
 * Tool names for a list of verbs: each matches TOOL_NAME, all are distinct, and the map back to
 * the verb is returned. Verbs whose plain names would collide (`a.b` and `a_b`) both take the
 * hashed form, so neither silently shadows the other.
 */
export function toolNamesFor(verbs: readonly string[]): { toolOf: Map<string, string>; verbOf: Map<string, string> } {
  const plain = new Map<string, string>();
  const count = new Map<string, number>();
  for (const v of verbs) {
    const n = plainToolName(v);
    plain.set(v, n);
    count.set(n, (count.get(n) ?? 0) + 1);
  }
  const toolOf = new Map<string, string>();
  const verbOf = new Map<string, string>();
  for (const v of verbs) {
    let chars = HASH_CHARS;
    let name = count.get(plain.get(v)!)! > 1 ? hashedToolName(v, chars) : plain.get(v)!;
    // A verb may literally be named like another's hashed form: lengthen the hash until free.
    while (verbOf.has(name)) {
      chars += 4;
      if (chars > 32) throw new Error(`mcp: cannot name a tool for verb ${v}`);
      name = hashedToolName(v, chars);
    }
    toolOf.set(v, name);
    verbOf.set(name, v);
  }
  return { toolOf, verbOf };
}

export interface ToolDef {
  name: string;
  /** The verb's own name, for people (hosts show the title). */
  title: string;
  description: string;
  inputSchema: { type: "object"; properties: Record<string, unknown>; required: string[]; additionalProperties: false };
}

export function toolsFromVerbs(verbs: VerbInfo[], approval: readonly string[] = []): ToolDef[] {
  const { toolOf } = toolNamesFor(verbs.map((v) => v.name));
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
      name: toolOf.get(v.name)!,
      title: v.name,
      description:
        `${v.name}: ${v.summary || "no summary"} (runs on the operator's system through OpenScope; every call is recorded` +
        // SPEC.md §17.2: the call stays open until a person answers, so an agent should expect a wait.
        `${approval.includes(v.name) ? "; each call waits for the operator's approval, which may take minutes" : ""})`,
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
