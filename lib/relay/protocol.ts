// The relay's wire protocol in one table (SPEC.md §12): the rendezvous path and roles, the text
// signals in both directions, the close codes, the refusal statuses, and how a leg backs off
// before dialing again. The relay (server.ts, state.ts), the daemon's leg (daemon/relay-leg.ts)
// and the client (client/) all build and parse the protocol here, never from raw strings.
//
// Protocol flow (one rendezvous id R, SPEC.md §12 "Flow"):
//
//   daemon                                relay                               client
//     GET /v1/rendezvous/R?role=daemon ---->|                                    |
//     Authorization: Bearer T               |<---- GET /v1/rendezvous/R?role=client
//     <----------------------- 101          |          101 ----------------------->
//     <-------------- {"type":"paired"}     |     {"type":"paired"} ------------->
//     <====== binary: Noise messages, forwarded as received, never parsed ======>
//     (client leaves)                       |
//     <------------ {"type":"peer_gone"}    |
//
// Version history: v1 (the only one) is the path prefix /v1/.

/** The rendezvous path: `/v1/rendezvous/{rid}?role={role}`. */
export const RENDEZVOUS_PREFIX = "/v1/rendezvous/";
const RENDEZVOUS_PATH = /^\/v1\/rendezvous\/([^/]*)$/;

/** Which side of a rendezvous a leg is: the daemon holding the share, or its one recipient. */
export const ROLES = ["daemon", "client"] as const;
export type Role = (typeof ROLES)[number];

/** The rid named by a request path, or undefined when the path is not a rendezvous path. */
export function parseRendezvousPath(pathname: string): string | undefined {
  return RENDEZVOUS_PATH.exec(pathname)?.[1];
}

export function parseRole(text: string | null): Role | undefined {
  return text === "daemon" || text === "client" ? text : undefined;
}

/**
 * The URL a leg dials: the relay URL (ws:// or wss://, any base path kept) with the rendezvous
 * path and role appended. Built with URL, so the rid and role are never spliced into the query.
 */
export function rendezvousUrl(relayUrl: string, rid: string, role: Role): string {
  const u = new URL(relayUrl);
  u.pathname = `${u.pathname.replace(/\/+$/, "")}${RENDEZVOUS_PREFIX}${encodeURIComponent(rid)}`;
  u.search = "";
  u.hash = "";
  u.searchParams.set("role", role);
  return u.toString();
}

// ---- text signals: one JSON object per WebSocket text message ----
//
//   direction        message                  meaning
//   relay → leg      {"type":"paired"}        both legs of the rid are open and linked: the
//                                             client starts the Noise handshake
//   relay → leg      {"type":"peer_gone"}     the paired peer left; this leg stays open and
//                                             pairs again with the next peer
//   daemon → relay   {"type":"evict"}         close this rid's client leg (4002, evicted); the
//                                             daemon leg then gets peer_gone
//
// Any other text (or evict from a client leg) is ignored and counted, never forwarded.

/** Signals the relay sends to a leg. */
export type RelaySignal = "paired" | "peer_gone";
/** Signals a daemon leg sends to the relay. */
export type LegSignal = "evict";

/** Text signals longer than this are not parsed (the longest is 20 characters). */
const MAX_SIGNAL_TEXT = 256;

/** The text message for a signal, as it goes on the wire. */
export function encodeSignal(signal: RelaySignal | LegSignal): string {
  return JSON.stringify({ type: signal });
}

function signalType(text: string): unknown {
  if (text.length >= MAX_SIGNAL_TEXT) return undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === "object" && parsed !== null ? (parsed as { type?: unknown }).type : undefined;
  } catch {
    return undefined;
  }
}

/** A leg reads the relay's text message; anything else gives undefined (and is ignored). */
export function parseRelaySignal(text: string): RelaySignal | undefined {
  const type = signalType(text);
  return type === "paired" || type === "peer_gone" ? type : undefined;
}

/** The relay reads a leg's text message; anything else gives undefined (and is ignored). */
export function parseLegSignal(text: string): LegSignal | undefined {
  return signalType(text) === "evict" ? "evict" : undefined;
}

// ---- close codes ----
//
//   code   closed by   outcome        meaning
//   1000   either      (happy)        a normal close: share closed, client done, re-dial
//   1001   relay       shutdown       the relay is stopping
//   1009   relay       oversized      a message over --max-message
//   4000   client      -              a request's deadline passed: renew with a fresh handshake
//   4001   relay       redundant      a daemon leg replaced by a newer one with the same token
//   4002   relay       evicted        the client leg, at its daemon's evict
//   4003   relay       revoked        the daemon leg's token left the tokens file
//   4004   relay       lonely         no peer within --unpaired-max
//   4005   relay       backpressure   the peer could not be sent to

/** Close codes the relay uses for the legs it ends itself. */
export const CLOSE = {
  shutdown: { code: 1001, reason: "relay shutting down" },
  oversized: { code: 1009, reason: "message too big" },
  redundant: { code: 4001, reason: "replaced by a newer daemon leg" },
  evicted: { code: 4002, reason: "evicted by the daemon" },
  revoked: { code: 4003, reason: "deployment token revoked" },
  lonely: { code: 4004, reason: "no peer within the unpaired wait" },
  backpressure: { code: 4005, reason: "peer too slow" },
} as const;

/** Close codes a daemon or client leg uses when it ends its own leg. */
export const LEG_CLOSE = {
  shareClosed: { code: 1000, reason: "share closed" },
  redial: { code: 1000, reason: "re-dialing an unpaired leg" },
  bye: { code: 1000, reason: "bye" },
  reconnecting: { code: 1000, reason: "reconnecting" },
  requestDeadline: { code: 4000, reason: "request deadline passed" },
} as const;

// ---- refusals: an upgrade the relay answers with a status and no WebSocket ----

/** The HTTP statuses of refused upgrades, by name. */
export const STATUS = {
  badRequest: 400,
  unauthorized: 401,
  notFound: 404,
  conflict: 409,
  upgradeRequired: 426,
  tooManyRequests: 429,
  unavailable: 503,
} as const;

/** Why an upgrade was refused before it became a leg (the metrics label), with its status. */
export const REFUSALS = {
  rate_limited: STATUS.tooManyRequests, //  the source address is over its connection rate
  bad_path: STATUS.notFound, //              not /v1/rendezvous/{rid}
  bad_rid: STATUS.badRequest, //             not base64url of 16..32 bytes
  bad_role: STATUS.badRequest, //            role missing or not daemon/client
  bad_token: STATUS.unauthorized, //         a daemon leg without a known deployment token
  unknown_rid: STATUS.notFound, //           a client leg for a rid no daemon holds (after the grace wait)
  taken: STATUS.conflict, //                 the rid's client slot is taken, or another token holds it
  too_many_legs: STATUS.tooManyRequests, //  per-token, relay-wide or grace-wait limit
  not_websocket: STATUS.upgradeRequired, //  a plain GET that passes every check
  shutting_down: STATUS.unavailable, //      the relay is stopping
} as const;
export type Refusal = keyof typeof REFUSALS;

// ---- reconnecting ----

export interface Backoff {
  minMs: number;
  maxMs: number;
}

/**
 * How long a leg waits before dial number `attempt` (0 = the first retry): exponential from
 * `minMs` up to `maxMs`, with jitter over the upper half, so a relay restart is not met by a
 * thundering herd of daemons and clients redialing at the same instant.
 */
export function backoffDelay(attempt: number, backoff: Backoff, random: () => number): number {
  const base = Math.min(backoff.maxMs, backoff.minMs * 2 ** attempt);
  return base / 2 + random() * (base / 2);
}
