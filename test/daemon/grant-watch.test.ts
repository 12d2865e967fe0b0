// The daemon notices grant changes made by another process (lib/daemon/grant-watch.ts): the diff
// of two snapshots as a table, and the watch over a real database written by a second connection,
// as `openscope grant add|revoke` would write it while the daemon runs.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { changedAgents, GrantWatch } from "../../lib/daemon/grant-watch.ts";
import { Store } from "../../lib/store/store.ts";

describe("changedAgents", () => {
  const m = (o: Record<string, string>) => new Map(Object.entries(o));
  const cases: Array<[string, Record<string, string>, Record<string, string>, string[]]> = [
    ["nothing changed", { a: "g1:1", b: "g2:3" }, { a: "g1:1", b: "g2:3" }, []],
    ["a new revision (grant add, grant revoke --verb)", { a: "g1:1" }, { a: "g1:2" }, ["a"]],
    ["a grant removed (grant revoke --all)", { a: "g1:1", b: "g2:1" }, { b: "g2:1" }, ["a"]],
    ["a grant added", {}, { a: "g1:1" }, ["a"]],
    ["removed and added again: a new id, maybe the same revision", { a: "g1:1" }, { a: "g9:1" }, ["a"]],
    ["several, sorted", { b: "g2:1", a: "g1:1" }, { a: "g1:2", c: "g3:1" }, ["a", "b", "c"]],
  ];
  for (const [name, before, after, want] of cases) test(name, () => expect(changedAgents(m(before), m(after))).toEqual(want));
});

describe("GrantWatch over a real database", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  test("a change committed by another connection is noticed, once; a write to another table is not a change", () => {
    dir = mkdtempSync(join(tmpdir(), "openscope-grant-watch-"));
    const file = join(dir, "openscope.db");
    const daemon = Store.open(file);
    const cli = Store.open(file);
    const verbs = { "echo.word": { word: { kind: "pattern" as const, pattern: "^[a-z]{1,8}$" } } };
    cli.putGrant("you", verbs);
    const seen: string[][] = [];
    const watch = new GrantWatch(daemon, (agents) => seen.push(agents), () => {});
    watch.check();
    expect(seen).toEqual([]);

    cli.putGrant("you", verbs); // the same grant again: not a change (no new revision)
    watch.check();
    expect(seen).toEqual([]);

    cli.putGrant("you", { "echo.word": { word: { kind: "pattern" as const, pattern: "^[a-z]{1,9}$" } } }); // a new revision
    watch.check();
    watch.check();
    expect(seen).toEqual([["you"]]);

    cli.addRecipient("vendor", "osk1test", Date.now()); // another table: data_version moves, no grant changed
    watch.check();
    expect(seen).toEqual([["you"]]);

    cli.deleteGrant("you");
    cli.putGrant("you", verbs); // removed and granted again: a new id
    watch.check();
    expect(seen).toEqual([["you"], ["you"]]);
    daemon.close();
    cli.close();
  });
});
