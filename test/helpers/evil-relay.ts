// A relay that speaks the relay contract (SPEC.md §12: paths, bearer token for the daemon leg,
// {"type":"paired"}, peer_gone, evict, daemon takeover) but misbehaves on purpose on the binary
// frames of a session, per a plan: flip a bit, drop, duplicate, reorder, replay or truncate one.
// For adversarial tests only; in-process (Bun.serve on 127.0.0.1, port 0 unless given).
import type { Server, ServerWebSocket } from "bun";

export type EvilMode = "flip" | "drop" | "duplicate" | "reorder" | "replay" | "truncate";
export type Direction = "toClient" | "toDaemon";

/** Tamper with the `at`-th binary frame (0-based, counted per pairing) going in `direction`. */
export interface EvilPlan {
  mode: EvilMode;
  direction: Direction;
  at: number;
}

interface LegData {
  rid: string;
  role: "daemon" | "client";
}

interface Pairing {
  counts: Record<Direction, number>;
  sent: Record<Direction, Uint8Array[]>;
  held: Uint8Array | undefined;
}

interface Slot {
  daemon?: ServerWebSocket<LegData>;
  client?: ServerWebSocket<LegData>;
  pairing?: Pairing;
}

export interface EvilRelay {
  url: string;
  port: number;
  /** Arms a plan for the next pairing that reaches the frame (it fires once, then disarms). */
  arm(plan: EvilPlan | undefined): void;
  /** How many times a plan fired. */
  readonly fired: number;
  /** Binary frames forwarded (or tampered with) so far, all sessions. */
  readonly frames: number;
  /** Client legs refused or closed: for "the rid is usable again" checks. */
  clientLegs(rid: string): number;
  stop(): Promise<void>;
}

const PAIRED = JSON.stringify({ type: "paired" });
const PEER_GONE = JSON.stringify({ type: "peer_gone" });

export function startEvilRelay(opts: { token: string; port?: number; graceMs?: number }): EvilRelay {
  const slots = new Map<string, Slot>();
  let plan: EvilPlan | undefined;
  let fired = 0;
  let frames = 0;
  const graceMs = opts.graceMs ?? 3_000;

  const slot = (rid: string): Slot => {
    let s = slots.get(rid);
    if (!s) slots.set(rid, (s = {}));
    return s;
  };

  function pair(s: Slot): void {
    if (!s.daemon || !s.client) return;
    s.pairing = { counts: { toClient: 0, toDaemon: 0 }, sent: { toClient: [], toDaemon: [] }, held: undefined };
    s.daemon.send(PAIRED);
    s.client.send(PAIRED);
  }

  function forward(s: Slot, from: "daemon" | "client", frame: Uint8Array): void {
    const dir: Direction = from === "daemon" ? "toClient" : "toDaemon";
    const to = from === "daemon" ? s.client : s.daemon;
    const p = s.pairing;
    if (!to || !p) return; // never buffered for an absent leg
    frames++;
    const index = p.counts[dir]++;
    const send = (f: Uint8Array) => {
      to.send(f);
      p.sent[dir].push(f);
    };
    if (p.held !== undefined && plan === undefined) {
      // The second frame of a reorder: send it first, then the held one.
      send(frame);
      send(p.held);
      p.held = undefined;
      return;
    }
    const active = plan && plan.direction === dir && plan.at === index ? plan : undefined;
    if (!active) return send(frame);
    plan = undefined;
    fired++;
    switch (active.mode) {
      case "flip": {
        const f = frame.slice();
        const i = Math.floor(f.length / 2);
        f[i] = f[i]! ^ 0x01;
        return send(f);
      }
      case "drop":
        return;
      case "duplicate":
        send(frame);
        return send(frame);
      case "reorder":
        p.held = frame.slice();
        return;
      case "replay": {
        // An older frame of the same direction in place of this one's turn, then this one.
        const old = p.sent[dir].at(-1) ?? frame;
        send(old);
        return send(frame);
      }
      case "truncate":
        return send(frame.slice(0, Math.max(1, frame.length - 7)));
    }
  }

  const server: Server<LegData> = Bun.serve<LegData>({
    hostname: "127.0.0.1",
    port: opts.port ?? 0,
    async fetch(req, srv) {
      const url = new URL(req.url);
      const m = /^\/v1\/rendezvous\/([A-Za-z0-9_-]{22,43})$/.exec(url.pathname);
      if (!m) return new Response("bad path\n", { status: 404 });
      const rid = m[1]!;
      const role = url.searchParams.get("role");
      if (role !== "daemon" && role !== "client") return new Response("bad role\n", { status: 400 });
      if (role === "daemon") {
        if (req.headers.get("authorization") !== `Bearer ${opts.token}`) return new Response("bad token\n", { status: 401 });
        const s = slot(rid);
        const stale = s.daemon;
        s.daemon = undefined;
        if (stale) {
          s.pairing = undefined;
          stale.close(1000, "taken over");
        }
      } else {
        const deadline = Date.now() + graceMs;
        while (!slots.get(rid)?.daemon && Date.now() < deadline) await Bun.sleep(20);
        const s = slots.get(rid);
        if (!s?.daemon) return new Response("unknown rid\n", { status: 404 });
        if (s.client) return new Response("leg taken\n", { status: 409 });
      }
      if (srv.upgrade(req, { data: { rid, role } })) return undefined;
      return new Response("not a websocket\n", { status: 400 });
    },
    websocket: {
      maxPayloadLength: 65 * 1024,
      perMessageDeflate: false,
      open(ws) {
        const s = slot(ws.data.rid);
        if (ws.data.role === "daemon") s.daemon = ws;
        else if (s.client) return ws.close(1008, "leg taken");
        else s.client = ws;
        pair(s);
      },
      message(ws, msg) {
        const s = slots.get(ws.data.rid);
        if (!s || s[ws.data.role] !== ws) return;
        if (typeof msg === "string") {
          if (ws.data.role === "daemon" && msg.includes('"evict"')) s.client?.close(1000, "evicted");
          return;
        }
        forward(s, ws.data.role, new Uint8Array(msg));
      },
      close(ws) {
        const s = slots.get(ws.data.rid);
        if (!s || s[ws.data.role] !== ws) return;
        s[ws.data.role] = undefined;
        s.pairing = undefined;
        const other = ws.data.role === "daemon" ? s.client : s.daemon;
        other?.send(PEER_GONE);
      },
    },
  });

  const port = server.port!;
  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    arm(p) {
      plan = p;
    },
    get fired() {
      return fired;
    },
    get frames() {
      return frames;
    },
    clientLegs(rid) {
      return slots.get(rid)?.client ? 1 : 0;
    },
    async stop() {
      await server.stop(true);
    },
  };
}
