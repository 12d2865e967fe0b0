// The verbs.toml loader (lib/capability/catalog.ts): the SPEC.md §2 example parses; every refusal names
// the verb and field; random text and random structures give a typed error and nothing else.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { catalogWarnings, parseCatalog } from "../../lib/capability/catalog.ts";
import { OpenScopeError } from "../../lib/errors.ts";
import { sampleCatalog } from "../../lib/host/sample-catalog.ts";

const VECTORS = `${import.meta.dir}/../vectors/capability-catalog.toml`;

const verb = (body: string, name = "x.y") =>
  `[verb."${name}"]\nsummary = "s"\nadapter = "exec"\ntimeout = "10s"\nmax_output = "1MiB"\n${body}\n`;

describe("parseCatalog accepts", () => {
  test("the SPEC.md §2 example", () => {
    const c = parseCatalog(`[verb."ssh.tail_logs"]
summary = "Last lines of a service's log"
adapter = "exec"
argv = ["tail", "-n", "{lines}", "/var/log/{service}.log"]
timeout = "10s"
max_output = "1MiB"
params.service = { enum = ["web", "api"] }
params.lines = { int = [1, 5000], default = 100 }
`);
    expect(c.get("ssh.tail_logs")).toEqual({
      name: "ssh.tail_logs",
      summary: "Last lines of a service's log",
      adapter: "exec",
      argv: ["tail", "-n", "{lines}", "/var/log/{service}.log"],
      timeoutMs: 10_000,
      maxOutputBytes: 1024 * 1024,
      params: {
        service: { name: "service", constraint: { kind: "enum", values: ["api", "web"] } },
        lines: { name: "lines", constraint: { kind: "range", min: 1, max: 5000 }, default: "100" },
      },
    });
  });
  test("the sample catalog written by init, and the test vectors", async () => {
    expect([...parseCatalog(sampleCatalog("/tmp/openscope-sample")).keys()]).toEqual([
      "ssh.tail_logs",
      "ssh.restart_service",
      "logs.follow",
      "sys.uptime",
    ]);
    const c = parseCatalog(await Bun.file(VECTORS).text());
    expect(c.get("ssh.restart_service")).toMatchObject({ adapter: "ssh", host: "web-1", user: "deploy", port: 2222 });
  });
  test("a risky pattern the parameter explicitly allows", () => {
    const c = parseCatalog(verb(`argv = ["cat", "{path}"]\nparams.path = { pattern = "^/srv/[a-z/]+$", allow = ["slash"] }`));
    expect(c.get("x.y")!.params.path!.allow).toEqual(["slash"]);
  });
  test("an empty catalog", () => expect(parseCatalog("").size).toBe(0));
  test("redact = false is kept on the verb and warned about; site rules reach every redacted verb", () => {
    const c = parseCatalog(
      `[redact]\nextra = [{ id = "acme-token", pattern = "acme_[a-z0-9]{32}" }]\n` + verb(`argv = ["ls"]\nredact = false`, "raw.logs") + verb(`argv = ["ls"]`, "a.b"),
    );
    expect(c.get("raw.logs")!.redact).toBe(false);
    expect(c.get("raw.logs")!.siteRules).toBeUndefined();
    expect(c.get("a.b")!.redact).toBeUndefined();
    expect(c.get("a.b")!.siteRules).toEqual([{ id: "acme-token", pattern: "acme_[a-z0-9]{32}" }]);
    expect(catalogWarnings(c)).toEqual(['verb "raw.logs": redact = false: its output reaches the recipient without secret redaction']);
    expect(catalogWarnings(parseCatalog(verb(`argv = ["ls"]\nredact = true`)))).toEqual([]);
  });

  test('approval = "always" marks a verb; "none" and absent leave it unmarked', () => {
    expect(parseCatalog(verb(`argv = ["ls"]\napproval = "always"`)).get("x.y")!.approval).toBe("always");
    expect(parseCatalog(verb(`argv = ["ls"]\napproval = "none"`)).get("x.y")!.approval).toBeUndefined();
    expect(parseCatalog(verb(`argv = ["ls"]`)).get("x.y")!.approval).toBeUndefined();
  });
});

// Each refusal: the exact message names the verb and the field.
const refusals: [string, string, string][] = [
  ["unconstrained parameter", verb(`argv = ["ls", "{a}"]\nparams.a = {}`), 'verbs.toml: verb "x.y": params.a: is unconstrained: give it enum, int or pattern'],
  ["unknown kind", verb(`argv = ["ls", "{a}"]\nparams.a = { glob = "*" }`), 'verbs.toml: verb "x.y": params.a: glob: unknown field (kinds are enum, int, pattern)'],
  ["two kinds", verb(`argv = ["ls", "{a}"]\nparams.a = { enum = ["x"], pattern = "^x$" }`), 'verbs.toml: verb "x.y": params.a: has more than one kind (enum, pattern)'],
  ["placeholder with no parameter", verb(`argv = ["ls", "{a}"]`), 'verbs.toml: verb "x.y": argv: placeholder {a} has no parameter'],
  ["parameter no placeholder uses", verb(`argv = ["ls"]\nparams.a = { enum = ["x"] }`), 'verbs.toml: verb "x.y": params.a: no placeholder in argv uses it'],
  ["unanchored pattern", verb(`argv = ["ls", "{a}"]\nparams.a = { pattern = "[a-z]+" }`), 'verbs.toml: verb "x.y": params.a: pattern "[a-z]+": must be anchored: start with "^" and end with "$"'],
  ["half-anchored pattern", verb(`argv = ["ls", "{a}"]\nparams.a = { pattern = "^[a-z]+" }`), 'verbs.toml: verb "x.y": params.a: pattern "^[a-z]+": must be anchored: start with "^" and end with "$"'],
  ["pattern can match /", verb(`argv = ["ls", "{a}"]\nparams.a = { pattern = "^[a-z/]+$" }`), 'verbs.toml: verb "x.y": params.a: pattern ^[a-z/]+$ can match "/"'],
  ["pattern can match ..", verb(`argv = ["ls", "{a}"]\nparams.a = { pattern = "^[a-z.]+$" }`), 'verbs.toml: verb "x.y": params.a: pattern ^[a-z.]+$ can match ".."'],
  ["pattern can match whitespace", verb(`argv = ["ls", "{a}"]\nparams.a = { pattern = "^[a-z ]+$" }`), 'verbs.toml: verb "x.y": params.a: pattern ^[a-z ]+$ can match whitespace'],
  ["pattern can match a leading -", verb(`argv = ["ls", "{a}"]\nparams.a = { pattern = "^[a-z-]+$" }`), 'verbs.toml: verb "x.y": params.a: pattern ^[a-z-]+$ can match a leading "-"'],
  ["allow covers only what it names", verb(`argv = ["ls", "{a}"]\nparams.a = { pattern = "^[a-z/.]+$", allow = ["slash"] }`), 'verbs.toml: verb "x.y": params.a: pattern ^[a-z/.]+$ can match ".."'],
  ["pattern with a backreference", verb(`argv = ["ls", "{a}"]\nparams.a = { pattern = "^(a)\\\\1$" }`), 'verbs.toml: verb "x.y": params.a: pattern "^(a)\\\\1$": escape "\\1" is not allowed (backreferences, \\s, \\b and code escapes are refused)'],
  ["unknown approval mode", verb(`argv = ["ls"]\napproval = "sometimes"`), 'verbs.toml: verb "x.y": approval: must be "always" or "none"'],
  ["negative range", verb(`argv = ["ls", "{a}"]\nparams.a = { int = [-5, 5] }`), 'verbs.toml: verb "x.y": params.a: a negative range lets a value start with "-"'],
  ["range upside down", verb(`argv = ["ls", "{a}"]\nparams.a = { int = [5, 1] }`), 'verbs.toml: verb "x.y": params.a: int = [5, 1]: minimum is above maximum'],
  ["default outside", verb(`argv = ["ls", "{a}"]\nparams.a = { int = [1, 5], default = 9 }`), 'verbs.toml: verb "x.y": params.a: default 9 is outside the constraint'],
  ["enum value twice", verb(`argv = ["ls", "{a}"]\nparams.a = { enum = ["x", "x"] }`), 'verbs.toml: verb "x.y": params.a: enum lists a value twice'],
  ["enum value with a newline", verb(`argv = ["ls", "{a}"]\nparams.a = { enum = ["x\\ny"] }`), 'verbs.toml: verb "x.y": params.a: enum value "x\\ny" must be 1..256 printable characters'],
  ["empty argv", verb(`argv = []`), 'verbs.toml: verb "x.y": argv: must not be empty'],
  ["missing argv", verb(``), 'verbs.toml: verb "x.y": argv: is required'],
  ["placeholder as the program", verb(`argv = ["{a}"]\nparams.a = { enum = ["ls"] }`), 'verbs.toml: verb "x.y": argv[0]: the program must be fixed, not a placeholder'],
  ["stray brace", verb(`argv = ["ls", "{a"]`), 'verbs.toml: verb "x.y": argv[1]: stray "{" or "}" (placeholders are {name})'],
  ["unknown verb field", verb(`argv = ["ls"]\nshell = true`), 'verbs.toml: verb "x.y": shell: unknown field'],
  ["bad adapter", verb(`argv = ["ls"]`).replace('"exec"', '"docker"'), 'verbs.toml: verb "x.y": adapter: must be "exec" or "ssh"'],
  ["ssh without host", verb(`argv = ["ls"]`).replace('"exec"', '"ssh"'), 'verbs.toml: verb "x.y": host: is required for the ssh adapter'],
  ["ssh host like an option", verb(`argv = ["ls"]\nhost = "-oProxyCommand=x"`).replace('"exec"', '"ssh"'), 'verbs.toml: verb "x.y": host: "-oProxyCommand=x" is not a host name'],
  ["ssh port out of range", verb(`argv = ["ls"]\nhost = "h"\nport = 70000`).replace('"exec"', '"ssh"'), 'verbs.toml: verb "x.y": port: must be an integer in 1..65535'],
  ["host on exec", verb(`argv = ["ls"]\nhost = "h"`), 'verbs.toml: verb "x.y": host: is only for the ssh adapter'],
  ["bad timeout", verb(`argv = ["ls"]`).replace('"10s"', '"10"'), 'verbs.toml: verb "x.y": timeout: "10" is not a duration'],
  ["bad max_output", verb(`argv = ["ls"]`).replace('"1MiB"', '"lots"'), 'verbs.toml: verb "x.y": max_output: "lots" is not a size'],
  ["bad verb name", verb(`argv = ["ls"]`, "X Y"), 'verbs.toml: verb "X Y": invalid verb name'],
  ["unknown top-level table", `[verbs."x"]\n`, "verbs.toml: verbs: unknown field"],
  ["not TOML", `[verb."x"\n`, "verbs.toml: not valid TOML"],
  ["redact not a boolean", verb(`argv = ["ls"]\nredact = "no"`), 'verbs.toml: verb "x.y": redact: must be true or false'],
  ["site rule with a backtracking-prone pattern", `[redact]\nextra = [{ id = "a", pattern = "(a)\\\\1" }]\n`, 'verbs.toml: redact: extra[0]: pattern "(a)'],
  ["site rule matching anything", `[redact]\nextra = [{ id = "a", pattern = "tok.+" }]\n`, 'verbs.toml: redact: extra[0]: pattern "tok.+": "." matches any character'],
  ["site rule matching the empty string", `[redact]\nextra = [{ id = "a", pattern = "[0-9]*" }]\n`, 'verbs.toml: redact: extra[0]: pattern "[0-9]*": must not match the empty string'],
  ["site rule anchored", `[redact]\nextra = [{ id = "a", pattern = "^x1$" }]\n`, 'verbs.toml: redact: extra[0]: pattern "^x1$": a search pattern is unanchored'],
  ["site rule id taken by a built-in", `[redact]\nextra = [{ id = "jwt", pattern = "x1" }]\n`, 'verbs.toml: redact: extra[0]: id "jwt" is already taken by a built-in rule'],
  ["site rule id twice", `[redact]\nextra = [{ id = "a", pattern = "x1" }, { id = "a", pattern = "y1" }]\n`, 'verbs.toml: redact: extra[1]: id "a" is already taken by another site rule'],
  ["site rule bad id", `[redact]\nextra = [{ id = "Acme Token", pattern = "x1" }]\n`, 'verbs.toml: redact: extra[0]: id "Acme Token" must be lowercase'],
  ["site rule unknown field", `[redact]\nextra = [{ id = "a", pattern = "x1", flags = "i" }]\n`, "verbs.toml: redact: extra.0.flags: unknown field"],
  ["unknown redact field", `[redact]\nrules = []\n`, "verbs.toml: redact: rules: unknown field"],
];

describe("parseCatalog refuses, naming the verb and field", () => {
  for (const [label, text, message] of refusals)
    test(label, () => {
      let err: unknown;
      try {
        parseCatalog(text);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OpenScopeError);
      expect((err as OpenScopeError).kind).toBe("usage");
      expect((err as Error).message.startsWith(message)).toBe(true);
      if (!(err as Error).message.startsWith(message)) console.error((err as Error).message);
    });
  test("the source path replaces verbs.toml in messages", () => {
    expect(() => parseCatalog(verb(`argv = []`), "/etc/openscope/verbs.toml")).toThrow(
      '/etc/openscope/verbs.toml: verb "x.y": argv: must not be empty',
    );
  });
});

/** Returns "ok" or the error kind; anything other than an OpenScopeError fails the test. */
function outcome(text: string): string {
  try {
    parseCatalog(text);
    return "ok";
  } catch (e) {
    if (!(e instanceof OpenScopeError)) throw new Error(`untyped error for ${JSON.stringify(text).slice(0, 200)}: ${e}`);
    return e.kind;
  }
}

function toToml(x: unknown): string {
  if (typeof x === "string") return JSON.stringify(x);
  if (typeof x === "number") return Number.isFinite(x) ? String(Math.trunc(x)) : "0";
  if (typeof x === "boolean") return String(x);
  if (Array.isArray(x)) return `[${x.map(toToml).join(", ")}]`;
  if (x && typeof x === "object")
    return `{ ${Object.entries(x).map(([k, v]) => `${JSON.stringify(k)} = ${toToml(v)}`).join(", ")} }`;
  return '""';
}

describe("fuzz (quick tier; more runs in test/heavy/capability-fuzz.test.ts)", () => {
  test("random text gives a catalog or a usage error", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        expect(["ok", "usage"]).toContain(outcome(s));
      }),
      { numRuns: 1000 },
    );
  });
  test("random structures in verb tables give a catalog or a usage error", () => {
    const value = fc.jsonValue({ maxDepth: 3 });
    const field = fc.constantFrom("summary", "adapter", "argv", "timeout", "max_output", "params", "host", "user", "port", "x");
    fc.assert(
      fc.property(fc.dictionary(field, value), fc.string({ maxLength: 12 }), (tbl, name) => {
        expect(["ok", "usage"]).toContain(outcome(`verb.${JSON.stringify(name)} = ${toToml(tbl)}\n`));
      }),
      { numRuns: 1000 },
    );
  });
  test("mutations of a valid catalog give a catalog or a usage error", async () => {
    const base = await Bun.file(VECTORS).text();
    fc.assert(
      fc.property(fc.nat(base.length - 1), fc.string({ maxLength: 4 }), fc.nat(3), (at, ins, del) => {
        expect(["ok", "usage"]).toContain(outcome(base.slice(0, at) + ins + base.slice(at + del)));
      }),
      { numRuns: 1000 },
    );
  });
});

describe("a range that reaches below zero (mutation testing, issue 22)", () => {
  test("even -1 lets a value start with \"-\": refused without allow", () => {
    expect(() => parseCatalog(verb(`argv = ["ls", "{a}"]\nparams.a = { int = [-1, 5] }`))).toThrow('a negative range lets a value start with "-"');
    expect(parseCatalog(verb(`argv = ["ls", "{a}"]\nparams.a = { int = [0, 5] }`)).get("x.y")!.params.a!.constraint).toEqual({ kind: "range", min: 0, max: 5 });
    expect(parseCatalog(verb(`argv = ["ls", "{a}"]\nparams.a = { int = [-1, 5], allow = ["leading-dash"] }`)).get("x.y")!.params.a!.constraint).toEqual({ kind: "range", min: -1, max: 5 });
  });
});
