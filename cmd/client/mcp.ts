// `mcp`: a stdio MCP server over one share (official SDK, low-level Server with JSON Schema).
// stdout is the protocol channel, so every diagnostic goes to stderr. Fingerprint confirmation is
// --verify, --fingerprint or the known-daemons file: there is no prompt on stdio. Once it runs,
// every failure is in-protocol (SPEC.md §13.1): a share that could not be opened (wrong
// fingerprint, unreachable relay) or has ended gives an empty tool list and tool errors with the
// reason and a hint; only usage errors (exit 2) come before it.
import { defineCommand } from "citty";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { paramsFromToolArgs, toolNamesFor, toolsFromVerbs, type ToolDef } from "../../lib/client/mcp-tools.ts";
import { DEFAULT_MAX_RESULT, errorToolResult, OutputCap, verbToolResult } from "../../lib/client/mcp-result.ts";
import { failedInstructions, liveInstructions } from "../../lib/client/mcp-instructions.ts";
import { shareEndedError } from "../../lib/client/link.ts";
import type { ClientSession, Hello, PendingApproval } from "../../lib/client/session.ts";
import { OpenScopeError } from "../../lib/errors.ts";
import { parseSize } from "../../lib/units.ts";
import type { VerbInfo } from "../../lib/wire/rpc.ts";
import { VERSION } from "../../lib/version.ts";
import { printJson, setHumanOutput, terminalSafe } from "../output.ts";
import { handleArgs } from "./args.ts";
import { approvalWaitLine, configDir, connectToShare, globalFlag, handleSourceOf, timeLeft } from "./_shared.ts";
import { MCP_HOSTS, mcpConfig, serverLaunch, type McpHost } from "./mcp-config.ts";

/** How often a call waiting for approval tells the MCP host it is still alive (hosts time out silent calls). */
const APPROVAL_PROGRESS_EVERY_MS = 5_000;

/** Past the share's expiry, how long to wait for the daemon's own "ended" before ending locally. */
const EXPIRY_GRACE_MS = 2_000;

/** The share as the MCP server sees it: live with its tools, or down with the reason. */
class ShareTools {
  session: ClientSession | undefined;
  hello: Hello | undefined;
  verbs: VerbInfo[] = [];
  tools: ToolDef[] = [];
  verbOf = new Map<string, string>();
  down: OpenScopeError | undefined;
  /** Set once the protocol runs: tells the host that the tool list changed. */
  onDown: (() => void) | undefined;
  private expiryTimer: ReturnType<typeof setTimeout> | undefined;

  /** The share ended (revoked, expired) or was never opened: said once on stderr, then the list empties. */
  end(err: OpenScopeError): void {
    if (this.down) return;
    this.down = err;
    clearTimeout(this.expiryTimer);
    process.stderr.write(`openscope-reflect-client: ${terminalSafe(err.message)}; the tool list is now empty\n`);
    this.session?.close();
    this.onDown?.();
  }

  /** A local timer as well as the daemon's "ended": the list empties at expiry even if the link is down. */
  armExpiry(): void {
    clearTimeout(this.expiryTimer);
    const hello = this.session?.hello ?? this.hello;
    if (!hello || this.down) return;
    this.expiryTimer = setTimeout(() => this.end(shareEndedError("expired", "expired")), Math.max(0, timeLeft(hello)) + EXPIRY_GRACE_MS);
  }

  async open(saved: string | undefined): Promise<void> {
    try {
      const { session, hello } = await connectToShare({
        interactiveConfirm: false,
        saved,
        stdin: "never",
        events: { onEnded: (state, message) => this.end(shareEndedError(state, message)), onExpiry: () => this.armExpiry() },
      });
      this.session = session;
      this.hello = hello;
      this.verbs = await session.list();
      this.tools = toolsFromVerbs(this.verbs, hello.passport.approval);
      this.verbOf = toolNamesFor(this.verbs.map((v) => v.name)).verbOf;
      this.armExpiry();
    } catch (e) {
      // Usage errors stop here (exit 2); what the host should show goes in-protocol.
      if (!(e instanceof OpenScopeError) || e.kind === "usage") throw e;
      // Said once, as an error with its hints; the protocol starts with no tools (no list to change yet).
      process.stderr.write(`openscope-reflect-client: error: ${terminalSafe(e.message)}\n${e.hints.map((h) => `hint: ${terminalSafe(h)}\n`).join("")}`);
      this.down = e;
    }
  }

  instructions(): string {
    if (this.down || !this.hello) return failedInstructions(this.down?.message ?? "not connected", this.down?.hints ?? []);
    return liveInstructions(this.session?.hello ?? this.hello, Date.now());
  }
}

type Notify = (n: { method: "notifications/progress"; params: { progressToken: string | number; progress: number; total: number; message: string } }) => Promise<void>;

/**
 * While a call waits for the operator's approval the tool call stays open and says so with
 * progress notifications (when the host asked for them with a progress token).
 */
function approvalProgress(token: string | number | undefined, notify: Notify): { onPending(p: PendingApproval): void; stop(): void } {
  let timer: ReturnType<typeof setInterval> | undefined;
  const stop = () => {
    clearInterval(timer);
    timer = undefined;
  };
  return {
    stop,
    onPending(p) {
      const since = Date.now();
      const message = approvalWaitLine(p).replace(/^openscope-reflect-client: /, "");
      const tick = () => {
        if (token === undefined) return;
        void notify({ method: "notifications/progress", params: { progressToken: token, progress: (Date.now() - since) / 1000, total: p.timeoutMs / 1000, message } }).catch(stop);
      };
      tick();
      timer = setInterval(tick, APPROVAL_PROGRESS_EVERY_MS);
    },
  };
}

interface CallContext {
  signal: AbortSignal;
  progressToken: string | number | undefined;
  notify: Notify;
}

async function callTool(share: ShareTools, name: string, args: Record<string, unknown> | undefined, ctx: CallContext, maxResult: number) {
  if (share.down || !share.session) return errorToolResult(share.down?.message ?? "not connected to the share", share.down?.hints ?? []);
  // An unknown tool name goes to the daemon as is: it decides and audits every attempt.
  const verb = share.verbOf.get(name) ?? name;
  const output = new OutputCap(maxResult);
  const progress = approvalProgress(ctx.progressToken, ctx.notify);
  let aborted = false;
  const { id, done } = share.session.call(
    verb,
    paramsFromToolArgs(args),
    (_stream, data) => {
      progress.stop();
      output.push(data);
    },
    {
      onPending: progress.onPending,
      onStarted: () => {
        progress.stop();
        // Cancelled before the daemon started it: the first cancel found nothing running.
        if (aborted) share.session?.cancel(id);
      },
    },
  );
  // notifications/cancelled aborts the request: the verb is cancelled on the daemon (audited as cancelled).
  const cancel = () => {
    aborted = true;
    share.session?.cancel(id);
  };
  ctx.signal.addEventListener("abort", cancel, { once: true });
  try {
    return verbToolResult(await done, output, share.verbs.find((v) => v.name === verb));
  } catch (e) {
    if (e instanceof OpenScopeError) return errorToolResult(e.message, e.hints);
    return errorToolResult(String(e));
  } finally {
    progress.stop();
    ctx.signal.removeEventListener("abort", cancel);
  }
}

function printConfig(saved: string | undefined, host: McpHost, maxResult: string | undefined): void {
  const launch = serverLaunch(handleSourceOf(saved), configDir(), {
    key: globalFlag("key"),
    fingerprint: globalFlag("fingerprint"),
    verify: globalFlag("verify"),
    maxResult,
  });
  printJson(mcpConfig(host, launch));
}

export default defineCommand({
  meta: { name: "mcp", description: "Serve the sanctioned verbs as MCP tools on stdio (for an AI agent): mcp [NAME]; --print-config for the host's config" },
  args: {
    name: { type: "positional", required: false, description: "A saved share's name (instead of a handle flag)" },
    ...handleArgs,
    "max-result": { type: "string", description: "Most output one tool result returns (default 256KiB); the rest is cut with a notice", valueHint: "size" },
    "print-config": { type: "boolean", description: "Print the JSON to put in the MCP host's config file, then exit" },
    host: { type: "enum", options: [...MCP_HOSTS], description: "The host whose config --print-config writes: claude (default), cursor or vscode" },
  },
  async run({ args }) {
    const saved = args.name === undefined ? undefined : String(args.name);
    const maxResultText = args["max-result"] === undefined ? undefined : String(args["max-result"]);
    const maxResult = maxResultText === undefined ? DEFAULT_MAX_RESULT : parseSize(maxResultText, "--max-result");
    if (args["print-config"]) return printConfig(saved, (args.host as McpHost | undefined) ?? "claude", maxResultText);
    if (args.host !== undefined) throw new OpenScopeError("usage", "--host goes with --print-config");
    setHumanOutput(false);
    const share = new ShareTools();
    await share.open(saved);
    const server = new Server({ name: "openscope", version: VERSION }, { capabilities: { tools: { listChanged: true } }, instructions: share.instructions() });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: share.down ? [] : share.tools }));
    server.setRequestHandler(CallToolRequestSchema, (req, extra) =>
      callTool(share, req.params.name, req.params.arguments, { signal: extra.signal, progressToken: req.params._meta?.progressToken, notify: (n) => extra.sendNotification(n) }, maxResult),
    );
    const transport = new StdioServerTransport();
    await server.connect(transport);
    share.onDown = () => void server.sendToolListChanged().catch(() => {});
    process.stderr.write(`openscope-reflect-client: MCP server ready with ${share.down ? 0 : share.tools.length} tool(s)\n`);
    await new Promise<void>((resolve) => {
      transport.onclose = () => resolve();
      process.stdin.once("end", () => resolve());
    });
    share.session?.close();
    if (share.down) process.exitCode = share.down.exitCode;
  },
});
