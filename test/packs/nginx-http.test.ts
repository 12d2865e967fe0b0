// The nginx and http packs against Debian's nginx, started by the test on a free loopback port
// with a temp configuration: nginx -t on a good and a broken file, the access and error log tails
// after real requests, a reload the master really performs, and curl GETs of allowed URLs.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../helpers/spawn.ts";
import { packCatalog, runPackVerb } from "./verb-runner.ts";

const ok = Bun.which("nginx") !== null;
let dir: string;
let port: number;
let nginx: Bun.Subprocess | undefined;
let sets: string[];

function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const p = s.port;
  s.stop(true);
  return p;
}

function config(listen: number, extra = ""): string {
  const tmp = (n: string) => `${n}_temp_path ${join(dir, "tmp", n)};`;
  return `daemon off;
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "error.log")} notice;
worker_processes 1;
events { worker_connections 64; }
http {
  access_log ${join(dir, "access.log")};
  ${["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map(tmp).join("\n  ")}
  server {
    listen 127.0.0.1:${listen};
    location = /healthz { return 200 "ok from nginx\\n"; }
    location = /moved { return 302 http://127.0.0.1:1/elsewhere; }
    location / { return 404; }
  }
  ${extra}
}
`;
}

async function masterStarted(): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200;
  } catch {
    return false;
  }
}

function workerPids(): string[] {
  const master = readFileSync(join(dir, "nginx.pid"), "utf8").trim();
  const out = Bun.spawnSync(["pgrep", "-P", master]).stdout.toString().trim();
  return out ? out.split("\n").sort() : [];
}

beforeAll(async () => {
  if (!ok) return;
  dir = mkdtempSync(join(tmpdir(), "openscope-nginx-"));
  mkdirSync(join(dir, "tmp"));
  for (let attempt = 0; attempt < 5 && !nginx; attempt++) {
    port = freePort();
    writeFileSync(join(dir, "nginx.conf"), config(port));
    const p = Bun.spawn(["nginx", "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")], { stdout: "ignore", stderr: "ignore" });
    try {
      await waitFor(() => masterStarted() || p.exitCode !== null, "nginx to listen");
    } catch {
      /* checked below */
    }
    if (p.exitCode === null && (await masterStarted())) nginx = p;
    else p.kill("SIGKILL"); // the port was taken in between: try another
  }
  if (!nginx) throw new Error(`nginx did not start: ${readFileSync(join(dir, "error.log"), "utf8")}`);
  sets = [`conf=${join(dir, "nginx.conf")}`, `access_log=${join(dir, "access.log")}`, `error_log=${join(dir, "error.log")}`];
}, 30_000);

afterAll(async () => {
  if (nginx) {
    nginx.kill("SIGQUIT");
    const t = setTimeout(() => nginx!.kill("SIGKILL"), 5000);
    await nginx.exited;
    clearTimeout(t);
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.if(ok)("pack nginx on a real nginx", () => {
  test("config_test passes on the running configuration and fails, with nginx's reason, on a broken one", async () => {
    const good = await runPackVerb(packCatalog("nginx", sets), "nginx.config_test");
    expect(good.exitCode).toBe(0);
    expect(good.stderr).toContain(`configuration file ${join(dir, "nginx.conf")} test is successful`);
    writeFileSync(join(dir, "broken.conf"), config(port, "this is not nginx;"));
    const broken = await runPackVerb(packCatalog("nginx", [...sets.slice(1), `conf=${join(dir, "broken.conf")}`]), "nginx.config_test");
    expect(broken.exitCode).not.toBe(0);
    expect(broken.stderr).toContain('unknown directive "this"');
  });

  test("access_log and error_log show the last lines after real requests", async () => {
    await fetch(`http://127.0.0.1:${port}/healthz`);
    await fetch(`http://127.0.0.1:${port}/no-such-page`);
    const cat = packCatalog("nginx", sets);
    const access = await waitFor(async () => {
      const r = await runPackVerb(cat, "nginx.access_log", { lines: "1" });
      return r.stdout.includes("/no-such-page") ? r : undefined;
    }, "the request in the access log");
    expect(access.exitCode).toBe(0);
    expect(access.stdout.trim().split("\n")).toHaveLength(1);
    expect(access.stdout).toContain('"GET /no-such-page HTTP/1.1" 404');
    const errors = await runPackVerb(cat, "nginx.error_log", { lines: "50" });
    expect(errors.exitCode).toBe(0);
    expect(errors.stdout).toContain("start worker process");
  });

  test("reload makes the running master re-read its configuration", async () => {
    const before = workerPids();
    expect(before.length).toBe(1);
    const r = await runPackVerb(packCatalog("nginx", sets), "nginx.reload");
    expect(r.exitCode).toBe(0);
    await waitFor(() => readFileSync(join(dir, "error.log"), "utf8").includes("reconfiguring"), "the master to reconfigure");
    await waitFor(() => workerPids().some((p) => !before.includes(p)), "a new worker");
    expect(nginx!.exitCode).toBeNull();
    expect(await masterStarted()).toBe(true);
  });
});

describe.if(ok)("pack http against the same nginx", () => {
  test("get fetches an allowed URL: status line, headers, body", async () => {
    const cat = packCatalog("http", [`urls=http://127.0.0.1:${port}/healthz,http://127.0.0.1:${port}/moved`, "max_time=5"]);
    const r = await runPackVerb(cat, "http.get", { url: `http://127.0.0.1:${port}/healthz` });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(r.stdout).toContain("Server: nginx");
    expect(r.stdout.endsWith("ok from nginx\n")).toBe(true);
  });

  test("get follows no redirect, and a URL outside the set never renders", async () => {
    const cat = packCatalog("http", [`urls=http://127.0.0.1:${port}/moved`]);
    const r = await runPackVerb(cat, "http.get", { url: `http://127.0.0.1:${port}/moved` });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^HTTP\/1\.1 302 /);
    expect(r.stdout).toContain("Location: http://127.0.0.1:1/elsewhere");
    await expect(runPackVerb(cat, "http.get", { url: `http://127.0.0.1:${port}/healthz` })).rejects.toThrow(/outside its constraint/);
  });
});

test("nginx is installed, so the real runs above happen (.ci/run installs nginx)", () => {
  expect(ok).toBe(true);
});
