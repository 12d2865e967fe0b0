// The peer row of item 1: the same 64 KiB messages through magic-wormhole's transit relay
// (Debian's magic-wormhole-transit-relay, a Twisted TCP relay; installed here when missing), so
// openscope-relay is compared with another blind relay, not only with a direct socket. Its
// protocol: each side sends `please relay <64 hex> for side <16 hex>\n`, gets `ok\n`, and from
// then on the two TCP streams are glued together. Numbers only; bench/run.ts calls it.
import { randomBytes } from "node:crypto";
import { $ } from "bun";

export interface TransitRelay {
  port: number;
  stop(): Promise<void>;
}

/** twist3 from the Debian package, installing it (apt-get, as root) when missing. */
export async function ensureTransitRelay(log: (line: string) => void = () => {}): Promise<string> {
  const found = Bun.which("twist3");
  if (found) return found;
  log("installing magic-wormhole-transit-relay (apt-get)…");
  const r = await $`apt-get install -y -q magic-wormhole-transit-relay`.env({ ...process.env, DEBIAN_FRONTEND: "noninteractive" }).quiet().nothrow();
  const after = Bun.which("twist3");
  if (!after) throw new Error(`magic-wormhole-transit-relay is not installed and apt-get failed (exit ${r.exitCode})`);
  return after;
}

function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

export async function startTransitRelay(twist3: string): Promise<TransitRelay> {
  const port = freePort();
  const proc = Bun.spawn([twist3, "transitrelay", `--port=tcp:${port}:interface=127.0.0.1`], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      Bun.connect({ hostname: "127.0.0.1", port, socket: { open: (s) => (s.end(), resolve(true)), connectError: () => resolve(false), data() {} } }).catch(() => resolve(false));
    });
    if (ok) break;
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill();
      throw new Error("the transit relay did not start listening");
    }
    await Bun.sleep(50);
  }
  return {
    port,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

interface Side {
  write(data: Uint8Array): Promise<void>;
  received(): number;
  close(): void;
}

/** One side of a transit session: connects, says its handshake line, resolves after `ok\n`. */
function transitSide(port: number, token: string, side: string): Promise<Side> {
  return new Promise((resolve, reject) => {
    let handshook = false;
    let head = "";
    let count = 0;
    let drained: (() => void) | undefined;
    const socket = Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(s) {
          s.write(`please relay ${token} for side ${side}\n`);
        },
        data(_s, data) {
          if (handshook) {
            count += data.byteLength;
            return;
          }
          head += Buffer.from(data).toString("latin1");
          const nl = head.indexOf("\n");
          if (nl < 0) return;
          if (head.slice(0, nl) !== "ok") return reject(new Error(`transit relay said ${JSON.stringify(head.slice(0, 40))}`));
          handshook = true;
          count += head.length - nl - 1;
          resolve(side_);
        },
        drain() {
          drained?.();
        },
        close() {
          if (!handshook) reject(new Error("transit relay closed the connection during the handshake"));
        },
        connectError(_s, e) {
          reject(e);
        },
      },
    });
    const side_: Side = {
      async write(data) {
        const s = await socket;
        let off = 0;
        while (off < data.byteLength) {
          const n = s.write(data.subarray(off));
          off += Math.max(0, n);
          if (off < data.byteLength) await new Promise<void>((r) => (drained = r));
        }
      },
      received: () => count,
      close: () => void socket.then((s) => s.end()),
    };
  });
}

/** MB/s of `totalBytes` in `msgSize` writes over `sessions` transit sessions, one direction each. */
export async function transitThroughput(port: number, sessions: number, msgSize: number, totalBytes: number): Promise<number> {
  const pairs = await Promise.all(
    Array.from({ length: sessions }, async () => {
      const token = randomBytes(32).toString("hex");
      const [a, b] = await Promise.all([transitSide(port, token, randomBytes(8).toString("hex")), transitSide(port, token, randomBytes(8).toString("hex"))]);
      return { from: a, to: b };
    }),
  );
  try {
    const msg = randomBytes(msgSize);
    const perSender = Math.max(msgSize, Math.floor(totalBytes / sessions / msgSize) * msgSize);
    const run = async (bytes: number) => {
      const start = pairs.map((p) => p.to.received());
      const t = performance.now();
      await Promise.all(
        pairs.map(async ({ from }) => {
          for (let sent = 0; sent < bytes; sent += msgSize) await from.write(msg);
        }),
      );
      const deadline = Date.now() + 120_000;
      while (!pairs.every((p, i) => p.to.received() - start[i]! >= bytes)) {
        if (Date.now() > deadline) throw new Error("the transit relay did not deliver every byte");
        await Bun.sleep(1);
      }
      return (bytes * sessions) / 1e6 / ((performance.now() - t) / 1000);
    };
    await run(Math.min(perSender, msgSize * 64)); // warm up
    return await run(perSender);
  } finally {
    for (const p of pairs) {
      p.from.close();
      p.to.close();
    }
  }
}

if (import.meta.main) {
  const relay = await startTransitRelay(await ensureTransitRelay(console.error));
  try {
    for (const n of [1, 100]) console.log(`transit relay, 64 KiB, ${n} session(s): ${(await transitThroughput(relay.port, n, 64 * 1024, 64 << 20)).toFixed(0)} MB/s`);
  } finally {
    await relay.stop();
  }
}
