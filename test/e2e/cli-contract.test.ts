// The CLI contract of SPEC.md §1 and README "Using it" on the compiled binaries: --help everywhere, --version,
// the JSON listings, init that never overwrites keys, a catalog refused with the verb and field
// named (exit 2) or when group-writable, and no colors under NO_COLOR (checked on a real TTY).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cluster, commandFor, runCommand, testCatalog, type Program } from "../helpers/cluster.ts";
import { ROOT, waitFor } from "../helpers/spawn.ts";

setDefaultTimeout(60_000);

let c: Cluster;

beforeAll(async () => {
  c = new Cluster("binary");
  await c.init(testCatalog(join(c.dir, "data")));
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

const bin = (p: Program) => commandFor("binary", p);

describe("--help and --version", () => {
  const commands: Array<[Program, string[]]> = [
    ["openscope", []],
    ...["init", "daemon", "verbs", "grant", "grant add", "grant list", "grant revoke", "recipients", "recipients add", "recipients list", "recipients remove", "share", "share open", "share list", "share extend", "share revoke", "audit", "fingerprint"].map(
      (s) => ["openscope", s.split(" ")] as [Program, string[]],
    ),
    ["openscope-reflect-client", []],
    ["openscope-reflect-client", ["keygen"]],
    ["openscope-reflect-client", ["call"]],
    ["openscope-reflect-client", ["mcp"]],
    ["openscope-relay", []],
  ];

  test("--help of every binary and subcommand exits 0 and shows its usage", async () => {
    const results = await Promise.all(
      commands.map(async ([p, sub]) => ({ name: [p, ...sub].join(" "), r: await runCommand([...bin(p), ...sub, "--help"], { env: { OPENSCOPE_HOME: c.home } }) })),
    );
    for (const { name, r } of results) {
      expect({ name, code: r.code, stderr: r.stderr }).toEqual({ name, code: 0, stderr: "" });
      expect(r.stdout).toContain(`USAGE ${name}`);
    }
  });

  test("--version of every binary equals package.json's version", async () => {
    const version = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
    for (const p of ["openscope", "openscope-relay", "openscope-reflect-client"] as Program[]) {
      const r = await runCommand([...bin(p), "--version"]);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    }
  });

  test("an unknown subcommand or a malformed value is a usage error (exit 2) with a hint", async () => {
    const cases: Array<[Program, string[], string]> = [
      ["openscope", ["frobnicate"], 'unknown command "frobnicate"'],
      ["openscope", ["share", "extend", "not-an-id", "--ttl", "5m"], "is not a share id"],
      ["openscope", ["grant", "add", "--agent", "bad name!", "--verb", "echo.word"], "is not a valid name"],
      ["openscope-reflect-client", ["frobnicate"], "unknown command"],
      ["openscope-relay", ["--listen", "nonsense"], "is not host:port"],
    ];
    for (const [p, args, message] of cases) {
      const r = await runCommand([...bin(p), ...args], { env: { OPENSCOPE_HOME: c.home } });
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toContain(message);
      expect(r.stderr).toContain("hint:");
    }
  });
});

describe("JSON listings are JSON arrays", () => {
  test("empty: verbs has the catalog; grant list and recipients list are []", async () => {
    const verbs = await c.openscope(["verbs", "--json"]);
    expect(verbs.code).toBe(0);
    const v = JSON.parse(verbs.stdout) as Array<{ name?: string; verb?: string }>;
    expect(Array.isArray(v)).toBe(true);
    expect(v.length).toBe(8);
    expect(verbs.stdout).toContain("ssh.tail_logs");
    for (const args of [["grant", "list", "--json"], ["recipients", "list", "--json"]]) {
      const r = await c.openscope(args);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual([]);
    }
  });

  test("after adding: one grant, one recipient, the agent's surface", async () => {
    expect((await c.openscope(["grant", "add", "--agent", "you", "--verb", "echo.word", "--verb", "ssh.tail_logs:service=web"])).code).toBe(0);
    const key = await c.recipient("r").keygen();
    expect((await c.openscope(["recipients", "add", "vendor-b", key])).code).toBe(0);
    const grants = JSON.parse((await c.openscope(["grant", "list", "--json"])).stdout) as Array<{ agent: string }>;
    expect(Array.isArray(grants)).toBe(true);
    expect(grants.map((g) => g.agent)).toEqual(["you"]);
    const recipients = await c.openscope(["recipients", "list", "--json"]);
    const rs = JSON.parse(recipients.stdout) as unknown[];
    expect(Array.isArray(rs)).toBe(true);
    expect(rs.length).toBe(1);
    expect(recipients.stdout).toContain("vendor-b");
    expect(recipients.stdout).toContain(key);
    const surface = await c.openscope(["verbs", "--agent", "you", "--json"]);
    expect(surface.code).toBe(0);
    const s = JSON.parse(surface.stdout) as unknown[];
    expect(Array.isArray(s)).toBe(true);
    expect(s.length).toBe(2);
    expect(surface.stdout).not.toContain("slow.sleep");
  });
});

describe("audit", () => {
  test("audit --follow --json prints the history, then each new row as one JSON object per line", async () => {
    const proc = Bun.spawn([...bin("openscope"), "audit", "--follow", "--json"], {
      env: { ...process.env, NO_COLOR: "1", OPENSCOPE_HOME: c.home },
      stdout: "pipe",
      stderr: "pipe",
    });
    const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
    let out = "";
    const pump = (async () => {
      for await (const chunk of proc.stdout) out += new TextDecoder().decode(chunk);
    })();
    try {
      await waitFor(() => out.includes('"grant.changed"'), "the history to print");
      expect((await c.openscope(["grant", "add", "--agent", "follower", "--verb", "echo.word"])).code).toBe(0);
      await waitFor(() => out.includes('"agent":"follower"'), "the new row to follow");
      const rows = out.trim().split("\n").map((l) => JSON.parse(l) as { seq: number; kind: string });
      expect(rows.length).toBeGreaterThanOrEqual(2);
      expect(rows.map((r) => r.seq)).toEqual([...rows.map((r) => r.seq)].sort((a, b) => a - b));
    } finally {
      proc.kill();
      clearTimeout(timer);
      await pump;
    }
    expect((await c.openscope(["audit", "--verify"])).code).toBe(0);
  });
});

describe("init", () => {
  test("init twice never overwrites keys, nor an edited catalog", async () => {
    const fp1 = await c.openscope(["fingerprint"]);
    expect(fp1.code).toBe(0);
    expect(fp1.stdout).toMatch(/^fingerprint: SHA256:[A-Za-z0-9+/]{43}\nverification code: [0-9A-Z]{5}(-[0-9A-Z]{5}){4}-[0-9A-Z]\n$/);
    const fp = fp1.stdout.split("\n")[0]!.slice("fingerprint: ".length);
    const keyFile = join(c.home, "daemon.key");
    const key1 = readFileSync(keyFile);
    const catalog = readFileSync(join(c.home, "verbs.toml"), "utf8");
    const again = await c.openscope(["init"]);
    expect(again.code).toBe(0);
    expect(again.stdout + again.stderr).toContain(fp);
    expect((await c.openscope(["fingerprint"])).stdout).toBe(fp1.stdout);
    expect(readFileSync(keyFile).equals(key1)).toBe(true);
    expect(readFileSync(join(c.home, "verbs.toml"), "utf8")).toBe(catalog);
    expect(statSync(keyFile).mode & 0o077).toBe(0);
    expect(statSync(c.home).mode & 0o077).toBe(0);
  });
});

describe("the catalog is validated before the daemon starts", () => {
  const daemon = () => runCommand([...bin("openscope"), "daemon", "--relay", "ws://127.0.0.1:9", "--relay-token", "t"], { env: { OPENSCOPE_HOME: c.home }, timeoutMs: 15_000 });
  const base = `[verb."disk.usage"]
summary = "Disk usage"
adapter = "exec"
argv = ["du", "-s", "{path}"]
timeout = "10s"
max_output = "1MiB"
`;
  const bad: Array<[string, string, string[]]> = [
    ["an unconstrained parameter", `${base}params.path = { }\n`, ['verb "disk.usage"', "params.path", "unconstrained"]],
    ["an unanchored pattern", `${base}params.path = { pattern = "[a-z]+" }\n`, ['verb "disk.usage"', "params.path", "anchored"]],
    ["a bad timeout", base.replace('"10s"', '"forever"') + 'params.path = { enum = ["a"] }\n', ['verb "disk.usage"', "timeout"]],
    ["a placeholder without a parameter", base, ['verb "disk.usage"', "path"]],
    ["not TOML at all", "this is = = not toml\n", ["not valid TOML"]],
  ];
  let saved: string;
  beforeAll(() => {
    saved = readFileSync(join(c.home, "verbs.toml"), "utf8");
  });
  afterAll(() => {
    writeFileSync(join(c.home, "verbs.toml"), saved, { mode: 0o644 });
    chmodSync(join(c.home, "verbs.toml"), 0o644);
  });

  for (const [name, text, words] of bad) {
    test(`${name}: openscope daemon exits 2 naming what is wrong (verb and field)`, async () => {
      writeFileSync(join(c.home, "verbs.toml"), text, { mode: 0o644 });
      const r = await daemon();
      expect(r.code).toBe(2);
      for (const w of words) expect(r.stderr).toContain(w);
      expect(r.stderr).toContain("verbs.toml");
    });
  }

  test("a group- or world-writable verbs.toml is refused (daemon and verbs exit 2)", async () => {
    writeFileSync(join(c.home, "verbs.toml"), saved, { mode: 0o644 });
    for (const mode of [0o664, 0o646]) {
      chmodSync(join(c.home, "verbs.toml"), mode);
      const d = await daemon();
      expect(d.code).toBe(2);
      expect(d.stderr).toContain("writable by group or others");
      const v = await c.openscope(["verbs"]);
      expect(v.code).toBe(2);
      expect(v.stderr).toContain("chmod go-w");
    }
    chmodSync(join(c.home, "verbs.toml"), 0o644);
    expect((await c.openscope(["verbs", "--json"])).code).toBe(0);
  });

  test("a group-writable database is refused", async () => {
    const db = join(c.home, "openscope.db");
    chmodSync(db, 0o660);
    try {
      const r = await c.openscope(["grant", "list", "--json"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("writable");
    } finally {
      chmodSync(db, 0o600);
    }
  });
});

describe("colors", () => {
  /** Runs a shell line on a pseudo-terminal (util-linux `script`), so color would be on. */
  const onTty = (line: string, env: Record<string, string | undefined>) =>
    runCommand(["script", "-qec", line, "/dev/null"], { env: { OPENSCOPE_HOME: c.home, TERM: "xterm", ...env } });
  const line = `${bin("openscope")[0]} verbs; ${bin("openscope")[0]} grant list; ${bin("openscope")[0]} grant add --agent you --verb echo.word; ${bin("openscope")[0]} share list --bogus`;

  test("on a TTY the output has colors (so the next test means something)", async () => {
    const r = await onTty(line, { NO_COLOR: undefined });
    expect(r.stdout).toContain("\x1b[");
  });

  test("with NO_COLOR there is no escape sequence at all, on a TTY or piped", async () => {
    const r = await onTty(line, { NO_COLOR: "1" });
    expect(r.stdout).toContain("echo.word");
    expect(r.stdout).not.toContain("\x1b");
    const piped = await c.openscope(["verbs"], { env: { NO_COLOR: "1" } });
    expect(piped.stdout + piped.stderr).not.toContain("\x1b");
  });
});
