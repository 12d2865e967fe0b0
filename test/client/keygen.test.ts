// `openscope-reflect-client keygen` from source: the key file is 0600, an existing key is never
// overwritten without --force, stdout carries only the public key line and stderr the sentence on
// what to send to the operator; --key FILE (before or after the subcommand) picks the path.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readRecipientKey } from "../../lib/host/keyfile.ts";
import { encodePublicKey } from "../../lib/crypto/keys.ts";
import { runProgram } from "../helpers/spawn.ts";

const dir = mkdtempSync(join(tmpdir(), "openscope-keygen-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const client = (args: string[], configHome = join(dir, "cfg")) => runProgram("client.ts", args, { env: { XDG_CONFIG_HOME: configHome } });

describe("keygen", () => {
  test("writes the key 0600 under $XDG_CONFIG_HOME/openscope and prints one line", async () => {
    const r = await client(["keygen"]);
    expect(r.code).toBe(0);
    const path = join(dir, "cfg", "openscope", "recipient.key");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const lines = r.stdout.split("\n");
    expect(lines.length).toBe(2);
    expect(lines[1]).toBe("");
    expect(lines[0]).toBe(encodePublicKey(readRecipientKey(path).publicKey));
    expect(r.stderr).toContain(path);
    expect(r.stderr).toContain("Send the public key above to the operator");
    expect(r.stderr).toContain(`openscope recipients add <your-alias> ${lines[0]}`);
  });

  test("refuses to overwrite without --force (exit 2), keeps the old key; --force replaces it", async () => {
    const path = join(dir, "cfg", "openscope", "recipient.key");
    const before = readFileSync(path, "utf8");
    const again = await client(["keygen"]);
    expect(again.code).toBe(2);
    expect(again.stdout).toBe("");
    expect(again.stderr).toContain("already exists");
    expect(readFileSync(path, "utf8")).toBe(before);
    const forced = await client(["keygen", "--force"]);
    expect(forced.code).toBe(0);
    expect(readFileSync(path, "utf8")).not.toBe(before);
    expect(forced.stdout.trim()).toBe(encodePublicKey(readRecipientKey(path).publicKey));
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  test("--key FILE writes there, as a subcommand flag or a global one", async () => {
    const a = join(dir, "a.key");
    const b = join(dir, "nested", "b.key");
    const ra = await client(["keygen", "--key", a]);
    const rb = await client(["--key", b, "keygen"]);
    expect(ra.code).toBe(0);
    expect(rb.code).toBe(0);
    expect(ra.stdout.trim()).toBe(encodePublicKey(readRecipientKey(a).publicKey));
    expect(rb.stdout.trim()).toBe(encodePublicKey(readRecipientKey(b).publicKey));
    expect(ra.stdout).not.toBe(rb.stdout);
    expect(statSync(a).mode & 0o777).toBe(0o600);
    expect(statSync(b).mode & 0o777).toBe(0o600);
  });

  test("--show prints the public key of the key already there, writes nothing; no key is exit 2", async () => {
    const cfg = join(dir, "show");
    const none = await client(["keygen", "--show"], cfg);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("there is no key at");
    expect(none.stdout).toBe("");
    const made = await client(["keygen"], cfg);
    const path = join(cfg, "openscope", "recipient.key");
    const before = readFileSync(path, "utf8");
    const shown = await client(["keygen", "--show"], cfg);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toBe(made.stdout);
    expect(shown.stderr).toBe("");
    expect(readFileSync(path, "utf8")).toBe(before);
    expect((await client(["keygen", "--show", "--force"], cfg)).code).toBe(2);
    expect(readFileSync(path, "utf8")).toBe(before);
  });
});
