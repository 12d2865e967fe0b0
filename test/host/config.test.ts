// config.toml holds the relay's deployment token and ssh identity paths: like verbs.toml it is
// refused when others could have written it, and also when others can read it (THREAT-MODEL
// "The daemon's store and execution").
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readConfig } from "../../lib/host/config.ts";
import { OpenScopeError } from "../../lib/errors.ts";
import { runProgram } from "../helpers/spawn.ts";

const dir = mkdtempSync(join(tmpdir(), "openscope-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configWithMode(name: string, mode: number): string {
  const path = join(dir, name);
  writeFileSync(path, 'relay = "ws://127.0.0.1:1"\nrelay_token = "secret-token"\n');
  chmodSync(path, mode);
  return path;
}

function refusal(path: string): OpenScopeError {
  try {
    readConfig(path);
  } catch (e) {
    if (e instanceof OpenScopeError) return e;
    throw e;
  }
  throw new Error("expected readConfig to refuse");
}

describe("config.toml permissions", () => {
  test("0600 and 0640 are read", () => {
    expect(readConfig(configWithMode("a.toml", 0o600)).relay_token).toBe("secret-token");
    expect(readConfig(configWithMode("b.toml", 0o640)).relay_token).toBe("secret-token");
  });

  test("world-readable is refused (exit 2) and the message names the fix, not the token", () => {
    const e = refusal(configWithMode("c.toml", 0o644));
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe(`config.toml ${join(dir, "c.toml")} is readable by others`);
    expect(e.hints).toEqual([`chmod o-r ${join(dir, "c.toml")}`]);
    expect(JSON.stringify(e)).not.toContain("secret-token");
  });

  test("group- or world-writable is refused like verbs.toml", () => {
    for (const mode of [0o620, 0o602, 0o666]) {
      const e = refusal(configWithMode(`w${mode}.toml`, mode));
      expect(e.exitCode).toBe(2);
      expect(e.message).toContain("is writable by group or others");
    }
  });

  test("the daemon refuses to start on a world-readable config.toml (exit 2)", async () => {
    const home = join(dir, "home");
    expect((await runProgram("daemon.ts", ["init", "--home", home])).code).toBe(0);
    writeFileSync(join(home, "config.toml"), 'relay = "ws://127.0.0.1:1"\nrelay_token = "secret-token"\n');
    chmodSync(join(home, "config.toml"), 0o644);
    const r = await runProgram("daemon.ts", ["daemon", "--home", home], { timeoutMs: 20_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("config.toml");
    expect(r.stderr).toContain("is readable by others");
    expect(r.stderr).not.toContain("secret-token");
  }, 30_000);
});

describe("control_group", () => {
  test("a group name is read; anything else is refused naming the key", () => {
    const ok = join(dir, "group-ok.toml");
    writeFileSync(ok, 'control_group = "openscope"\n', { mode: 0o600 });
    expect(readConfig(ok).control_group).toBe("openscope");
    const bad = join(dir, "group-bad.toml");
    writeFileSync(bad, 'control_group = "../etc"\n', { mode: 0o600 });
    expect(refusal(bad).message).toMatch(/config\.toml: .*must be a group name/);
  });
});
