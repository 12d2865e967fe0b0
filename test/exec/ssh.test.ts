// The ssh adapter end to end against a real sshd on 127.0.0.1: the system ssh client runs
// through startVerb (scrubbed env, no shell on our side), and hostile parameter values, quoted
// by lib/exec/argv.ts, reach the remote side as one inert argument each.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderSshArgv, shellQuote } from "../../lib/exec/argv.ts";
import type { VerbDef } from "../../lib/capability/catalog.ts";
import { enumConstraint } from "../../lib/capability/constraint.ts";
import { startVerb, type RunResult } from "../../lib/exec/process.ts";
import { startSshd, type TestSshd } from "../helpers/sshd.ts";

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

async function run(argv: string[]): Promise<{ result: RunResult; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const verb = startVerb({ argv, timeoutMs: 20_000, maxOutputBytes: 1 << 20 }, (stream, chunk) => {
    if (stream === "stdout") stdout += Buffer.from(chunk).toString();
    else stderr += Buffer.from(chunk).toString();
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
    const { result, stdout, stderr } = await run(argv);
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

  test("the timeout ends the local ssh client (the remote side is not signalled: see THREAT-MODEL.md)", async () => {
    const verb = startVerb({ argv: sshd.sshArgv("echo started; sleep 5"), timeoutMs: 1_000, maxOutputBytes: 1000 }, () => {});
    const result = await verb.done;
    expect(result.timedOut).toBe(true);
    // ssh catches SIGTERM and exits 255 itself
    expect(result.exitCode === 255 || result.signal !== null).toBe(true);
  });
});
