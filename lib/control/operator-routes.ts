// The control API's operator-in-the-loop requests (SPEC.md §14, §17): the watch stream, killing
// a share's calls, and the approval desk (list, approve, deny). Kept beside server.ts so the share
// routes stay as they are; errors are thrown as OpenScopeError and leave as ErrorBody there.
import * as v from "valibot";
import { usageError } from "../errors.ts";
import type { ApprovalDesk } from "../daemon/approvals.ts";
import { summarizeRequest } from "../daemon/approvals.ts";
import type { WatchHub } from "../daemon/watch-hub.ts";
import { CONTROL_PATHS, DenyBody, KillBody, type KillResult } from "./api.ts";

export interface OperatorControl {
  hub: WatchHub;
  approvals: ApprovalDesk;
  /** Ends running (and waiting) calls of a share; the ids it ended. Throws for an unknown share. */
  kill(shareId: string, callId: string | undefined): string[];
  /** Throws a usage error when no share has this id. */
  requireShare(shareId: string): void;
  /** Extra fields for /v1/health: watchers, notification counters. */
  health(): Record<string, unknown>;
}

async function body<T>(req: Request, schema: v.GenericSchema<unknown, T>): Promise<T> {
  let raw: unknown;
  try {
    const text = await req.text();
    raw = text ? JSON.parse(text) : {};
  } catch {
    throw usageError("control: request body is not JSON");
  }
  const r = v.safeParse(schema, raw);
  if (!r.success) throw usageError(`control: ${v.summarize(r.issues).replace(/\n/g, "; ")}`);
  return r.output;
}

/** The answer to an operator request, or undefined when the path is not one of them. */
export async function routeOperator(req: Request, op: OperatorControl, server: Bun.Server<undefined>): Promise<Response | undefined> {
  const url = new URL(req.url);
  const { pathname } = url;
  if (pathname === CONTROL_PATHS.watch && req.method === "GET") {
    const share = url.searchParams.get("share") ?? undefined;
    if (share !== undefined) op.requireShare(share);
    // A watch may stay quiet for minutes: no idle timeout on this one connection.
    server.timeout(req, 0);
    return new Response(op.hub.subscribe(share), { headers: { "content-type": "application/x-ndjson", "cache-control": "no-store" } });
  }
  if (pathname === CONTROL_PATHS.approvals && req.method === "GET") return Response.json(op.approvals.list().map(summarizeRequest));
  const kill = /^\/v1\/shares\/([^/]+)\/kill$/.exec(pathname);
  if (kill && req.method === "POST") {
    const id = decodeURIComponent(kill[1]!);
    const { call } = await body(req, KillBody);
    op.requireShare(id);
    return Response.json({ share: id, killed: op.kill(id, call) } satisfies KillResult);
  }
  const answer = /^\/v1\/approvals\/([^/]+)\/(approve|deny)$/.exec(pathname);
  if (answer && req.method === "POST") {
    const id = decodeURIComponent(answer[1]!);
    if (answer[2] === "approve") {
      await body(req, v.strictObject({}));
      return Response.json(summarizeRequest(op.approvals.approve(id)));
    }
    const { reason } = await body(req, DenyBody);
    return Response.json(summarizeRequest(op.approvals.deny(id, reason)));
  }
  return undefined;
}
