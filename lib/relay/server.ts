// The relay's Bun.serve adapter (SPEC.md §12): HTTP routes, upgrade checks (rate limit, path,
// rid, role, token), the client leg's grace wait, and WebSocket handlers that carry out the
// effects of RelayState. Binary messages go to the peer as the received Buffer, never copied,
// parsed or queued for an absent leg; a sender is paused while its peer is under backpressure.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import type { Server, ServerWebSocket } from "bun";
import { OpenScopeError, usageError } from "../errors.ts";
import { formatMetrics } from "./metrics.ts";
import { RateLimiter } from "./ratelimit.ts";
import { RelayState, type Effect, type LegId, type Outcome } from "./state.ts";
import { encodeSignal, parseLegSignal, parseRendezvousPath, parseRole, REFUSALS, type Refusal, type Role } from "./protocol.ts";
import { readTokensFile, TokenSet } from "./tokens.ts";
import { decodeBase64url } from "../bytes.ts";

export interface RelayOptions {
  hostname?: string;
  port?: number;
  tokens?: string[];
  tokensFile?: string;
  tls?: { cert: string; key: string };
  maxMessageBytes?: number;
  backpressureBytes?: number;
  graceMs?: number;
  unpairedMaxMs?: number;
  idleTimeoutS?: number;
  maxLegsPerToken?: number;
  ratePerSecond?: number;
  rateBurst?: number;
  /** Most legs held at once, all tokens together. */
  maxLegs?: number;
  /** Interval of the relay's WebSocket pings (proxies cut idle connections at ~100 s). */
  pingIntervalMs?: number;
  log?: (line: string) => void;
}

export interface RelayHandle {
  url: string;
  port: number;
  reloadTokens(): void;
  metricsText(): string;
  stop(graceful?: boolean): Promise<void>;
}

/** Defaults (shown in `openscope-relay --help`); SPEC.md §12 sets the lower bounds. */
export const RELAY_DEFAULTS = {
  maxMessageBytes: 65 * 1024, // one Noise message (≤ 65,535 bytes) per WebSocket message, with room
  backpressureBytes: 1024 * 1024,
  graceMs: 5_000,
  unpairedMaxMs: 60 * 60_000, // a daemon holds a share's leg for its TTL plus 10 minutes
  idleTimeoutS: 60,
  maxLegsPerToken: 1024,
  ratePerSecond: 20,
  rateBurst: 50,
  maxLegs: 100_000,
  pingIntervalMs: 25_000,
} as const;

/** Client legs waiting out their grace period at once, at most. */
const MAX_GRACE_WAITERS = 10_000;

const PAIRED = encodeSignal("paired");
const PEER_GONE = encodeSignal("peer_gone");
/** Bun closes an oversized sender with 1009 on the wire but reports 1006 with this reason. */
const OVERSIZE_REASON = "Received too big message";

interface LegData {
  leg: LegId;
  role: Role;
  ridHash: string;
  peer: ServerWebSocket<LegData> | null;
}

/** `rid` is base64url (no padding) of 16 to 32 bytes, in canonical form. */
export function isValidRid(rid: string): boolean {
  if (rid.length < 22 || rid.length > 43) return false;
  const bytes = decodeBase64url(rid);
  return bytes !== undefined && bytes.length >= 16 && bytes.length <= 32;
}

/** A short hash of a rid for logs: enough to follow one session, useless to join it. */
export function ridHash(rid: string): string {
  return createHash("sha256").update(rid).digest("hex").slice(0, 8);
}

function refusalResponse(refusal: Refusal): Response {
  return new Response(`${refusal.replaceAll("_", " ")}\n`, {
    status: REFUSALS[refusal],
    headers: { "content-type": "text/plain; charset=utf-8", ...(refusal === "rate_limited" ? { "retry-after": "1" } : {}) },
  });
}

export function startRelay(opts: RelayOptions): RelayHandle {
  const o = { ...RELAY_DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, x]) => x !== undefined)) } as typeof RELAY_DEFAULTS &
    RelayOptions;
  const log = opts.log ?? ((line: string) => process.stderr.write(`openscope-relay: ${line}\n`));
  const hostname = opts.hostname ?? "127.0.0.1";
  if (o.idleTimeoutS > 960) throw usageError("relay: idle timeout must be at most 960s");

  const tokens = new TokenSet(opts.tokensFile ? readTokensFile(opts.tokensFile) : (opts.tokens ?? []));
  if (tokens.size === 0) log("warning: no deployment tokens loaded; every daemon leg will get 401");
  if (opts.tls) {
    for (const f of [opts.tls.cert, opts.tls.key]) if (!existsSync(f)) throw usageError(`relay: TLS file ${f} does not exist`);
  }

  const state = new RelayState({ unpairedMaxMs: o.unpairedMaxMs, maxLegsPerToken: o.maxLegsPerToken, maxLegs: o.maxLegs });
  const limiter = new RateLimiter(o.ratePerSecond, o.rateBurst);
  const sockets = new Map<LegId, ServerWebSocket<LegData>>();
  const graceWaiters = new Map<string, Set<() => void>>();
  let graceWaiting = 0;
  let stopping = false;

  function run(effects: Effect[]): void {
    for (const e of effects) {
      if (e.kind === "paired") {
        const d = sockets.get(e.daemon);
        const c = sockets.get(e.client);
        if (!d || !c) continue;
        d.data.peer = c;
        c.data.peer = d;
        d.send(PAIRED);
        c.send(PAIRED);
      } else if (e.kind === "peerGone") {
        const ws = sockets.get(e.leg);
        if (!ws) continue;
        ws.data.peer = null;
        if (ws.isPaused) ws.resume();
        ws.send(PEER_GONE);
      } else {
        const ws = sockets.get(e.leg);
        if (!ws) continue;
        ws.data.peer = null;
        ws.close(e.code, e.reason);
      }
    }
  }

  function wakeGraceWaiters(rid: string): void {
    const set = graceWaiters.get(rid);
    if (!set) return;
    graceWaiters.delete(rid);
    for (const wake of set) wake();
  }

  /** Waits until a daemon leg arrives for `rid` or `ms` pass. */
  function waitForDaemon(rid: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = graceWaiters.get(rid);
      if (!set) graceWaiters.set(rid, (set = new Set()));
      graceWaiting++;
      const done = () => {
        clearTimeout(timer);
        graceWaiting--;
        set!.delete(done);
        if (set!.size === 0 && graceWaiters.get(rid) === set) graceWaiters.delete(rid);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
    });
  }

  async function rendezvous(req: Request, server: Server<LegData>, rid: string, url: URL): Promise<Response | undefined> {
    if (!isValidRid(rid)) return refusalResponse(state.refuse("bad_rid").refusal);
    const role = parseRole(url.searchParams.get("role"));
    if (!role) return refusalResponse(state.refuse("bad_role").refusal);
    let tokenKey: string | null = null;
    if (role === "daemon") {
      const auth = req.headers.get("authorization") ?? "";
      const m = /^Bearer (\S+)$/i.exec(auth);
      tokenKey = m ? tokens.check(m[1]!) : null;
      if (tokenKey === null) return refusalResponse(state.refuse("bad_token").refusal);
    }
    const upgrade = req.headers.get("upgrade")?.toLowerCase() === "websocket";
    const deadline = Date.now() + o.graceMs;
    for (;;) {
      if (stopping) return refusalResponse(state.refuse("shutting_down").refusal);
      if (!upgrade) {
        // A plain GET learns the answer an upgrade would get, without taking a slot.
        const verdict = state.check(rid, role, tokenKey);
        if (verdict === "ok") return refusalResponse(state.refuse("not_websocket").refusal);
        if (verdict !== "wait") return refusalResponse(state.refuse(verdict).refusal);
      } else {
        const a = state.admit(rid, role, tokenKey, Date.now());
        if (a.kind === "refuse") return refusalResponse(a.refusal);
        if (a.kind === "admit") {
          run(a.effects);
          const data: LegData = { leg: a.leg, role, ridHash: ridHash(rid), peer: null };
          if (!server.upgrade(req, { data })) {
            run(state.abandon(a.leg, Date.now()));
            return refusalResponse(state.refuse("not_websocket").refusal);
          }
          if (role === "daemon") wakeGraceWaiters(rid);
          return undefined;
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) return refusalResponse(state.refuse("unknown_rid").refusal);
      if (graceWaiting >= MAX_GRACE_WAITERS) return refusalResponse(state.refuse("too_many_legs").refusal);
      await waitForDaemon(rid, left);
    }
  }

  function metricsText(): string {
    const mem = process.memoryUsage();
    return formatMetrics({
      counters: state.counters,
      gauges: state.gauges(),
      memory: { rss: mem.rss, heapUsed: mem.heapUsed },
      tokens: tokens.size,
    });
  }

  let server: Server<LegData>;
  try {
    server = Bun.serve<LegData>({
      hostname,
      port: opts.port ?? 0,
      ...(opts.tls ? { tls: { cert: Bun.file(opts.tls.cert), key: Bun.file(opts.tls.key) } } : {}),
      fetch(req, srv) {
        // A request without a Host header (HTTP/1.0 health checks) gives Bun a URL it cannot
        // parse; only the path matters here, so read it against a fixed base.
        let url: URL;
        try {
          url = new URL(req.url);
        } catch {
          const path = /^[a-z]+:\/\/[^/]*(\/[^\s]*)?$/i.exec(req.url)?.[1] ?? (req.url.startsWith("/") ? req.url : "/");
          url = new URL(path, "http://relay.invalid");
        }
        if (url.pathname === "/healthz") return new Response("ok\n");
        if (url.pathname === "/metrics") return new Response(metricsText(), { headers: { "content-type": "text/plain; version=0.0.4" } });
        if (stopping) return refusalResponse(state.refuse("shutting_down").refusal);
        const source = srv.requestIP(req)?.address ?? "unknown";
        if (!limiter.allow(source, Date.now())) return refusalResponse(state.refuse("rate_limited").refusal);
        const rid = parseRendezvousPath(url.pathname);
        if (rid === undefined) return refusalResponse(state.refuse("bad_path").refusal);
        return rendezvous(req, srv, rid, url);
      },
      error(err) {
        log(`error: ${err.message}`);
        return new Response("internal error\n", { status: 500 });
      },
      websocket: {
        maxPayloadLength: o.maxMessageBytes,
        backpressureLimit: o.backpressureBytes,
        closeOnBackpressureLimit: false,
        idleTimeout: o.idleTimeoutS,
        sendPings: false, // the relay pings on its own timer (pingIntervalMs)
        perMessageDeflate: false,
        open(ws) {
          sockets.set(ws.data.leg, ws);
          run(state.opened(ws.data.leg));
        },
        message(ws, msg) {
          if (typeof msg === "string") {
            // Text from a leg is never forwarded; the daemon leg may ask to evict its client.
            if (ws.data.role === "daemon" && parseLegSignal(msg) === "evict") {
              run(state.evict(ws.data.leg, Date.now()));
              return;
            }
            state.counters.ignoredText++;
            return;
          }
          const peer = ws.data.peer;
          if (!peer) {
            state.counters.droppedUnpaired++; // never buffered for an absent leg
            return;
          }
          const sent = peer.send(msg);
          // Bun returns 0 both for "dropped" and for an empty message it did send: only a
          // non-empty message can mean the peer is stuck (else an empty frame kicks the peer off).
          if (sent === 0 && msg.byteLength > 0) {
            run(state.end(peer.data.leg, "backpressure", Date.now()));
            return;
          }
          state.counters.forwardedMessages++;
          state.counters.forwardedBytes += msg.byteLength;
          if (sent === -1 && !ws.isPaused) {
            ws.pause();
            state.counters.pauses++;
          }
        },
        drain(ws) {
          const peer = ws.data.peer;
          if (peer && peer.isPaused) peer.resume();
        },
        close(ws, code, reason) {
          sockets.delete(ws.data.leg);
          // Bun closes an oversized sender with 1009 on the wire but reports 1006 here, with its reason.
          const oversized = code === 1009 || (code === 1006 && reason === OVERSIZE_REASON);
          const { outcome, effects } = state.closed(ws.data.leg, Date.now(), oversized ? "oversized" : undefined);
          ws.data.peer = null;
          if (outcome) log(`leg ${ws.data.role} rid#${ws.data.ridHash} ended: ${outcome}`);
          run(effects);
        },
      },
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const where = `${hostname}:${opts.port ?? 0}`;
    if (code === "EADDRINUSE") throw usageError(`relay: cannot listen on ${where}: address already in use`, ["stop the other program or pick another --listen port"]);
    if (e instanceof OpenScopeError) throw e;
    throw usageError(`relay: cannot listen on ${where}: ${(e as Error).message}`);
  }

  const ticker = setInterval(() => run(state.tick(Date.now())), 1000);
  const pinger = setInterval(() => {
    for (const ws of sockets.values()) ws.ping();
  }, o.pingIntervalMs);

  const port = server.port!;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  const url = `${opts.tls ? "https" : "http"}://${host}:${port}`;

  let stopped: Promise<void> | null = null;
  return {
    url,
    port,
    metricsText,
    reloadTokens() {
      if (!opts.tokensFile) return;
      try {
        tokens.replace(readTokensFile(opts.tokensFile));
      } catch (e) {
        log(`error: tokens not reloaded, keeping the previous ones: ${(e as Error).message}`);
        return;
      }
      log(`reloaded ${tokens.size} deployment token${tokens.size === 1 ? "" : "s"}`);
      run(state.revokeTokens((k) => tokens.has(k), Date.now()));
    },
    stop(graceful = true) {
      if (stopped) return stopped;
      stopping = true;
      clearInterval(ticker);
      clearInterval(pinger);
      stopped = (async () => {
        server.stop(false); // stop accepting; live legs stay until closed below
        for (const set of [...graceWaiters.values()]) for (const wake of [...set]) wake();
        run(state.shutdown(Date.now()));
        if (graceful) {
          const deadline = Date.now() + 5_000;
          while (sockets.size > 0 && Date.now() < deadline) await Bun.sleep(10);
        }
        await server.stop(true);
      })();
      return stopped;
    },
  };
}

export type { Outcome };
