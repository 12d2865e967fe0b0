// End to end: the real relay process (`bun relay.ts …`) on 127.0.0.1:0. Flags and their errors,
// pairing through the process, SIGHUP token reload without dropping live sessions, SIGTERM drain.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, runProgram, waitFor } from "../helpers/spawn.ts";
import { freePort } from "../helpers/haproxy.ts";
import { newRid, openLeg, openPair, PAIRED, PEER_GONE, spawnRelay, upgradeStatus, type RelayProcess } from "./legs.ts";

const dir = mkdtempSync(join(tmpdir(), "relay-cli-"));
const tokensFile = join(dir, "tokens.txt");
const running: RelayProcess[] = [];
afterEach(() => {
  for (const r of running.splice(0)) if (r.proc.exitCode === null) r.proc.kill("SIGKILL");
});

async function relay(args: string[] = []): Promise<RelayProcess> {
  const r = await spawnRelay(["--tokens-file", tokensFile, ...args]);
  running.push(r);
  return r;
}

describe("flags", () => {
  test("--help shows every limit with its default", async () => {
    const r = await runProgram("relay.ts", ["--help"]);
    expect(r.code).toBe(0);
    for (const flag of ["--max-message", "--backpressure", "--grace", "--unpaired-max", "--idle-timeout", "--max-legs-per-token", "--rate", "--rate-burst", "--tls-cert"]) {
      expect(r.stdout).toContain(flag);
    }
    expect(r.stdout).toContain("(Default: 65KiB)");
    expect(r.stdout).toContain("(Default: 5s)");
  }, 60_000);

  test("bad flags exit 2 with a clear error", async () => {
    writeFileSync(tokensFile, "t1\n", { mode: 0o600 });
    const cases: Array<[string[], RegExp]> = [
      [["--listen", "nowhere"], /--listen "nowhere" is not host:port/],
      [["--listen", "127.0.0.1:0"], /--tokens-file is required/],
      [["--listen", "127.0.0.1:0", "--tokens-file", join(dir, "missing")], /cannot read tokens file/],
      [["--listen", "127.0.0.1:0", "--tokens-file", tokensFile, "--grace", "5"], /relay: --grace: "5" is not a duration/],
      [["--listen", "127.0.0.1:0", "--tokens-file", tokensFile, "--rate", "-3"], /--rate "-3" is not a positive whole number/],
      [["--listen", "127.0.0.1:0", "--tokens-file", tokensFile, "--tls-cert", "c.pem"], /--tls-cert and --tls-key go together/],
      [["--listen", "127.0.0.1:0", "--tokens-file", tokensFile, "--trust-proxy", "10.0.0.0/33"], /--trust-proxy "10.0.0.0\/33" is not an address or CIDR range/],
      [["--listen", "127.0.0.1:0", "--tokens-file", tokensFile, "--metrics-listen", "9100"], /--metrics-listen "9100" is not host:port/],
      [["--listen", "127.0.0.1:0", "--tokens-file", tokensFile, "--log-format", "xml"], /--log-format "xml" is not one of: text, json/],
      [["--listen", "127.0.0.1:0", "--tokens-file", tokensFile, "--log-level", "loud"], /--log-level "loud" is not one of: error, warn, info, debug/],
    ];
    // A tokens file others can read or write is refused like verbs.toml (THREAT-MODEL "Relay").
    const exposed = join(dir, "tokens-exposed.txt");
    writeFileSync(exposed, "t1\n");
    chmodSync(exposed, 0o644);
    cases.push([["--listen", "127.0.0.1:0", "--tokens-file", exposed], /tokens file .*tokens-exposed\.txt is readable by others/]);
    const writable = join(dir, "tokens-writable.txt");
    writeFileSync(writable, "t1\n");
    chmodSync(writable, 0o620);
    cases.push([["--listen", "127.0.0.1:0", "--tokens-file", writable], /tokens file .*tokens-writable\.txt is writable by group or others/]);
    for (const [args, re] of cases) {
      const r = await runProgram("relay.ts", args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^openscope-relay: error: relay: /);
      expect(r.stderr).toMatch(re);
    }
  }, 60_000);

  test("a port in use is a clear error", async () => {
    writeFileSync(tokensFile, "t1\n", { mode: 0o600 });
    const first = await relay();
    const r = await runProgram("relay.ts", ["--listen", `127.0.0.1:${first.port}`, "--tokens-file", tokensFile]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${first.port}: address already in use`);
  }, 60_000);
});

describe("the relay process", () => {
  test("pairs and forwards; SIGHUP reloads tokens without dropping live sessions", async () => {
    writeFileSync(tokensFile, "# first\nt1\n", { mode: 0o600 });
    const r = await relay();
    const s1 = await openPair(r.url, "t1");
    const path = `/v1/rendezvous/${newRid()}?role=daemon`;
    expect(await upgradeStatus(r.port, path, { authorization: "Bearer t2" })).toBe(401);

    writeFileSync(tokensFile, "t1\nt2\n", { mode: 0o600 });
    r.proc.kill("SIGHUP");
    await waitFor(() => r.stderr().includes("reloaded 2 deployment tokens"), "reload line");
    const s2 = await openPair(r.url, "t2");
    s1.daemon.ws.send(Buffer.from("still up"));
    await waitFor(() => s1.client.binaries.length === 1, "frame on the old session");

    // Dropping a token at a reload ends that token's daemon legs (revoked) and nothing else.
    writeFileSync(tokensFile, "t2\n", { mode: 0o600 });
    r.proc.kill("SIGHUP");
    expect((await s1.daemon.waitClosed()).code).toBe(4003);
    await s1.client.waitText(PEER_GONE);
    s2.client.ws.send(Buffer.from("s2 lives"));
    await waitFor(() => s2.daemon.binaries.length === 1, "frame on the other session");

    // A reload that fails keeps the tokens in force.
    writeFileSync(tokensFile, "bad token line\n", { mode: 0o600 });
    r.proc.kill("SIGHUP");
    await waitFor(() => r.stderr().includes("tokens not reloaded"), "reload error line");
    expect(await upgradeStatus(r.port, `/v1/rendezvous/${newRid()}?role=daemon`, { authorization: "Bearer t2" })).toBe(101);
    expect(r.stderr()).not.toContain(s1.rid);
  }, 60_000);

  test("--log-format json: one JSON object per line with time and level; --log-level warn drops info", async () => {
    writeFileSync(tokensFile, "t1\n", { mode: 0o600 });
    const r = await relay(["--log-format", "json"]);
    const s = await openPair(r.url, "t1");
    s.client.ws.close();
    await s.client.waitClosed();
    await waitFor(() => r.stderr().includes("client leg down"), "leg-down line");
    const lines = r.stderr().trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const l of lines) {
      expect(typeof l.time).toBe("string");
      expect(Number.isNaN(Date.parse(l.time as string))).toBe(false);
      expect(["error", "warn", "info", "debug"]).toContain(l.level as string);
    }
    expect(lines.find((l) => l.msg === "client leg down: happy")).toMatchObject({ level: "info", role: "client", outcome: "happy", source: "127.0.0.1" });
    expect(r.stderr()).not.toContain(s.rid);

    // --log-level warn: the listening line (info) is not written, a refused token (warn) is.
    const port = freePort();
    const proc = Bun.spawn([process.execPath, "relay.ts", "--listen", `127.0.0.1:${port}`, "--tokens-file", tokensFile, "--log-level", "warn"], { cwd: ROOT, stderr: "pipe", stdout: "ignore" });
    try {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.ok === true, "quiet relay up");
      expect(await upgradeStatus(port, `/v1/rendezvous/${newRid()}?role=daemon`, { authorization: "Bearer nope" })).toBe(401);
    } finally {
      proc.kill("SIGTERM");
    }
    await proc.exited;
    const err = await new Response(proc.stderr).text();
    expect(err).toContain(" warn  daemon leg refused: deployment token not accepted");
    expect(err).not.toContain(" info  ");
  }, 60_000);

  test("--tls-cert/--tls-key serve wss:// directly", async () => {
    writeFileSync(tokensFile, "t1\n", { mode: 0o600 });
    const cert = join(dir, "cert.pem");
    const key = join(dir, "key.pem");
    const gen = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert], { stderr: "pipe" });
    expect(gen.exitCode).toBe(0);
    const r = await relay(["--tls-cert", cert, "--tls-key", key]);
    expect(r.url).toStartWith("https://127.0.0.1:");
    const res = await fetch(`${r.url}/healthz`, { tls: { rejectUnauthorized: false } } as RequestInit);
    expect(await res.text()).toBe("ok\n");
  }, 60_000);

  test("SIGTERM closes every leg with 1001 and exits 0", async () => {
    writeFileSync(tokensFile, "t1\n", { mode: 0o600 });
    const r = await relay();
    const a = await openPair(r.url, "t1");
    const lone = openLeg(r.url, newRid(), "daemon", "t1");
    expect(await lone.ready).toBe(true);
    r.proc.kill("SIGTERM");
    for (const leg of [a.daemon, a.client, lone]) expect((await leg.waitClosed()).code).toBe(1001);
    expect(await r.proc.exited).toBe(0);
    expect(a.daemon.texts).toEqual([PAIRED]);
  }, 60_000);
});
