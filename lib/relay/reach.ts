// Why a relay cannot be reached, in words an operator or a recipient can act on (SPEC.md §12
// "Diagnosing a dial"): a failed dial is classified into a named cause (connection refused, DNS,
// TLS: unknown CA, name mismatch or expired, a refusal status, a timeout), and a plain HTTP probe
// recovers what Bun's WebSocket client does not say (it reports every failed connect as "Failed
// to connect"; fetch names ECONNREFUSED or ENOTFOUND). The probe also answers `openscope status`:
// is the relay there, is its TLS trusted, does it accept the deployment token.
import { connectionError, type OpenScopeError } from "../errors.ts";
import { toBase64url } from "../bytes.ts";
import { rendezvousUrl, STATUS } from "./protocol.ts";

export type TlsProblem = "unknown_ca" | "name_mismatch" | "expired" | "other";

/** Why a dial failed. */
export type Unreachable =
  | { cause: "refused" } //                          nothing listens at the host and port
  | { cause: "dns" } //                              the host name does not resolve
  | { cause: "tls"; problem: TlsProblem; detail: string }
  | { cause: "status"; status: number } //           the relay (or a proxy) answered, and refused
  | { cause: "timeout"; ms: number } //              no answer in time
  | { cause: "network"; detail: string }; //         anything else below HTTP (reset, unreachable host)

const TLS_CODES: Array<[RegExp, TlsProblem]> = [
  [/SELF_SIGNED|UNABLE_TO_GET_ISSUER|UNABLE_TO_VERIFY_LEAF|self[- ]signed|unable to (get local issuer|verify the first)/i, "unknown_ca"],
  [/ALTNAME|does not match certificate|Hostname\/IP/i, "name_mismatch"],
  [/EXPIRED|has expired|NOT_YET_VALID|not yet valid/i, "expired"],
];

function tlsProblem(text: string): TlsProblem {
  return TLS_CODES.find(([re]) => re.test(text))?.[1] ?? "other";
}

/**
 * A failed dial from what the runtime said: Bun's WebSocket error message ("… failed: Expected 101
 * status code: 401", "… failed: TLS handshake failed: self signed certificate", "… failed:
 * Failed to connect") or a fetch error's code and message. Undefined when it names no cause
 * ("Failed to connect": ask probeRelay).
 */
export function classifyDialError(message: string, code?: string): Unreachable | undefined {
  const text = `${code ?? ""} ${message}`;
  const status = /status code:? (\d{3})/.exec(message);
  if (status) return { cause: "status", status: Number(status[1]) };
  if (/ECONNREFUSED|connection refused/i.test(text)) return { cause: "refused" };
  if (/ENOTFOUND|EAI_AGAIN|EAI_NONAME|getaddrinfo|DNS/i.test(text)) return { cause: "dns" };
  if (/TLS|SSL|CERT|certificate/i.test(text)) {
    const detail = /TLS handshake failed: (.*)$/.exec(message)?.[1] ?? (message || code || "TLS error");
    return { cause: "tls", problem: tlsProblem(text), detail };
  }
  if (/TimeoutError|timed out|ETIMEDOUT/i.test(text)) return { cause: "timeout", ms: 0 };
  if (/ECONNRESET|EHOSTUNREACH|ENETUNREACH|EPIPE|closed unexpectedly/i.test(text)) return { cause: "network", detail: code ?? message };
  return undefined;
}

/** `ws(s)://…` as the `http(s)://…` a plain probe uses. */
function httpUrl(url: string): string {
  return url.replace(/^ws:/, "http:").replace(/^wss:/, "https:");
}

export interface ProbeResult {
  /** The status a plain GET of a fresh rendezvous path got (426 = would upgrade), or the cause it failed. */
  status?: number;
  problem?: Unreachable;
  ms: number;
}

/**
 * One plain GET of a fresh rendezvous path as the daemon (with the token) or as nobody. A relay
 * answers it with the status an upgrade would get without taking a slot: 426 for a daemon whose
 * token it accepts, 401 for a token it refuses, 400 for the probe role, 429 when rate-limiting.
 */
export async function probeRelay(relayUrl: string, opts: { token?: string; timeoutMs?: number; random?: (n: number) => Uint8Array } = {}): Promise<ProbeResult> {
  const random = opts.random ?? ((n: number) => crypto.getRandomValues(new Uint8Array(n)));
  const rid = toBase64url(random(16));
  const timeoutMs = opts.timeoutMs ?? 3_000;
  let url = httpUrl(rendezvousUrl(relayUrl, rid, "daemon"));
  if (opts.token === undefined) url = url.replace(/role=daemon$/, "role=probe");
  const started = Date.now();
  try {
    const res = await fetch(url, {
      headers: opts.token === undefined ? {} : { authorization: `Bearer ${opts.token}` },
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "manual",
    });
    void res.body?.cancel().catch(() => {});
    return { status: res.status, ms: Date.now() - started };
  } catch (e) {
    const err = e as { name?: string; code?: string; message?: string };
    const ms = Date.now() - started;
    if (err.name === "TimeoutError" || err.name === "AbortError") return { problem: { cause: "timeout", ms: timeoutMs }, ms };
    return { problem: classifyDialError(err.message ?? "", err.code) ?? { cause: "network", detail: err.code ?? err.message ?? String(e) }, ms };
  }
}

/** The cause of a failed dial: from the WebSocket's words, else from a probe. */
export async function diagnoseDial(relayUrl: string, wsMessage: string, opts: { token?: string; timeoutMs?: number } = {}): Promise<Unreachable> {
  const known = classifyDialError(wsMessage);
  if (known) return known;
  const probe = await probeRelay(relayUrl, opts);
  if (probe.problem) return probe.problem;
  // The probe got an answer where the upgrade did not: report what the relay answered.
  return { cause: "status", status: probe.status! };
}

function hostOf(relayUrl: string): { host: string; port: string } {
  try {
    const u = new URL(relayUrl);
    return { host: u.hostname, port: u.port || (u.protocol === "wss:" || u.protocol === "https:" ? "443" : "80") };
  } catch {
    return { host: relayUrl, port: "?" };
  }
}

const TLS_WORDS: Record<TlsProblem, string> = {
  unknown_ca: "its certificate is not signed by a trusted CA (self-signed or unknown issuer)",
  name_mismatch: "its certificate does not name this host",
  expired: "its certificate has expired (or is not yet valid)",
  other: "the TLS handshake failed",
};

/** One line naming the cause, without the relay URL (the caller says which relay). */
export function describeUnreachable(u: Unreachable, relayUrl: string, role: "daemon" | "client"): string {
  const { host, port } = hostOf(relayUrl);
  switch (u.cause) {
    case "refused":
      return `connection refused at ${host}:${port} (nothing listens there)`;
    case "dns":
      return `host name "${host}" does not resolve (DNS)`;
    case "tls":
      return `TLS: ${TLS_WORDS[u.problem]} (${u.detail})`;
    case "timeout":
      return `no answer from ${host}:${port} within ${Math.round(u.ms / 100) / 10}s (timeout)`;
    case "network":
      return `network error reaching ${host}:${port} (${u.detail})`;
    case "status":
      if (u.status === STATUS.unauthorized && role === "daemon") return "the relay refused the deployment token (401)";
      if (u.status === STATUS.tooManyRequests) return "the relay is rate-limiting this address (429)";
      if (u.status === STATUS.unavailable) return "the relay is shutting down or unavailable (503)";
      if (u.status >= 500) return `a proxy in front of the relay answered ${u.status} (is the relay behind it running?)`;
      return `the relay answered ${u.status}`;
  }
}

function hintsFor(u: Unreachable, role: "daemon" | "client"): string[] {
  const operator = role === "daemon";
  switch (u.cause) {
    case "refused":
      return operator ? ["check the port in the relay URL and that openscope-relay is running there"] : ["the relay may be down; ask the operator"];
    case "dns":
      return operator ? ["check the host name in the relay URL (config.toml relay or --relay)"] : ["check your network's DNS, or ask the operator whether the relay moved"];
    case "tls":
      if (u.problem === "unknown_ca")
        return ["the relay needs a certificate from a public CA (e.g. Let's Encrypt); a private CA can be trusted with NODE_EXTRA_CA_CERTS=/path/ca.pem"];
      if (u.problem === "name_mismatch") return ["the relay URL's host name must be one the certificate names"];
      if (u.problem === "expired") return [operator ? "renew the relay's certificate (certbot renew) and restart the relay" : "ask the operator to renew the relay's certificate"];
      return [];
    case "timeout":
      return operator ? ["check the relay URL, firewalls between here and the relay, and the relay's host"] : ["check your network; the relay may be down"];
    case "network":
      return [];
    case "status":
      if (u.status === STATUS.unauthorized && operator)
        return ["the daemon's token must be a line of the relay's tokens file: check --relay-token-file, OPENSCOPE_RELAY_TOKEN or relay_token in config.toml"];
      if (u.status === STATUS.tooManyRequests) return ["wait a few seconds and try again"];
      return [];
  }
}

/** The error (exit 4) for a relay that cannot be reached, naming the cause and what to check. */
export function unreachableError(u: Unreachable, relayUrl: string, role: "daemon" | "client", what = "relay"): OpenScopeError {
  return connectionError(`${what} ${relayUrl}: ${describeUnreachable(u, relayUrl, role)}`, hintsFor(u, role));
}
