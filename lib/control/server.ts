// The daemon's side of the control API (SPEC.md §14): HTTP over the unix socket `control.sock`.
// The socket is 0600, so only the home's owner reaches it (0660 with `control_group`); `share open` also needs the agent's
// local credential, so one local agent cannot act as another. Errors leave as the ErrorBody of
// api.ts, so the CLI rebuilds them with their exit codes.
import { chmodSync, chownSync, existsSync, unlinkSync } from "node:fs";
import * as v from "valibot";
import { deniedError, OpenScopeError, usageError } from "../errors.ts";
import { equalBytes } from "../bytes.ts";
import { tokenSha256, type Store } from "../store/store.ts";
import type { ShareManager } from "../daemon/shares.ts";
import { CONTROL_PATHS, ExtendBody, OpenShareBody, STATUS_OF_KIND, type ErrorBody } from "./api.ts";
import { routeOperator, type OperatorControl } from "./operator-routes.ts";
import { routeOps, type OpsControl } from "./ops-routes.ts";

function errorResponse(e: unknown): Response {
  const error: ErrorBody["error"] =
    e instanceof OpenScopeError
      ? { kind: e.kind, message: e.message, hints: [...e.hints] }
      : { kind: "internal", message: `internal error: ${(e as Error)?.message ?? String(e)}`, hints: [] };
  return Response.json({ error } satisfies ErrorBody, { status: STATUS_OF_KIND[error.kind] });
}

const notFound = (what: string) => Response.json({ error: { kind: "usage", message: `control: unknown ${what}`, hints: [] } } satisfies ErrorBody, { status: 404 });

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

/** One request to its handler; throws OpenScopeError for the caller's mistakes. */
async function route(req: Request, opts: ControlServerOptions, server: Bun.Server<undefined>): Promise<Response> {
  const { pathname } = new URL(req.url);
  if (pathname === CONTROL_PATHS.health && req.method === "GET") return Response.json({ ok: true, pid: process.pid, ...opts.operator?.health() });
  const operator = opts.operator && (await routeOperator(req, opts.operator, server));
  if (operator) return operator;
  const ops = opts.ops && (await routeOps(req, opts.ops));
  if (ops) return ops;
  if (pathname === CONTROL_PATHS.shares && req.method === "GET") return Response.json(opts.shares.list());
  if (pathname === CONTROL_PATHS.shares && req.method === "POST") {
    const body = await parseBody(req, OpenShareBody);
    const token = (req.headers.get("authorization") ?? "").replace(/^Bearer /, "");
    checkAgentCredential(opts.store, body.agent, token);
    return Response.json(await opts.shares.open(body));
  }
  const action = /^\/v1\/shares\/([^/]+)\/(extend|revoke)$/.exec(pathname);
  if (!action || req.method !== "POST") return notFound(pathname.startsWith("/v1/") ? "request" : "path");
  // Share ids are hex (SHARE_ID), so the segment is used as it is: an odd escape names no share.
  const id = action[1]!;
  if (action[2] === "extend") return Response.json(opts.shares.extend(id, (await parseBody(req, ExtendBody)).ttl));
  return Response.json(opts.shares.revoke(id));
}

export interface ControlServerOptions {
  socketPath: string;
  shares: ShareManager;
  store: Store;
  /** Watch, kill and approvals (SPEC.md §17); absent in tests that need only shares. */
  operator?: OperatorControl;
  /** Status and reload (SPEC.md §14); absent in tests that need only shares. */
  ops?: OpsControl;
  /** control_group's gid: the socket is then 0660 with that group, else 0600. */
  socketGroup?: number;
}

export function startControlServer(opts: ControlServerOptions) {
  if (existsSync(opts.socketPath)) unlinkSync(opts.socketPath); // a stale socket from a killed daemon
  const server = Bun.serve({
    unix: opts.socketPath,
    // `share watch` holds one request open for as long as it runs and may stay quiet for minutes;
    // Bun's default (10 s) would cut it, and server.timeout(req, 0) does not lift it on a streamed
    // response (Bun 1.4.4). The socket is the operator's own (0600 or control_group 0660). Bun's
    // types leave idleTimeout out of the unix-socket options; the server honours it there.
    ...({ idleTimeout: 0 } as object),
    async fetch(req, server) {
      try {
        return await route(req, opts, server);
      } catch (e) {
        return errorResponse(e);
      }
    },
  });
  if (opts.socketGroup === undefined) chmodSync(opts.socketPath, 0o600);
  else {
    chownSync(opts.socketPath, process.getuid?.() ?? 0, opts.socketGroup);
    chmodSync(opts.socketPath, 0o660);
  }
  return server;
}

/** The token's SHA-256 against the stored digest, in constant time (SPEC.md §14). */
function checkAgentCredential(store: Store, agent: string, token: string): void {
  const expected = store.agentCredential(agent);
  const given = new TextEncoder().encode(tokenSha256(token));
  const ok = expected !== undefined && token.length > 0 && equalBytes(new TextEncoder().encode(expected), given);
  if (!ok) {
    throw deniedError(`you do not hold agent "${agent}"'s local credential`, [
      `share open --agent ${agent} needs agents/${agent}.token, written by: openscope grant add --agent ${agent} …`,
    ]);
  }
}
