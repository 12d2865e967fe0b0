// What reaches the recipient's terminal from the compiled client (THREAT-MODEL "What must never
// happen": daemon-supplied text reaching a terminal unescaped). A verb's escape codes are shown
// escaped when stdout is a terminal (a real pty, through script(1)), in `call` and in the prompt,
// unless --raw; piped `call` output stays byte-exact for scripts; the daemon's verb summaries are
// escaped in the prompt's list; a revoke during a running call is said once.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cluster, commandFor, testCatalog, type OpenedShare, type Recipient } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/spawn.ts";
import { pidsRunning } from "../helpers/procs.ts";

setDefaultTimeout(60_000);

const ESCAPES_VERB = `
[verb."esc.print"]
summary = "Print escape codes \\u001b]0;pwned\\u0007 and a \\u001b[2J clear"
adapter = "exec"
argv = ["printf", "a\\\\033[2Jb\\\\033]0;title\\\\007c\\\\rd\\\\n"]
timeout = "5s"
max_output = "4KiB"
`;
/** What the verb prints, byte for byte, and how a terminal is shown it. */
const RAW = "a\x1b[2Jb\x1b]0;title\x07c\rd\n";
const SHOWN = "a\\e[2Jb\\e]0;title\\u{7}c\\rd";

let c: Cluster;
let vendor: Recipient;
let share: OpenedShare;
let handleFile: string;

beforeAll(async () => {
  c = new Cluster("binary");
  await c.startRelay();
  await c.init(testCatalog(join(c.dir, "data")) + ESCAPES_VERB);
  await c.startDaemon();
  expect((await c.openscope(["grant", "add", "--agent", "you", "--verb", "esc.print", "--verb", "slow.sleep"])).code).toBe(0);
  vendor = c.recipient("vendor");
  share = await c.openShare(["--agent", "you", "--verb", "esc.print", "--verb", "slow.sleep", "--bearer", "--ttl", "10m"]);
  handleFile = join(c.dir, "handle.txt");
  writeFileSync(handleFile, share.handle, { mode: 0o600 });
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/** Runs the client with its stdio on a pty (script -q -e -c); returns all the pty showed. */
async function onTerminal(args: string[], input = ""): Promise<{ code: number; screen: string }> {
  const cmd = [...commandFor("binary", "openscope-reflect-client"), ...args].map(q).join(" ");
  const proc = Bun.spawn(["script", "-q", "-e", "-c", cmd, "/dev/null"], {
    env: { ...process.env, NO_COLOR: "1", XDG_CONFIG_HOME: vendor.configHome, TERM: "xterm" },
    stdin: input === "" ? "ignore" : new TextEncoder().encode(input),
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
  const [screen, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  clearTimeout(timer);
  return { code, screen };
}

/** Retries while the share's one client slot is still held by the previous session. */
async function settled<T extends { code: number; screen?: string; stderr?: string }>(run: () => Promise<T>): Promise<T> {
  return waitFor(async () => {
    const r = await run();
    return (r.screen ?? r.stderr ?? "").includes("another client is already connected") ? undefined : r;
  }, "the share's client slot", 20_000);
}

const base = () => ["--passport-file", handleFile, "--fingerprint", share.fingerprint];

describe("verb output on a terminal", () => {
  test("call: shown escaped, newline kept; no raw escape byte reaches the pty", async () => {
    const r = await settled(() => onTerminal([...base(), "call", "esc.print"]));
    expect(r.code).toBe(0);
    expect(r.screen).toContain(SHOWN);
    expect(r.screen).not.toContain("\x1b");
    expect(r.screen).not.toContain("\x07");
  });

  test("call --raw: the bytes as they are", async () => {
    const r = await settled(() => onTerminal([...base(), "call", "esc.print", "--raw"]));
    expect(r.code).toBe(0);
    expect(r.screen).toContain("a\x1b[2Jb\x1b]0;title\x07c\rd");
  });

  test("call into a pipe: byte-exact for scripts", async () => {
    const r = await settled(() => vendor.client([...base(), "call", "esc.print"]));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(RAW);
  });

  test("the prompt on a terminal: the verb's output escaped, the daemon's summary escaped in the list", async () => {
    const r = await settled(() => onTerminal(base(), "esc.print\nquit\n"));
    expect(r.screen).toContain(SHOWN);
    expect(r.screen).not.toContain("a\x1b[2Jb");
    expect(r.screen).not.toContain("\x1b]0;");
    expect(r.screen).toContain("Print escape codes \\e]0;pwned\\u{7} and a \\e[2J clear");
  });
});

describe("the daemon's words in the piped prompt", () => {
  test("the verb list escapes the summary even off a terminal", async () => {
    const r = await settled(() => vendor.client(base(), { stdin: "quit\n" }));
    expect(r.stderr).toContain("Print escape codes \\e]0;pwned\\u{7} and a \\e[2J clear");
    expect(r.stderr).not.toContain("\x1b");
  });
});

describe("a revoke while a call runs", () => {
  test("is said once, and the prompt exits 5", async () => {
    const own = await c.openShare(["--agent", "you", "--verb", "slow.sleep", "--bearer", "--ttl", "10m"]);
    const file = join(c.dir, "own.txt");
    writeFileSync(file, own.handle, { mode: 0o600 });
    const p = vendor.spawn(["--passport-file", file, "--fingerprint", own.fingerprint]);
    await waitFor(() => p.io.err.includes("type help for commands"), "the prompt", 20_000);
    p.write("slow.sleep seconds=87");
    await waitFor(() => pidsRunning("sleep", "87").length > 0, "the verb to run", 20_000);
    expect((await c.openscope(["share", "revoke", own.id])).code).toBe(0);
    expect(await p.proc.exited).toBe(5);
    await p.pumped;
    expect(p.io.err.split("revoked by the operator").length - 1).toBe(1);
  });

  test("an expiry while a call runs is said once too, with its hint; exit 5", async () => {
    const brief = await c.openShare(["--agent", "you", "--verb", "slow.sleep", "--bearer", "--ttl", "5s"]);
    const file = join(c.dir, "brief.txt");
    writeFileSync(file, brief.handle, { mode: 0o600 });
    const p = vendor.spawn(["--passport-file", file, "--fingerprint", brief.fingerprint]);
    await waitFor(() => p.io.err.includes("type help for commands"), "the prompt", 20_000);
    p.write("slow.sleep seconds=86");
    expect(await p.proc.exited).toBe(5);
    await p.pumped;
    expect(p.io.err.split("share expired").length - 1).toBe(1);
    expect(p.io.err.split("hint: ask the operator to extend it or open a new share").length - 1).toBe(1);
  });
});
