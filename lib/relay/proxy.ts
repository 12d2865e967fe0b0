// The client address of a request that came through a trusted reverse proxy (`--trust-proxy`,
// SPEC.md §12): CIDR parsing and matching for IPv4 and IPv6, and the X-Forwarded-For walk. Only
// a peer inside a trusted range may speak for the client; its header is read from the right,
// skipping further trusted hops, so an address the client itself put in the header is never
// believed. Pure: strings in, a string out.

export interface Cidr {
  /** 16 bytes (IPv4 as IPv4-mapped IPv6). */
  bytes: Uint8Array;
  prefix: number;
  text: string;
}

function parseIPv4(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255 || (p.length > 1 && p.startsWith("0"))) return undefined;
    out.push(Number(p));
  }
  return out;
}

/** An IPv4 or IPv6 address as 16 bytes (IPv4 mapped to ::ffff:a.b.c.d), or undefined. */
export function parseIp(text: string): Uint8Array | undefined {
  const t = text.trim().replace(/^\[(.*)\]$/, "$1").replace(/%[\w.-]+$/, "");
  const v4 = parseIPv4(t);
  if (v4) return Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4]);
  if (!t.includes(":") || !/^[0-9a-fA-F:.]+$/.test(t)) return undefined;
  const halves = t.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === "") return [];
    const out: number[] = [];
    const items = s.split(":");
    for (let i = 0; i < items.length; i++) {
      const g = items[i]!;
      if (i === items.length - 1 && g.includes(".")) {
        const tail = parseIPv4(g);
        if (!tail) return undefined;
        out.push((tail[0]! << 8) | tail[1]!, (tail[2]! << 8) | tail[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) out.push(parseInt(g, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...Array<number>(missing).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}

/** "10.0.0.0/8", "::1/128", or a bare address (a /32 or /128). Undefined when malformed. */
export function parseCidr(text: string): Cidr | undefined {
  const [addr, len, extra] = text.trim().split("/");
  if (extra !== undefined || !addr) return undefined;
  const bytes = parseIp(addr);
  if (!bytes) return undefined;
  const isV4 = parseIPv4(addr.trim()) !== undefined;
  const max = isV4 ? 32 : 128;
  if (len !== undefined && (!/^\d{1,3}$/.test(len) || Number(len) > max)) return undefined;
  const prefix = (len === undefined ? max : Number(len)) + (isV4 ? 96 : 0);
  return { bytes, prefix, text: text.trim() };
}

export function inCidr(ip: Uint8Array, cidr: Cidr): boolean {
  const full = Math.floor(cidr.prefix / 8);
  for (let i = 0; i < full; i++) if (ip[i] !== cidr.bytes[i]) return false;
  const rest = cidr.prefix % 8;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (ip[full]! & mask) === (cidr.bytes[full]! & mask);
}

function trusted(address: string, ranges: readonly Cidr[]): boolean {
  const ip = parseIp(address);
  return ip !== undefined && ranges.some((c) => inCidr(ip, c));
}

/**
 * The address rate limits and logs use. With no trusted ranges, or a peer outside them, it is the
 * peer. Otherwise X-Forwarded-For is walked from the right: the first entry that is not itself a
 * trusted proxy is the client. A malformed entry stops the walk at the hop that added it.
 */
export function clientAddress(peer: string, forwardedFor: string | null, ranges: readonly Cidr[]): string {
  if (ranges.length === 0 || forwardedFor === null || !trusted(peer, ranges)) return peer;
  const hops = forwardedFor.split(",").map((h) => h.trim()).filter((h) => h !== "");
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (parseIp(hop) === undefined) break;
    client = hop.replace(/^\[(.*)\]$/, "$1");
    if (!trusted(hop, ranges)) break;
  }
  return client;
}
