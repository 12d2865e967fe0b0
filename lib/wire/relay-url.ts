// The relay URL (SPEC.md §10.2): `ws|wss://host[:port][/path]` in one canonical spelling, checked
// with the WHATWG `URL` parser, never by string matching: the handle's decoder and the operator's
// --relay refuse the same URLs. (The prologue's host is wire/channel.ts prologueRelayHost, the
// rendezvous URL relay/protocol.ts rendezvousUrl; both take a URL this module passed.) Pure.
import { usageError } from "../errors.ts";

/** Longest relay URL, in UTF-8 bytes of its canonical form (a DNS name is at most 253). */
export const MAX_RELAY_URL_BYTES = 255;
/** A path is zero or more `/segment`s of RFC 3986 unreserved characters, none "." or "..". */
const PATH = /^(\/[A-Za-z0-9._~-]+)*$/;

export interface RelayUrl {
  /** The canonical text: scheme, host (lowercase, IDN as punycode, IPv6 in brackets), a non-default port, the path without a trailing slash. */
  url: string;
  /** What the prologue binds: the URL's host, with its port when that is not the default. */
  host: string;
}

/**
 * Checks a relay URL and returns its canonical form, or the reason it is refused. `strict`
 * (the handle's decoder) also refuses any spelling other than the canonical one.
 */
export function checkRelayUrl(text: string, strict: boolean): RelayUrl | string {
  if (text.length === 0) return "relay URL is empty";
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return "relay URL does not parse";
  }
  if (u.protocol !== "ws:" && u.protocol !== "wss:") return "relay URL is not ws:// or wss://";
  if (u.username !== "" || u.password !== "" || /^[a-z]+:\/\/[^/?#]*@/i.test(text)) return "relay URL has a user name or password";
  if (u.search !== "" || text.includes("?")) return "relay URL has a query";
  if (u.hash !== "" || text.includes("#")) return "relay URL has a fragment";
  if (u.hostname === "") return "relay URL has no host";
  const path = u.pathname === "/" ? "" : u.pathname;
  if (!PATH.test(path) || path.split("/").some((s) => s === "." || s === "..")) return "relay URL path has characters outside [A-Za-z0-9._~-] or an empty segment";
  const url = `${u.protocol}//${u.host}${path}`;
  if (new TextEncoder().encode(url).length > MAX_RELAY_URL_BYTES) return `relay URL is longer than ${MAX_RELAY_URL_BYTES} bytes`;
  if (strict && url !== text) return "relay URL is not in canonical form";
  return { url, host: u.host };
}

/**
 * A relay URL given by the operator (`daemon --relay`, config.toml): http(s) is read as ws(s),
 * one trailing slash is dropped, the rest must pass the handle's rules. Usage error (exit 2).
 */
export function parseOperatorRelayUrl(text: string): RelayUrl {
  const t = text.trim().replace(/^http:/i, "ws:").replace(/^https:/i, "wss:").replace(/(?<=[^/])\/$/, "");
  const r = checkRelayUrl(t, false);
  if (typeof r === "string")
    throw usageError(`--relay: ${r}`, ["give the relay as ws://host[:port][/path] or wss://host[:port][/path], without user, query or fragment"]);
  return r;
}
