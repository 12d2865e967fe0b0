// A fixture Docker Engine API on a unix socket, enough for the docker pack's verbs to run the real
// docker CLI end to end here (there is no engine on the test machine): ping, container list with
// the name filter, inspect, logs (the multiplexed stream format, honouring tail and timestamps),
// a one-shot stats sample and restart. Every request is logged for the tests to assert on.
import { rmSync } from "node:fs";

export interface FakeContainer {
  name: string;
  image: string;
  state: "running" | "exited";
  /** Lines the container wrote, oldest first: [stream, text]. */
  output: Array<["stdout" | "stderr", string]>;
  env: string[];
}

export interface FakeEngine {
  socket: string;
  requests: string[];
  restarted: string[];
  stop(): void;
}

const API = "1.47";

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", "api-version": API } });
}

/** The engine's stream framing for a non-TTY container: [type, 0, 0, 0, size u32 BE] + payload. */
function frame(stream: "stdout" | "stderr", text: string): Uint8Array {
  const payload = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + payload.length);
  out[0] = stream === "stdout" ? 1 : 2;
  new DataView(out.buffer).setUint32(4, payload.length);
  out.set(payload, 8);
  return out;
}

function idOf(name: string): string {
  return new Bun.CryptoHasher("sha256").update(name).digest("hex");
}

export function startFakeDockerEngine(socket: string, containers: FakeContainer[]): FakeEngine {
  const requests: string[] = [];
  const restarted: string[] = [];
  const created = Math.floor(Date.now() / 1000) - 7200;
  const summary = (c: FakeContainer) => ({
    Id: idOf(c.name),
    Names: [`/${c.name}`],
    Image: c.image,
    ImageID: `sha256:${idOf(c.image)}`,
    Command: "/entrypoint.sh",
    Created: created,
    Ports: [{ PrivatePort: 8080, Type: "tcp" }],
    Labels: { "com.docker.compose.project": "shop" },
    State: c.state,
    Status: c.state === "running" ? "Up 2 hours" : "Exited (1) 5 minutes ago",
    HostConfig: { NetworkMode: "shop_default" },
    NetworkSettings: { Networks: { shop_default: { IPAddress: "172.18.0.2" } } },
    Mounts: [],
  });
  const find = (ref: string) => containers.find((c) => c.name === ref || idOf(c.name).startsWith(ref));
  const notFound = (ref: string) => json({ message: `No such container: ${ref}` }, 404);

  const server = Bun.serve({
    unix: socket,
    fetch(req) {
      const url = new URL(req.url);
      requests.push(`${req.method} ${url.pathname}${url.search}`);
      const path = url.pathname.replace(/^\/v[0-9.]+/, "");
      if (path === "/_ping") return new Response(req.method === "HEAD" ? null : "OK", { headers: { "api-version": API, ostype: "linux" } });
      if (path === "/containers/json") {
        const all = url.searchParams.get("all") === "1";
        const filters = JSON.parse(url.searchParams.get("filters") ?? "{}") as { name?: Record<string, boolean> };
        const names = Object.keys(filters.name ?? {}).map((r) => new RegExp(r));
        return json(
          containers
            .filter((c) => all || c.state === "running")
            .filter((c) => names.every((re) => re.test(`/${c.name}`) || re.test(c.name)))
            .map(summary),
        );
      }
      const m = /^\/containers\/([^/]+)\/(json|logs|stats|restart)$/.exec(path);
      if (!m) return json({ message: `page not found: ${path}` }, 404);
      const c = find(decodeURIComponent(m[1]!));
      if (!c) return notFound(decodeURIComponent(m[1]!));
      switch (m[2]) {
        case "json":
          return json({ Id: idOf(c.name), Name: `/${c.name}`, Config: { Tty: false, Env: c.env, Image: c.image }, State: { Status: c.state, Running: c.state === "running" } });
        case "logs": {
          const tail = url.searchParams.get("tail");
          const lines = tail && tail !== "all" ? c.output.slice(-Number(tail)) : c.output;
          const stamp = url.searchParams.get("timestamps") === "1";
          const t0 = Date.UTC(2026, 10, 28, 23, 0, 0);
          const chunks = lines.map(([s, text], i) => frame(s, `${stamp ? new Date(t0 + i * 1000).toISOString().replace("Z", "000000Z") + " " : ""}${text}\n`));
          return new Response(new Blob(chunks), { headers: { "content-type": "application/vnd.docker.multiplexed-stream", "api-version": API } });
        }
        case "stats":
          return json({
            id: idOf(c.name),
            name: `/${c.name}`,
            read: new Date().toISOString(),
            preread: new Date(Date.now() - 1000).toISOString(),
            cpu_stats: { cpu_usage: { total_usage: 2_000_000_000 }, system_cpu_usage: 20_000_000_000, online_cpus: 2 },
            precpu_stats: { cpu_usage: { total_usage: 1_000_000_000 }, system_cpu_usage: 10_000_000_000, online_cpus: 2 },
            memory_stats: { usage: 64 * 1024 * 1024, limit: 1024 * 1024 * 1024, stats: {} },
            networks: { eth0: { rx_bytes: 1000, tx_bytes: 2000 } },
            blkio_stats: { io_service_bytes_recursive: [] },
            pids_stats: { current: 7 },
          });
        case "restart":
          if (req.method !== "POST") return json({ message: "method not allowed" }, 405);
          restarted.push(c.name);
          return new Response(null, { status: 204, headers: { "api-version": API } });
      }
      return notFound(c.name);
    },
  });
  return {
    socket,
    requests,
    restarted,
    stop() {
      server.stop(true);
      rmSync(socket, { force: true });
    },
  };
}
