// The docker and kubernetes packs: there is no container engine or cluster on the test machine,
// so these verbs are pinned by rendering (packs.test.ts) and, where the CLIs are installed, run
// for real as far as the CLIs' own argument parsing: each must accept every flag the pack renders
// and fail only on the missing engine or API server (a socket and a kubeconfig the test points
// at nothing).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

describe.if(Bun.which("docker") !== null)("pack docker: the docker CLI accepts every rendered flag (no engine here)", () => {
  const args: Record<string, Record<string, string>> = {
    "docker.ps": {},
    "docker.logs": { container: "shop-web-1", lines: "20" },
    "docker.inspect": { container: "shop-web-1" },
    "docker.stats": { container: "shop-web-1" },
    "docker.restart": { container: "shop-web-1" },
  };
  for (const [verb, params] of Object.entries(args)) {
    test(verb, async () => {
      const cat = packCatalog("docker", ["containers=shop-web-1", `docker_host=${dir}/none.sock`]);
      const r = await runPackVerb(cat, verb, params);
      expect(r.argv[1]).toBe(`--host=unix://${dir}/none.sock`);
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).not.toMatch(PARSE_ERROR);
      expect(r.stderr).toContain(`Cannot connect to the Docker daemon at unix://${dir}/none.sock`);
    });
  }
});

describe.if(Bun.which("kubectl") !== null)("pack kubernetes: kubectl accepts every rendered flag (no cluster here)", () => {
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
