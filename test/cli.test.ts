// The CLI shell of all three programs: --help names every subcommand of README "Using it",
// --version prints package.json's version, errors follow the output rules and exit codes.
import { describe, expect, test } from "bun:test";
import pkg from "../package.json" with { type: "json" };
import { runProgram } from "./helpers/spawn.ts";

describe("openscope --help and --version", () => {
  test("operator CLI names every subcommand", async () => {
    const r = await runProgram("daemon.ts", ["--help"]);
    expect(r.code).toBe(0);
    for (const c of ["init", "daemon", "verbs", "grant", "recipients", "share", "audit", "fingerprint"]) {
      expect(r.stdout).toContain(c);
    }
  });
  test("subcommand groups name their subcommands", async () => {
    const groups: Record<string, string[]> = {
      grant: ["add", "list", "revoke"],
      recipients: ["add", "list", "remove"],
      share: ["open", "list", "extend", "revoke"],
    };
    for (const [g, subs] of Object.entries(groups)) {
      const r = await runProgram("daemon.ts", [g, "--help"]);
      expect(r.code).toBe(0);
      for (const s of subs) expect(r.stdout).toContain(s);
    }
  });
  test("client and relay help", async () => {
    const c = await runProgram("client.ts", ["--help"]);
    expect(c.code).toBe(0);
    for (const s of ["keygen", "call", "mcp", "--passport", "--fingerprint", "--key"]) expect(c.stdout).toContain(s);
    const r = await runProgram("relay.ts", ["--help"]);
    expect(r.code).toBe(0);
    for (const s of ["--listen", "--tokens-file", "--tls-cert", "--tls-key"]) expect(r.stdout).toContain(s);
  });
  test("--version prints the package version", async () => {
    for (const entry of ["daemon.ts", "relay.ts", "client.ts"]) {
      const r = await runProgram(entry, ["--version"]);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(pkg.version);
    }
  });
});

describe("error output", () => {
  test("a group without a subcommand is a usage error (exit 2)", async () => {
    const r = await runProgram("daemon.ts", ["share"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("openscope: error: \"openscope share\" needs a command");
    expect(r.stderr).toContain("hint: ");
  });
  test("an unknown command is a usage error (exit 2), no stack trace", async () => {
    const r = await runProgram("daemon.ts", ["frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^openscope: error: unknown command/m);
    expect(r.stderr).not.toContain("    at ");
  });
  test("no colors when not a TTY", async () => {
    const r = await runProgram("daemon.ts", ["frobnicate"]);
    expect(r.stderr).not.toContain("\x1b[");
  });
});

describe("unknown options", () => {
  test("a misspelt option is refused (exit 2), never silently ignored", async () => {
    const r = await runProgram("daemon.ts", ["share", "open", "--agent", "you", "--verb", "x", "--bearer", "--tll", "5m"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("openscope: error: unknown option --tll");
    expect(r.stderr).toContain('hint: run "openscope share open --help" for the options');
  });
  test("options of the parent (client --passport) and --no-<flag> negations are accepted", async () => {
    const r = await runProgram("client.ts", ["--passport", "osh1damaged", "call", "echo.word", "--no-json", "word=x"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("handle is damaged");
    const relay = await runProgram("relay.ts", ["--listn", "127.0.0.1:0"]);
    expect(relay.code).toBe(2);
    expect(relay.stderr).toContain("unknown option --listn");
  });
});
