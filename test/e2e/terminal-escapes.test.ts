// THREAT-MODEL "What must never happen": outsider-supplied text reaches an operator's terminal
// unescaped. A recipient calls with a verb name that holds a newline and a forged audit row, and
// a value with OSC and SGR escapes; the compiled `openscope audit` (table and --follow) shows them
// as visible escapes on one line, `audit --json` keeps the exact values, and the recipient's own
// error line is escaped too.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Cluster, commandFor, type OpenedShare, type Recipient } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/spawn.ts";

setDefaultTimeout(60_000);

const FORGED_VERB = "echo.word\n99  2026-01-01T00:00:00.000Z  call.allowed  -  you  rm -rf /";
const HOSTILE_VALUE = "\x1b]0;pwned\x07\x1b[8mhidden\u202e";

let c: Cluster;
let vendor: Recipient;
let share: OpenedShare;

beforeAll(async () => {
  c = await Cluster.start("binary");
  ({ vendor, share } = await c.shareTo({ grant: ["echo.word"] }));
  const forged = await vendor.call(share, FORGED_VERB, ["word=x"]);
  expect(forged.code).toBe(3);
  const hostile = await vendor.call(share, "echo.word", [`word=${HOSTILE_VALUE}`]);
  expect(hostile.code).toBe(3);
  // The recipient's own terminal: the daemon's denial names the value, escaped.
  expect(hostile.stderr).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

const CONTROL = /[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u202a-\u202e]/;

function expectEscaped(text: string): void {
  expect(text).not.toMatch(CONTROL);
  // No line of the output is the forged row: the newline stayed inside its row.
  for (const line of text.split("\n")) expect(line.startsWith("99  2026-01-01")).toBe(false);
  expect(text).toContain("echo.word\\n99  2026-01-01T00:00:00.000Z  call.allowed");
  expect(text).toContain("\\e]0;pwned\\u{7}\\e[8mhidden\\u{202e}");
}

describe("the operator's views of outsider text", () => {
  test("openscope audit (table): visible escapes, one line per row", async () => {
    const r = await c.openscope(["audit"]);
    expect(r.code).toBe(0);
    expectEscaped(r.stdout);
    const denied = r.stdout.split("\n").filter((l) => l.includes("call.denied"));
    expect(denied.length).toBe(2);
  });

  test("openscope audit --follow: the same escapes as rows stream", async () => {
    const proc = Bun.spawn([...commandFor("binary", "openscope"), "audit", "--follow"], {
      env: { ...process.env, NO_COLOR: "1", OPENSCOPE_HOME: c.home },
      stdout: "pipe",
      stderr: "pipe",
    });
    let out = "";
    const pump = (async () => {
      for await (const chunk of proc.stdout) out += new TextDecoder().decode(chunk);
    })();
    try {
      await waitFor(() => out.includes("hidden"), "the follow to print the hostile row");
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
      await pump;
    }
    expectEscaped(out);
  });

  test("openscope audit --json keeps the exact values for scripts", async () => {
    const rows = await c.auditRows(share.id);
    const denied = rows.filter((r) => r.kind === "call.denied");
    expect(denied.some((r) => r.verb === FORGED_VERB)).toBe(true);
    expect(denied.some((r) => (r.params as Record<string, string> | undefined)?.word === HOSTILE_VALUE)).toBe(true);
  });
});
