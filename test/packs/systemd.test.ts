// The systemd pack's journal verbs over a real journal file the test writes: entries in journal
// export format turned into a journal by systemd-journal-remote (Debian package
// systemd-journal-remote), read with `journalctl --directory` as the verbs run it. There is no
// systemd as PID 1 here, so status, failed, restart and reload run for real only as far as
// systemctl's own argument parsing: it must accept every flag and fail on the missing bus.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packCatalog, runPackVerb } from "./verb-runner.ts";

const JOURNAL_REMOTE = ["/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote"].find(existsSync);
const ok = JOURNAL_REMOTE !== undefined && Bun.which("journalctl") !== null;
let dir: string;

/** One journal entry in export format (systemd.io/JOURNAL_EXPORT_FORMATS), text fields only. */
function entry(fields: Record<string, string>): string {
  return Object.entries(fields).map(([k, v]) => `${k}=${v}\n`).join("") + "\n";
}

beforeAll(() => {
  if (!ok) return;
  dir = mkdtempSync(join(tmpdir(), "openscope-journal-"));
  const nowUs = BigInt(Date.now()) * 1000n;
  const boot = "0123456789abcdef0123456789abcdef";
  const at = (minutesAgo: number) => String(nowUs - BigInt(minutesAgo) * 60_000_000n);
  const lines: [string, number, number, string][] = [
    ["web.service", 180, 6, "web started three hours ago"],
    ["web.service", 30, 6, "web served a request"],
    ["web.service", 20, 3, "web could not reach the database"],
    ["api.service", 10, 6, "api line that web must not show"],
    ["web.service", 5, 6, "web recovered"],
  ];
  const stream = lines
    .map(([unit, ago, prio, msg], i) =>
      entry({
        __REALTIME_TIMESTAMP: at(ago),
        __MONOTONIC_TIMESTAMP: String(1000 * (i + 1)),
        _BOOT_ID: boot,
        _SYSTEMD_UNIT: unit,
        _HOSTNAME: "testhost",
        SYSLOG_IDENTIFIER: unit.replace(".service", ""),
        PRIORITY: String(prio),
        MESSAGE: msg,
      }),
    )
    .join("");
  const r = Bun.spawnSync([JOURNAL_REMOTE!, `--output=${join(dir, "test.journal")}`, "-"], { stdin: new TextEncoder().encode(stream) });
  if (r.exitCode !== 0) throw new Error(`systemd-journal-remote: ${r.stderr.toString()}`);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.if(ok)("pack systemd over a real journal file", () => {
  test("journal: the last N lines of one unit only", async () => {
    const cat = packCatalog("systemd", ["units=web,api", `journal_dir=${dir}`]);
    const r = await runPackVerb(cat, "systemd.journal", { unit: "web", lines: "2" });
    expect(r.exitCode).toBe(0);
    const out = r.stdout.trim().split("\n");
    expect(out).toHaveLength(2);
    expect(out[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} testhost web\[?\d*\]?: web could not reach the database$/);
    expect(out[1]).toContain("web recovered");
    expect(r.stdout).not.toContain("api line");
  });

  test("journal: priority keeps only lines at or above it", async () => {
    const cat = packCatalog("systemd", ["units=web", `journal_dir=${dir}`]);
    const r = await runPackVerb(cat, "systemd.journal", { unit: "web", priority: "err" });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim().split("\n")).toEqual([expect.stringContaining("web could not reach the database")]);
  });

  test("journal_since: only the last N minutes", async () => {
    const cat = packCatalog("systemd", ["units=web", `journal_dir=${dir}`]);
    const r = await runPackVerb(cat, "systemd.journal_since", { unit: "web", minutes: "25" });
    expect(r.exitCode).toBe(0);
    const out = r.stdout.trim().split("\n");
    expect(out).toHaveLength(2);
    expect(out[0]).toContain("web could not reach the database");
    expect(out[1]).toContain("web recovered");
    const wide = await runPackVerb(cat, "systemd.journal_since", { unit: "web", minutes: "600" });
    expect(wide.stdout.trim().split("\n")).toHaveLength(4);
  });

  test("a unit with no entries is an empty answer, not an error", async () => {
    const cat = packCatalog("systemd", ["units=nginx", `journal_dir=${dir}`]);
    const r = await runPackVerb(cat, "systemd.journal", { unit: "nginx" });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("-- No entries --");
  });
});

describe.if(Bun.which("systemctl") !== null)("pack systemd: systemctl accepts every flag (no systemd as PID 1 here)", () => {
  for (const verb of ["systemd.status", "systemd.failed", "systemd.restart", "systemd.reload"]) {
    test(verb, async () => {
      const r = await runPackVerb(packCatalog("systemd", ["units=web"]), verb, verb === "systemd.failed" ? {} : { unit: "web" });
      expect(r.stderr).not.toMatch(/unrecognized option|invalid option|Unknown command verb/);
      if (r.exitCode !== 0) expect(r.stderr).toMatch(/not been booted with systemd|Failed to connect to bus|could not be found/);
    });
  }
});

test("systemd-journal-remote and journalctl are installed, so the journal runs above happen (.ci/run installs them)", () => {
  expect(ok).toBe(true);
});
