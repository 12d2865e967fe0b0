// The ssh adapter end to end against a real sshd on 127.0.0.1: the system ssh client runs
// through startVerb (scrubbed env, no shell on our side), and hostile parameter values, quoted
// by lib/exec/argv.ts, reach the remote side as one inert argument each.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderSshArgv, shellQuote } from "../../lib/exec/argv.ts";
import type { VerbDef } from "../../lib/capability/catalog.ts";
import { enumConstraint } from "../../lib/capability/constraint.ts";
import { startVerb, type RunResult } from "../../lib/exec/process.ts";
import { startSshd, type TestSshd } from "../helpers/sshd.ts";
import { parseCatalog } from "../../lib/capability/catalog.ts";
import { runVerb } from "../../lib/daemon/verb-runner.ts";
import { waitFor } from "../helpers/spawn.ts";

let sshd: TestSshd;
let canary: string;

beforeAll(async () => {
  sshd = await startSshd();
  // a folder an injected command would write into; it must stay empty
  canary = mkdtempSync(join(tmpdir(), "openscope-canary-"));
}, 30_000);
afterAll(async () => {
  await sshd?.stop();
  rmSync(canary, { recursive: true, force: true });
});

async function run(argv: string[], holdStdin = false): Promise<{ result: RunResult; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const verb = startVerb({ argv, timeoutMs: 20_000, maxOutputBytes: 1 << 20, holdStdin }, (stream, chunk) => {
    if (stream === "stdout") stdout += Buffer.concat([...chunk]).toString();
    else stderr += Buffer.concat([...chunk]).toString();
  });
  const result = await verb.done;
  return { result, stdout, stderr };
}

const HOSTILE = [
  "web",
  "",
  " ",
  "a b  c",
  "; touch CANARY/semicolon",
  "$(touch CANARY/dollar)",
  "`touch CANARY/backtick`",
  "| touch CANARY/pipe",
  "&& touch CANARY/and",
  "> CANARY/redirect",
  "'",
  "'; touch CANARY/quote; '",
  "'\\''",
  '"; touch CANARY/dq; "',
  "\\",
  "$HOME",
  "${IFS}",
  "*",
  "~",
  "-oProxyCommand=touch CANARY/proxy",
  "--",
  "line1\nline2",
  "tab\there",
  "ünïcödé ✓",
  "#comment",
  "!!",
];

describe("ssh through startVerb against a real sshd", () => {
  test("a plain remote command runs and its exit code comes back", async () => {
    const { result, stdout } = await run(sshd.sshArgv("echo hello; exit 7"));
    expect(stdout).toBe("hello\n");
    expect(result.exitCode).toBe(7);
  });

  test("hostile values each arrive as one inert argument", async () => {
    const values = HOSTILE.map((v) => v.replaceAll("CANARY", canary));
    const remote = ["printf", "%s\\0", ...values].map(shellQuote).join(" ");
    const { result, stdout, stderr } = await run(sshd.sshArgv(remote));
    expect({ code: result.exitCode, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout.split("\0").slice(0, -1)).toEqual(values);
    expect(readdirSync(canary)).toEqual([]);
  });

  test("renderSshArgv's argv runs as-is and keeps a hostile value in one remote argument", async () => {
    const msg = `'; touch ${canary}/rendered; echo $(id) \`id\` | cat > ${canary}/x`;
    const verb: VerbDef = {
      name: "ssh.echo",
      summary: "print the argument",
      adapter: "ssh",
      host: "127.0.0.1",
      user: sshd.user,
      port: sshd.port,
      argv: ["printf", "%s\\0", "{msg}", "tail"],
      timeoutMs: 10_000,
      maxOutputBytes: 1 << 20,
      params: { msg: { name: "msg", constraint: enumConstraint([msg]), allow: ["slash", "whitespace"] } },
    };
    const argv = renderSshArgv(verb, { msg }, {
      knownHostsFile: sshd.knownHosts,
      identityFile: sshd.clientKey,
      extraOptions: ["IdentitiesOnly=yes", "GlobalKnownHostsFile=/dev/null"],
    });
    expect(argv[0]).toBe("ssh");
    const { result, stdout, stderr } = await run(argv, true);
    expect({ code: result.exitCode, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout.split("\0").slice(0, -1)).toEqual([msg, "tail"]);
    expect(readdirSync(canary)).toEqual([]);
  });

  test("an unknown host key is refused (BatchMode, strict checking), not trusted on first use", async () => {
    const argv = sshd.sshArgv("echo should-not-run").map((a) =>
      a.startsWith("UserKnownHostsFile=") ? "UserKnownHostsFile=/dev/null" : a,
    );
    const { result, stdout, stderr } = await run(argv);
    expect(result.exitCode).toBe(255);
    expect(stdout).toBe("");
    expect(stderr).toContain("Host key verification failed");
  });

  // THREAT-MODEL.md: a cancelled or timed-out ssh verb ends on the remote host too, not only the
  // local ssh client (the remote watchdog of lib/exec/argv.ts, stdin held open by startVerb).
  function remoteVerb(name: string, argv: string[], timeoutMs: number): VerbDef {
    return { name, summary: "a long remote command", adapter: "ssh", host: "127.0.0.1", user: sshd.user, port: sshd.port, argv, timeoutMs, maxOutputBytes: 1 << 20, params: {} };
  }
  const sshOptions = () => ({ knownHostsFile: sshd.knownHosts, identityFile: sshd.clientKey, extraOptions: ["IdentitiesOnly=yes", "GlobalKnownHostsFile=/dev/null"] });
  /** The remote command writes its pid (it is on this host: sshd is on 127.0.0.1) and its child's, then waits. */
  function sleeper(pidFile: string): string[] {
    return ["sh", "-c", `sleep 300 & echo "$$ $!" > ${pidFile}; echo started; wait`];
  }
  const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));

  for (const how of ["cancel", "timeout"] as const)
    test(`${how}: the remote command and its child end too, not only the local ssh client`, async () => {
      const pidFile = join(canary, `${how}.pids`);
      const def = remoteVerb(`ssh.${how}`, sleeper(pidFile), how === "timeout" ? 3_000 : 60_000);
      const verb = startVerb({ argv: renderSshArgv(def, {}, sshOptions()), timeoutMs: def.timeoutMs, maxOutputBytes: 1000, holdStdin: true }, () => {});
      const pids = await waitFor(() => readPids(pidFile), "the remote command to start", 15_000);
      expect(pids.length).toBe(2);
      expect(pids.every(alive)).toBe(true);
      if (how === "cancel") verb.cancel("test");
      const result = await verb.done;
      expect(how === "cancel" ? result.cancelled : result.timedOut).toBe(true);
      // SIGTERM at once, SIGKILL a second later: both are gone well within the deadline.
      await waitFor(() => !pids.some(alive), `remote pids ${pids.join(", ")} to end`, 5_000);
      rmSync(pidFile);
    }, 30_000);

  test("a remote command that ends on its own keeps its output and exit code under the watchdog", async () => {
    const def = remoteVerb("ssh.exit", ["sh", "-c", "echo out; echo err >&2; exit 7"], 20_000);
    let stdout = "";
    let stderr = "";
    const verb = startVerb({ argv: renderSshArgv(def, {}, sshOptions()), timeoutMs: 20_000, maxOutputBytes: 1000, holdStdin: true }, (stream, chunk) => {
      if (stream === "stdout") stdout += Buffer.concat([...chunk]).toString();
      else stderr += Buffer.concat([...chunk]).toString();
    });
    const result = await verb.done;
    expect({ stdout, stderr, code: result.exitCode }).toEqual({ stdout: "out\n", stderr: "err\n", code: 7 });
  }, 30_000);
});

describe("redaction through the ssh adapter (SPEC.md §17.3)", () => {
  // The daemon's own adapter switch, with a catalog parsed from verbs.toml text: a remote verb's
  // output is redacted like a local one's, site rules included, unless the verb says redact = false.
  const KEY = "AKIA" + "IOSFODNN7EXAMPLE";
  const script = `printf 'id=${KEY.slice(0, 9)}'; sleep 0.3; printf '${KEY.slice(9)} acme_0123456789abcdef\\n'`;
  const catalogText = (redact: string) => `
[redact]
extra = [{ id = "acme-token", pattern = "acme_[a-z0-9]{16}" }]

[verb."ssh.leak"]
summary = "print a key in two halves on the remote host"
adapter = "ssh"
host = "127.0.0.1"
user = "${sshd.user}"
port = ${sshd.port}
argv = ["sh", "-c", ${JSON.stringify(script)}]
timeout = "20s"
max_output = "4KiB"
${redact}
`;
  async function runLeak(redact: string): Promise<{ stdout: string; result: RunResult }> {
    const catalog = parseCatalog(catalogText(redact));
    let stdout = "";
    const verb = runVerb({ catalog: () => catalog, ssh: { knownHostsFile: sshd.knownHosts, identityFile: sshd.clientKey } }, "ssh.leak", {}, (stream, chunk) => {
      if (stream === "stdout") stdout += Buffer.concat([...chunk]).toString();
    });
    const result = await verb.done;
    return { stdout, result };
  }
  test("a key split across two remote writes, and a site rule's token, arrive as markers", async () => {
    const { stdout, result } = await runLeak("");
    expect(stdout).toBe("id=[REDACTED:aws-access-key-id] [REDACTED:acme-token]\n");
    expect(result.redactions).toEqual({ "aws-access-key-id": 1, "acme-token": 1 });
  }, 30_000);
  test("redact = false on the verb: the remote output arrives raw", async () => {
    const { stdout, result } = await runLeak("redact = false");
    expect(stdout).toBe(`id=${KEY} acme_0123456789abcdef\n`);
    expect(result.redactions).toEqual({});
  }, 30_000);
});

/** The two pids the remote command wrote ("$$ $!"), once the line is complete. */
function readPids(file: string): number[] | undefined {
  if (!existsSync(file)) return undefined;
  const m = /^(\d+) (\d+)\n$/.exec(readFileSync(file, "utf8"));
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}
