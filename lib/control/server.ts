// The control API: HTTP over the daemon's unix socket (SPEC.md §14). The socket is 0600, so only
// the home's owner reaches it; `share open` additionally needs the agent's local credential, so
// one local agent cannot act as another. Errors travel as {error:{kind,message,hints}} and are
// rebuilt into OpenScopeError on the CLI side, so exit codes survive the hop.
import { createHash, timingSafeEqual } from "node:crypto";
import { chmodSync, existsSync, unlinkSync } from "node:fs";
import * as v from "valibot";
import { connectionError, deniedError, ExitCode, OpenScopeError, type ErrorKind, usageError } from "../errors.ts";
import type { Store } from "../store/store.ts";
import type { ShareManager } from "../daemon/shares.ts";

const OpenBody = v.strictObject({
  agent: v.string(),
  verbs: v.array(v.string()),
  to: v.optional(v.string()),
  bearer: v.optional(v.boolean()),
  ttl: v.string(),
});
const ExtendBody = v.strictObject({ ttl: v.string() });

const STATUS_OF: Record<ErrorKind, number> = { usage: 400, denied: 403, connection: 502, shareOver: 410, verbFailed: 500, internal: 500 };

export function tokenDigest(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

function errorResponse(e: unknown): Response {
  if (e instanceof OpenScopeError) {
    return Response.json({ error: { kind: e.kind, message: e.message, hints: e.hints } }, { status: STATUS_OF[e.kind] });
  }
  return Response.json({ error: { kind: "internal", message: `internal error: ${(e as Error)?.message ?? String(e)}`, hints: [] } }, { status: 500 });
}

async function parseBody<T>(req: Request, schema: v.GenericSchema<unknown, T>): Promise<T> {
  let raw: unknown;
  try {
    raw = await req.json();
  } catch {
    throw usageError("control: request body is not JSON");
  }
  const r = v.safeParse(schema, raw);
  if (!r.success) throw usageError(`control: ${v.summarize(r.issues).replace(/\n/g, "; ")}`);
  return r.output;
}

export function startControlServer(opts: { socketPath: string; shares: ShareManager; store: Store }) {
  if (existsSync(opts.socketPath)) unlinkSync(opts.socketPath); // a stale socket from a killed daemon
  const server = Bun.serve({
    unix: opts.socketPath,
    async fetch(req) {
      try {
        const url = new URL(req.url);
        const parts = url.pathname.split("/").filter(Boolean); // v1 shares [id] [action]
        if (parts[0] !== "v1") return Response.json({ error: { kind: "usage", message: "control: unknown path", hints: [] } }, { status: 404 });
        if (parts[1] === "health" && req.method === "GET") return Response.json({ ok: true, pid: process.pid });
        if (parts[1] !== "shares") return Response.json({ error: { kind: "usage", message: "control: unknown path", hints: [] } }, { status: 404 });
        if (parts.length === 2 && req.method === "GET") return Response.json(opts.shares.list());
        if (parts.length === 2 && req.method === "POST") {
          const body = await parseBody(req, OpenBody);
          const token = (req.headers.get("authorization") ?? "").replace(/^Bearer /, "");
          checkAgentCredential(opts.store, body.agent, token);
          return Response.json(await opts.shares.open(body));
        }
        if (parts.length === 4 && req.method === "POST" && parts[3] === "extend") {
          const body = await parseBody(req, ExtendBody);
          return Response.json(opts.shares.extend(parts[2]!, body.ttl));
        }
        if (parts.length === 4 && req.method === "POST" && parts[3] === "revoke") {
          return Response.json(opts.shares.revoke(parts[2]!));
        }
        return Response.json({ error: { kind: "usage", message: "control: unknown request", hints: [] } }, { status: 404 });
      } catch (e) {
        return errorResponse(e);
      }
    },
  });
  chmodSync(opts.socketPath, 0o600);
  return server;
}

function checkAgentCredential(store: Store, agent: string, token: string): void {
  const expected = store.agentCredential(agent);
  const given = Buffer.from(tokenDigest(token), "hex");
  const ok = expected !== undefined && token.length > 0 && timingSafeEqual(Buffer.from(expected, "hex"), given);
  if (!ok) {
    throw deniedError(`you do not hold agent "${agent}"'s local credential`, [
      `share open --agent ${agent} needs agents/${agent}.token, written by: openscope grant add --agent ${agent} …`,
    ]);
  }
}

/** True when a daemon already serves this socket (a stale file from a killed daemon answers nothing). */
export async function controlSocketAnswers(socketPath: string): Promise<boolean> {
  if (!existsSync(socketPath)) return false;
  try {
    const res = await fetch("http://openscope/v1/health", { unix: socketPath, signal: AbortSignal.timeout(1000) } as RequestInit);
    return res.ok;
  } catch {
    return false;
  }
}

/** CLI side: one request to the running daemon, errors rebuilt with their exit codes. */
export async function controlRequest<T>(
  socketPath: string,
  method: "GET" | "POST",
  path: string,
  opts: { body?: unknown; token?: string } = {},
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`http://openscope${path}`, {
      unix: socketPath,
      method,
      headers: { "content-type": "application/json", ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    } as RequestInit);
  } catch {
    throw connectionError(`the daemon is not reachable; is \`openscope daemon\` running? (socket ${socketPath})`, [
      "start it with: openscope daemon --relay wss://… --relay-token …",
    ]);
  }
  const json = (await res.json().catch(() => null)) as { error?: { kind: ErrorKind; message: string; hints: string[] } } | null;
  if (!res.ok || json?.error) {
    const err = json?.error;
    if (err && err.kind in ExitCode) throw new OpenScopeError(err.kind, err.message, { hints: err.hints });
    throw connectionError(`the daemon answered ${res.status}`);
  }
  return json as T;
}
