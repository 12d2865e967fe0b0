// `mcp`: a stdio MCP server over one share (official SDK, low-level Server with JSON Schema).
// stdout is the protocol channel, so every diagnostic goes to stderr. Fingerprint confirmation is
// --verify, --fingerprint or the known-daemons file: there is no prompt on stdio.
import { defineCommand } from "citty";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { paramsFromToolArgs, toolNamesFor, toolsFromVerbs } from "../../lib/client/mcp-tools.ts";
import { OpenScopeError } from "../../lib/errors.ts";
import { describeOutcome } from "../../lib/wire/outcome.ts";
import { describeRedactions } from "../../lib/redact/stream.ts";
import { VERSION } from "../../lib/version.ts";
import { setHumanOutput } from "../output.ts";
import type { PendingApproval } from "../../lib/client/session.ts";
import { approvalWaitLine, connectToShare } from "./_shared.ts";

/** How often a call waiting for approval tells the MCP host it is still alive (hosts time out silent calls). */
const APPROVAL_PROGRESS_EVERY_MS = 5_000;

export default defineCommand({
  meta: { name: "mcp", description: "Serve the sanctioned verbs as MCP tools on stdio (for an AI agent)" },
  async run() {
    setHumanOutput(false);
    let ended: string | undefined;
    const { session, hello } = await connectToShare({
      interactiveConfirm: false,
      events: { onEnded: (_s, message) => (ended = message) },
    });
    const verbs = await session.list();
    const tools = toolsFromVerbs(verbs, hello.passport.approval);
    const { verbOf } = toolNamesFor(verbs.map((v) => v.name));
    const server = new Server({ name: "openscope", version: VERSION }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));
    server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
      if (ended) return { isError: true, content: [{ type: "text", text: `share ${ended}` }] };
      const chunks: Uint8Array[] = [];
      // While the call waits for the operator's approval, the tool call stays open and says so
      // with progress notifications (when the host asked for them with a progress token).
      const token = req.params._meta?.progressToken;
      let progress: ReturnType<typeof setInterval> | undefined;
      const stopProgress = () => {
        clearInterval(progress);
        progress = undefined;
      };
      const onPending = (p: PendingApproval) => {
        const since = Date.now();
        const message = approvalWaitLine(p).replace(/^openscope-reflect-client: /, "");
        const tick = () => {
          if (token === undefined) return;
          void extra
            .sendNotification({ method: "notifications/progress", params: { progressToken: token, progress: (Date.now() - since) / 1000, total: p.timeoutMs / 1000, message } })
            .catch(() => stopProgress());
        };
        tick();
        progress = setInterval(tick, APPROVAL_PROGRESS_EVERY_MS);
      };
      try {
        // An unknown tool name goes to the daemon as is: it decides and audits every attempt.
        const verb = verbOf.get(req.params.name) ?? req.params.name;
        const { done } = session.call(
          verb,
          paramsFromToolArgs(req.params.arguments),
          (_stream, data) => {
            stopProgress();
            chunks.push(data.slice());
          },
          { onPending, onStarted: stopProgress },
        );
        const r = await done.finally(stopProgress);
        const output = Buffer.concat(chunks).toString("utf8");
        const outcome = describeOutcome(r);
        const note = describeRedactions(r.redactions);
        return {
          isError: !outcome.ok,
          content: [{ type: "text", text: output + (r.truncated ? "\n[output truncated]" : "") + `\n[${outcome.phrase}]` + (note ? `\n[${note}]` : "") }],
          structuredContent: { exitCode: r.exitCode, signal: r.signal, timedOut: r.timedOut, truncated: r.truncated, redactions: r.redactions, output },
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
