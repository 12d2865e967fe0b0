// Outbound-only, shown (issue 8): the compiled daemon runs in its own network namespace whose
// nftables input policy drops every inbound connection (only replies to its own outbound ones
// pass); the relay listens on the host end of a veth pair in a private /30; a share completes.
// Skipped, with the reason printed, only where `ip netns` is not permitted. Needs nft (nftables).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cluster, commandFor, startBackground, testCatalog, type Background } from "../helpers/cluster.ts";

const suffix = randomBytes(3).toString("hex");
const NS = `osf2-${suffix}`;
const HOST_IF = `vh${suffix}`;
const NS_IF = `vn${suffix}`;
const octet = 1 + (parseInt(suffix, 16) % 250);
const HOST_IP = `10.200.${octet}.1`;
const NS_IP = `10.200.${octet}.2`;

function sh(cmd: string[]): { code: number; out: string } {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? -1, out: `${r.stdout.toString()}${r.stderr.toString()}` };
}

function must(cmd: string[]): string {
  const r = sh(cmd);
  if (r.code !== 0) throw new Error(`${cmd.join(" ")} failed (${r.code}): ${r.out}`);
  return r.out;
}

const probe = sh(["ip", "netns", "add", NS]);
const permitted = probe.code === 0;
if (!permitted) console.log(`netns-outbound: skipped: \`ip netns add\` is not permitted here: ${probe.out.trim()}`);

let c: Cluster;
let relay: Background & { port: number };
let daemon: Background;
const extra: Background[] = [];

/** TCP sockets in LISTEN state inside the namespace (from its own /proc/net/tcp{,6}). */
function listeningInNamespace(): string[] {
  const out: string[] = [];
  for (const f of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const r = sh(["ip", "netns", "exec", NS, "cat", f]);
    for (const line of r.out.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === "0A") out.push(cols[1]!);
    }
  }
  return out;
}

async function reachable(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1500) });
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  if (!permitted) return;
  must(["ip", "link", "add", HOST_IF, "type", "veth", "peer", "name", NS_IF]);
  must(["ip", "link", "set", NS_IF, "netns", NS]);
  must(["ip", "addr", "add", `${HOST_IP}/30`, "dev", HOST_IF]);
  must(["ip", "link", "set", HOST_IF, "up"]);
  must(["ip", "netns", "exec", NS, "ip", "addr", "add", `${NS_IP}/30`, "dev", NS_IF]);
  must(["ip", "netns", "exec", NS, "ip", "link", "set", NS_IF, "up"]);
  must(["ip", "netns", "exec", NS, "ip", "link", "set", "lo", "up"]);
}, 30_000);

afterAll(async () => {
  if (!permitted) return;
  for (const b of extra) await b.stop("SIGKILL");
  await daemon?.stop();
  await relay?.stop();
  sh(["ip", "netns", "del", NS]); // takes the veth pair with it
  sh(["ip", "link", "del", HOST_IF]);
  if (c) await c.stop();
});

test.skipIf(!permitted)("a daemon whose namespace drops every inbound connection still completes a share", async () => {
  // Without the firewall, a listener inside the namespace is reachable from the host (the control).
  const listener = await startBackground(
    ["ip", "netns", "exec", NS, process.execPath, "-e", `Bun.serve({hostname:"${NS_IP}",port:18080,fetch:()=>new Response("hi")});console.error("probe listening");setInterval(()=>{},1e6)`],
    {},
    /probe listening/,
  );
  extra.push(listener);
  expect(await reachable(`http://${NS_IP}:18080/`)).toBe(true);
  // The namespace's firewall: every inbound connection is dropped; replies to outbound ones pass.
  const rules = `table inet outbound_only {
  chain input {
    type filter hook input priority 0; policy drop;
    ct state established,related accept
  }
}
`;
  const applied = Bun.spawnSync(["ip", "netns", "exec", NS, "nft", "-f", "-"], { stdin: new TextEncoder().encode(rules), stdout: "pipe", stderr: "pipe" });
  expect(applied.exitCode).toBe(0);
  expect(must(["ip", "netns", "exec", NS, "nft", "list", "ruleset"])).toContain("policy drop");
  expect(await reachable(`http://${NS_IP}:18080/`)).toBe(false);
  await listener.stop("SIGKILL");

  // The relay on the host end of the veth; the daemon inside the namespace dials out to it.
  c = new Cluster("binary");
  const rb = await startBackground(
    [...commandFor("binary", "openscope-relay"), "--listen", `${HOST_IP}:0`, "--tokens-file", join(c.dir, "tokens.txt")],
    {},
    /listening on https?:\/\/[\d.]+:(\d+)/,
  );
  relay = Object.assign(rb, { port: Number(rb.match[1]) });
  await c.init(testCatalog(join(c.dir, "data")));
  writeFileSync(join(c.home, "config.toml"), `relay = "ws://${HOST_IP}:${relay.port}"\nrelay_token = "${c.token}"\n`, { mode: 0o600 });
  daemon = await startBackground(["ip", "netns", "exec", NS, ...commandFor("binary", "openscope"), "daemon"], { OPENSCOPE_HOME: c.home }, /control socket/);
  expect((await c.openscope(["grant", "add", "--agent", "you", "--verb", "ssh.tail_logs"])).code).toBe(0);
  const vendor = c.recipient("vendor");
  const pub = await vendor.keygen();
  expect((await c.openscope(["recipients", "add", "vendor-b", pub])).code).toBe(0);
  const share = await c.openShare(["--agent", "you", "--verb", "ssh.tail_logs:service=web", "--to", "vendor-b", "--ttl", "5m"]);
  const r = await vendor.call(share, "ssh.tail_logs", ["lines=2"]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(r.stdout).toBe("web line 99\nweb line 100\n");
  // The daemon listens on no network port at all, and the firewall did drop inbound packets.
  expect(listeningInNamespace()).toEqual([]);
  const rows = await c.auditRows(share.id);
  expect(rows.map((x) => x.kind)).toContain("call.outcome");
  // And it really ran in the namespace (`ip netns exec` execs it in place).
  expect(readlinkSync(`/proc/${daemon.proc.pid}/ns/net`)).not.toBe(readlinkSync("/proc/self/ns/net"));
}, 120_000);
