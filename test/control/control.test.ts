// The control API over a real unix socket (lib/control/, SPEC.md §14): the CLI's client rebuilds
// the daemon's errors with their kinds (so exit codes cross the socket), an unexpected exception
// is `internal` (exit 70), the agent credential is checked, and answers are parsed by schema.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { controlSocketAnswers, extendShare, listShares, openShare, revokeShare, type ShareSummary } from "../../lib/control/client.ts";
import { startControlServer } from "../../lib/control/server.ts";
import type { ShareManager } from "../../lib/daemon/shares.ts";
import { OpenScopeError, shareOverError, usageError } from "../../lib/errors.ts";
import { Store, tokenSha256 } from "../../lib/store/store.ts";

let dir: string;
let socket: string;
let store: Store;
let server: ReturnType<typeof startControlServer> | undefined;
const summary: ShareSummary = { id: "0a1b2c3d4e5f", agent: "you", recipient: "bearer", verbs: ["v.x"], state: "live", expires_at: "2026-11-29T00:00:00.000Z", connected: false };

/** A ShareManager stand-in: what the routes call, each answer or failure chosen by the test. */
function fakeShares(over: Partial<Record<"list" | "open" | "extend" | "revoke", (...a: unknown[]) => unknown>> = {}): ShareManager {
  return {
    list: () => [summary],
    open: async () => ({ id: summary.id, handle: "osh1x", fingerprint: "SHA256:x", code: "00000-00000-00000-00000-00000-0", expires_at: summary.expires_at, recipient: "bearer", verbs: ["v.x"], command: "c" }),
    extend: () => summary,
    revoke: () => ({ ...summary, state: "revoked" }),
    ...over,
  } as unknown as ShareManager;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "openscope-control-"));
  socket = join(dir, "control.sock");
  store = Store.open(join(dir, "openscope.db"));
  store.setAgentCredential("you", tokenSha256("right-token"));
});
afterEach(async () => {
  await server?.stop(true);
  server = undefined;
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function failure(p: Promise<unknown>): Promise<OpenScopeError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(OpenScopeError);
    return e as OpenScopeError;
  }
  throw new Error("expected a failure");
}

describe("control API", () => {
  test("answers are parsed and returned; the health check sees a serving daemon", async () => {
    expect(await controlSocketAnswers(socket)).toBe(false);
    server = startControlServer({ socketPath: socket, shares: fakeShares(), store });
    expect(await controlSocketAnswers(socket)).toBe(true);
    expect(await listShares(socket)).toEqual([summary]);
    expect((await revokeShare(socket, summary.id)).state).toBe("revoked");
    expect((await openShare(socket, "right-token", { agent: "you", verbs: ["v.x"], bearer: true, ttl: "5m" })).handle).toBe("osh1x");
  });

  test("share open without the agent's credential is denied (exit 3), whatever else is asked", async () => {
    server = startControlServer({ socketPath: socket, shares: fakeShares(), store });
    const body = { agent: "you", verbs: ["v.x"], bearer: true, ttl: "5m" };
    expect((await failure(openShare(socket, "wrong-token", body))).exitCode).toBe(3);
    expect((await failure(openShare(socket, "", body))).exitCode).toBe(3);
    expect((await failure(openShare(socket, "right-token", { ...body, agent: "other" }))).exitCode).toBe(3);
  });

  test("an OpenScopeError keeps its kind across the socket; an unexpected exception is internal (exit 70)", async () => {
    server = startControlServer({
      socketPath: socket,
      shares: fakeShares({
        extend: () => {
          throw shareOverError("share 0a1b2c3d4e5f is revoked");
        },
        list: () => {
          throw new Error("boom");
        },
      }),
      store,
    });
    const over = await failure(extendShare(socket, summary.id, "5m"));
    expect([over.kind, over.exitCode, over.message]).toEqual(["shareOver", 5, "share 0a1b2c3d4e5f is revoked"]);
    const internal = await failure(listShares(socket));
    expect([internal.kind, internal.exitCode, internal.message]).toEqual(["internal", 70, "internal error: boom"]);
  });

  test("a malformed request or an unknown path is a usage error, never internal", async () => {
    const revoked: unknown[] = [];
    const revoke = (id: unknown) => {
      revoked.push(id);
      throw usageError(`no share with id "${String(id)}"`);
    };
    server = startControlServer({ socketPath: socket, shares: fakeShares({ revoke }), store });
    const ask = (path: string, init: RequestInit = {}) => fetch(`http://openscope${path}`, { unix: socket, ...init } as RequestInit);
    for (const [path, init] of [
      ["/v1/shares/%E0%A4%A/revoke", { method: "POST" }],
      ["/v1/nope", {}],
      ["/v2/shares", {}],
      ["/v1/shares", { method: "POST", body: "{not json", headers: { authorization: "Bearer right-token" } }],
      ["/v1/shares", { method: "POST", body: JSON.stringify({ agent: "you", ttl: "5m" }), headers: { authorization: "Bearer right-token" } }],
    ] as const) {
      const res = await ask(path, init);
      const body = (await res.json()) as { error: { kind: string } };
      expect([path, body.error.kind]).toEqual([path, "usage"]);
    }
    expect(revoked).toEqual(["%E0%A4%A"]); // the segment as it is: nothing to decode, nothing to throw
  });

  test("no daemon on the socket is a connection failure (exit 4)", async () => {
    expect((await failure(listShares(socket))).exitCode).toBe(4);
  });
});
