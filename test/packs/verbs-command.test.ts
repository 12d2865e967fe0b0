// `openscope verbs packs|add` from source: the pack listing, appending a pack to a real home's
// verbs.toml (comment naming pack and version, name clash exit 2, the file stays valid and keeps
// its mode), --dry-run and --json, and `openscope verbs [--agent]` listing exactly as before.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCatalog } from "../../lib/capability/catalog.ts";
import { runProgram } from "../helpers/spawn.ts";

let home: string;
const os = (...args: string[]) => runProgram("daemon.ts", [...args, "--home", home]);

beforeEach(async () => {
  home = mkdtempSync(join(tmpdir(), "openscope-packs-"));
  expect((await os("init")).code).toBe(0);
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

describe("openscope verbs packs", () => {
  test("lists every pack with its version and verbs; --json for scripts", async () => {
    const r = await runProgram("daemon.ts", ["verbs", "packs"]);
    expect(r.code).toBe(0);
    for (const p of ["systemd", "docker", "kubernetes", "postgres", "nginx", "http"]) expect(r.stdout).toMatch(new RegExp(`^${p}\\s+1\\s+`, "m"));
    const j = await runProgram("daemon.ts", ["verbs", "packs", "--json"]);
    const rows = JSON.parse(j.stdout) as { name: string; version: number; verbs: string[] }[];
    expect(rows.find((x) => x.name === "postgres")!.verbs).toContain("activity");
  });

  test("one pack: its settings with defaults, and its verbs with parameters", async () => {
    const r = await runProgram("daemon.ts", ["verbs", "packs", "systemd"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^units\s+web\s+The units the verbs may name/m);
    expect(r.stdout).toMatch(/^systemd\.journal\s+unit=web; lines=1\.\.10000; priority=/m);
    const j = JSON.parse((await runProgram("daemon.ts", ["verbs", "packs", "postgres", "--json"])).stdout);
    expect(j.settings.map((s: { key: string }) => s.key)).toEqual(["host", "port", "dbname", "user", "query_text"]);
    const bad = await runProgram("daemon.ts", ["verbs", "packs", "mysql"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('openscope: error: no pack named "mysql"');
  });
});

describe("openscope verbs add", () => {
  test("appends the pack under a comment naming pack and version; the catalog lists and loads it", async () => {
    const before = readFileSync(join(home, "verbs.toml"), "utf8");
    const r = await os("verbs", "add", "systemd", "--set", "units=nginx,postgresql");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("added 6 verbs of pack systemd (version 1)");
    const after = readFileSync(join(home, "verbs.toml"), "utf8");
    expect(after.startsWith(before)).toBe(true);
    expect(after.slice(before.length)).toStartWith("\n# pack systemd version 1: openscope verbs add systemd --set units=nginx,postgresql\n");
    expect(parseCatalog(after).get("systemd.restart")!.params.unit!.constraint).toEqual({ kind: "enum", values: ["nginx", "postgresql"] });
    const list = await os("verbs");
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^systemd\.status\s+exec\s+unit=nginx, postgresql\s+/m);
    expect(list.stdout).toMatch(/^ssh\.tail_logs\s+/m); // the sample verbs stay
    expect((await os("verbs", "list")).stdout).toBe(list.stdout);
  });

  test("a name clash is refused with exit 2 and the file is untouched; --as adds a second copy", async () => {
    expect((await os("verbs", "add", "nginx")).code).toBe(0);
    const once = readFileSync(join(home, "verbs.toml"), "utf8");
    const again = await os("verbs", "add", "nginx");
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("already has verbs nginx.config_test, nginx.access_log, nginx.error_log, nginx.reload");
    expect(again.stderr).toContain("hint: add the pack under another prefix: openscope verbs add nginx --as nginx2");
    expect(readFileSync(join(home, "verbs.toml"), "utf8")).toBe(once);
    const other = await os("verbs", "add", "nginx", "--as", "edge.nginx", "--set", "access_log=/var/log/nginx/edge.log");
    expect(other.code).toBe(0);
    const cat = parseCatalog(readFileSync(join(home, "verbs.toml"), "utf8"));
    expect(cat.get("edge.nginx.access_log")!.argv).toEqual(["tail", "-n", "{lines}", "--", "/var/log/nginx/edge.log"]);
    expect(cat.get("nginx.access_log")!.argv).toEqual(["tail", "-n", "{lines}", "--", "/var/log/nginx/access.log"]);
  });

  test("bad input is exit 2 naming what is wrong, and nothing is written", async () => {
    const before = readFileSync(join(home, "verbs.toml"), "utf8");
    const cases: [string[], string][] = [
      [["verbs", "add", "postgres", "--set", "dbname=shop; DROP TABLE x"], '--set dbname: "shop; DROP TABLE x" is not a plain name'],
      [["verbs", "add", "nginx", "--set", "conf=../../etc/shadow"], "--set conf:"],
      [["verbs", "add", "http", "--set", "urls=file:///etc/passwd"], "--set urls:"],
      [["verbs", "add", "systemd", "--set", "units=-x"], "--set units:"],
      [["verbs", "add", "systemd", "--set", "nope=1"], 'pack systemd has no setting "nope"'],
      [["verbs", "add", "systemd", "--as", "Bad Prefix"], "--as"],
      [["verbs", "add", "mysql"], 'no pack named "mysql"'],
      [["verbs", "add"], "missing required"],
    ];
    for (const [args, msg] of cases) {
      const r = await os(...args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr.toLowerCase()).toContain(msg.toLowerCase());
    }
    expect(readFileSync(join(home, "verbs.toml"), "utf8")).toBe(before);
  });

  test("refuses to append to a catalog that is invalid or writable by others", async () => {
    const path = join(home, "verbs.toml");
    writeFileSync(path, '[verb."x"]\nsummary = "no argv"\n');
    const invalid = await os("verbs", "add", "http");
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('verb "x"');
    writeFileSync(path, "");
    chmodSync(path, 0o666);
    const open = await os("verbs", "add", "http");
    expect(open.code).toBe(2);
    expect(open.stderr).toContain("is writable by group or others");
  });

  test("keeps the file's mode; creates a missing verbs.toml as 0644", async () => {
    const path = join(home, "verbs.toml");
    chmodSync(path, 0o600);
    expect((await os("verbs", "add", "http")).code).toBe(0);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    rmSync(path);
    expect((await os("verbs", "add", "http")).code).toBe(0);
    expect(statSync(path).mode & 0o777).toBe(0o644);
    expect(readFileSync(path, "utf8")).toStartWith("# pack http version 1: openscope verbs add http\n");
  });

  test("--dry-run prints the text and writes nothing; --json describes what was added", async () => {
    const before = readFileSync(join(home, "verbs.toml"), "utf8");
    const dry = await os("verbs", "add", "postgres", "--dry-run", "--set", "port=5433");
    expect(dry.code).toBe(0);
    expect(dry.stdout).toStartWith("# pack postgres version 1: openscope verbs add postgres --set port=5433\n");
    expect(parseCatalog(dry.stdout).size).toBe(7);
    expect(readFileSync(join(home, "verbs.toml"), "utf8")).toBe(before);
    const j = await os("verbs", "add", "postgres", "--json", "--set", "port=5433");
    expect(j.code).toBe(0);
    const out = JSON.parse(j.stdout);
    expect(out).toMatchObject({ pack: "postgres", version: 1, written: true, settings: { port: "5433", host: "/var/run/postgresql" } });
    expect(out.verbs).toContain("postgres.activity");
  });

  test("--home before the subcommand works as after it", async () => {
    const r = await runProgram("daemon.ts", ["verbs", "--home", home, "add", "http"]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(home, "verbs.toml"), "utf8")).toContain('[verb."http.get"]');
  });
});

describe("openscope verbs [--agent] as before", () => {
  test("an agent's surface, and an unknown subcommand is exit 2", async () => {
    expect((await os("grant", "add", "--agent", "you", "--verb", "ssh.tail_logs:service=web")).code).toBe(0);
    const r = await os("verbs", "--agent", "you");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ssh\.tail_logs\s+lines=1\.\.5000; service=web\s+/m);
    const bad = await os("verbs", "frobnicate");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown command frobnicate");
  });
});
