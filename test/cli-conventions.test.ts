// The CLI conventions every program keeps (README "Using it"): global flags anywhere, a flag that
// needs a value gets one, "did you mean" for commands and options, a group lists its commands,
// every --help ends with examples, exit codes and environment, completion scripts for bash, zsh
// and fish, a closed pipe ends a follow quietly, a user without a home is told what to do, and
// tables align with colours on.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CommandDef } from "citty";
import { clientMain } from "../cmd/client/index.ts";
import { commandTree } from "../cmd/completion.ts";
import { examplesFor } from "../cmd/help.ts";
import { openscopeMain } from "../cmd/openscope/index.ts";
import { formatTable } from "../cmd/output.ts";
import { relayMain } from "../cmd/relay/index.ts";
import { openscopeForOtherUsers } from "./helpers/other-user.ts";
import { ROOT, runProgram } from "./helpers/spawn.ts";

const dir = mkdtempSync(join(tmpdir(), "openscope-cli-"));
const home = join(dir, "home");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PROGRAMS: Array<[string, string, CommandDef<any>]> = [
  ["openscope", "daemon.ts", openscopeMain],
  ["openscope-relay", "relay.ts", relayMain],
  ["openscope-reflect-client", "client.ts", clientMain],
];

describe("global flags and values", () => {
  test("--home before the command names the home, not a command; same fingerprint as after it", async () => {
    expect((await runProgram("daemon.ts", ["--home", home, "init"])).code).toBe(0);
    const before = await runProgram("daemon.ts", ["--home", home, "fingerprint"]);
    const after = await runProgram("daemon.ts", ["fingerprint", "--home", home]);
    expect(before.stderr).toBe("");
    expect(before.code).toBe(0);
    expect(before.stdout).toBe(after.stdout);
    expect(before.stdout).toMatch(/^fingerprint: SHA256:/);
  }, 30_000);

  test("a string flag with no value is a usage error, never the default", async () => {
    for (const args of [["fingerprint", "--home"], ["fingerprint", "--home", "--json"]]) {
      const r = await runProgram("daemon.ts", args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("openscope: error: --home needs a value");
    }
  }, 30_000);
});

describe("did you mean", () => {
  test("a mistyped command", async () => {
    const r = await runProgram("daemon.ts", ["sahre", "list"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: unknown command "sahre"');
    expect(r.stderr).toContain('hint: did you mean "openscope share"?');
    const sub = await runProgram("daemon.ts", ["--home", home, "share", "lst"]);
    expect(sub.code).toBe(2);
    expect(sub.stderr).toContain('hint: did you mean "openscope share list"?');
  }, 30_000);

  test("a mistyped option", async () => {
    const r = await runProgram("daemon.ts", ["--home", home, "grant", "list", "--jsn"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: unknown option --jsn");
    expect(r.stderr).toContain("hint: did you mean --json?");
  }, 30_000);

  test("nothing close: no guess", async () => {
    const r = await runProgram("daemon.ts", ["zzzzzz"]);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain("did you mean");
  }, 30_000);
});

test("a group without a subcommand lists its subcommands (exit 2)", async () => {
  const r = await runProgram("daemon.ts", ["share"]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('error: "openscope share" needs a command: open, list');
  for (const sub of ["open", "list", "extend", "revoke"]) expect(r.stderr).toContain(sub);
}, 30_000);

describe("every --help has examples, the exit codes and the environment", () => {
  for (const [program, entry, main] of PROGRAMS) {
    test(`${program}: every command`, async () => {
      const nodes = await commandTree(main);
      const missing = nodes.map((n) => [program, ...n.path].join(" ")).filter((p) => examplesFor(p).length === 0);
      // A new command needs its examples in EXAMPLES of cmd/help.ts.
      expect(missing).toEqual([]);
      for (const n of nodes) {
        const r = await runProgram(entry, [...n.path, "--help"]);
        expect(r.code).toBe(0);
        expect(r.stdout).toContain("EXAMPLES");
        expect(r.stdout).toContain(examplesFor([program, ...n.path].join(" "))[0]!);
        expect(r.stdout).toContain("EXIT CODES");
        expect(r.stdout).toContain("  3   denied by policy");
        expect(r.stdout).toContain("ENVIRONMENT");
      }
    }, 120_000);
  }
});

describe("completion", () => {
  test("bash: the script parses and completes commands, subcommands and options", async () => {
    const script = (await runProgram("daemon.ts", ["completion", "bash"])).stdout;
    const file = join(dir, "openscope.bash");
    writeFileSync(file, script);
    const probe = `source ${file}
comp() { COMP_WORDS=("$@"); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); _openscope; echo "\${COMPREPLY[*]}"; }
comp openscope sh
comp openscope --home /x share ""
comp openscope share open --ag`;
    const r = Bun.spawnSync(["bash", "-c", probe]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.toString().split("\n")).toEqual(["share", "open list extend revoke watch kill --help", "--agent", ""]);
  }, 30_000);

  for (const [program, entry] of PROGRAMS) {
    test(`${program}: bash, zsh and fish scripts parse; zsh registers the function; fish completes`, async () => {
      for (const shell of ["bash", "zsh", "fish"]) {
        const r = await runProgram(entry, ["completion", shell]);
        expect(r.code).toBe(0);
        const file = join(dir, `${program}.${shell}`);
        writeFileSync(file, r.stdout);
        const check = Bun.spawnSync([shell, "-n", file]);
        expect(check.stderr.toString()).toBe("");
        expect(check.exitCode).toBe(0);
      }
      const fn = `_${program.replace(/-/g, "_")}`;
      const zsh = Bun.spawnSync(["zsh", "-c", `autoload -U compinit; compinit -u -d ${dir}/zcomp; source ${join(dir, `${program}.zsh`)}; print -r -- $_comps[${program}]`]);
      expect(zsh.stdout.toString().trim()).toBe(fn);
      const fish = Bun.spawnSync(["fish", "-c", `source ${join(dir, `${program}.fish`)}; complete -C "${program} comp"`]);
      expect(fish.stdout.toString()).toContain("completion\t");
    }, 60_000);
  }

  test("an unknown shell is a usage error", async () => {
    const r = await runProgram("daemon.ts", ["completion", "tcsh"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('completion: unknown shell "tcsh"');
  }, 30_000);
});

test("audit --follow | head -1 exits quietly once the reader is gone", async () => {
  expect((await runProgram("daemon.ts", ["--home", home, "grant", "add", "--agent", "you", "--verb", "sys.uptime"])).code).toBe(0);
  const follow = `"${process.execPath}" "${join(ROOT, "daemon.ts")}" --home "${home}" audit --follow`;
  const proc = Bun.spawn(["bash", "-c", `${follow} | head -1; echo "status=\${PIPESTATUS[0]}"`], {
    env: { ...process.env, NO_COLOR: "1" },
    stdout: "pipe",
    stderr: "pipe",
  });
  // After the first rows the follow has nothing new to write: only poll(2) can tell it the pipe is closed.
  const timer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
  const code = await proc.exited;
  clearTimeout(timer);
  expect(code).toBe(0);
  expect(await new Response(proc.stderr).text()).toBe("");
  const out = (await new Response(proc.stdout).text()).split("\n");
  expect(out[0]).toContain("grant.changed");
  expect(out[1]).toBe("status=0");
}, 30_000);

test("a user who is not root and chose no home is told to pass --home (exit 2)", async () => {
  const setpriv = Bun.which("setpriv");
  expect(process.getuid?.()).toBe(0); // tests run as root (README), so another user can be tried
  expect(setpriv).not.toBeNull();
  const program = await openscopeForOtherUsers();
  for (const args of [["init"], ["fingerprint"], ["share", "list"]]) {
    const r = Bun.spawnSync([setpriv!, "--reuid=nobody", "--regid=nogroup", "--clear-groups", ...program.argv, ...args], {
      env: { PATH: process.env.PATH, HOME: program.cwd, NO_COLOR: "1" },
      cwd: program.cwd,
    });
    expect(r.stderr.toString()).toContain("error: no OpenScope home for this user");
    expect(r.stderr.toString()).toContain("hint: pass --home DIR");
    expect(r.exitCode).toBe(2);
  }
}, 60_000);

test("tables align with colours on: escape codes take no column", () => {
  const red = (s: string) => `\x1b[31m${s}\x1b[0m`;
  const lines = formatTable(["ID", "STATE", "X"], [["a", red("live"), "1"], ["bb", "expired", "2"]]).map((l) => l.replace(/\x1b\[[0-9;]*m/g, ""));
  expect(lines).toEqual(["ID  STATE    X", "a   live     1", "bb  expired  2"]);
});
