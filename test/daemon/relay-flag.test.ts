// `openscope daemon --relay URL` refuses a relay URL the handle's decoder would refuse (SPEC.md
// §10.2; issue 21 item 5): a user name or token, a query, a fragment, another scheme, an odd
// path. Exit 2 at start, before any relay is dialed, and the token in a URL is never echoed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runProgram } from "../helpers/spawn.ts";

let home: string;
beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "relay-flag-"));
  expect((await runProgram("daemon.ts", ["init", "--home", home])).code).toBe(0);
  writeFileSync(join(home, "relay-token"), "t0k3n\n", { mode: 0o600 });
}, 30_000);
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe("daemon --relay", () => {
  const bad: [string, string][] = [
    ["wss://s3cr3t@relay.example.com", "user name or password"],
    ["wss://relay.example.com/?x=1", "query"],
    ["wss://relay.example.com/r#frag", "fragment"],
    ["ftp://relay.example.com", "not ws:// or wss://"],
    ["wss://relay.example.com/a b", "path"],
  ];
  for (const [url, why] of bad)
    test(`${url}: exit 2 (${why})`, async () => {
      const r = await runProgram("daemon.ts", ["daemon", "--home", home, "--relay", url, "--relay-token-file", join(home, "relay-token")], { timeoutMs: 20_000 });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--relay: relay URL`);
      expect(r.stderr).toContain(why);
      expect(r.stderr).not.toContain("s3cr3t");
    }, 30_000);
});
