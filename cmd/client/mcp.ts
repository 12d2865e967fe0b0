// `mcp`: a stdio MCP server over one share (official SDK, low-level Server with JSON Schema).
// stdout is the protocol channel, so every diagnostic goes to stderr. Fingerprint confirmation is
// --fingerprint or the known-daemons file: there is no prompt on stdio.
import { defineCommand } from "citty";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { paramsFromToolArgs, toolNamesFor, toolsFromVerbs } from "../../lib/client/mcp-tools.ts";
import { OpenScopeError } from "../../lib/errors.ts";
import { describeOutcome } from "../../lib/wire/outcome.ts";
import { VERSION } from "../../lib/version.ts";
import { setHumanOutput } from "../output.ts";
import { connectToShare } from "./_shared.ts";

export default defineCommand({
  meta: { name: "mcp", description: "Serve the sanctioned verbs as MCP tools on stdio (for an AI agent)" },
  async run() {
    setHumanOutput(false);
    let ended: string | undefined;
    const { session } = await connectToShare({
      interactiveConfirm: false,
      events: { onEnded: (_s, message) => (ended = message) },
    });
    const verbs = await session.list();
    const tools = toolsFromVerbs(verbs);
    const { verbOf } = toolNamesFor(verbs.map((v) => v.name));
    const server = new Server({ name: "openscope", version: VERSION }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));
    server.setRequestHandler(CallToolRequestSchema, async (req) => {
      if (ended) return { isError: true, content: [{ type: "text", text: `share ${ended}` }] };
      const chunks: Uint8Array[] = [];
      try {
        // An unknown tool name goes to the daemon as is: it decides and audits every attempt.
        const verb = verbOf.get(req.params.name) ?? req.params.name;
        const { done } = session.call(verb, paramsFromToolArgs(req.params.arguments), (_stream, data) => chunks.push(data.slice()));
        const r = await done;
        const output = Buffer.concat(chunks).toString("utf8");
        const outcome = describeOutcome(r);
        return {
          isError: !outcome.ok,
          content: [{ type: "text", text: output + (r.truncated ? "\n[output truncated]" : "") + `\n[${outcome.phrase}]` }],
          structuredContent: { exitCode: r.exitCode, signal: r.signal, timedOut: r.timedOut, truncated: r.truncated, output },
        };
      } catch (e) {
        const message = e instanceof OpenScopeError ? e.message : String(e);
        return { isError: true, content: [{ type: "text", text: message }] };
      }
    });
    const transport = new StdioServerTransport();
    await server.connect(transport);
    process.stderr.write(`openscope-reflect-client: MCP server ready with ${tools.length} tool(s)\n`);
    await new Promise<void>((resolve) => {
      transport.onclose = () => resolve();
      process.stdin.once("end", () => resolve());
    });
    session.close();
  },
});
