// Argv rendering (lib/exec/argv.ts, SPEC.md §7): hostile values through every path, exec and ssh. Each
// is refused (by decide or by renderArgv's re-check) or stays one inert argument, shown by running
// the rendered argv for real and the ssh remote command line through /bin/sh and bash.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { REMOTE_WATCHDOG, remoteCommandLine, renderArgv, renderSshArgv, shellQuote } from "../../lib/exec/argv.ts";
import { type VerbDef, parseCatalog } from "../../lib/capability/catalog.ts";
import { OpenScopeError } from "../../lib/errors.ts";
import { ridHashOf, type Passport } from "../../lib/capability/passport.ts";
import { toBase64url } from "../../lib/bytes.ts";
import { decide } from "../../lib/capability/policy.ts";

// A narrow verb of each kind, and one deliberately wide verb (all four allow flags), per adapter.
const catalog = parseCatalog(`
${["exec", "ssh"]
  .map(
    (adapter) => `
[verb."${adapter}.enum"]
summary = "s"
adapter = "${adapter}"
${adapter === "ssh" ? 'host = "h"' : ""}
argv = ["printf", "[%s]", "{v}"]
timeout = "5s"
max_output = "1KiB"
params.v = { enum = ["web", "api"] }

[verb."${adapter}.int"]
summary = "s"
adapter = "${adapter}"
${adapter === "ssh" ? 'host = "h"' : ""}
argv = ["printf", "[%s]", "{v}"]
timeout = "5s"
max_output = "1KiB"
params.v = { int = [1, 5000] }

[verb."${adapter}.pattern"]
summary = "s"
adapter = "${adapter}"
${adapter === "ssh" ? 'host = "h"' : ""}
argv = ["printf", "[%s]", "{v}"]
timeout = "5s"
max_output = "1KiB"
params.v = { pattern = "^[a-z][a-z0-9_-]{0,31}$" }

[verb."${adapter}.wide"]
summary = "s"
adapter = "${adapter}"
${adapter === "ssh" ? 'host = "h"' : ""}
argv = ["printf", "[%s]", "{v}"]
timeout = "5s"
max_output = "1KiB"
params.v = { pattern = "^[ -~]{0,256}$", allow = ["slash", "dotdot", "whitespace", "leading-dash"] }
`,
  )
  .join("\n")}`);

const HOSTILE: [string, string][] = [
  ["semicolon", "web; rm -rf /"],
  ["bare ;", ";"],
  ["&&", "web && id"],
  ["||", "x || id"],
  ["pipe", "web|id"],
  ["command substitution", "$(id)"],
  ["backticks", "`id`"],
  ["variable", "$HOME"],
  ["redirect", ">/tmp/pwned"],
  ["glob", "*"],
  ["tilde", "~root"],
  ["newline", "web\nid"],
  ["carriage return", "web\rid"],
  ["NUL", "web\0id"],
  ["path traversal", "../../etc/passwd"],
  ["long option", "--option=1"],
  ["short option", "-n"],
  ["single quote", "it's"],
  ["quote breakout", "'; id; '"],
  ["escaped quote breakout", "'\\''; id"],
  ["double quote", '"$(id)"'],
  ["backslash", "\\"],
  ["history bang", "!!"],
  ["leading space", " web"],
  ["placeholder in value", "{v}"],
  ["printf format", "%s%n"],
  ["fullwidth look-alike", "ｗｅｂ"],
  ["cyrillic look-alike", "wеb"],
  ["zero-width joiner", "we\u200db"],
  ["right-to-left override", "web\u202e"],
  ["10 KB string", "a".repeat(10 * 1024)],
  ["257 chars", "b".repeat(257)],
];

const RID = toBase64url(new Uint8Array(16).fill(4));
const RID_HASH = ridHashOf(new Uint8Array(16).fill(4));
const passportFor = (verb: string): Passport => ({
  v: 1,
  id: "AQEBAQEBAQEBAQEBAQEBAQ",
  shareId: "0123456789ab",
  ridHash: RID_HASH,
  principal: "you",
  daemonKeyId: "fp",
  recipient: { kind: "bearer" },
  // the widest passport possible: the catalog's own constraints
  verbs: { [verb]: Object.fromEntries(Object.entries(catalog.get(verb)!.params).map(([k, p]) => [k, p.constraint])) },
  issuedAt: 0,
  expiresAt: 60_000,
  grantId: "g",
  grantRevision: 0,
});

const hasBash = Bun.which("bash") !== null;

/** Runs the remote command line as sshd would: `shell -c LINE`, its stdin held open (the watchdog's connection). */
async function runRemote(shell: string, line: string): Promise<string> {
  const proc = Bun.spawn([shell, "-c", line], { stdin: "pipe", stdout: "pipe", env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  await proc.stdin.end();
  return out;
}

async function outcome(verb: VerbDef, value: string): Promise<"refused" | "inert"> {
  const grantVerbs = passportFor(verb.name).verbs;
  const d = decide({ call: { verb: verb.name, params: { v: value } }, passport: passportFor(verb.name), currentGrant: grantVerbs, currentGrantId: "g", share: { state: "live", expiresAt: 60_000 }, boundTo: { shareId: "0123456789ab", rid: RID }, callerKey: null, now: 1, catalog });
  // renderArgv re-checks on its own: it must agree with decide.
  let argv: string[] | undefined;
  try {
    argv = verb.adapter === "ssh" ? renderSshArgv(verb, { v: value }, {}) : renderArgv(verb, { v: value });
  } catch (e) {
    expect(e).toBeInstanceOf(OpenScopeError);
  }
  expect(argv !== undefined).toBe(d.allow);
  if (!d.allow || argv === undefined) return "refused";
  if (verb.adapter === "exec") {
    expect(argv).toEqual(["printf", "[%s]", value]); // one element, unchanged
    const r = Bun.spawnSync(argv);
    expect(r.stdout.toString()).toBe(`[${value}]`);
  } else {
    expect(argv.slice(0, -1)).toEqual(["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "--", "h"]);
    // What the remote login shell would run: the value comes back as exactly one argument.
    expect(argv.at(-1)).toBe(remoteCommandLine(["printf", "[%s]", value]));
    for (const shell of hasBash ? ["/bin/sh", "bash"] : ["/bin/sh"]) {
      expect(`${shell}: ${await runRemote(shell, argv.at(-1)!)}`).toBe(`${shell}: [${value}]`);
    }
  }
  return "inert";
}

describe("hostile values through every verb kind and adapter", () => {
  for (const adapter of ["exec", "ssh"])
    for (const kind of ["enum", "int", "pattern", "wide"])
      test(`${adapter}.${kind}`, async () => {
        const verb = catalog.get(`${adapter}.${kind}`)!;
        const got: Record<string, string> = {};
        for (const [label, value] of HOSTILE) got[label] = await outcome(verb, value);
        if (kind !== "wide") {
          // narrow parameters refuse every hostile value
          expect(Object.values(got).every((o) => o === "refused")).toBe(true);
        } else {
          // the wide parameter admits printable ASCII up to 256 characters, each one inert;
          // control characters, non-ASCII look-alikes and long strings are still refused
          for (const [label, value] of HOSTILE)
            expect(`${label}: ${got[label]}`).toBe(`${label}: ${/^[ -~]{0,256}$/.test(value) ? "inert" : "refused"}`);
        }
      }, 60_000); // ssh.wide runs each admitted value through two shells
});

const tail = parseCatalog(await Bun.file(`${import.meta.dir}/../vectors/capability-catalog.toml`).text());
describe("renderArgv", () => {
  test("placeholders are replaced inside one element only", () => {
    expect(renderArgv(tail.get("ssh.tail_logs")!, { service: "web", lines: "50" })).toEqual(["tail", "-n", "50", "/var/log/web.log"]);
  });
  test("refuses a missing, extra or out-of-constraint value", () => {
    const v = tail.get("ssh.tail_logs")!;
    expect(() => renderArgv(v, { service: "web" })).toThrow("argv: ssh.tail_logs: missing lines");
    expect(() => renderArgv(v, { service: "web", lines: "5", x: "1" })).toThrow("argv: ssh.tail_logs: unknown parameter x");
    expect(() => renderArgv(v, { service: "db2", lines: "5" })).toThrow("argv: ssh.tail_logs: service=db2 is outside its constraint");
  });
  test("the ssh argv carries port and user, and options before --", () => {
    const v = tail.get("ssh.restart_service")!;
    expect(
      renderSshArgv(v, { service: "web" }, { sshBinary: "/usr/bin/ssh", knownHostsFile: "/etc/openscope/known_hosts", identityFile: "/etc/openscope/id", extraOptions: ["ConnectTimeout=5"] }),
    ).toEqual([
      "/usr/bin/ssh",
      "-o", "BatchMode=yes",
      "-o", "StrictHostKeyChecking=yes",
      "-o", "UserKnownHostsFile=/etc/openscope/known_hosts",
      "-i", "/etc/openscope/id",
      "-o", "ConnectTimeout=5",
      "-p", "2222",
      "-l", "deploy",
      "--", "web-1",
      `'sh' '-c' ${shellQuote(REMOTE_WATCHDOG)} 'openscope' 'sudo' 'systemctl' 'restart' 'web'`,
    ]);
    expect(() => renderSshArgv(v, { service: "web" }, { extraOptions: ["ProxyCommand sh -c id"] })).toThrow("must look like Name=value");
    expect(() => renderSshArgv(v, { service: "web" }, { knownHostsFile: "/a b" })).toThrow("must not contain spaces");
    expect(() => renderSshArgv(tail.get("sys.uptime")!, {}, {})).toThrow("is not an ssh verb");
  });
});

describe("shellQuote", () => {
  test("table", () => {
    expect(shellQuote("")).toBe("''");
    expect(shellQuote("web")).toBe("'web'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(() => shellQuote("a\0b")).toThrow("NUL");
  });
  test("property: sh -c 'printf %s <quoted>' prints the string back exactly (200 runs)", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.oneof(fc.constantFrom("'", '"', "\\", "$", "`", "\n", " ", "!", ";", "*", "-"), fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 })), maxLength: 40 }).filter((s) => !s.includes("\0")), (s) => {
        const r = Bun.spawnSync(["/bin/sh", "-c", `printf %s ${shellQuote(s)}`]);
        expect(r.stdout.toString()).toBe(s);
      }),
      { numRuns: 200 },
    );
  });
});

describe("ssh argv: the host is never an option (mutation testing, issue 22)", () => {
  test("a host starting with \"-\" is refused even when the catalog let it through", () => {
    const def = { ...catalog.get("ssh.enum")!, host: "-oProxyCommand=touch /tmp/pwned" };
    expect(() => renderSshArgv(def, { v: "web" }, {})).toThrow('host must not start with "-"');
  });
  test("the host comes after \"--\", and host keys are checked strictly", () => {
    const argv = renderSshArgv(catalog.get("ssh.enum")!, { v: "web" }, {});
    expect(argv.slice(-3)).toEqual(["--", "h", remoteCommandLine(["printf", "[%s]", "web"])]);
    expect(argv.at(-1)!.endsWith(" 'openscope' 'printf' '[%s]' 'web'")).toBe(true);
    expect(argv).toContain("StrictHostKeyChecking=yes");
    expect(argv).toContain("BatchMode=yes");
  });
});
