// The docker and kubernetes packs, where their CLIs are installed (there is no container engine
// or cluster on the test machine): the real docker CLI runs every docker verb against a fixture
// Engine API on a unix socket (fake-docker-engine.ts), the real kubectl every kubernetes verb
// against a fixture API server (fake-kube-apiserver.ts); and each CLI accepts every rendered flag
// when its server is missing. Both packs' argv are also pinned by rendering in packs.test.ts.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Catalog } from "../../lib/capability/catalog.ts";
import { startFakeDockerEngine, type FakeEngine } from "./fake-docker-engine.ts";
import { startFakeKubeApiserver, type FakeKube } from "./fake-kube-apiserver.ts";
import { packCatalog, runPackVerb } from "./verb-runner.ts";

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "openscope-kube-"));
  // A kubeconfig whose server refuses connections at once (port 1 on loopback).
  writeFileSync(
    join(dir, "kubeconfig"),
    `apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: none, user: {token: "not-a-token"}}]
contexts: [{name: nowhere, context: {cluster: none, user: none}}]
current-context: nowhere
`,
  );
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const PARSE_ERROR = /unknown (flag|shorthand flag|command)|invalid argument|flag needs an argument|accepts at most|requires (at least|exactly)|Usage:/;

describe.if(Bun.which("docker") !== null)("pack docker: the real docker CLI against a fixture engine", () => {
  let engine: FakeEngine;
  let cat: Catalog;

  beforeAll(() => {
    engine = startFakeDockerEngine(join(dir, "engine.sock"), [
      { name: "shop-web-1", image: "shop/web:1.4", state: "running", env: ["DB_PASSWORD=hunter2"], output: [["stdout", "web booting"], ["stdout", "GET /healthz 200"], ["stderr", "upstream timed out"], ["stdout", "GET /cart 200"]] },
      { name: "shop-web-10", image: "shop/web:1.4", state: "running", env: [], output: [["stdout", "another web"]] },
      { name: "shop-db-1", image: "postgres:15", state: "exited", env: ["POSTGRES_PASSWORD=hunter2"], output: [["stderr", "FATAL: out of memory"]] },
    ]);
    cat = packCatalog("docker", ["containers=shop-web-1,shop-db-1", `docker_host=${engine.socket}`]);
  });
  afterAll(() => engine?.stop());

  test("ps lists every container, running or not", async () => {
    const r = await runPackVerb(cat, "docker.ps");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/m);
    expect(r.stdout).toMatch(/shop\/web:1\.4 .*Up 2 hours .*shop-web-1$/m);
    expect(r.stdout).toMatch(/postgres:15 .*Exited \(1\) 5 minutes ago .*shop-db-1$/m);
    expect(engine.requests).toContain("GET /v1.47/containers/json?all=1");
  });

  test("inspect shows one container's fixed fields as JSON, never its environment", async () => {
    const r = await runPackVerb(cat, "docker.inspect", { container: "shop-web-1" });
    expect(r.exitCode).toBe(0);
    const rows = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, string>);
    expect(rows).toHaveLength(1); // the anchored name filter: not shop-web-10
    expect(rows[0]).toMatchObject({ Names: "shop-web-1", Image: "shop/web:1.4", State: "running", Networks: "shop_default" });
    expect(r.stdout).not.toContain("hunter2");
    expect(engine.requests.at(-1)).toBe(`GET /v1.47/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ name: { "^/?shop-web-1$": true } }))}`);
  });

  test("logs: the last N lines of both streams, with timestamps", async () => {
    const r = await runPackVerb(cat, "docker.logs", { container: "shop-web-1", lines: "2" });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe("2026-11-28T23:00:01.000000000Z GET /cart 200\n");
    expect(r.stderr).toBe("2026-11-28T23:00:00.000000000Z upstream timed out\n");
    // The CLI looks the container up, then asks for its logs by id.
    expect(engine.requests.slice(-2)).toEqual([
      "GET /v1.47/containers/shop-web-1/json",
      expect.stringMatching(/^GET \/v1\.47\/containers\/[0-9a-f]{64}\/logs\?stderr=1&stdout=1&tail=2&timestamps=1$/),
    ]);
  });

  test("stats: one sample, then the CLI exits", async () => {
    const r = await runPackVerb(cat, "docker.stats", { container: "shop-web-1" });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT/m);
    expect(r.stdout).toMatch(/shop-web-1\s+\d+\.\d+%\s+64MiB \/ 1GiB/);
    expect(engine.requests.at(-1)).toBe("GET /v1.47/containers/shop-web-1/stats?stream=0");
  });

  test("restart: one POST for the named container, nothing else restarted", async () => {
    const r = await runPackVerb(cat, "docker.restart", { container: "shop-db-1" });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe("shop-db-1");
    expect(engine.restarted).toEqual(["shop-db-1"]);
    await expect(runPackVerb(cat, "docker.restart", { container: "shop-web-10" })).rejects.toThrow(/outside its constraint/);
    expect(engine.restarted).toEqual(["shop-db-1"]);
  });

  test("a container the engine does not know is a failed verb with the engine's message", async () => {
    const gone = packCatalog("docker", ["containers=shop-web-2", `docker_host=${engine.socket}`]);
    const r = await runPackVerb(gone, "docker.logs", { container: "shop-web-2" });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain("No such container: shop-web-2");
  });

  test("every verb accepts its flags and fails only on a missing engine", async () => {
    const none = packCatalog("docker", ["containers=shop-web-1", `docker_host=${dir}/none.sock`]);
    const web: Record<string, string> = { container: "shop-web-1" };
    const calls: Record<string, Record<string, string>> = { "docker.ps": {}, "docker.logs": web, "docker.inspect": web, "docker.stats": web, "docker.restart": web };
    for (const [verb, params] of Object.entries(calls)) {
      const r = await runPackVerb(none, verb, params);
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).not.toMatch(PARSE_ERROR);
      expect(r.stderr).toContain(`Cannot connect to the Docker daemon at unix://${dir}/none.sock`);
    }
  });
});

describe.if(Bun.which("kubectl") !== null)("pack kubernetes: the real kubectl against a fixture API server", () => {
  let kube: FakeKube;
  let cat: Catalog;
  const ns = { namespace: "shop" };

  beforeAll(() => {
    kube = startFakeKubeApiserver("shop", ["booting", "GET /healthz 200", "upstream timed out", "GET /cart 200"]);
    writeFileSync(
      join(dir, "fixture.kubeconfig"),
      `apiVersion: v1
kind: Config
clusters: [{name: fixture, cluster: {server: "${kube.url}"}}]
users: [{name: fixture, user: {token: "not-a-token"}}]
contexts: [{name: fixture, context: {cluster: fixture, user: fixture}}]
current-context: fixture
`,
    );
    cat = packCatalog("kubernetes", ["namespaces=shop", "deployments=web", `kubeconfig=${join(dir, "fixture.kubeconfig")}`, "context=fixture"]);
  });
  afterAll(() => kube?.stop());

  /** The requests a run made, without kubectl's discovery. */
  async function run(verb: string, params: Record<string, string>) {
    const before = kube.requests.length;
    const r = await runPackVerb(cat, verb, params);
    const asked = kube.requests.slice(before).filter((q) => !/^GET \/(version|api|apis|api\/v1|apis\/apps\/v1)(\?|$)/.test(q));
    return { ...r, asked };
  }

  test("pods, deployments and events: the namespace's tables", async () => {
    const pods = await run("kubernetes.pods", ns);
    expect(pods.exitCode).toBe(0);
    expect(pods.stdout).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\n/);
    expect(pods.stdout).toMatch(/^web-7d4b9c-x2x8q\s+2\/2\s+Running\s+3\s+2h\s+10\.0\.0\.7\s+node-1$/m);
    expect(pods.asked).toEqual(["GET /api/v1/namespaces/shop/pods?limit=500"]);
    const deps = await run("kubernetes.deployments", ns);
    expect(deps.exitCode).toBe(0);
    expect(deps.stdout).toMatch(/^web\s+2\/2\s+2\s+2\s+2h\s+web\s+shop\/web:1\.4\s+app=web$/m);
    const events = await run("kubernetes.events", ns);
    expect(events.exitCode).toBe(0);
    expect(events.stdout).toMatch(/^2h\s+Warning\s+BackOff\s+pod\/web-7d4b9c-x2x8q\s+Back-off restarting failed container web$/m);
  });

  test("logs of a deployment and of a pod: every container, the last N lines, with timestamps", async () => {
    const dep = await run("kubernetes.logs", { ...ns, deployment: "web", lines: "2" });
    expect(dep.exitCode).toBe(0);
    expect(dep.stdout).toContain("2026-11-28T23:00:01.000000000Z web-7d4b9c-x2x8q/web: GET /cart 200\n");
    expect(dep.stdout).toContain("web-7d4b9c-x2x8q/sidecar: upstream timed out");
    expect(dep.stdout).not.toContain("booting");
    expect(dep.asked).toContain("GET /api/v1/namespaces/shop/pods/web-7d4b9c-x2x8q/log?container=web&tailLines=2&timestamps=true");
    const pod = await run("kubernetes.pod_logs", { ...ns, pod: "web-7d4b9c-k9f2m", lines: "1" });
    expect(pod.exitCode).toBe(0);
    expect(pod.stdout.trim().split("\n").sort()).toEqual([
      "2026-11-28T23:00:00.000000000Z web-7d4b9c-k9f2m/sidecar: GET /cart 200",
      "2026-11-28T23:00:00.000000000Z web-7d4b9c-k9f2m/web: GET /cart 200",
    ]);
    const missing = await run("kubernetes.pod_logs", { ...ns, pod: "web-gone", lines: "1" });
    expect(missing.exitCode).not.toBe(0);
    expect(missing.stderr).toContain('pods "web-gone" not found');
  });

  test("describe a deployment and a pod", async () => {
    const dep = await run("kubernetes.describe", { ...ns, deployment: "web" });
    expect(dep.exitCode).toBe(0);
    expect(dep.stdout).toMatch(/^Name:\s+web$/m);
    expect(dep.stdout).toMatch(/^Replicas:\s+2 desired \| 2 updated \| 2 total \| 2 available \| 0 unavailable$/m);
    expect(dep.stdout).toMatch(/^NewReplicaSet:\s+web-7d4b9c \(2\/2 replicas created\)$/m);
    const pod = await run("kubernetes.describe_pod", { ...ns, pod: "web-7d4b9c-x2x8q" });
    expect(pod.exitCode).toBe(0);
    expect(pod.stdout).toMatch(/^Controlled By:\s+ReplicaSet\/web-7d4b9c$/m);
    expect(pod.stdout).toMatch(/^\s+Restart Count:\s+3$/m);
  });

  test("rollout status answers without waiting; rollout restart patches only the allowed deployment", async () => {
    const status = await run("kubernetes.rollout_status", { ...ns, deployment: "web" });
    expect(status.exitCode).toBe(0);
    expect(status.stdout.trim()).toBe('deployment "web" successfully rolled out');
    expect(kube.patches).toEqual([]);
    const restart = await run("kubernetes.rollout_restart", { ...ns, deployment: "web" });
    expect(restart.exitCode).toBe(0);
    expect(restart.stdout.trim()).toBe("deployment.apps/web restarted");
    expect(kube.patches).toEqual([
      { path: "/apis/apps/v1/namespaces/shop/deployments/web", body: { spec: { template: { metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": expect.any(String) } } } } } },
    ]);
    await expect(runPackVerb(cat, "kubernetes.rollout_restart", { namespace: "kube-system", deployment: "web" })).rejects.toThrow(/outside its constraint/);
    expect(kube.patches).toHaveLength(1);
  });
});

describe.if(Bun.which("kubectl") !== null)("pack kubernetes: kubectl accepts every rendered flag, and fails only on a missing API server", () => {
  const ns = { namespace: "shop" };
  const args: Record<string, Record<string, string>> = {
    "kubernetes.pods": ns,
    "kubernetes.deployments": ns,
    "kubernetes.events": ns,
    "kubernetes.logs": { ...ns, deployment: "web", lines: "20" },
    "kubernetes.pod_logs": { ...ns, pod: "web-7d4b9c-x2x8q", lines: "20" },
    "kubernetes.describe": { ...ns, deployment: "web" },
    "kubernetes.describe_pod": { ...ns, pod: "web-7d4b9c-x2x8q" },
    "kubernetes.rollout_status": { ...ns, deployment: "web" },
    "kubernetes.rollout_restart": { ...ns, deployment: "web" },
  };
  for (const [verb, params] of Object.entries(args)) {
    test(verb, async () => {
      const cat = packCatalog("kubernetes", ["namespaces=shop", "deployments=web", `kubeconfig=${dir}/kubeconfig`, "context=nowhere"]);
      const r = await runPackVerb(cat, verb, params);
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).not.toMatch(PARSE_ERROR);
      expect(r.stderr).toMatch(/127\.0\.0\.1:1.*connection refused|connect: connection refused/);
    }, 30_000);
  }
});
