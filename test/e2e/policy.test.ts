// THREAT-MODEL.md "What must never happen" at the CLI level, on the compiled binaries: a passport can never be wider than the
// grant, a narrowed or revoked grant takes effect under a live share, hostile parameter values
// never reach a command (every parameter kind), and every bad input gets its documented exit code
// with a clear message.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cluster, testCatalog, type OpenedShare, type Recipient } from "../helpers/cluster.ts";
import { shareRow } from "../helpers/e2e.ts";

// Each test runs the compiled programs several times: more than bun's default 5 s on 2 cores.
setDefaultTimeout(90_000);

let c: Cluster;
let vendor: Recipient;
let vendorKey: string;
/** If any hostile value ever reached a shell, one of the payloads would create this file. */
let marker: string;

beforeAll(async () => {
  c = new Cluster("binary");
  await c.startRelay();
  marker = join(c.dir, "PWNED");
  await c.init(testCatalog(join(c.dir, "data")));
  await c.startDaemon();
  const g = await c.openscope(["grant", "add", "--agent", "you", "--verb", "ssh.tail_logs:service=web|api,lines=1..500", "--verb", "echo.word", "--verb", "ssh.restart_service"]);
  expect(g.code).toBe(0);
  vendor = c.recipient("vendor");
  vendorKey = await vendor.keygen();
  expect((await c.openscope(["recipients", "add", "vendor-b", vendorKey])).code).toBe(0);
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

async function shareIds(): Promise<string[]> {
  const r = await c.openscope(["share", "list", "--json"]);
  return (JSON.parse(r.stdout) as Array<{ id: string }>).map((s) => s.id);
}

describe("a passport request wider than the grant is refused at share open (exit 3)", () => {
  const cases: Array<[string, string[], string]> = [
    ["a verb not in the grant", ["--verb", "fail.exit"], "fail.exit: not in your grant"],
    ["an int range wider than the grant", ["--verb", "ssh.tail_logs:lines=1..5000"], "lines=1..5000 is not in your grant (allowed: 1..500)"],
    ["an int value outside the grant", ["--verb", "ssh.tail_logs:lines=501"], "lines=501"],
    ["an enum value the catalog does not have", ["--verb", "ssh.tail_logs:service=db"], "service=db"],
    ["a verb the catalog does not have", ["--verb", "shell.exec"], "shell.exec"],
  ];
  for (const [name, verbArgs, message] of cases) {
    test(name, async () => {
      const before = await shareIds();
      const r = await c.openscope(["share", "open", "--agent", "you", ...verbArgs, "--to", "vendor-b", "--ttl", "5m"]);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(message);
      expect(r.stdout).not.toContain("osh1");
      expect(await shareIds()).toEqual(before);
    });
  }

  test("an enum value narrower than the catalog but outside the grant", async () => {
    expect((await c.openscope(["grant", "add", "--agent", "webonly", "--verb", "ssh.tail_logs:service=web"])).code).toBe(0);
    const r = await c.openscope(["share", "open", "--agent", "webonly", "--verb", "ssh.tail_logs:service=api", "--bearer"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("service=api");
    expect(r.stderr).toContain("not in your grant");
  });
});

describe("the grant under a live share is checked at every call", () => {
  let share: OpenedShare;

  beforeAll(async () => {
    expect((await c.openscope(["grant", "add", "--agent", "narrow", "--verb", "echo.word", "--verb", "ssh.tail_logs"])).code).toBe(0);
    share = await c.openShare(["--agent", "narrow", "--verb", "echo.word", "--verb", "ssh.tail_logs:service=web", "--to", "vendor-b", "--ttl", "10m"]);
    expect((await vendor.call(share, "ssh.tail_logs", ["lines=1"])).code).toBe(0);
  });

  test("grant narrowed (grant revoke --verb) while the share is live: that verb is denied (exit 3), the others still work", async () => {
    const rv = await c.openscope(["grant", "revoke", "--agent", "narrow", "--verb", "ssh.tail_logs"]);
    expect(rv.code).toBe(0);
    const denied = await vendor.call(share, "ssh.tail_logs", ["lines=1"]);
    expect(denied.code).toBe(3);
    expect(denied.stderr).toContain("denied");
    expect(denied.stdout).toBe("");
    const ok = await vendor.call(share, "echo.word", ["word=still"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe("still\n");
    expect((await shareRow(c, share.id))?.state).toBe("live");
    // The denial names the passport's terms, never the wider grant.
    expect(denied.stderr).not.toContain("echo.word");
  });

  test("grant revoked --all: every call is denied (exit 3)", async () => {
    expect((await c.openscope(["grant", "revoke", "--agent", "narrow", "--all"])).code).toBe(0);
    const r = await vendor.call(share, "echo.word", ["word=nope"]);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe("");
    const rows = await c.auditRows(share.id);
    const denials = rows.filter((x) => x.kind === "call.denied");
    expect(denials.length).toBe(2);
    const after = rows.filter((x) => x.kind === "call.allowed").length;
    expect(after).toBe(2); // the tail before narrowing and the echo after
  });
});

describe("hostile values in every parameter kind are denied (exit 3) and never reach a command", () => {
  let share: OpenedShare;
  const touch = (s: string) => s.replace("M", marker);
  const hostile: Array<[string, string]> = [
    ["shell separator", ";rm -rf /"],
    ["command substitution", touch("$(touch M)")],
    ["backticks", touch("`touch M`")],
    ["separator with touch", touch("web;touch M")],
    ["pipe", touch("web|touch M")],
    ["and-and", touch("1&&touch M")],
    ["path traversal", "../../etc/passwd"],
    ["absolute path", "/etc/passwd"],
    ["option injection --help", "--help"],
    ["option injection -n", "-n"],
    ["option with value", "-n1000000"],
    ["newline", "web\ntouch x"],
    ["trailing newline", "web\n"],
    ["tab", "web\tx"],
    ["carriage return", "web\r"],
    ["fullwidth look-alike", "ｗｅｂ"],
    ["cyrillic look-alike", "w\u0435b"],
    ["fullwidth digits", "１０"],
    ["10 KB", "a".repeat(10 * 1024)],
  ];
  const kinds: Array<[string, string, string, string]> = [
    ["enum", "ssh.tail_logs", "service", "allowed: api, web"],
    ["int", "ssh.tail_logs", "lines", "allowed: 1..500"],
    ["pattern", "echo.word", "word", "matching"],
  ];

  beforeAll(async () => {
    share = await c.openShare(["--agent", "you", "--verb", "ssh.tail_logs", "--verb", "echo.word", "--to", "vendor-b", "--ttl", "20m"]);
  });

  for (const [kind, verb, param, allowed] of kinds) {
    test(`${kind} parameter (${verb} ${param})`, async () => {
      for (const [name, value] of hostile) {
        const r = await vendor.call(share, verb, [`${param}=${value}`]);
        // The case's name rides along so a failure says which value got through.
        const what = `${kind} ${name}: ${r.stderr}`;
        expect({ what, code: r.code }).toEqual({ what, code: 3 });
        expect(r.stderr).toContain("denied");
        if (value.length < 200) expect(r.stderr).toContain(allowed);
        expect(r.stdout).toBe("");
      }
      expect(existsSync(marker)).toBe(false);
    });
  }

  test("every attempt is in the audit as denied with a reason; none was allowed or ran", async () => {
    const rows = await c.auditRows(share.id);
    expect(rows.filter((r) => r.kind === "call.allowed" || r.kind === "call.outcome")).toEqual([]);
    const denied = rows.filter((r) => r.kind === "call.denied");
    expect(denied.length).toBe(hostile.length * kinds.length);
    // (the parameter-name denials come after this test, in file order)
    for (const r of denied) {
      expect(["param_outside_passport", "malformed"]).toContain(r.reason as string);
      expect(typeof r.message).toBe("string");
    }
    expect(existsSync(marker)).toBe(false);
    expect((await c.openscope(["audit", "--verify"])).code).toBe(0);
  });

  test("a parameter given twice is a usage error (exit 2); __proto__ and unknown names are denied (exit 3)", async () => {
    const twice = await vendor.call(share, "echo.word", ["word=a", "word=b"]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain("word is given twice");
    expect(twice.stdout).toBe("");
    for (const p of ["__proto__=a", "constructor=a", "prototype=a", "x=1"]) {
      const r = await vendor.call(share, "echo.word", ["word=ok", p]);
      expect({ p, code: r.code }).toEqual({ p, code: 3 });
      expect(r.stdout).toBe("");
    }
    const calls = (await c.auditRows(share.id)).filter((r) => String(r.kind).startsWith("call.")).slice(-4);
    expect(calls.map((r) => [r.kind, r.verb])).toEqual(Array(4).fill(["call.denied", "echo.word"]));
  });

  test("the same verbs with good values still run (the denials above are not a broken share)", async () => {
    const r = await vendor.call(share, "echo.word", ["word=fine"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("fine\n");
  });
});

describe("bad operator input: documented exit codes, clear messages", () => {
  test("TTL over 30m at share open: exit 2", async () => {
    for (const ttl of ["31m", "1h", "1801s"]) {
      const r = await c.openscope(["share", "open", "--agent", "you", "--verb", "echo.word", "--to", "vendor-b", "--ttl", ttl]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("30m");
    }
  });

  test("unknown agent at share open: exit 3 naming the agent", async () => {
    const r = await c.openscope(["share", "open", "--agent", "nobody", "--verb", "echo.word", "--to", "vendor-b"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('"nobody"');
  });

  test("unknown agent at grant revoke: exit 2 naming the agent", async () => {
    const r = await c.openscope(["grant", "revoke", "--agent", "nobody", "--all"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('"nobody"');
  });

  test("unknown recipient alias: exit 2 with how to register one", async () => {
    const r = await c.openscope(["share", "open", "--agent", "you", "--verb", "echo.word", "--to", "nobody"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown recipient "nobody"');
    expect(r.stderr).toContain("recipients add");
  });

  test("malformed recipient keys: exit 2, nothing registered", async () => {
    for (const key of ["notakey", vendorKey.slice(0, -2), vendorKey + "AA", "osk1", `${vendorKey.slice(0, 10)}!${vendorKey.slice(11)}`]) {
      const r = await c.openscope(["recipients", "add", "mallory", key]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("not a valid OpenScope public key");
    }
    const list = await c.openscope(["recipients", "list", "--json"]);
    expect(list.stdout).not.toContain("mallory");
  });

  test("share open --agent other without holding other's credential: exit 3", async () => {
    expect((await c.openscope(["grant", "add", "--agent", "other", "--verb", "echo.word"])).code).toBe(0);
    const tokenFile = join(c.home, "agents", "other.token");
    const real = readFileSync(tokenFile, "utf8");
    try {
      // No credential file at all.
      rmSync(tokenFile);
      const missing = await c.openscope(["share", "open", "--agent", "other", "--verb", "echo.word", "--bearer"]);
      expect(missing.code).toBe(3);
      expect(missing.stderr).toContain('agent "other"');
      // Another agent's credential presented as other's (one local agent acting as another).
      writeFileSync(tokenFile, readFileSync(join(c.home, "agents", "you.token")), { mode: 0o600 });
      const forged = await c.openscope(["share", "open", "--agent", "other", "--verb", "echo.word", "--bearer"]);
      expect(forged.code).toBe(3);
      expect(forged.stdout).not.toContain("osh1");
    } finally {
      writeFileSync(tokenFile, real, { mode: 0o600 });
    }
    const ok = await c.openscope(["share", "open", "--agent", "other", "--verb", "echo.word", "--bearer", "--json"]);
    expect(ok.code).toBe(0);
  });
});

describe("a damaged handle: exit 2 'handle is damaged'", () => {
  let share: OpenedShare;
  beforeAll(async () => {
    share = await c.openShare(["--agent", "you", "--verb", "echo.word", "--to", "vendor-b", "--ttl", "5m"]);
  });

  const flip = (h: string, i: number) => h.slice(0, i) + (h[i] === "A" ? "B" : "A") + h.slice(i + 1);
  test("one character changed (start, middle, end)", async () => {
    for (const i of [5, Math.floor(share.handle.length / 2), share.handle.length - 1]) {
      const r = await vendor.client(["--passport", flip(share.handle, i), "--fingerprint", share.fingerprint, "call", "echo.word", "word=x"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("handle is damaged");
    }
  });

  test("truncated, or not a handle at all", async () => {
    for (const h of [share.handle.slice(0, -1), share.handle.slice(0, 40), "osh1", "hello", `${share.handle}x`]) {
      const r = await vendor.client(["--passport", h, "--fingerprint", share.fingerprint, "call", "echo.word", "word=x"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("handle is damaged");
    }
  });

  test("a stolen --to handle used with another key does not open the share (exit 3)", async () => {
    const thief = c.recipient("thief");
    await thief.keygen();
    const r = await thief.call(share, "echo.word", ["word=x"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("sealed to another key");
    expect((await c.auditRows(share.id)).filter((x) => x.kind === "call.allowed")).toEqual([]);
    // The thief's attempt does not lock the real recipient out.
    const real = await vendor.call(share, "echo.word", ["word=mine"]);
    expect(real.code).toBe(0);
    expect(real.stdout).toBe("mine\n");
  });
});

describe("daemon not running", () => {
  test("share list exits 4 and asks whether `openscope daemon` is running", async () => {
    const idle = new Cluster("binary");
    try {
      await idle.init();
      const r = await idle.openscope(["share", "list"]);
      expect(r.code).toBe(4);
      expect(r.stderr).toContain("is `openscope daemon` running?");
      expect(r.stderr).toContain("control.sock");
      // The store commands still work without it.
      expect((await idle.openscope(["grant", "list", "--json"])).code).toBe(0);
    } finally {
      await idle.stop();
    }
  });
});
