// Test helpers for the relay: a WebSocket leg that records what it receives, a raw upgrade
// request that reads the HTTP status (Bun's WebSocket client cannot), random rids, and a
// spawned `bun relay.ts` process whose listening port is read from its stderr.
import { connect } from "node:net";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { ROOT, waitFor } from "../helpers/spawn.ts";

export function newRid(bytes = 16): string {
  return randomBytes(bytes).toString("base64url");
}

export interface TestLeg {
  ws: WebSocket;
  texts: string[];
  binaries: Buffer[];
  bytes: number;
  closed: { code: number; reason: string } | null;
  errored: boolean;
  isOpen: boolean;
  /** Resolves once open (true) or failed (false). */
  ready: Promise<boolean>;
  /** Waits for the n-th (1-based) text message equal to `text`. */
  waitText(text: string, count?: number, ms?: number): Promise<void>;
  waitClosed(ms?: number): Promise<{ code: number; reason: string }>;
}

export const PAIRED = '{"type":"paired"}';
export const PEER_GONE = '{"type":"peer_gone"}';

export function openLeg(base: string, rid: string, role: "daemon" | "client", token?: string, opts: { keep?: boolean } = {}): TestLeg {
  const url = `${base.replace(/^http/, "ws")}/v1/rendezvous/${rid}?role=${role}`;
  const ws = new WebSocket(url, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    perMessageDeflate: false,
  } as unknown as string[]);
  (ws as unknown as { binaryType: string }).binaryType = "nodebuffer";
  let settle!: (ok: boolean) => void;
  const leg: TestLeg = {
    ws,
    texts: [],
    binaries: [],
    bytes: 0,
    closed: null,
    errored: false,
    isOpen: false,
    ready: new Promise<boolean>((r) => (settle = r)),
    async waitText(text, count = 1, ms = 10_000) {
      await waitFor(() => leg.texts.filter((t) => t === text).length >= count, `text ${text} x${count}`, ms);
    },
    async waitClosed(ms = 10_000) {
      return waitFor(() => leg.closed, "leg closed", ms);
    },
  };
  ws.onopen = () => {
    leg.isOpen = true;
    settle(true);
  };
  ws.onerror = () => {
    leg.errored = true;
    settle(false);
  };
  ws.onclose = (e) => {
    leg.isOpen = false;
    leg.closed = { code: e.code, reason: e.reason };
    settle(false);
  };
  ws.onmessage = (e) => {
    if (typeof e.data === "string") leg.texts.push(e.data);
    else {
      const b = e.data as Buffer;
      leg.bytes += b.byteLength;
      if (opts.keep !== false) leg.binaries.push(b);
    }
  };
  return leg;
}

/** Opens a daemon leg and a client leg for a fresh rid and waits until both are paired. */
export async function openPair(base: string, token: string, opts: { keep?: boolean } = {}): Promise<{ rid: string; daemon: TestLeg; client: TestLeg }> {
  const rid = newRid();
  const daemon = openLeg(base, rid, "daemon", token, opts);
  if (!(await daemon.ready)) throw new Error("daemon leg refused");
  const client = openLeg(base, rid, "client", undefined, opts);
  if (!(await client.ready)) throw new Error("client leg refused");
  await daemon.waitText(PAIRED);
  await client.waitText(PAIRED);
  return { rid, daemon, client };
}

/** Sends raw bytes as an HTTP request and returns the status code of the answer (0 if none). */
export function rawRequest(port: number, request: string | Uint8Array, ms = 10_000): Promise<number> {
  return new Promise((resolve) => {
    const sock = connect({ host: "127.0.0.1", port });
    let buf = "";
    const done = (status: number) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(status);
    };
    const timer = setTimeout(() => done(0), ms);
    sock.on("connect", () => sock.write(request));
    sock.on("data", (d) => {
      buf += d.toString("latin1");
      const m = /^HTTP\/1\.1 (\d{3})/.exec(buf);
      if (m) done(Number(m[1]));
    });
    sock.on("error", () => done(0));
    sock.on("close", () => done(0));
  });
}

/** The status an upgrade request gets (101 when accepted). */
export function upgradeStatus(port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  const lines = [
    `GET ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}`,
    "Sec-WebSocket-Version: 13",
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  return rawRequest(port, lines.join("\r\n") + "\r\n\r\n");
}

export interface RelayProcess {
  proc: ReturnType<typeof Bun.spawn>;
  url: string;
  port: number;
  stderr: () => string;
}

/** Spawns `bun relay.ts --listen 127.0.0.1:0 …` and waits for its listening line. */
export async function spawnRelay(args: string[]): Promise<RelayProcess> {
  const proc = Bun.spawn([process.execPath, join(ROOT, "relay.ts"), "--listen", "127.0.0.1:0", ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1" },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  let err = "";
  void (async () => {
    const dec = new TextDecoder();
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) err += dec.decode(chunk);
  })();
  const url = await waitFor(() => /listening on (https?:\/\/[^\s"]+)/.exec(err)?.[1] ?? (proc.exitCode !== null ? "exited" : null), "relay listening line", 15_000);
  if (url === "exited") throw new Error(`relay exited: ${err}`);
  return { proc, url, port: Number(new URL(url).port), stderr: () => err };
}

export function randomFrame(size: number): Buffer {
  return randomBytes(size);
}
