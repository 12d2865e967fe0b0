// The control API's requests for operating the daemon (SPEC.md §14): `GET /v1/status` (the
// daemon's view, its relay probed) and `POST /v1/reload` (verbs.toml and config.toml again, as
// SIGHUP). Kept beside server.ts like operator-routes.ts; errors leave as ErrorBody there.
import { CONTROL_PATHS } from "./api.ts";
import type { DaemonStatusAnswer } from "../daemon/status.ts";
import type { ReloadReport } from "../daemon/settings.ts";

export interface OpsControl {
  status(): Promise<DaemonStatusAnswer>;
  /** Throws a usage error (nothing changed) when a file fails its checks. */
  reload(): ReloadReport;
}

/** The answer to a status or reload request, or undefined when the path is neither. */
export async function routeOps(req: Request, ops: OpsControl): Promise<Response | undefined> {
  const { pathname } = new URL(req.url);
  if (pathname === CONTROL_PATHS.status && req.method === "GET") return Response.json(await ops.status());
  if (pathname === CONTROL_PATHS.reload && req.method === "POST") return Response.json(ops.reload());
  return undefined;
}
