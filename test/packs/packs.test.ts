// Every verb of every built-in pack, checked once here rather than by every operator: it passes
// the catalog loader with the documented defaults and with realistic --set values; no hostile
// value reaches an argv, whatever the parameter; the rendered argv of sample values is pinned
// (test/packs/argv-vectors.json); the pack rules themselves (read-only names, no shell, no paths).
import { describe, expect, test } from "bun:test";
import { admits } from "../../lib/capability/constraint.ts";
import { parseCatalog } from "../../lib/capability/catalog.ts";
import { renderArgv } from "../../lib/exec/argv.ts";
import { OpenScopeError } from "../../lib/errors.ts";
import { buildPackToml, expandPack, parsePack, parseSets, type Pack } from "../../lib/host/packs/pack.ts";
import { allPacks, findPack, PACK_SOURCES } from "../../lib/host/packs/registry.ts";
import vectors from "./argv-vectors.json";

const PACKS = allPacks();
const exampleSets = (p: Pack) => p.settings.map((s) => `${s.key}=${Array.isArray(s.example) ? s.example.join(",") : s.example}`);

/** Values that must never reach a command, whatever the parameter. */
export const HOSTILE_VALUES = [
  "; rm -rf /",
  "web; id",
  "$(id)",
  "`id`",
  "web|id",
  "web&id",
  "web && id",
  "../../etc/shadow",
  "..",
  "../",
  "/etc/passwd",
  "-rf",
  "--help",
  "--output=/tmp/x",
  "-",
  "web\nid",
  "web\r\nid",
  "web\u0000",
  " web",
  "web ",
  "a".repeat(300),
  "9".repeat(300),
  "'",
  '"',
  "\\",
  "*",
  "~root",
  "{unit}",
  "${HOME}",
  "%2e%2e%2f",
  "",
];

/** What an integer parameter must also refuse: any spelling but the canonical one, out of range. */
const NOT_CANONICAL_INTS = ["+5", "010", "1e3", "0x10", "1.0", "-1", "99999999999999999999"];

/** --set values no setting takes: shell, option and path-escape syntax, control characters, length. */
const HOSTILE_SETTINGS = [
  ...HOSTILE_VALUES.filter((v) => v !== "/etc/passwd"), // a path setting takes an absolute path
  "-1",
  "x".repeat(5000),
  "/etc/../shadow",
  "/var/log/./x",
  "/a//b",
  "/var/log/nginx/x.log;id",
  "/var/log/x y",
  "/var/log/$(id)",
  "http://user:pw@127.0.0.1/x",
  "http://127.0.0.1/a b",
  "http://127.0.0.1/#x",
  "http://127.0.0.1/../admin",
  "file:///etc/passwd",
  "gopher://127.0.0.1/",
  "a,a",
];

describe("packs: the built-in set", () => {
  test("the six packs of the issue, each from its own file, parse", () => {
    expect(PACKS.map((p) => p.name)).toEqual(["systemd", "docker", "kubernetes", "postgres", "nginx", "http"]);
    for (const [name, text] of Object.entries(PACK_SOURCES)) expect(parsePack(text).name).toBe(name);
  });

  test("every setting has a default and an example of its kind", () => {
    for (const p of PACKS)
      for (const s of p.settings) {
        expect(s.summary.length).toBeGreaterThan(10);
        expect(parseSets(p, [`${s.key}=${Array.isArray(s.default) ? s.default.join(",") : s.default}`].filter(() => s.default !== ""))).toBeDefined();
      }
  });
});

describe.each(PACKS.map((p) => [p.name, p] as const))("pack %s", (_name, pack) => {
  test("with the documented defaults alone, the catalog loader accepts every verb", () => {
    const { toml, catalog } = buildPackToml(pack);
    expect(catalog.size).toBe(Object.keys(pack.verbs).length);
    for (const name of catalog.keys()) expect(name.startsWith(`${pack.name}.`)).toBe(true);
    expect(toml.split("\n")[0]).toBe(`# pack ${pack.name} version ${pack.version}: openscope verbs add ${pack.name}`);
    expect(parseCatalog(toml).size).toBe(catalog.size);
  });

  test("with realistic --set values (the documented examples) and --as, the loader accepts every verb", () => {
    const { catalog, toml } = buildPackToml(pack, { setFlags: exampleSets(pack), prefix: "site.a" });
    expect(catalog.size).toBe(Object.keys(pack.verbs).length);
    for (const name of catalog.keys()) expect(name.startsWith("site.a.")).toBe(true);
    expect(toml).toContain(`--as site.a --set ${exampleSets(pack)[0] ?? ""}`.trim());
  });

  test("every parameter is bounded, and no verb goes through a shell or an interpreter flag", () => {
    const { catalog } = buildPackToml(pack, { setFlags: exampleSets(pack) });
    for (const verb of catalog.values()) {
      expect(verb.adapter).toBe("exec");
      expect(["sh", "bash", "dash", "zsh", "env", "sudo", "xargs", "find"]).not.toContain(verb.argv[0]!);
      expect(verb.argv.some((a) => a === "-c" && verb.argv[0] !== "nginx")).toBe(false);
      for (const p of Object.values(verb.params)) {
        expect(["enum", "range", "pattern"]).toContain(p.constraint.kind);
        expect(p.allow).toBeUndefined(); // no pack parameter opts into "/", "..", spaces or "-"
        if (p.constraint.kind === "range") expect(p.constraint.min).toBeGreaterThanOrEqual(0);
      }
      expect(verb.timeoutMs).toBeLessThanOrEqual(5 * 60_000);
      expect(verb.maxOutputBytes).toBeLessThanOrEqual(8 * 1024 * 1024);
    }
  });

  test("a verb changes the system only when its name says so (restart, reload)", () => {
    const changing = Object.entries(pack.verbs)
      .filter(([, body]) => /changes the system/.test(String(body.summary)))
      .map(([name]) => name);
    for (const name of changing) expect(name).toMatch(/restart|reload/);
    for (const name of Object.keys(pack.verbs)) if (/restart|reload/.test(name)) expect(changing).toContain(name);
  });

  test("hostile values for every parameter of every verb are refused before any argv exists", () => {
    const { catalog } = buildPackToml(pack, { setFlags: exampleSets(pack) });
    let checked = 0;
    for (const verb of catalog.values()) {
      const good: Record<string, string> = {};
      for (const [k, p] of Object.entries(verb.params))
        good[k] = p.default ?? (p.constraint.kind === "enum" ? p.constraint.values[0]! : "web-7d4b9c-x2x8q");
      expect(() => renderArgv(verb, good)).not.toThrow();
      for (const [name, p] of Object.entries(verb.params)) {
        for (const bad of p.constraint.kind === "range" ? [...HOSTILE_VALUES, ...NOT_CANONICAL_INTS] : HOSTILE_VALUES) {
          expect({ verb: verb.name, name, bad, admitted: admits(p.constraint, bad) }).toEqual({ verb: verb.name, name, bad, admitted: false });
          expect(() => renderArgv(verb, { ...good, [name]: bad })).toThrow(OpenScopeError);
          checked++;
        }
      }
    }
    if (Object.values(pack.verbs).some((v) => v.params)) expect(checked).toBeGreaterThan(0);
  });

  test("the rendered argv for sample values is pinned", () => {
    const vec = (vectors as unknown as Record<string, { set: string[]; verbs: Record<string, { params: Record<string, string>; argv: string[] }> }>)[pack.name]!;
    expect(vec.set).toEqual(exampleSets(pack));
    const { catalog } = buildPackToml(pack, { setFlags: vec.set });
    expect([...catalog.keys()]).toEqual(Object.keys(vec.verbs));
    for (const [name, { params, argv }] of Object.entries(vec.verbs)) expect(renderArgv(catalog.get(name)!, params)).toEqual(argv);
  });

  test("hostile --set values for every setting are refused (exit 2), naming the key", () => {
    for (const s of pack.settings) {
      for (const bad of HOSTILE_SETTINGS) {
        if (bad === "" && s.optional) continue; // "" leaves an optional setting out
        let err: unknown;
        try {
          parseSets(pack, [`${s.key}=${bad}`]);
        } catch (e) {
          err = e;
        }
        expect({ key: s.key, bad, refused: err instanceof OpenScopeError && err.exitCode === 2 }).toEqual({ key: s.key, bad, refused: true });
        expect((err as Error).message).toContain(`--set ${s.key}`);
      }
    }
  });
});

describe("packs: settings and names", () => {
  const systemd = findPack("systemd");

  test("a list setting is comma-separated and becomes the enum", () => {
    const { catalog } = buildPackToml(systemd, { setFlags: ["units=nginx,postgresql"] });
    expect(catalog.get("systemd.status")!.params.unit!.constraint).toEqual({ kind: "enum", values: ["nginx", "postgresql"] });
  });

  test("an optional setting left empty leaves its argv element out", () => {
    const on = buildPackToml(systemd, { setFlags: ["journal_dir=/srv/journal"] }).catalog.get("systemd.journal")!;
    const off = buildPackToml(systemd).catalog.get("systemd.journal")!;
    expect(on.argv).toContain("--directory=/srv/journal");
    expect(off.argv.some((a) => a.startsWith("--directory"))).toBe(false);
    expect(on.argv.length).toBe(off.argv.length + 1);
  });

  test("unknown keys, repeated keys, malformed flags and bad prefixes are usage errors", () => {
    const cases: [string[], string | undefined, RegExp][] = [
      [["unit=web"], undefined, /pack systemd has no setting "unit"/],
      [["units=a", "units=b"], undefined, /units is given twice/],
      [["units"], undefined, /expected key=value/],
      [["=web"], undefined, /expected key=value/],
      [[], "Bad", /not a verb prefix/],
      [[], "a.b.c.d", /not a verb prefix/],
      [[], "-x", /not a verb prefix/],
      [[], "x;y", /not a verb prefix/],
    ];
    for (const [sets, prefix, msg] of cases) expect(() => buildPackToml(systemd, { setFlags: sets, prefix })).toThrow(msg);
  });

  test("docker container names may not carry a dot (they become an anchored name filter)", () => {
    expect(() => parseSets(findPack("docker"), ["containers=web.1"])).toThrow(/does not match/);
  });

  test("the postgres connection string takes only plain values, so nothing can be added to it", () => {
    const pg = findPack("postgres");
    for (const bad of ["db options=-cfoo", "db'", "a=b", "x y"]) expect(() => parseSets(pg, [`dbname=${bad}`])).toThrow(/--set dbname/);
    const { catalog } = buildPackToml(pg, { setFlags: ["host=/tmp/pg sock"].slice(0, 0).concat(["port=6543", "user=ro", "query_text=true"]) });
    const dbname = catalog.get("postgres.activity")!.argv.find((a) => a.startsWith("--dbname="))!;
    expect(dbname).toContain("port=6543 dbname=postgres user=ro");
    expect(dbname).toContain("options='-c default_transaction_read_only=on");
    expect(catalog.get("postgres.activity")!.argv).toContain("--single-transaction");
    expect(catalog.get("postgres.activity")!.argv.at(-1)).toContain("CASE WHEN true THEN left(query, 2000) END AS query");
    const hidden = buildPackToml(pg).catalog.get("postgres.activity")!.argv.at(-1)!;
    expect(hidden).toContain("CASE WHEN false THEN");
  });

  test("a pack verb referring to an unknown setting is a pack bug, caught here", () => {
    const broken = parsePack('[pack]\nname = "x"\nversion = 1\nsummary = "s"\n[verb.a]\nsummary = "a"\nadapter = "exec"\nargv = ["true", "${nope}"]\ntimeout = "1s"\nmax_output = "1KiB"\n');
    expect(() => expandPack(broken)).toThrow(/unknown setting/);
  });
});
