// `openscope grant add` run twice with the same verbs (issue 18): the second run is not a change,
// so the grant keeps its revision (a live share's passport names it) and no audit row is added.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runProgram } from "./helpers/spawn.ts";

const home = mkdtempSync(join(tmpdir(), "openscope-grant-"));
const env = { OPENSCOPE_HOME: home };
afterAll(() => rmSync(home, { recursive: true, force: true }));

test("a repeated identical grant add keeps the revision and writes no audit row", async () => {
  expect((await runProgram("daemon.ts", ["init"], { env })).code).toBe(0);
  const add = ["grant", "add", "--agent", "you", "--verb", "ssh.tail_logs:service=web|api"];
  expect((await runProgram("daemon.ts", [...add, "--json"], { env })).code).toBe(0);
  const again = await runProgram("daemon.ts", add, { env });
  expect(again.code).toBe(0);
  expect(again.stdout).toContain("agent you already holds exactly this grant (revision 1 unchanged)");
  const list = JSON.parse((await runProgram("daemon.ts", ["grant", "list", "--json"], { env })).stdout) as Array<{ agent: string; revision: number }>;
  expect(list).toMatchObject([{ agent: "you", revision: 1 }]);
  const rows = JSON.parse((await runProgram("daemon.ts", ["audit", "--json"], { env })).stdout) as Array<{ kind: string }>;
  expect(rows.filter((r) => r.kind === "grant.changed").length).toBe(1);
  // A different grant is a change again.
  expect((await runProgram("daemon.ts", ["grant", "add", "--agent", "you", "--verb", "ssh.restart_service"], { env })).stdout).toContain("(grant revision 2)");
}, 60_000);
