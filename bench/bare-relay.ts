// The baseline relay for issue 10 item 5: the least a Bun WebSocket forwarder can be — pair two
// legs by path, forward binary messages with the pause/resume backpressure of Bun's WebSocket docs, no
// tokens, limits, rate limiting, grace or metrics. Run as its own process: `bun bench/bare-relay.ts`
// prints `listening on http://127.0.0.1:PORT` on stderr, like openscope-relay.
import type { ServerWebSocket } from "bun";

interface Leg {
  rid: string;
  peer: ServerWebSocket<Leg> | null;
}

const waiting = new Map<string, ServerWebSocket<Leg>>();
const PAIRED = '{"type":"paired"}';

const server = Bun.serve<Leg>({
  hostname: "127.0.0.1",
  port: 0,
  fetch(req, srv) {
    const rid = new URL(req.url).pathname;
    return srv.upgrade(req, { data: { rid, peer: null } }) ? undefined : new Response("upgrade required", { status: 426 });
  },
  websocket: {
    maxPayloadLength: 65 * 1024,
    perMessageDeflate: false,
    idleTimeout: 0,
    open(ws) {
      const other = waiting.get(ws.data.rid);
      if (!other) return void waiting.set(ws.data.rid, ws);
      waiting.delete(ws.data.rid);
      ws.data.peer = other;
      other.data.peer = ws;
      ws.send(PAIRED);
      other.send(PAIRED);
    },
    message(ws, msg) {
      const peer = ws.data.peer;
      if (!peer || typeof msg === "string") return;
      if (peer.send(msg) === -1) ws.pause();
    },
    drain(ws) {
      if (ws.data.peer?.isPaused) ws.data.peer.resume();
    },
    close(ws) {
      if (waiting.get(ws.data.rid) === ws) waiting.delete(ws.data.rid);
      const peer = ws.data.peer;
      if (peer) {
        peer.data.peer = null;
        peer.close(1000, "peer gone");
      }
    },
  },
});

process.stderr.write(`bare-relay: listening on http://127.0.0.1:${server.port}\n`);
