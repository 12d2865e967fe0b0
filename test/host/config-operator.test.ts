import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { approvalTimeoutMs, DEFAULT_APPROVAL_TIMEOUT_MS, readConfig } from "../../lib/host/config.ts";
import { OpenScopeError } from "../../lib/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "openscope-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function parse(text: string) {
  const p = join(dir, `c${n++}.toml`);
  writeFileSync(p, text, { mode: 0o600 });
  return readConfig(p);
}

describe("config.toml: approval and notify", () => {
  test("approval_timeout defaults to 5 minutes and takes a duration from 1s to 30m", () => {
    expect(approvalTimeoutMs(parse(""))).toBe(DEFAULT_APPROVAL_TIMEOUT_MS);
    expect(approvalTimeoutMs(parse('approval_timeout = "90s"'))).toBe(90_000);
    for (const bad of ['"0s"', '"31m"', '"5"', "5", '"soon"']) {
      expect(() => parse(`approval_timeout = ${bad}`)).toThrow(OpenScopeError);
    }
  });

  test("[notify] takes a command argv, a webhook and a delivery timeout", () => {
    const c = parse('[notify]\ncommand = ["/usr/local/bin/page-me", "--json"]\nwebhook = "https://hooks.example.com/x"\ntimeout = "3s"\n');
    expect(c.notify).toEqual({ command: ["/usr/local/bin/page-me", "--json"], webhook: "https://hooks.example.com/x", timeout: "3s" });
    expect(parse('[notify]\nwebhook = "http://127.0.0.1:8080/hook"').notify?.webhook).toBe("http://127.0.0.1:8080/hook");
  });

  test("[notify] refuses a plain-http webhook off loopback, an empty command and unknown keys", () => {
    const cases = ['[notify]\nwebhook = "http://hooks.example.com/x"', "[notify]\ncommand = []", '[notify]\ncommand = [""]', '[notify]\nurl = "https://x"', '[notify]\ntimeout = "10m"'];
    for (const text of cases) {
      let err: unknown;
      try {
        parse(text);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OpenScopeError);
      expect((err as OpenScopeError).exitCode).toBe(2);
      expect((err as OpenScopeError).message).toStartWith("config.toml: ");
    }
  });
});
