// `share open` names why the relay cannot hold the share's leg (SPEC.md §12 "Diagnosing a dial"),
// against real relay processes: a wrong port, a wrong deployment token, a self-signed
// certificate, a certificate for another name and an expired one (the last two trusted with
// NODE_EXTRA_CA_CERTS, so the CA is not what fails). Each is exit 4 with its own cause and hint.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { Cluster, commandFor, startBackground, testCatalog, type Background } from "../helpers/cluster.ts";
import { freePort } from "../helpers/haproxy.ts";
import { makeCerts, type CertPair } from "../helpers/tls.ts";

let c: Cluster;
const relays: Background[] = [];
let certs: ReturnType<typeof makeCerts>;

async function tlsRelay(pair: CertPair): Promise<number> {
  const r = await startBackground(
    [...commandFor("source", "openscope-relay"), "--listen", "127.0.0.1:0", "--tokens-file", join(c.dir, "tokens.txt"), "--tls-cert", pair.cert, "--tls-key", pair.key],
    {},
    /listening on https:\/\/[\d.]+:(\d+)/,
  );
  relays.push(r);
  return Number(r.match[1]);
}

beforeAll(async () => {
  c = new Cluster("source");
  await c.startRelay();
  await c.init(testCatalog(join(c.dir, "data")));
  certs = makeCerts(join(c.dir, "certs"));
  expect((await c.openscope(["grant", "add", "--agent", "you", "--verb", "echo.word"])).code).toBe(0);
}, 60_000);

afterAll(async () => {
  for (const r of relays) await r.stop("SIGKILL");
  await c?.stop();
});

/** (Re)starts the daemon with `args`/`env`, then runs `share open` and returns its result. */
async function openWith(args: string[], env: Record<string, string> = {}) {
  await c.daemon?.stop();
  await c.startDaemon(args, env);
  return c.openscope(["share", "open", "--agent", "you", "--verb", "echo.word", "--bearer", "--ttl", "5m"]);
}

test("the right relay and token: the share opens", async () => {
  expect((await openWith([])).code).toBe(0);
}, 30_000);

test("a wrong port: connection refused, check the port", async () => {
  const port = freePort();
  const r = await openWith(["--relay", `ws://127.0.0.1:${port}`]);
  expect(r.code).toBe(4);
  expect(r.stderr).toContain(`openscope: error: relay ws://127.0.0.1:${port}: connection refused at 127.0.0.1:${port} (nothing listens there)\n`);
  expect(r.stderr).toContain("hint: check the port in the relay URL and that openscope-relay is running there");
  // The daemon logged the cause as a warning too.
  expect(c.daemon!.stderr()).toMatch(/ warn  share [0-9a-f]{12}: relay leg cannot connect: connection refused/);
}, 30_000);

test("a wrong deployment token: 401, check the token", async () => {
  const r = await openWith([], { OPENSCOPE_RELAY_TOKEN: "not-the-deployment-token" });
  expect(r.code).toBe(4);
  expect(r.stderr).toContain("the relay refused the deployment token (401)");
  expect(r.stderr).toContain("hint: the daemon's token must be a line of the relay's tokens file");
  expect(r.stderr + c.daemon!.stderr()).not.toContain("not-the-deployment-token");
}, 30_000);

test("a self-signed certificate: TLS, not signed by a trusted CA", async () => {
  const port = await tlsRelay(certs.good);
  const r = await openWith(["--relay", `wss://127.0.0.1:${port}`]);
  expect(r.code).toBe(4);
  expect(r.stderr).toContain("TLS: its certificate is not signed by a trusted CA (self-signed or unknown issuer)");
  expect(r.stderr).toContain("NODE_EXTRA_CA_CERTS");
}, 30_000);

test("a certificate for another name: TLS, name mismatch", async () => {
  const port = await tlsRelay(certs.otherName);
  const r = await openWith(["--relay", `wss://127.0.0.1:${port}`], { NODE_EXTRA_CA_CERTS: certs.otherName.cert });
  expect(r.code).toBe(4);
  expect(r.stderr).toContain("TLS: its certificate does not name this host");
}, 30_000);

test("an expired certificate: TLS, expired", async () => {
  const port = await tlsRelay(certs.expired);
  const r = await openWith(["--relay", `wss://localhost:${port}`], { NODE_EXTRA_CA_CERTS: certs.expired.cert });
  expect(r.code).toBe(4);
  expect(r.stderr).toContain("TLS: its certificate has expired");
}, 30_000);
