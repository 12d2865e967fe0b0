// A fixture Kubernetes API server on loopback (plain http), enough for the kubernetes pack's verbs
// to run the real kubectl end to end here (there is no cluster on the test machine): legacy
// discovery, pods, deployments, replica sets and events (as server-side Tables for `get`), pod
// logs honouring tailLines and timestamps, and the rollout restart patch. Requests are logged.

export interface FakeKube {
  url: string;
  requests: string[];
  patches: Array<{ path: string; body: unknown }>;
  stop(): void;
}

const T0 = "2026-11-28T21:00:00Z";
const LABELS = { app: "web" };

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

function notFound(what: string): Response {
  return json({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: `${what} not found`, reason: "NotFound", code: 404 }, 404);
}

const resource = (name: string, kind: string, verbs: string[], namespaced = true, shortNames?: string[]) => ({
  name,
  singularName: kind.toLowerCase(),
  namespaced,
  kind,
  verbs,
  ...(shortNames ? { shortNames } : {}),
});

function pod(ns: string, name: string, phase: string) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns, uid: `uid-${name}`, labels: LABELS, creationTimestamp: T0, ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-7d4b9c", uid: "uid-rs", controller: true }] },
    spec: { nodeName: "node-1", containers: [{ name: "web", image: "shop/web:1.4" }, { name: "sidecar", image: "envoy:1.30" }] },
    status: {
      phase,
      podIP: "10.0.0.7",
      startTime: T0,
      conditions: [{ type: "Ready", status: phase === "Running" ? "True" : "False" }],
      containerStatuses: [
        { name: "web", ready: phase === "Running", restartCount: 3, image: "shop/web:1.4", state: { running: { startedAt: T0 } } },
        { name: "sidecar", ready: true, restartCount: 0, image: "envoy:1.30", state: { running: { startedAt: T0 } } },
      ],
    },
  };
}

function deployment(ns: string, name: string) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: ns, uid: `uid-${name}`, generation: 4, creationTimestamp: T0, annotations: {}, labels: LABELS },
    spec: { replicas: 2, selector: { matchLabels: LABELS }, template: { metadata: { labels: LABELS }, spec: { containers: [{ name: "web", image: "shop/web:1.4" }] } }, strategy: { type: "RollingUpdate" } },
    status: { observedGeneration: 4, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2, conditions: [{ type: "Available", status: "True", reason: "MinimumReplicasAvailable" }, { type: "Progressing", status: "True", reason: "NewReplicaSetAvailable" }] },
  };
}

/** A server-side Table (what kubectl get asks for), one row per object. */
function table(columns: string[], rows: Array<{ cells: unknown[]; object: { metadata: object } }>) {
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: { resourceVersion: "1" },
    columnDefinitions: columns.map((c) => ({ name: c, type: "string", format: c === "Name" ? "name" : "", description: c, priority: 0 })),
    rows: rows.map((r) => ({ cells: r.cells, object: { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: r.object.metadata } })),
  };
}

export function startFakeKubeApiserver(namespace: string, logLines: string[]): FakeKube {
  const requests: string[] = [];
  const patches: FakeKube["patches"] = [];
  const pods = [pod(namespace, "web-7d4b9c-x2x8q", "Running"), pod(namespace, "web-7d4b9c-k9f2m", "Running")];
  const deployments = [deployment(namespace, "web")];
  const events = [
    { apiVersion: "v1", kind: "Event", metadata: { name: "web.1", namespace, creationTimestamp: T0 }, type: "Warning", reason: "BackOff", message: "Back-off restarting failed container web", lastTimestamp: T0, count: 3, involvedObject: { kind: "Pod", name: "web-7d4b9c-x2x8q", namespace } },
  ];
  const asTable = (req: Request) => (req.headers.get("accept") ?? "").includes("as=Table");
  const list = (kind: string, items: unknown[]) => ({ kind: `${kind}List`, apiVersion: kind === "Deployment" || kind === "ReplicaSet" ? "apps/v1" : "v1", metadata: { resourceVersion: "1" }, items });

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      requests.push(`${req.method} ${url.pathname}${url.search}`);
      const p = url.pathname;
      // A watch (kubectl rollout status starts one) ends at once: nothing changes in a fixture.
      if (url.searchParams.get("watch") === "true") return new Response("", { headers: { "content-type": "application/json" } });
      if (p === "/version") return json({ major: "1", minor: "32", gitVersion: "v1.32.0", platform: "linux/amd64" });
      if (p === "/api") return json({ kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1:6443" }] });
      if (p === "/apis")
        return json({ kind: "APIGroupList", apiVersion: "v1", groups: [{ name: "apps", versions: [{ groupVersion: "apps/v1", version: "v1" }], preferredVersion: { groupVersion: "apps/v1", version: "v1" } }] });
      if (p === "/api/v1")
        return json({
          kind: "APIResourceList",
          groupVersion: "v1",
          resources: [resource("pods", "Pod", ["get", "list", "watch"], true, ["po"]), resource("pods/log", "Pod", ["get"]), resource("events", "Event", ["get", "list", "watch"], true, ["ev"]), resource("namespaces", "Namespace", ["get", "list"], false, ["ns"])],
        });
      if (p === "/apis/apps/v1")
        return json({ kind: "APIResourceList", groupVersion: "apps/v1", resources: [resource("deployments", "Deployment", ["get", "list", "watch", "patch"], true, ["deploy"]), resource("replicasets", "ReplicaSet", ["get", "list", "watch"], true, ["rs"])] });

      const ns = `/namespaces/${namespace}`;
      if (p === `/api/v1${ns}`) return json({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace, uid: "uid-ns" }, status: { phase: "Active" } });
      if (p === `/api/v1${ns}/pods`) {
        if (!asTable(req)) return json(list("Pod", pods));
        return json(table(["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node"], pods.map((x) => ({ cells: [x.metadata.name, "2/2", x.status.phase, 3, "2h", x.status.podIP, x.spec.nodeName], object: x }))));
      }
      const podName = new RegExp(`^/api/v1${ns}/pods/([^/]+)(/log)?$`).exec(p);
      if (podName) {
        const x = pods.find((q) => q.metadata.name === podName[1]);
        if (!x) return notFound(`pods "${podName[1]}"`);
        if (!podName[2]) return json(x);
        const container = url.searchParams.get("container") ?? "web";
        const tail = Number(url.searchParams.get("tailLines") ?? logLines.length);
        const stamp = url.searchParams.get("timestamps") === "true";
        const lines = logLines.slice(-tail).map((l, i) => `${stamp ? `2026-11-28T23:00:0${i}.000000000Z ` : ""}${x.metadata.name}/${container}: ${l}\n`);
        return new Response(lines.join(""), { headers: { "content-type": "text/plain" } });
      }
      if (p === `/api/v1${ns}/events`) {
        if (!asTable(req)) return json(list("Event", events));
        return json(table(["Last Seen", "Type", "Reason", "Object", "Message"], events.map((e) => ({ cells: ["2h", e.type, e.reason, `pod/${e.involvedObject.name}`, e.message], object: e }))));
      }
      if (p === `/apis/apps/v1${ns}/deployments`) {
        if (!asTable(req)) return json(list("Deployment", deployments));
        return json(table(["Name", "Ready", "Up-to-date", "Available", "Age", "Containers", "Images", "Selector"], deployments.map((d) => ({ cells: [d.metadata.name, "2/2", 2, 2, "2h", "web", "shop/web:1.4", "app=web"], object: d }))));
      }
      const dep = new RegExp(`^/apis/apps/v1${ns}/deployments/([^/]+)$`).exec(p);
      if (dep) {
        const d = deployments.find((q) => q.metadata.name === dep[1]);
        if (!d) return notFound(`deployments.apps "${dep[1]}"`);
        if (req.method === "PATCH") {
          const body = await req.json();
          patches.push({ path: p, body });
          return json(d);
        }
        return json(d);
      }
      if (p === `/apis/apps/v1${ns}/replicasets`)
        return json(list("ReplicaSet", [{ apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name: "web-7d4b9c", namespace, uid: "uid-rs", labels: LABELS, annotations: { "deployment.kubernetes.io/revision": "4" }, ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "uid-web", controller: true }] }, spec: { replicas: 2, selector: { matchLabels: LABELS }, template: { metadata: { labels: LABELS }, spec: { containers: [{ name: "web", image: "shop/web:1.4" }] } } }, status: { replicas: 2, readyReplicas: 2, availableReplicas: 2 } }]));
      return notFound(p);
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, requests, patches, stop: () => server.stop(true) };
}
