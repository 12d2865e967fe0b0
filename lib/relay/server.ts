// The relay's Bun.serve adapter (SPEC.md §12): HTTP routes, upgrade checks (rate limit, path,
// rid, role, token), the client leg's grace wait, and WebSocket handlers that carry out the
// effects of RelayState. Binary messages go to the peer as the received Buffer, never copied,
// parsed or queued for an absent leg; a sender is paused while its peer is under backpressure.
// Behind a trusted proxy the client address comes from X-Forwarded-For (lib/relay/proxy.ts); with
// a metrics listener /metrics is served there only. Every leg that opens or ends, every refusal,
// token reload and error is one log line (the rid only as a short hash, never a token).
// startRelay reads as its steps: options, tokens, the listeners, timers, the handle.
import { nodeCrypto } from "../platform/node-crypto.ts";
import { existsSync } from "node:fs";
import type { Server, ServerWebSocket } from "bun";
import { OpenScopeError, usageError } from "../errors.ts";
import { formatMetrics } from "./metrics.ts";
import { RateLimiter } from "./ratelimit.ts";
import { RelayState, type Effect, type LegId, type Outcome } from "./state.ts";
import { encodeSignal, parseLegSignal, parseRendezvousPath, parseRole, REFUSALS, type Refusal, type Role } from "./protocol.ts";
import { readTokensFile, TokenSet } from "./tokens.ts";
import { decodeBase64url } from "../bytes.ts";
import { silentLogger, type Logger } from "../host/log.ts";
import { clientAddress, parseCidr, type Cidr } from "./proxy.ts";

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
  /** Proxies whose X-Forwarded-For names the client (CIDR or address each; `--trust-proxy`). */
  trustProxy?: string[];
  /** A second listener for /metrics alone; the main listener then no longer serves it. */
  metricsListen?: { hostname: string; port: number };
  logger?: Logger;
}

export interface RelayHandle {
  url: string;
  port: number;
  /** Where /metrics is served when it has its own listener. */
  metricsUrl?: string;
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
  /** The client address (through a trusted proxy: the one it names), for logs. */
  source: string;
  openedAt: number;
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
  return nodeCrypto().createHash("sha256").update(rid).digest("hex").slice(0, 8);
}

function refusalResponse(refusal: Refusal): Response {
  return new Response(`${refusal.replaceAll("_", " ")}\n`, {
    status: REFUSALS[refusal],
    headers: { "content-type": "text/plain; charset=utf-8", ...(refusal === "rate_limited" ? { "retry-after": "1" } : {}) },
  });
}

type ResolvedOptions = typeof RELAY_DEFAULTS & RelayOptions & { hostname: string; logger: Logger; proxies: Cidr[] };

/** Defaults filled in, and the options that cannot work refused before anything listens. */
function resolveOptions(opts: RelayOptions): ResolvedOptions {
  const given = Object.fromEntries(Object.entries(opts).filter(([, x]) => x !== undefined));
  const o = {
    ...RELAY_DEFAULTS,
    ...given,
    hostname: opts.hostname ?? "127.0.0.1",
    logger: opts.logger ?? silentLogger,
    proxies: parseTrustProxy(opts.trustProxy ?? []),
  } as ResolvedOptions;
  if (o.idleTimeoutS > 960) throw usageError("relay: idle timeout must be at most 960s");
  if (opts.tls) {
    for (const f of [opts.tls.cert, opts.tls.key]) if (!existsSync(f)) throw usageError(`relay: TLS file ${f} does not exist`);
  }
  return o;
}

/** `--trust-proxy` values: each a CIDR or a single address; a malformed one is a usage error. */
export function parseTrustProxy(values: string[]): Cidr[] {
  return values.map((text) => {
    const c = parseCidr(text);
    if (!c) throw usageError(`relay: --trust-proxy "${text}" is not an address or CIDR range`, ["e.g. --trust-proxy 10.0.0.0/8 or --trust-proxy 127.0.0.1"]);
    return c;
  });
}

function loadTokens(o: ResolvedOptions): TokenSet {
  const tokens = new TokenSet(o.tokensFile ? readTokensFile(o.tokensFile) : (o.tokens ?? []));
  if (tokens.size === 0) o.logger.warn("no deployment tokens loaded; every daemon leg will get 401");
  else o.logger.info(`loaded ${tokens.size} deployment token${tokens.size === 1 ? "" : "s"}`, { count: tokens.size });
  return tokens;
}

/** A request's URL. One without a Host header (HTTP/1.0 health checks) gives Bun a URL it cannot
 *  parse; only the path matters here, so it is read against a fixed base. */
function requestUrl(req: Request): URL {
  try {
    return new URL(req.url);
  } catch {
    const path = /^[a-z]+:\/\/[^/]*(\/[^\s]*)?$/i.exec(req.url)?.[1] ?? (req.url.startsWith("/") ? req.url : "/");
    return new URL(path, "http://relay.invalid");
  }
}

/** The daemon's bearer token, or null when the header is missing or malformed. */
function bearerToken(req: Request): string | null {
  const m = /^Bearer (\S+)$/i.exec(req.headers.get("authorization") ?? "");
  return m ? m[1]! : null;
}

/** Client legs waiting for a daemon leg to arrive at their rid (the grace wait). */
class GraceWaits {
  private readonly byRid = new Map<string, Set<() => void>>();
  size = 0;

  /** Waits until a daemon leg arrives for `rid` (wake) or `ms` pass. */
  wait(rid: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.byRid.get(rid);
      if (!set) this.byRid.set(rid, (set = new Set()));
      const waiters = set;
      this.size++;
      const done = () => {
        clearTimeout(timer);
        this.size--;
        waiters.delete(done);
        if (waiters.size === 0 && this.byRid.get(rid) === waiters) this.byRid.delete(rid);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiters.add(done);
    });
  }

  wake(rid: string): void {
    const set = this.byRid.get(rid);
    if (!set) return;
    this.byRid.delete(rid);
    for (const done of set) done();
  }

  wakeAll(): void {
    for (const set of [...this.byRid.values()]) for (const done of [...set]) done();
  }
}

/** Who may have a leg: the checks of SPEC.md §12 in order, then the grace wait of a client leg. */
type Upgrade = { kind: "leg"; role: Role; tokenKey: string | null } | { kind: "refuse"; refusal: Refusal };

/** The running relay: its state machine, the open sockets by leg, and the handlers of each. */
class Relay {
  readonly state: RelayState;
  readonly sockets = new Map<LegId, ServerWebSocket<LegData>>();
  private readonly limiter: RateLimiter;
  private readonly grace = new GraceWaits();
  stopping = false;

  constructor(
    private readonly o: ResolvedOptions,
    readonly tokens: TokenSet,
  ) {
    this.state = new RelayState({ unpairedMaxMs: o.unpairedMaxMs, maxLegsPerToken: o.maxLegsPerToken, maxLegs: o.maxLegs });
    this.limiter = new RateLimiter(o.ratePerSecond, o.rateBurst);
  }

  private refuse(refusal: Refusal, source?: string, ridHash?: string): Response {
    this.logRefusal(refusal, source, ridHash);
    return refusalResponse(this.state.refuse(refusal).refusal);
  }

  /** A refused request: a token refused is worth a warning; the rest (floods included) is debug. */
  private logRefusal(refusal: Refusal, source: string | undefined, ridHash: string | undefined): void {
    const fields = { refusal, status: REFUSALS[refusal], source, rid: ridHash && `#${ridHash}` };
    if (refusal === "bad_token") this.o.logger.warn("daemon leg refused: deployment token not accepted", fields);
    else this.o.logger.debug(`request refused: ${refusal.replaceAll("_", " ")}`, fields);
  }

  /** Carries out the state machine's effects on the sockets. */
  carryOut(effects: Effect[]): void {
    for (const e of effects) {
      if (e.kind === "paired") {
        const d = this.sockets.get(e.daemon);
        const c = this.sockets.get(e.client);
        if (!d || !c) continue;
        d.data.peer = c;
        c.data.peer = d;
        d.send(PAIRED);
        c.send(PAIRED);
        continue;
      }
      const ws = this.sockets.get(e.leg);
      if (!ws) continue;
      ws.data.peer = null;
      if (e.kind === "peerGone") {
        if (ws.isPaused) ws.resume();
        ws.send(PEER_GONE);
      } else {
        ws.close(e.code, e.reason);
      }
    }
  }

  // ---- routes ----

  fetch(req: Request, srv: Server<LegData>): Response | Promise<Response | undefined> {
    const url = requestUrl(req);
    if (url.pathname === "/healthz") return new Response("ok\n");
    if (url.pathname === "/metrics" && !this.o.metricsListen) return this.metricsResponse();
    const source = this.source(req, srv);
    if (this.stopping) return this.refuse("shutting_down", source);
    if (!this.limiter.allow(source, Date.now())) return this.refuse("rate_limited", source);
    const rid = parseRendezvousPath(url.pathname);
    if (rid === undefined) return this.refuse("bad_path", source);
    return this.rendezvous(req, srv, rid, url, source);
  }

  /** The client's address: the peer, or through a trusted proxy the address it forwards for. */
  private source(req: Request, srv: Server<LegData>): string {
    const peer = srv.requestIP(req)?.address ?? "unknown";
    return clientAddress(peer, req.headers.get("x-forwarded-for"), this.o.proxies);
  }

  metricsResponse(): Response {
    return new Response(this.metricsText(), { headers: { "content-type": "text/plain; version=0.0.4" } });
  }

  metricsText(): string {
    const mem = process.memoryUsage();
    return formatMetrics({
      counters: this.state.counters,
      gauges: this.state.gauges(),
      memory: { rss: mem.rss, heapUsed: mem.heapUsed },
      tokens: this.tokens.size,
    });
  }

  // ---- upgrade checks ----

  /** The checks that need no state: rid form, role, and a daemon leg's token. */
  private checkRequest(req: Request, rid: string, url: URL): Upgrade {
    if (!isValidRid(rid)) return { kind: "refuse", refusal: "bad_rid" };
    const role = parseRole(url.searchParams.get("role"));
    if (!role) return { kind: "refuse", refusal: "bad_role" };
    if (role === "client") return { kind: "leg", role, tokenKey: null };
    const token = bearerToken(req);
    const tokenKey = token === null ? null : this.tokens.check(token);
    if (tokenKey === null) return { kind: "refuse", refusal: "bad_token" };
    return { kind: "leg", role, tokenKey };
  }

  /**
   * A rendezvous request: the stateless checks, then admission. A client leg for a rid no daemon
   * holds yet waits (up to the grace wait) for one to arrive. A plain GET learns the answer an
   * upgrade would get, without taking a slot. Returns undefined once upgraded.
   */
  private async rendezvous(req: Request, server: Server<LegData>, rid: string, url: URL, source: string): Promise<Response | undefined> {
    const hash = isValidRid(rid) ? ridHash(rid) : undefined;
    const checked = this.checkRequest(req, rid, url);
    if (checked.kind === "refuse") return this.refuse(checked.refusal, source, hash);
    const { role, tokenKey } = checked;
    const upgrade = req.headers.get("upgrade")?.toLowerCase() === "websocket";
    const deadline = Date.now() + this.o.graceMs;
    for (;;) {
      if (this.stopping) return this.refuse("shutting_down", source, hash);
      const answer = upgrade ? this.admit(req, server, rid, role, tokenKey, source) : this.answerPlainGet(rid, role, tokenKey, source);
      if (answer !== "wait") return answer;
      const left = deadline - Date.now();
      if (left <= 0) return this.refuse("unknown_rid", source, hash);
      if (this.grace.size >= MAX_GRACE_WAITERS) return this.refuse("too_many_legs", source, hash);
      await this.grace.wait(rid, left);
    }
  }

  private answerPlainGet(rid: string, role: Role, tokenKey: string | null, source: string): Response | "wait" {
    const verdict = this.state.check(rid, role, tokenKey);
    if (verdict === "wait") return "wait";
    return this.refuse(verdict === "ok" ? "not_websocket" : verdict, source, ridHash(rid));
  }

  /** Takes a slot in the state machine and upgrades; undefined once the socket is handed to Bun. */
  private admit(req: Request, server: Server<LegData>, rid: string, role: Role, tokenKey: string | null, source: string): Response | undefined | "wait" {
    const a = this.state.admit(rid, role, tokenKey, Date.now());
    if (a.kind === "wait") return "wait";
    if (a.kind === "refuse") {
      this.logRefusal(a.refusal, source, ridHash(rid));
      return refusalResponse(a.refusal);
    }
    this.carryOut(a.effects);
    const data: LegData = { leg: a.leg, role, ridHash: ridHash(rid), source, openedAt: Date.now(), peer: null };
    if (!server.upgrade(req, { data })) {
      this.carryOut(this.state.abandon(a.leg, Date.now()));
      return this.refuse("not_websocket", source, data.ridHash);
    }
    if (role === "daemon") this.grace.wake(rid);
    return undefined;
  }

  // ---- WebSocket handlers ----

  onOpen(ws: ServerWebSocket<LegData>): void {
    this.sockets.set(ws.data.leg, ws);
    this.o.logger.info(`${ws.data.role} leg up`, { role: ws.data.role, rid: `#${ws.data.ridHash}`, source: ws.data.source });
    this.carryOut(this.state.opened(ws.data.leg));
  }

  /** Text from a leg is never forwarded (the daemon leg may ask to evict its client). */
  private onText(ws: ServerWebSocket<LegData>, text: string): void {
    if (ws.data.role === "daemon" && parseLegSignal(text) === "evict") {
      this.carryOut(this.state.evict(ws.data.leg, Date.now()));
      return;
    }
    this.state.counters.ignoredText++;
  }

  onMessage(ws: ServerWebSocket<LegData>, msg: string | Buffer): void {
    if (typeof msg === "string") return this.onText(ws, msg);
    const peer = ws.data.peer;
    if (!peer) {
      this.state.counters.droppedUnpaired++; // never buffered for an absent leg
      return;
    }
    const sent = peer.send(msg);
    // Bun returns 0 both for "dropped" and for an empty message it did send: only a
    // non-empty message can mean the peer is stuck (else an empty frame kicks the peer off).
    if (sent === 0 && msg.byteLength > 0) {
      this.carryOut(this.state.end(peer.data.leg, "backpressure", Date.now()));
      return;
    }
    this.state.counters.forwardedMessages++;
    this.state.counters.forwardedBytes += msg.byteLength;
    if (sent === -1 && !ws.isPaused) {
      ws.pause();
      this.state.counters.pauses++;
    }
  }

  onDrain(ws: ServerWebSocket<LegData>): void {
    const peer = ws.data.peer;
    if (peer && peer.isPaused) peer.resume();
  }

  onClose(ws: ServerWebSocket<LegData>, code: number, reason: string): void {
    this.sockets.delete(ws.data.leg);
    const oversized = code === 1009 || (code === 1006 && reason === OVERSIZE_REASON);
    const { outcome, effects } = this.state.closed(ws.data.leg, Date.now(), oversized ? "oversized" : undefined);
    ws.data.peer = null;
    if (outcome) {
      const fields = { role: ws.data.role, rid: `#${ws.data.ridHash}`, outcome, code, source: ws.data.source, seconds: Math.round((Date.now() - ws.data.openedAt) / 1000) };
      this.o.logger.info(`${ws.data.role} leg down: ${outcome}`, fields);
    }
    this.carryOut(effects);
  }

  // ---- lifecycle ----

  tick(): void {
    this.carryOut(this.state.tick(Date.now()));
  }

  ping(): void {
    for (const ws of this.sockets.values()) ws.ping();
  }

  reloadTokens(): void {
    if (!this.o.tokensFile) return;
    try {
      this.tokens.replace(readTokensFile(this.o.tokensFile));
    } catch (e) {
      this.o.logger.error(`tokens not reloaded, keeping the previous ones: ${(e as Error).message}`);
      return;
    }
    this.o.logger.info(`reloaded ${this.tokens.size} deployment token${this.tokens.size === 1 ? "" : "s"}`, { count: this.tokens.size });
    this.carryOut(this.state.revokeTokens((k) => this.tokens.has(k), Date.now()));
  }

  /** Stops admitting, wakes the grace waiters (they answer 503) and closes every leg with 1001. */
  shutdown(): void {
    this.stopping = true;
    this.grace.wakeAll();
    this.carryOut(this.state.shutdown(Date.now()));
  }
}

/** Binds the listener; a port in use or a bad TLS pair is a usage error naming the address. */
function listen(o: ResolvedOptions, relay: Relay): Server<LegData> {
  try {
    return Bun.serve<LegData>({
      hostname: o.hostname,
      port: o.port ?? 0,
      ...(o.tls ? { tls: { cert: Bun.file(o.tls.cert), key: Bun.file(o.tls.key) } } : {}),
      fetch: (req, srv) => relay.fetch(req, srv),
      error(err) {
        o.logger.error(`request failed: ${err.message}`);
        return new Response("internal error\n", { status: 500 });
      },
      websocket: {
        maxPayloadLength: o.maxMessageBytes,
        backpressureLimit: o.backpressureBytes,
        closeOnBackpressureLimit: false,
        idleTimeout: o.idleTimeoutS,
        sendPings: false, // the relay pings on its own timer (pingIntervalMs)
        perMessageDeflate: false,
        open: (ws) => relay.onOpen(ws),
        message: (ws, msg) => relay.onMessage(ws, msg),
        drain: (ws) => relay.onDrain(ws),
        close: (ws, code, reason) => relay.onClose(ws, code, reason),
      },
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const where = `${o.hostname}:${o.port ?? 0}`;
    if (code === "EADDRINUSE") throw usageError(`relay: cannot listen on ${where}: address already in use`, ["stop the other program or pick another --listen port"]);
    if (e instanceof OpenScopeError) throw e;
    throw usageError(`relay: cannot listen on ${where}: ${(e as Error).message}`);
  }
}

/** The metrics listener (`--metrics-listen`): /metrics and /healthz, plain HTTP, nothing else. */
function listenMetrics(at: { hostname: string; port: number }, relay: Relay): Server<undefined> {
  try {
    return Bun.serve({
      hostname: at.hostname,
      port: at.port,
      fetch(req) {
        const { pathname } = requestUrl(req);
        if (pathname === "/metrics") return relay.metricsResponse();
        if (pathname === "/healthz") return new Response("ok\n");
        return new Response("not found\n", { status: 404 });
      },
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "EADDRINUSE" ? "address already in use" : (e as Error).message;
    throw usageError(`relay: cannot listen for metrics on ${at.hostname}:${at.port}: ${why}`, ["pick another --metrics-listen address"]);
  }
}

function httpUrl(scheme: string, hostname: string, port: number): string {
  return `${scheme}://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
}

export function startRelay(opts: RelayOptions): RelayHandle {
  const o = resolveOptions(opts);
  const relay = new Relay(o, loadTokens(o));
  const server = listen(o, relay);
  let metrics: Server<undefined> | undefined;
  try {
    metrics = o.metricsListen ? listenMetrics(o.metricsListen, relay) : undefined;
  } catch (e) {
    server.stop(true);
    throw e;
  }
  const ticker = setInterval(() => relay.tick(), 1000);
  const pinger = setInterval(() => relay.ping(), o.pingIntervalMs);

  const port = server.port!;
  let stopped: Promise<void> | null = null;
  return {
    url: httpUrl(o.tls ? "https" : "http", o.hostname, port),
    port,
    ...(metrics ? { metricsUrl: httpUrl("http", o.metricsListen!.hostname, metrics.port!) } : {}),
    metricsText: () => relay.metricsText(),
    reloadTokens: () => relay.reloadTokens(),
    stop(graceful = true) {
      if (stopped) return stopped;
      clearInterval(ticker);
      clearInterval(pinger);
      stopped = (async () => {
        server.stop(false); // stop accepting; live legs stay until closed below
        relay.shutdown();
        if (graceful) {
          const deadline = Date.now() + 5_000;
          while (relay.sockets.size > 0 && Date.now() < deadline) await Bun.sleep(10);
        }
        await server.stop(true);
        await metrics?.stop(true);
      })();
      return stopped;
    },
  };
}

export type { Outcome };
