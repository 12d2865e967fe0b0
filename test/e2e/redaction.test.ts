// Redaction end to end (SPEC.md §17.3) on the compiled binaries: a verb printing every secret
// kind the built-in rules cover (and a site rule's token, a key split across two writes with a
// pause, a PEM block written line by line with pauses) returns only markers to the one-shot,
// interactive and MCP clients; benign lines arrive byte for byte; `redact = false` returns the
// raw output and is warned about at load; the audit counts by rule id and digests what was sent.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cluster, commandFor, type OpenedShare, type Recipient } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/spawn.ts";
import { AWS_ID, PEM_BODY, pemBlock, SECRET_LINES } from "../redact/corpus/secrets.ts";

setDefaultTimeout(60_000);

const BENIGN = readFileSync(join(import.meta.dir, "../redact/corpus/benign.txt"), "utf8");
const SITE_TOKEN = "acme_" + "0123456789abcdef";
/** What the leak verbs print: benign lines around every secret line, a PEM block and a site token. */
const LEAK = `${BENIGN}${SECRET_LINES.map((s) => s.line).join("\n")}\n${pemBlock("OPENSSH PRIVATE KEY")}site token ${SITE_TOKEN} end\n${BENIGN}`;
const SECRETS = [...SECRET_LINES.map((s) => s.secret), SITE_TOKEN, ...PEM_BODY];
const EXPECTED_COUNTS: Record<string, number> = { "private-key": 1, "acme-token": 1 };
for (const s of SECRET_LINES) EXPECTED_COUNTS[s.rule] = (EXPECTED_COUNTS[s.rule] ?? 0) + 1;

let c: Cluster;
let vendor: Recipient;
let share: OpenedShare;

function catalog(dir: string): string {
  const leak = join(dir, "leak.txt");
  writeFileSync(leak, LEAK);
  const half = `AWS_ACCESS_KEY_ID=${AWS_ID.slice(0, 8)}`;
  const pemLines = pemBlock().trimEnd().split("\n").map((l) => `echo '${l}'; sleep 0.2`).join("; ");
  return `
[redact]
extra = [{ id = "acme-token", pattern = "acme_[a-z0-9]{16}" }]

[verb."leak.all"]
summary = "Print a log with every kind of secret in it"
adapter = "exec"
argv = ["cat", ${JSON.stringify(leak)}]
timeout = "10s"
max_output = "1MiB"

[verb."leak.raw"]
summary = "The same log, with redaction turned off"
adapter = "exec"
argv = ["cat", ${JSON.stringify(leak)}]
timeout = "10s"
max_output = "1MiB"
redact = false

[verb."leak.split"]
summary = "A key written in two halves with a pause between"
adapter = "exec"
argv = ["sh", "-c", ${JSON.stringify(`printf '%s' '${half}'; sleep 1; printf '%s\\n' '${AWS_ID.slice(8)} ok'`)}]
timeout = "10s"
max_output = "4KiB"

[verb."leak.pem"]
summary = "A private key written line by line with pauses"
adapter = "exec"
argv = ["sh", "-c", ${JSON.stringify(`echo before; ${pemLines}; echo after`)}]
timeout = "10s"
max_output = "4KiB"
`;
}

beforeAll(async () => {
  c = new Cluster("binary");
  await c.startRelay();
  await c.init(catalog(c.dir));
  await c.startDaemon();
  ({ vendor, share } = await c.shareTo({ grant: ["leak.all", "leak.raw", "leak.split", "leak.pem"] }));
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

const leaked = (text: string) => SECRETS.filter((s) => text.includes(s));

describe("one-shot call", () => {
  test("--json: only markers arrive, the counts are in the result, benign lines are byte for byte", async () => {
    const r = await vendor.call(share, "leak.all", [], ["--json"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { stdout: string; redactions: Record<string, number> };
    expect(leaked(out.stdout)).toEqual([]);
    expect(out.redactions).toEqual(EXPECTED_COUNTS);
    for (const id of Object.keys(EXPECTED_COUNTS)) expect(out.stdout).toContain(`[REDACTED:${id}]`);
    expect(out.stdout.startsWith(BENIGN)).toBe(true);
    expect(out.stdout.endsWith(`site token [REDACTED:acme-token] end\n${BENIGN}`)).toBe(true);
  });

  test("without --json: stdout is the redacted output, stderr notes how many values were redacted", async () => {
    const r = await vendor.call(share, "leak.all");
    expect(r.code).toBe(0);
    expect(leaked(r.stdout)).toEqual([]);
    const total = Object.values(EXPECTED_COUNTS).reduce((a, b) => a + b, 0);
    expect(r.stderr).toContain(`openscope-reflect-client: note: ${total} values redacted (acme-token, anthropic-api-key, api-key-assignment,`);
  });

  test("a key split across two writes with a pause between is redacted whole", async () => {
    const r = await vendor.call(share, "leak.split");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("AWS_ACCESS_KEY_ID=[REDACTED:aws-access-key-id] ok\n");
  });

  test("a private key written line by line with pauses is one marker", async () => {
    const r = await vendor.call(share, "leak.pem");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("before\n[REDACTED:private-key]\nafter\n");
  });

  test("a verb with redact = false returns its output raw, and the daemon warned about it at load", async () => {
    const r = await vendor.call(share, "leak.raw", [], ["--json"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { stdout: string; redactions: Record<string, number> };
    expect(out.stdout).toBe(LEAK);
    expect(out.redactions).toEqual({});
    expect(c.daemon!.stderr()).toContain(' warn  verb "leak.raw": redact = false');
  });
});

describe("the audit", () => {
  test("the outcome row counts redactions by rule id, digests the redacted bytes, and holds no secret", async () => {
    const r = await vendor.call(share, "leak.all", [], ["--json"]);
    const sent = (JSON.parse(r.stdout) as { stdout: string }).stdout;
    const rows = await c.auditRows(share.id);
    const outcomes = rows.filter((row) => row.kind === "call.outcome" && row.verb === "leak.all");
    const last = outcomes.at(-1)!;
    expect(last.redactions).toEqual(EXPECTED_COUNTS);
    expect(last.outputDigest).toBe(bytesToHex(sha256(new TextEncoder().encode(sent))));
    expect(leaked(JSON.stringify(rows.filter((row) => row.verb !== "leak.raw")))).toEqual([]);
    const raw = rows.filter((row) => row.kind === "call.outcome" && row.verb === "leak.raw");
    expect(raw.length).toBeGreaterThan(0);
    for (const row of raw) expect(row.redactions).toBeUndefined();
    const human = await c.openscope(["audit", "--share", share.id]);
    expect(human.stdout).toContain("redacted=acme-token:1,");
  });
});

describe("interactive and MCP", () => {
  test("interactive: output redacted, then a note naming the rules", async () => {
    const cl = vendor.spawn(["--passport", share.handle, "--fingerprint", share.fingerprint]);
    try {
      cl.write("leak.split");
      await waitFor(() => cl.io.err.includes("1 value redacted (aws-access-key-id)"), "the redaction note", 20_000);
      expect(cl.io.out).toContain("AWS_ACCESS_KEY_ID=[REDACTED:aws-access-key-id] ok\n");
      cl.write("leak.all");
      await waitFor(() => cl.io.err.includes("values redacted (acme-token,"), "the second note", 20_000);
      expect(leaked(cl.io.out)).toEqual([]);
      cl.write("quit");
      expect(await cl.proc.exited).toBe(0);
    } finally {
      cl.proc.kill();
    }
  });

  test("MCP: the tool result holds only markers, and the counts in structured content", async () => {
    const [command, ...pre] = commandFor("binary", "openscope-reflect-client");
    const transport = new StdioClientTransport({
      command: command!,
      args: [...pre, "--passport", share.handle, "--fingerprint", share.fingerprint, "mcp"],
      env: { PATH: process.env.PATH ?? "", XDG_CONFIG_HOME: vendor.configHome, NO_COLOR: "1" },
      stderr: "pipe",
    });
    const client = new Client({ name: "openscope-e2e-redaction", version: "0.0.0" });
    await client.connect(transport);
    try {
      const r = await client.callTool({ name: "leak_all", arguments: {} });
      expect(r.isError).toBe(false);
      const text = (r.content as Array<{ text: string }>)[0]!.text;
      expect(leaked(text)).toEqual([]);
      expect(text).toContain("values redacted (acme-token,");
      // The output is sent once, as text; structured content holds the outcome and the counts.
      const structured = r.structuredContent as { output?: string; redactions: Record<string, number> };
      expect(structured.redactions).toEqual(EXPECTED_COUNTS);
      expect(structured.output).toBeUndefined();
    } finally {
      await client.close().catch(() => {});
    }
  });
});
